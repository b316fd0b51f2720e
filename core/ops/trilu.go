package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("Trilu", 14, func(n *onnx.Node, opset int64) (Op, error) {
		return &trilu{upper: attrInt(n, "upper", 1) != 0}, nil
	}, "upper")
}

// trilu keeps the upper (j − i ≥ k) or lower (j − i ≤ k) triangle of the
// last two axes and zeroes the rest; k, the diagonal offset, is an
// optional scalar input that need not be known ahead of time.
type trilu struct{ upper bool }

func (t *trilu) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 2); err != nil {
		return nil, err
	}
	if len(in[0].Shape) < 2 {
		return nil, fmt.Errorf("input %s must have at least two dimensions", tensor.ShapeString(in[0].Shape))
	}
	if len(in) > 1 && in[1].DType != tensor.Undefined && (in[1].DType != tensor.Int64 || tensor.NumElements(in[1].Shape) != 1 || len(in[1].Shape) > 1) {
		return nil, fmt.Errorf("k must be one int64 value, got %v", in[1])
	}
	return one(in[0].DType, append([]int(nil), in[0].Shape...)), nil
}

func (t *trilu) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	var k int64
	if len(in) > 1 && in[1] != nil {
		k = in[1].I64[0]
	}
	s := x.Shape
	rows, cols := s[len(s)-2], s[len(s)-1]
	copyRange(y, 0, x, 0, x.Len())
	for m := 0; m < x.Len()/max(1, rows*cols); m++ {
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				d := int64(j - i)
				if (t.upper && d < k) || (!t.upper && d > k) {
					o := (m*rows+i)*cols + j
					if y.F32 != nil {
						y.F32[o] = 0
					} else {
						y.I64[o] = 0
					}
				}
			}
		}
	}
	return nil
}
