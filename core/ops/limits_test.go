package ops

import (
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// Shapes come from the model: every operator's output shape is checked
// (Infer), and the arithmetic that leads to it cannot overflow. Each case
// is inferred from metas only, so no test allocates the sizes it names.
func TestShapeArithmeticIsChecked(t *testing.T) {
	meta := func(s ...int) Meta { return Meta{DType: tensor.Float32, Shape: s} }
	shape := func(v ...int64) *tensor.Tensor { return i64(sh(len(v)), v...) }
	for _, tc := range []struct {
		name   string
		opset  int64
		op     string
		attrs  []*onnx.Attribute
		in     []Meta
		consts []*tensor.Tensor
		want   string
	}{
		// Was a panic (makeslice: len out of range) when folded.
		{"ConstantOfShape wrapping negative", 13, "ConstantOfShape", nil,
			[]Meta{{tensor.Int64, sh(3)}}, []*tensor.Tensor{shape(1<<31, 1<<32, 3)}, "2.77e+19 elements"},
		// Was accepted as a tensor of 0 elements.
		{"ConstantOfShape wrapping to zero", 13, "ConstantOfShape", nil,
			[]Meta{{tensor.Int64, sh(2)}}, []*tensor.Tensor{shape(1<<32, 1<<32)}, "1.84e+19 elements"},
		{"ConstantOfShape negative", 13, "ConstantOfShape", nil,
			[]Meta{{tensor.Int64, sh(2)}}, []*tensor.Tensor{shape(2, -1)}, "negative dimension"},
		// An empty tensor reshaped to a shape whose product wraps to 0.
		{"Reshape wrapping to the input's size", 13, "Reshape", nil,
			[]Meta{meta(0), {tensor.Int64, sh(2)}}, []*tensor.Tensor{nil, shape(1<<32, 1<<32)}, "target shape"},
		{"Reshape with -1", 13, "Reshape", nil,
			[]Meta{meta(4), {tensor.Int64, sh(3)}}, []*tensor.Tensor{nil, shape(1<<40, 1<<40, -1)}, "target shape"},
		{"Pad beyond any tensor", 13, "Pad", nil,
			[]Meta{meta(1, 28), {tensor.Int64, sh(4)}}, []*tensor.Tensor{nil, shape(0, 1<<62, 0, 1<<62)}, "pads"},
		{"Pad to too many elements", 13, "Pad", nil,
			[]Meta{meta(1, 28), {tensor.Int64, sh(4)}}, []*tensor.Tensor{nil, shape(1<<40, 0, 0, 0)}, "elements"},
		{"Concat", 13, "Concat", []*onnx.Attribute{aInt("axis", 0)},
			[]Meta{meta(1 << 40), meta(1 << 40)}, nil, "elements"},
		{"MatMul", 13, "MatMul", nil,
			[]Meta{meta(1<<30, 2), meta(2, 1<<30)}, nil, "elements"},
		{"Gather", 13, "Gather", []*onnx.Attribute{aInt("axis", 1)},
			[]Meta{meta(1<<30, 4), {tensor.Int64, sh(1 << 20)}}, nil, "elements"},
		{"Unsqueeze of a shape with a zero", 13, "Unsqueeze", nil,
			[]Meta{meta(0, 1<<30, 1<<30, 4), {tensor.Int64, sh(1)}}, []*tensor.Tensor{nil, shape(0)}, "elements"},
		{"Conv kernel dilated past any tensor", 13, "Conv", []*onnx.Attribute{aInts("dilations", 1<<30, 1)},
			[]Meta{meta(1, 1, 1<<20, 8), meta(1, 1, 1<<11, 1)}, nil, "dilated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := rtBuild(t, tc.opset, tc.op, tc.attrs...)
			out, err := Infer(op, tc.in, tc.consts, []string{"y"})
			if err == nil {
				t.Fatalf("accepted: %v", out)
			}
			wantErr(t, err, tc.want)
			if tc.op == "ConstantOfShape" && !strings.Contains(err.Error(), `output "y"`) {
				t.Errorf("error %q does not name the output", err)
			}
		})
	}
}

// Window attributes large enough to overflow the geometry are refused when
// the node is built.
func TestWindowAttributesBounded(t *testing.T) {
	for _, tc := range []struct {
		op    string
		attrs []*onnx.Attribute
	}{
		{"Conv", []*onnx.Attribute{aInts("dilations", 1<<62, 1)}},
		{"Conv", []*onnx.Attribute{aInts("strides", 1, 1<<62)}},
		{"Conv", []*onnx.Attribute{aInts("pads", 0, 1<<62, 0, 1<<62)}},
		{"MaxPool", []*onnx.Attribute{aInts("kernel_shape", 1<<62, 1)}},
	} {
		_, err := Build(rtNode(tc.op, tc.attrs...), 13)
		wantErr(t, err, "exceed")
	}
}

// The working memory a convolution declares (Memory) is what its Run
// keeps, for each strategy (pointwise, wide, unfolded), float and INT8,
// with fewer and more images than workers; and an unfolded input too large
// to exist is an error, not an allocation.
func TestConvMemoryMatchesRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		x, w  []int
		attrs []*onnx.Attribute
	}{
		{"pointwise", sh(2, 3, 6, 6), sh(4, 3, 1, 1), nil},
		{"wide", sh(2, 3, 8, 8), sh(4, 3, 3, 3), []*onnx.Attribute{aInts("pads", 1, 1, 1, 1)}},
		{"unfolded", sh(2, 3, 9, 9), sh(4, 3, 3, 3), []*onnx.Attribute{aInts("strides", 2, 2)}},
		{"grouped", sh(3, 4, 7, 7), sh(4, 2, 3, 3), []*onnx.Attribute{aInt("group", 2)}},
		{"depthwise", sh(2, 4, 9, 8), sh(4, 1, 3, 3), []*onnx.Attribute{aInt("group", 4), aInts("pads", 1, 1, 1, 1), aInts("strides", 2, 2)}},
	} {
		for _, workers := range []int{1, 3, 8} {
			x, w := iota32(tc.x...), iota32(tc.w...)
			in := []Meta{{tensor.Float32, x.Shape}, {tensor.Float32, w.Shape}}

			// Memory, like Run, follows Infer (which takes the kernel
			// size from the weights).
			c := rtBuild(t, 13, "Conv", tc.attrs...).(*conv)
			if _, err := Infer(c, in, nil, nil); err != nil {
				t.Fatal(err)
			}
			_, working, err := c.Memory(in, workers)
			if err != nil {
				t.Fatal(err)
			}
			rtMust(t, c, workers, 1, []*tensor.Tensor{x, w}, allConst)
			var kept int
			for _, sc := range c.scratch {
				kept += len(sc.col) + len(sc.padded) + len(sc.out)
			}
			if int64(4*kept) != working {
				t.Errorf("%s, %d workers: Memory says %d bytes of working memory, Run keeps %d", tc.name, workers, working, 4*kept)
			}

			q, ok := rtBuild(t, 13, "Conv", tc.attrs...).(Int8Capable).Int8([]float32{0.1})
			if !ok {
				t.Fatal("no INT8 convolution")
			}
			qc := q.(*qconv)
			if _, err := Infer(qc, in, nil, nil); err != nil {
				t.Fatal(err)
			}
			_, working, err = qc.Memory(in, workers)
			if err != nil {
				t.Fatal(err)
			}
			rtMust(t, qc, workers, 1, []*tensor.Tensor{x, w}, allConst)
			kept = 0
			for _, sc := range qc.qscratch {
				kept += len(sc.x) + len(sc.padded) + len(sc.line) + len(sc.col) + 4*len(sc.acc)
			}
			if int64(kept) != working {
				t.Errorf("%s INT8, %d workers: Memory says %d bytes of working memory, Run keeps %d", tc.name, workers, working, kept)
			}
		}
	}

	// 2^22 taps × 961² positions: the im2col matrix alone would be 2^41.8
	// values, while input, weights and output are all valid.
	c := rtBuild(t, 13, "Conv").(*conv)
	in := []Meta{{tensor.Float32, sh(1, 1<<10, 1<<10, 1<<10)}, {tensor.Float32, sh(1, 1<<10, 64, 64)}}
	if _, err := Infer(c, in, nil, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Memory(in, 1)
	wantErr(t, err, "unfolded input", "elements")
}
