package main

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/datasets/npy"
	"github.com/int8cal/int8cal/datasets/sdk/batchstreamtest"
)

// writeArrays writes a CIFAR-like uint8 [n,4,4,3] image array and its
// labels, and a float32 [n,3,4,4] copy in channels-first layout.
func writeArrays(t *testing.T, n int) (dir string) {
	t.Helper()
	dir = t.TempDir()
	x := &npy.Array{Descr: "|u1", Shape: []int{n, 4, 4, 3}, Data: make([]byte, n*48)}
	chw := make([]float32, n*48)
	for i := range x.Data {
		x.Data[i] = byte(i * 7)
		s, p, c := i/48, (i%48)/3, i%3
		chw[s*48+c*16+p] = float32(x.Data[i])
	}
	y := &npy.Array{Descr: "<i8", Shape: []int{n}, Data: make([]byte, 8*n)}
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint64(y.Data[8*i:], uint64(i%10))
	}
	for name, a := range map[string]*npy.Array{"x.npy": x, "y.npy": y, "chw.npy": npy.NewFloat32([]int{n, 3, 4, 4}, chw)} {
		if err := npy.Write(filepath.Join(dir, name), a); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestConformance(t *testing.T) {
	dir := writeArrays(t, 70)
	batchstreamtest.RunTensors(t, &stream{}, map[string]string{
		"x": filepath.Join(dir, "x.npy"), "y": filepath.Join(dir, "y.npy"),
		"scale": "1/255", "mean": "0.485,0.456,0.406", "std": "0.229,0.224,0.225",
	})
}

// Channels-last uint8 and channels-first float32 copies of the same images
// read the same; NHWC is found automatically.
func TestLayouts(t *testing.T) {
	dir := writeArrays(t, 5)
	read := func(opts map[string]string) []float32 {
		s := &stream{}
		m, err := s.Open(opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Inputs) != 1 || m.Inputs[0].Name != "" || m.Inputs[0].Type != dataset.Float32 || !slices.Equal(m.Inputs[0].Shape, []int{3, 4, 4}) {
			t.Fatalf("inputs %+v, want one unnamed float32 [3 4 4]", m.Inputs)
		}
		out := dataset.NewTensor(dataset.Float32, 5*48)
		if err := s.ReadTensors(0, 5, []dataset.Tensor{out}, nil); err != nil {
			t.Fatal(err)
		}
		return out.Float32s()
	}
	a := read(map[string]string{"x": filepath.Join(dir, "x.npy")})
	b := read(map[string]string{"x": filepath.Join(dir, "chw.npy")})
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("value %d: %v from NHWC uint8, %v from NCHW float32", i, a[i], b[i])
		}
	}
	if math.Abs(float64(a[1])-7*3) > 0 { // sample 0, channel 0, pixel 1 = byte 3·7
		t.Errorf("value 1 = %v, want 21", a[1])
	}
}

func TestOpenErrors(t *testing.T) {
	dir := writeArrays(t, 5)
	short := &npy.Array{Descr: "|u1", Shape: []int{3}, Data: []byte{1, 2, 3}}
	npy.Write(filepath.Join(dir, "short.npy"), short)
	for _, tc := range []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{}, "option x is required"},
		{map[string]string{"x": filepath.Join(dir, "nope.npy")}, "nope.npy"},
		{map[string]string{"x": filepath.Join(dir, "x.npy"), "y": filepath.Join(dir, "short.npy")}, "holds 3 labels but"},
		{map[string]string{"x": filepath.Join(dir, "x.npy"), "inputs": "a=" + filepath.Join(dir, "x.npy")}, "give one"},
		{map[string]string{"inputs": "a"}, `"a" is not name=file.npy`},
		{map[string]string{"inputs": "a=" + filepath.Join(dir, "x.npy") + ",a=" + filepath.Join(dir, "x.npy")}, `input "a" given twice`},
		{map[string]string{"inputs": "a=" + filepath.Join(dir, "x.npy") + ",b=" + filepath.Join(dir, "y.npy")}, `input "b"`},
		{map[string]string{"inputs": "a=" + filepath.Join(dir, "x.npy"), "scale": "2"}, "not to named inputs"},
		{map[string]string{"x": filepath.Join(dir, "x.npy"), "stored": "nwhc"}, "want auto, nchw or nhwc"},
		{map[string]string{"x": filepath.Join(dir, "x.npy"), "bogus": "1"}, `unknown option "bogus"`},
	} {
		if _, err := (&stream{}).Open(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.opts, err, tc.want)
		}
	}
}

// tokenArrays are a BERT-style encoder's inputs for n samples of 6
// tokens: int64 ids, a bool mask and float16 weights, with labels.
func tokenArrays(n int) map[string]*npy.Array {
	ids := &npy.Array{Descr: "<i8", Shape: []int{n, 6}, Data: make([]byte, 8*n*6)}
	mask := &npy.Array{Descr: "|b1", Shape: []int{n, 6}, Data: make([]byte, n*6)}
	weights := &npy.Array{Descr: "<f2", Shape: []int{n, 2}, Data: make([]byte, 2*n*2)}
	y := &npy.Array{Descr: "<i8", Shape: []int{n}, Data: make([]byte, 8*n)}
	for i := range n * 6 {
		binary.LittleEndian.PutUint64(ids.Data[8*i:], uint64(1000+i*37))
		if i%6 < 4 {
			mask.Data[i] = 1
		}
	}
	for i := range n * 2 {
		binary.LittleEndian.PutUint16(weights.Data[2*i:], 0x3c00+uint16(i)) // 1 and a little more
	}
	for i := range n {
		binary.LittleEndian.PutUint64(y.Data[8*i:], uint64(i%3))
	}
	return map[string]*npy.Array{"input_ids": ids, "attention_mask": mask, "weights": weights, "y": y}
}

func TestConformanceNamedInputs(t *testing.T) {
	dir := t.TempDir()
	if err := npy.WriteNPZ(filepath.Join(dir, "tokens.npz"), tokenArrays(70)); err != nil {
		t.Fatal(err)
	}
	batchstreamtest.RunTensors(t, &stream{}, map[string]string{"x": filepath.Join(dir, "tokens.npz")})
}

// A .npz's arrays and an explicit inputs= mapping of .npy files give the
// same inputs, in name order and their own types, with the values stored.
func TestNamedInputs(t *testing.T) {
	dir := t.TempDir()
	arrays := tokenArrays(5)
	if err := npy.WriteNPZ(filepath.Join(dir, "tokens.npz"), arrays); err != nil {
		t.Fatal(err)
	}
	for name, a := range arrays {
		if err := npy.Write(filepath.Join(dir, name+".npy"), a); err != nil {
			t.Fatal(err)
		}
	}
	want := []dataset.Input{
		{Name: "attention_mask", Type: dataset.Bool, Shape: []int{6}},
		{Name: "input_ids", Type: dataset.Int64, Shape: []int{6}},
		{Name: "weights", Type: dataset.Float16, Shape: []int{2}},
	}
	for _, opts := range []map[string]string{
		{"x": filepath.Join(dir, "tokens.npz")},
		{"inputs": "input_ids=" + filepath.Join(dir, "input_ids.npy") + ",attention_mask=" + filepath.Join(dir, "tokens.npz") + ":attention_mask,weights=" + filepath.Join(dir, "weights.npy"), "y": filepath.Join(dir, "y.npy")},
	} {
		s := &stream{}
		m, err := s.Open(opts)
		if err != nil {
			t.Fatal(err)
		}
		if m.Samples != 5 || !m.Labels || m.Classes != 3 || len(m.Inputs) != 3 {
			t.Fatalf("%v: meta %+v", opts, m)
		}
		for i, in := range m.Inputs {
			if in.Name != want[i].Name || in.Type != want[i].Type || !slices.Equal(in.Shape, want[i].Shape) {
				t.Errorf("%v: input %d is %+v, want %+v", opts, i, in, want[i])
			}
		}
		bufs := []dataset.Tensor{dataset.NewTensor(dataset.Bool, 2*6), dataset.NewTensor(dataset.Int64, 2*6), dataset.NewTensor(dataset.Float16, 2*2)}
		labels := make([]int32, 2)
		if err := s.ReadTensors(3, 2, bufs, labels); err != nil {
			t.Fatal(err)
		}
		if ids := bufs[1].Int64s(); ids[0] != 1000+18*37 || ids[11] != 1000+29*37 {
			t.Errorf("%v: ids %v", opts, ids)
		}
		if mask := bufs[0].Bools(); !mask[0] || mask[4] || !mask[6] {
			t.Errorf("%v: mask %v", opts, mask)
		}
		if w := bufs[2].Float16s(); w[0] != 0x3c00+6 {
			t.Errorf("%v: weights %#x", opts, w)
		}
		if labels[0] != 0 || labels[1] != 1 {
			t.Errorf("%v: labels %v", opts, labels)
		}
	}
}
