package main

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"strings"
	"testing"

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
	batchstreamtest.Run(t, newStream(), map[string]string{
		"x": filepath.Join(dir, "x.npy"), "y": filepath.Join(dir, "y.npy"),
		"scale": "1/255", "mean": "0.485,0.456,0.406", "std": "0.229,0.224,0.225",
	})
}

// Channels-last uint8 and channels-first float32 copies of the same images
// read the same; NHWC is found automatically.
func TestLayouts(t *testing.T) {
	dir := writeArrays(t, 5)
	read := func(opts map[string]string) []float32 {
		s := newStream()
		m, err := s.Open(opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.SampleShape; len(got) != 3 || got[0] != 3 || got[1] != 4 {
			t.Fatalf("sample shape %v, want [3 4 4]", got)
		}
		out := make([]float32, 5*48)
		if err := s.Read(0, 5, out, nil); err != nil {
			t.Fatal(err)
		}
		return out
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
		{map[string]string{"x": filepath.Join(dir, "x.npy"), "stored": "nwhc"}, "want auto, nchw or nhwc"},
		{map[string]string{"x": filepath.Join(dir, "x.npy"), "bogus": "1"}, `unknown option "bogus"`},
	} {
		if _, err := newStream().Open(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.opts, err, tc.want)
		}
	}
}
