package session

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/internal/float16"
)

func TestConverts(t *testing.T) {
	for _, tc := range []struct {
		from dataset.ElementType
		to   tensor.DType
		ok   bool
	}{
		{dataset.Int64, tensor.Int64, true},
		{dataset.Bool, tensor.Int64, true},
		{dataset.Bool, tensor.Bool, true},
		{dataset.Uint8, tensor.Int32, true},
		{dataset.Int8, tensor.Float32, true},
		{dataset.Uint8, tensor.Float16, true},
		{dataset.Int32, tensor.Int64, true},
		{dataset.Float16, tensor.Float32, true},
		{dataset.Float32, tensor.Float16, true}, // rounded, as the input's type requires
		{dataset.Int64, tensor.Int32, false},
		{dataset.Int32, tensor.Float32, false}, // beyond 2^24 a value would change
		{dataset.Int64, tensor.Float32, false},
		{dataset.Uint8, tensor.Int8, false},
		{dataset.Int8, tensor.Uint8, false},
		{dataset.Int8, tensor.Bool, false},
		{dataset.Uint8, tensor.Bool, false},
		{dataset.Float32, tensor.Int64, false},
		{dataset.Float16, tensor.Bool, false},
		{dataset.Bool, tensor.Undefined, false},
	} {
		if got := Converts(tc.from, tc.to); got != tc.ok {
			t.Errorf("Converts(%v, %v) = %v, want %v", tc.from, tc.to, got, tc.ok)
		}
	}
}

// tensorSource is a data set of named inputs: sample i's values are i,
// i+1, ... of each input's type (bools alternate), labels i mod 3.
type tensorSource struct {
	inputs []dataset.Input
	n      int
	poison string // a float input whose sample 5 holds NaN
}

func (s tensorSource) Len() int                { return s.n }
func (s tensorSource) SampleShape() []int      { return nil }
func (s tensorSource) Inputs() []dataset.Input { return s.inputs }
func (s tensorSource) Read(int, int, []float32, []int) error {
	return errors.New("read through ReadTensors")
}

func (s tensorSource) ReadTensors(first, n int, inputs []dataset.Tensor, labels []int) error {
	for k, in := range s.inputs {
		per := in.Elements()
		for i := range n * per {
			v := first*per + i
			nan := in.Name == s.poison && first+i/per == 5
			switch in.Type {
			case dataset.Float32:
				inputs[k].Float32s()[i] = float32(v)
				if nan {
					inputs[k].Float32s()[i] = float32(math.NaN())
				}
			case dataset.Float16:
				inputs[k].Float16s()[i] = float16.FromFloat32(float32(v))
				if nan {
					inputs[k].Float16s()[i] = 0x7e00
				}
			case dataset.Int64:
				inputs[k].Int64s()[i] = int64(v) << 40
			case dataset.Int8:
				inputs[k].Int8s()[i] = int8(-v)
			case dataset.Bool:
				inputs[k].Bools()[i] = v%2 == 1
			}
		}
	}
	for i := range labels[:n] {
		labels[i] = (first + i) % 3
	}
	return nil
}

var (
	ids  = dataset.Input{Name: "input_ids", Type: dataset.Int64, Shape: []int{4}}
	mask = dataset.Input{Name: "attention_mask", Type: dataset.Bool, Shape: []int{4}}
	bert = []graph.Value{
		{Name: "input_ids", DType: tensor.Int64, Shape: []int{-1, 4}},
		{Name: "attention_mask", DType: tensor.Int64, Shape: []int{-1, 4}},
	}
)

func TestFeedReadsNamedInputs(t *testing.T) {
	src := tensorSource{n: 10, inputs: []dataset.Input{mask, ids, {Name: "w", Type: dataset.Float16, Shape: []int{2}}, {Name: "b", Type: dataset.Int8, Shape: []int{1}}}}
	model := append(bert[:2:2],
		graph.Value{Name: "w", DType: tensor.Float32, Shape: []int{-1, 2}},
		graph.Value{Name: "b", DType: tensor.Float32, Shape: []int{-1, 1}})
	f, err := NewFeed(src, model, 3)
	if err != nil {
		t.Fatal(err)
	}
	labels := make([]int, 3)
	in, err := f.Read(2, labels)
	if err != nil {
		t.Fatal(err)
	}
	got := in["input_ids"]
	if got.DType != tensor.Int64 || !tensor.EqualShape(got.Shape, []int{3, 4}) || got.I64[0] != 8<<40 || got.I64[11] != 19<<40 {
		t.Errorf("input_ids %v %v %v", got.DType, got.Shape, got.I64)
	}
	if m := in["attention_mask"]; m.DType != tensor.Int64 || m.I64[0] != 0 || m.I64[1] != 1 {
		t.Errorf("attention_mask (bools widened) %v %v", m.DType, m.I64)
	}
	if w := in["w"]; w.DType != tensor.Float32 || w.F32[0] != 4 || w.F32[5] != 9 {
		t.Errorf("w (float16 widened) %v %v", w.DType, w.F32)
	}
	if b := in["b"]; b.F32[0] != -2 || b.F32[2] != -4 {
		t.Errorf("b (int8 widened) %v", b.F32)
	}
	if labels[0] != 2 || labels[2] != 1 {
		t.Errorf("labels %v", labels)
	}
}

// A float32 input of a float16 model input is rounded to half precision.
func TestFeedRoundsFloat32ForFloat16(t *testing.T) {
	src := tensorSource{n: 4000, inputs: []dataset.Input{{Name: "x", Type: dataset.Float32, Shape: []int{1}}}}
	f, err := NewFeed(src, []graph.Value{{Name: "x", DType: tensor.Float16, Shape: []int{-1, 1}}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	in, err := f.Read(2049, make([]int, 1))
	if err != nil {
		t.Fatal(err)
	}
	if x := in["x"]; x.DType != tensor.Float16 || x.F32[0] != 2048 { // 2049 is no half: ties to even
		t.Errorf("x %v %v, want float16 2048", x.DType, x.F32)
	}
}

func TestFeedChecksFloatInputsFinite(t *testing.T) {
	for _, typ := range []dataset.ElementType{dataset.Float32, dataset.Float16} {
		src := tensorSource{n: 10, poison: "w", inputs: []dataset.Input{ids, {Name: "w", Type: typ, Shape: []int{2}}}}
		f, err := NewFeed(src, []graph.Value{bert[0], {Name: "w", DType: tensor.Float32}}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Read(2, make([]int, 2)); err != nil {
			t.Errorf("%v: batch without NaN: %v", typ, err)
		}
		_, err = f.Read(4, make([]int, 2))
		var nf *NonFiniteSampleError
		if !errors.As(err, &nf) || nf.Sample != 5 || nf.Input != "w" || !strings.Contains(err.Error(), `sample 5 holds NaN at [0] of input "w"`) {
			t.Errorf("%v: %v; want sample 5 of input w named", typ, err)
		}
	}
}

func TestNewFeedErrors(t *testing.T) {
	image := []graph.Value{{Name: "data", DType: tensor.Float32, Shape: []int{-1, 1}}}
	for _, tc := range []struct {
		name  string
		src   Source
		model []graph.Value
		want  string
	}{
		{"missing input", tensorSource{inputs: []dataset.Input{ids}}, bert,
			`the model's input "attention_mask" (int64 [N,4]) is not in the data set, whose inputs are "input_ids" int64 [4]`},
		{"extra input", tensorSource{inputs: []dataset.Input{ids, mask, {Name: "typo", Type: dataset.Int64, Shape: []int{4}}}}, bert,
			`the data set's input "typo" is not an input of the model (inputs: "input_ids" int64 [N,4], "attention_mask" int64 [N,4])`},
		{"wrong type", tensorSource{inputs: []dataset.Input{{Name: "input_ids", Type: dataset.Float32, Shape: []int{4}}, mask}}, bert,
			`input "input_ids": the model takes int64, the data set gives float32; give bool, uint8, int8, int32 or int64 values`},
		{"wrong shape", tensorSource{inputs: []dataset.Input{{Name: "input_ids", Type: dataset.Int64, Shape: []int{5}}, mask}}, bert,
			`input "input_ids" of the model has shape [N,4], the data has [2,5]`},
		{"bool input", tensorSource{inputs: []dataset.Input{{Name: "m", Type: dataset.Uint8, Shape: []int{1}}}}, []graph.Value{{Name: "m", DType: tensor.Bool}},
			`input "m": the model takes bool, the data set gives uint8; give bool values`},
		{"unnamed among several", tensorSource{inputs: []dataset.Input{{Type: dataset.Int64, Shape: []int{4}}}}, bert,
			"the data set gives one unnamed input; the model has 2"},
		{"float samples, two inputs", fakeSource{n: 4}, bert,
			"the model has 2 inputs"},
		{"float samples, integer input", fakeSource{n: 4}, bert[:1],
			`input "input_ids": the model takes int64, the data set gives float32`},
		{"float samples, wrong shape", fakeSource{n: 4}, []graph.Value{{Name: "data", DType: tensor.Float32, Shape: []int{-1, 3}}},
			`input "data" of the model has shape [N,3], the data has [2,1]`},
	} {
		if _, err := NewFeed(tc.src, tc.model, 2); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
	// Matched: a single unnamed input feeds the model's only input.
	if _, err := NewFeed(tensorSource{inputs: []dataset.Input{{Type: dataset.Uint8, Shape: []int{1}}}}, image, 2); err != nil {
		t.Errorf("a single unnamed input: %v", err)
	}
}
