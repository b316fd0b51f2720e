package ops

import (
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// A malformed node must be refused with an error by Build or Infer, never
// accepted and then crash or compute something else in Run.

// TestConvWindowRankMismatch: Conv's spatial attributes need one value (two
// for pads) per spatial axis of the input. MaxPool/AveragePool check this in
// Infer; Conv must too.
func TestConvWindowRankMismatch(t *testing.T) {
	x1 := iota32(1, 1, 5)
	w1 := f32(sh(1, 1, 3), 1, 1, 1)
	x2 := iota32(1, 1, 5, 5)
	w2 := f32(sh(1, 1, 1, 1), 1)
	for _, tc := range []struct {
		name  string
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
	}{
		// 4 pads on an N,C,L input: Infer returns [1,1,5] and Run writes
		// 3×5 values into it.
		{"1D-input/2D-pads", []*tensor.Tensor{x1, w1}, []*onnx.Attribute{aInts("pads", 1, 1, 1, 1)}},
		{"1D-input/2D-strides", []*tensor.Tensor{x1, w1}, []*onnx.Attribute{aInts("strides", 1, 2)}},
		// 2 pads / 1 stride on an N,C,H,W input are silently applied to W
		// only.
		{"2D-input/1D-pads", []*tensor.Tensor{x2, w2}, []*onnx.Attribute{aInts("pads", 1, 1)}},
		{"2D-input/1D-strides", []*tensor.Tensor{x2, w2}, []*onnx.Attribute{aInts("strides", 2)}},
		{"2D-input/1D-dilations", []*tensor.Tensor{x2, w2}, []*onnx.Attribute{aInts("dilations", 2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := rtBuild(t, 13, "Conv", tc.attrs...)
			out, err := rtEval(op, 1, 1, tc.in, allConst)
			if err == nil {
				t.Errorf("accepted; output shape %v", out[0].Shape)
			} else if len(err.Error()) > 6 && err.Error()[:6] == "panic:" {
				t.Errorf("crashed instead of refusing: %v", err)
			}
		})
	}
}

// TestFloatOnlyOpsRefuseInt: the kernels read Tensor.F32, so an integer
// input must be refused in Infer (ONNX allows only float types for these).
func TestFloatOnlyOpsRefuseInt(t *testing.T) {
	xi := iota64(1, 2, 3)
	ci := iota64(2)
	for _, tc := range []struct {
		op    string
		opset int64
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
	}{
		{"Softmax", 13, []*tensor.Tensor{xi}, nil},
		{"GlobalAveragePool", 13, []*tensor.Tensor{xi}, nil},
		{"BatchNormalization", 15, []*tensor.Tensor{xi, ci, ci, ci, ci}, nil},
		{"MaxPool", 13, []*tensor.Tensor{xi}, []*onnx.Attribute{aInts("kernel_shape", 2)}},
		{"AveragePool", 13, []*tensor.Tensor{xi}, []*onnx.Attribute{aInts("kernel_shape", 2)}},
		{"Relu", 14, []*tensor.Tensor{xi}, nil},
		{"Sigmoid", 13, []*tensor.Tensor{xi}, nil},
		{"Clip", 13, []*tensor.Tensor{xi}, nil},
		{"MatMul", 13, []*tensor.Tensor{iota64(2, 2), iota64(2, 2)}, nil},
		{"Gemm", 13, []*tensor.Tensor{iota64(2, 2), iota64(2, 2)}, nil},
		{"Conv", 13, []*tensor.Tensor{iota64(1, 1, 3, 3), iota64(1, 1, 1, 1)}, nil},
	} {
		t.Run(tc.op, func(t *testing.T) {
			op := rtBuild(t, tc.opset, tc.op, tc.attrs...)
			metas := make([]Meta, len(tc.in))
			for i, x := range tc.in {
				metas[i] = Meta{DType: x.DType, Shape: x.Shape}
			}
			if _, err := op.Infer(metas, tc.in); err == nil {
				_, runErr := rtEval(op, 1, 1, tc.in, allConst)
				t.Errorf("Infer accepted int64 inputs (Run then returned %v)", runErr)
			}
		})
	}
}
