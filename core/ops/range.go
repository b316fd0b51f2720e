package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("Range", 11, func(n *onnx.Node, opset int64) (Op, error) { return &rangeOp{}, nil })
}

// rangeOp is Range: start, start+delta, ... up to limit (excluded), in
// the inputs' type. Its length depends on the values, so they must be
// known when shapes are inferred (constants, or folded from Shape).
type rangeOp struct{}

// count returns max(ceil((limit-start)/delta), 0), checked: the inputs come
// from the model.
func (rangeOp) count(start, limit, delta *tensor.Tensor) (int, error) {
	if start.DType.IsFloat() {
		s, l, d := float64(start.F32[0]), float64(limit.F32[0]), float64(delta.F32[0])
		if d == 0 || math.IsNaN(s+l+d) || math.IsInf(s, 0) || math.IsInf(l, 0) || math.IsInf(d, 0) {
			return 0, fmt.Errorf("start %g, limit %g, delta %g: delta must be non-zero and all finite", s, l, d)
		}
		n := math.Ceil((l - s) / d)
		if n > tensor.MaxElements {
			return 0, fmt.Errorf("start %g, limit %g, delta %g give %.3g values; a tensor may have at most %d", s, l, d, n, tensor.MaxElements)
		}
		return max(0, int(n)), nil
	}
	s, l, d := start.I64[0], limit.I64[0], delta.I64[0]
	if d == 0 {
		return 0, fmt.Errorf("start %d, limit %d: delta must be non-zero", s, l)
	}
	if (d > 0 && l <= s) || (d < 0 && l >= s) {
		return 0, nil
	}
	// The distance and the step as unsigned magnitudes: exact for any
	// int64 start and limit.
	var dist, step uint64
	if d > 0 {
		dist, step = uint64(l)-uint64(s), uint64(d)
	} else {
		dist, step = uint64(s)-uint64(l), -uint64(d)
	}
	n := dist / step
	if dist%step != 0 {
		n++
	}
	if n > tensor.MaxElements {
		return 0, fmt.Errorf("start %d, limit %d, delta %d give %d values; a tensor may have at most %d", s, l, d, n, tensor.MaxElements)
	}
	return int(n), nil
}

func (r rangeOp) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	names := [3]string{"start", "limit", "delta"}
	var v [3]*tensor.Tensor
	for i := range v {
		if in[i].DType != in[0].DType {
			return nil, fmt.Errorf("%s is %v, start is %v: the three must have one type", names[i], in[i].DType, in[0].DType)
		}
		if tensor.NumElements(in[i].Shape) != 1 || len(in[i].Shape) > 1 {
			return nil, fmt.Errorf("%s must be a scalar, got %s", names[i], tensor.ShapeString(in[i].Shape))
		}
		c, err := requireConst(consts, i, names[i])
		if err != nil {
			return nil, err
		}
		v[i] = c
	}
	n, err := r.count(v[0], v[1], v[2])
	if err != nil {
		return nil, err
	}
	return one(in[0].DType, []int{n}), nil
}

// Run computes start + i·delta in the inputs' type, as the ONNX spec's
// function body does (not by accumulation, which drifts in float32).
func (rangeOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	y := out[0]
	if y.F32 != nil {
		s, d := in[0].F32[0], in[2].F32[0]
		for i := range y.F32 {
			y.F32[i] = s + float32(i)*d
		}
		return nil
	}
	s, d := in[0].I64[0], in[2].I64[0]
	for i := range y.I64 {
		y.I64[i] = s + int64(i)*d // between start and limit: no overflow
	}
	return nil
}
