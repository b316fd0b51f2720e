package engine_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// A batch split into parts gives the outputs of the whole batch in one
// plan: bit for bit in INT8 (integer products, the same epilogue per
// value) and in FP32 and FP16, for batches that divide unevenly among the
// workers, and with more workers than images.
func TestSplitRunIsTheWholeBatchRun(t *testing.T) {
	for _, m := range []struct {
		name, path string
		shape      []int
	}{
		{"LeNet", lenetPath, []int{1, 28, 28}},
		{"ResNet-20", resnet20Path, []int{3, 32, 32}},
	} {
		g := load(t, m.path)
		in := g.Inputs[0].Name
		for _, p := range []precision.Precision{precision.FP32, precision.FP16, precision.INT8} {
			for _, c := range []struct{ images, workers, parts int }{{5, 2, 2}, {7, 3, 3}, {2, 4, 2}} {
				x := randomInput(append([]int{c.images}, m.shape...)...)
				inputs := map[string]*tensor.Tensor{in: x}
				opts := engine.Options{Precision: p, Workers: c.workers}
				if p == precision.INT8 {
					opts.Int8Scales = observedScales(t, m.path, in, x)
				}
				split := engine.New(g, opts)
				if parts, why := engine.SplitParts(split, inputs); parts != c.parts {
					t.Fatalf("%s %v, %d images, %d workers: %d parts (%v), want %d", m.name, p, c.images, c.workers, parts, why, c.parts)
				}
				got, err := split.Run(inputs)
				if err != nil {
					t.Fatal(err)
				}
				opts.WholeBatch = true
				want, err := engine.New(g, opts).Run(inputs)
				if err != nil {
					t.Fatal(err)
				}
				for name, w := range want {
					if !slices.Equal(got[name].Shape, w.Shape) || !slices.EqualFunc(got[name].F32, w.F32, sameBits) {
						t.Errorf("%s %v, %d images in %d parts: output %q differs from the whole batch's", m.name, p, c.images, c.parts, name)
					}
				}
			}
		}
	}
}

func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

// Run splits a batch only where each image's outputs come from that image
// alone. Networks of one operator on x ([N, 4, 3]), run with 2 workers on
// 2 images: those that mix images along the batch while keeping every
// shape (an axis, a reversal, a shift), those whose shapes give the mixing
// away, constants that differ from image to image, and operators not
// known to work image by image all run whole; the others split (a
// constant repeated for each image too), and give the whole batch's
// outputs.
func TestSplitOnlyWhereImagesAreIndependent(t *testing.T) {
	ints := func(v ...int64) *tensor.Tensor {
		return &tensor.Tensor{DType: tensor.Int64, Shape: []int{len(v)}, I64: v}
	}
	scalar := func(v int64) *tensor.Tensor {
		return &tensor.Tensor{DType: tensor.Int64, Shape: []int{}, I64: []int64{v}}
	}
	attr := func(name string, i int64) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: i}
	}
	for _, tc := range []struct {
		name  string
		nodes []*onnx.Node
		inits map[string]*tensor.Tensor
		why   string // "" where the batch splits
	}{
		{name: "relu", nodes: []*onnx.Node{{OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}}},
		{name: "softmax over an image's axis", nodes: []*onnx.Node{{OpType: "Softmax", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attr("axis", 1)}}}},
		{name: "transpose keeping the batch first", nodes: []*onnx.Node{{OpType: "Transpose", Inputs: []string{"x"}, Outputs: []string{"y"},
			Attrs: []*onnx.Attribute{{Name: "perm", Type: onnx.AttrInts, Ints: []int64{0, 2, 1}}}}}},
		{name: "softmax over the batch", why: "along the batch axis",
			nodes: []*onnx.Node{{OpType: "Softmax", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attr("axis", 0)}}}},
		{name: "cumulative sum over the batch", why: "along the batch axis",
			nodes: []*onnx.Node{{OpType: "CumSum", Inputs: []string{"x", "axis"}, Outputs: []string{"y"}}}, inits: map[string]*tensor.Tensor{"axis": ints(0)}},
		{name: "slice reversing the batch", why: "over the batch axis",
			nodes: []*onnx.Node{{OpType: "Slice", Inputs: []string{"x", "s", "e", "a", "st"}, Outputs: []string{"y"}}},
			inits: map[string]*tensor.Tensor{"s": ints(-1), "e": ints(math.MinInt64), "a": ints(0), "st": ints(-1)}},
		{name: "pad shifting the batch", why: "pads the batch axis",
			nodes: []*onnx.Node{{OpType: "Pad", Inputs: []string{"x", "p"}, Outputs: []string{"y"}}}, inits: map[string]*tensor.Tensor{"p": ints(1, 0, 0, -1, 0, 0)}},
		{name: "transpose moving the batch", why: "shape",
			nodes: []*onnx.Node{{OpType: "Transpose", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{{Name: "perm", Type: onnx.AttrInts, Ints: []int64{1, 0, 2}}}}}},
		{name: "sum over the batch", why: "shape",
			nodes: []*onnx.Node{{OpType: "ReduceSum", Inputs: []string{"x", "a"}, Outputs: []string{"y"}}}, inits: map[string]*tensor.Tensor{"a": ints(0)}},
		{name: "gather along the batch", why: "shape",
			nodes: []*onnx.Node{{OpType: "Gather", Inputs: []string{"x", "i"}, Outputs: []string{"y"}}}, inits: map[string]*tensor.Tensor{"i": ints(1, 0)}},
		{name: "products across images", why: "shape", nodes: []*onnx.Node{
			{OpType: "Flatten", Inputs: []string{"x"}, Outputs: []string{"f"}},
			{OpType: "Transpose", Inputs: []string{"f"}, Outputs: []string{"ft"}},
			{OpType: "MatMul", Inputs: []string{"f", "ft"}, Outputs: []string{"y"}}}},
		{name: "a class token expanded to the batch", nodes: []*onnx.Node{
			{OpType: "Shape", Inputs: []string{"x"}, Outputs: []string{"s"}},
			{OpType: "Gather", Inputs: []string{"s", "zero"}, Outputs: []string{"n"}},
			{OpType: "Unsqueeze", Inputs: []string{"n", "axis0"}, Outputs: []string{"n1"}},
			{OpType: "Concat", Inputs: []string{"n1", "rest"}, Outputs: []string{"shape"}, Attrs: []*onnx.Attribute{attr("axis", 0)}},
			{OpType: "Expand", Inputs: []string{"token", "shape"}, Outputs: []string{"tokens"}},
			{OpType: "Concat", Inputs: []string{"tokens", "x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attr("axis", 1)}}},
			inits: map[string]*tensor.Tensor{"zero": scalar(0), "axis0": ints(0), "rest": ints(1, 3),
				"token": {DType: tensor.Float32, Shape: []int{1, 1, 3}, F32: []float32{0.5, -1, 2}}}},
		{name: "each image's index in the batch", why: "depends on the batch", nodes: []*onnx.Node{
			{OpType: "Shape", Inputs: []string{"x"}, Outputs: []string{"s"}},
			{OpType: "Gather", Inputs: []string{"s", "zero"}, Outputs: []string{"n"}},
			{OpType: "Range", Inputs: []string{"zero", "n", "one"}, Outputs: []string{"r"}},
			{OpType: "Cast", Inputs: []string{"r"}, Outputs: []string{"rf"}, Attrs: []*onnx.Attribute{attr("to", 1)}},
			{OpType: "Reshape", Inputs: []string{"rf", "column"}, Outputs: []string{"index"}},
			{OpType: "Add", Inputs: []string{"x", "index"}, Outputs: []string{"y"}}},
			inits: map[string]*tensor.Tensor{"zero": scalar(0), "one": scalar(1), "column": ints(-1, 1, 1)}},
		{name: "an operator not known to work image by image", why: "not known to work image by image",
			nodes: []*onnx.Node{{OpType: "Trilu", Inputs: []string{"x"}, Outputs: []string{"y"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inits []*onnx.Initializer
			for name, v := range tc.inits {
				inits = append(inits, &onnx.Initializer{Name: name, Tensor: v})
			}
			for i, n := range tc.nodes {
				n.Name = fmt.Sprint(n.OpType, i)
			}
			g, err := graph.FromONNX(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 18}, Graph: &onnx.Graph{
				Name: tc.name, Nodes: tc.nodes, Initializers: inits,
				Inputs:  []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, HasShape: true, Dims: []onnx.Dim{{Param: "N"}, {Value: 4}, {Value: 3}}}},
				Outputs: []*onnx.ValueInfo{{Name: "y"}},
			}})
			if err != nil {
				t.Fatal(err)
			}
			inputs := map[string]*tensor.Tensor{"x": randomInput(2, 4, 3)}
			e := engine.New(g, engine.Options{Workers: 2})
			parts, why := engine.SplitParts(e, inputs)
			if tc.why == "" {
				if parts != 2 {
					t.Fatalf("runs whole (%v), want 2 parts", why)
				}
			} else if parts != 0 || why == nil || !strings.Contains(why.Error(), tc.why) {
				t.Fatalf("%d parts (%v), want the batch whole because of %q", parts, why, tc.why)
			}
			got, err := e.Run(inputs)
			if err != nil {
				t.Fatal(err)
			}
			want, err := engine.New(g, engine.Options{Workers: 2, WholeBatch: true}).Run(inputs)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got["y"].Shape, want["y"].Shape) || !slices.EqualFunc(got["y"].F32, want["y"].F32, sameBits) {
				t.Errorf("y = %v %v, the whole batch gives %v %v", got["y"].Shape, got["y"].F32, want["y"].Shape, want["y"].F32)
			}
		})
	}
}
