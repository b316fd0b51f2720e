package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("Expand", 8, func(n *onnx.Node, opset int64) (Op, error) { return &expand{}, nil })
	register("Tile", 6, func(n *onnx.Node, opset int64) (Op, error) { return &tile{}, nil })
}

// expand broadcasts its input to a shape, numpy-style in both directions:
// a dimension of 1 in the shape keeps the input's.
type expand struct{}

func (expand) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	c, err := requireConst(consts, 1, "shape")
	if err != nil {
		return nil, err
	}
	if len(c.Shape) != 1 || c.DType != tensor.Int64 {
		return nil, fmt.Errorf("shape must be a 1-D int64 tensor, got %v%s", c.DType, tensor.ShapeString(c.Shape))
	}
	target := c.Ints()
	for _, d := range target {
		if d < 0 {
			return nil, fmt.Errorf("shape %v has a negative dimension", target)
		}
	}
	out, err := broadcastShape(in[0].Shape, target)
	if err != nil {
		return nil, err
	}
	return one(in[0].DType, out), nil
}

func (expand) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	broadcastCopy(out[0], in[0])
	return nil
}

// broadcastCopy fills dst with src broadcast to dst's shape, which must be
// one src broadcasts to.
func broadcastCopy(dst, src *tensor.Tensor) {
	if dst.Len() == 0 {
		return
	}
	p := planBroadcast(dst.Shape, src.Shape, src.Shape)
	inner := p.dims[len(p.dims)-1]
	contiguous := p.strideA[len(p.dims)-1] == 1
	p.rows(0, p.numRows(), func(o, a, _ int) {
		switch {
		case contiguous:
			copyRange(dst, o, src, a, inner)
		case src.F32 != nil:
			row, v := dst.F32[o:o+inner], src.F32[a]
			for i := range row {
				row[i] = v
			}
		default:
			row, v := dst.I64[o:o+inner], src.I64[a]
			for i := range row {
				row[i] = v
			}
		}
	})
}

// tile repeats its input repeats[i] times along each axis i.
type tile struct{}

func (tile) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	c, err := requireConst(consts, 1, "repeats")
	if err != nil {
		return nil, err
	}
	reps := c.Ints()
	s := in[0].Shape
	if len(c.Shape) != 1 || c.DType != tensor.Int64 || len(reps) != len(s) {
		return nil, fmt.Errorf("repeats must be a 1-D int64 tensor of %d values (the input's rank), got %v%s", len(s), c.DType, tensor.ShapeString(c.Shape))
	}
	out := make([]int, len(s))
	for i, r := range reps {
		if r < 0 {
			return nil, fmt.Errorf("repeats %v has a negative value", reps)
		}
		// Each product checked before it is formed, as a shape's size.
		if _, err := tensor.CheckShape([]int{s[i], r}); err != nil {
			return nil, fmt.Errorf("repeating axis %d of %s %d times: %w", i, tensor.ShapeString(s), r, err)
		}
		out[i] = s[i] * r
	}
	return one(in[0].DType, out), nil
}

// Run copies each input row (innermost axis) into its repeated places,
// walking the output one row at a time.
func (tile) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	if y.Len() == 0 {
		return nil
	}
	s, os := x.Shape, y.Shape
	if len(s) == 0 {
		copyRange(y, 0, x, 0, 1)
		return nil
	}
	rank := len(s)
	w := s[rank-1]
	strides := tensor.Strides(s)
	idx := make([]int, rank-1) // output index over the outer axes
	rows := y.Len() / os[rank-1]
	for r := 0; r < rows; r++ {
		src := 0
		for d, i := range idx {
			src += (i % s[d]) * strides[d]
		}
		o := r * os[rank-1]
		for k := 0; k < os[rank-1]; k += w {
			copyRange(y, o+k, x, src, w)
		}
		for d := rank - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < os[d] {
				break
			}
			idx[d] = 0
		}
	}
	return nil
}
