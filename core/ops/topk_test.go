package ops

import (
	"math"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func TestTopK(t *testing.T) {
	// The spec's example: 3×4, K=3 along the last axis.
	x := f32(sh(3, 4), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	run := func(t *testing.T, opset int64, x *tensor.Tensor, k int64, attrs ...*onnx.Attribute) []*tensor.Tensor {
		t.Helper()
		return rtMust(t, rtBuild(t, opset, "TopK", attrs...), 2, 2, []*tensor.Tensor{x, i64(sh(1), k)}, allConst)
	}
	out := run(t, 11, x, 3)
	checkF(t, out[0], sh(3, 3), 3, 2, 1, 7, 6, 5, 11, 10, 9)
	checkI(t, out[1], tensor.Int64, sh(3, 3), 3, 2, 1, 3, 2, 1, 3, 2, 1)

	out = run(t, 11, x, 2, aInt("largest", 0), aInt("axis", -2))
	checkF(t, out[0], sh(2, 4), 0, 1, 2, 3, 4, 5, 6, 7)
	checkI(t, out[1], tensor.Int64, sh(2, 4), 0, 0, 0, 0, 1, 1, 1, 1)

	// Ties keep index order; NaN is the largest.
	nan := float32(math.NaN())
	out = run(t, 11, f32(sh(5), 2, nan, 5, 2, 5), 4)
	checkF(t, out[0], sh(4), nan, 5, 5, 2)
	checkI(t, out[1], tensor.Int64, sh(4), 1, 2, 4, 0)
	out = run(t, 11, f32(sh(5), 2, nan, 5, 2, 5), 3, aInt("largest", 0))
	checkF(t, out[0], sh(3), 2, 2, 5)
	checkI(t, out[1], tensor.Int64, sh(3), 0, 3, 2)

	out = run(t, 10, i64(sh(4), 7, -1, 9, 3), 2)
	checkI(t, out[0], tensor.Int64, sh(2), 9, 7)
	checkI(t, out[1], tensor.Int64, sh(2), 2, 0)

	out = run(t, 11, x, 0)
	checkF(t, out[0], sh(3, 0))

	wantErr(t, rtErr(11, "TopK", []*tensor.Tensor{x, i64(sh(1), 5)}), "outside [0, 4]")
	wantErr(t, rtErr(11, "TopK", []*tensor.Tensor{x, i64(sh(1), -1)}), "outside")
	wantErr(t, rtErr(11, "TopK", []*tensor.Tensor{x, i64(sh(2), 1, 1)}), "one int64")
	wantErr(t, rtErr(10, "TopK", []*tensor.Tensor{x, i64(sh(1), 1)}, aInt("largest", 0)), "opset 11")
	_, err := rtEval(rtBuild(t, 11, "TopK"), 1, 2, []*tensor.Tensor{x, i64(sh(1), 1)}, constAt(2, 0))
	wantErr(t, err, "K")
}
