package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("DepthToSpace", 1, buildDepthSpace(true), "blocksize", "mode")
	register("SpaceToDepth", 1, buildDepthSpace(false), "blocksize")
}

// depthSpace is DepthToSpace or SpaceToDepth on an N,C,H,W tensor: a
// reshape to six dimensions, a transpose, and a reshape back, as the spec
// defines them.
type depthSpace struct {
	toSpace bool
	block   int
	crd     bool // DepthToSpace mode CRD (column, row, depth) rather than DCR
}

func buildDepthSpace(toSpace bool) builder {
	return func(n *onnx.Node, opset int64) (Op, error) {
		d := &depthSpace{toSpace: toSpace, block: int(attrInt(n, "blocksize", 0))}
		if n.Attr("blocksize") == nil || d.block < 1 || d.block > 1<<20 {
			return nil, fmt.Errorf("blocksize is required and must be in [1, 2^20], got %d", d.block)
		}
		switch mode := attrString(n, "mode", "DCR"); {
		case mode == "CRD":
			d.crd = true
		case mode != "DCR":
			return nil, fmt.Errorf("mode %q is not supported (DCR, CRD)", mode)
		}
		if n.Attr("mode") != nil && opset < 11 {
			return nil, fmt.Errorf("mode needs opset 11")
		}
		return d, nil
	}
}

// view returns the six-dimensional shape the input is seen as and the
// permutation that turns it into the output's.
func (d *depthSpace) view(s []int) ([]int, []int) {
	n, c, h, w, b := s[0], s[1], s[2], s[3], d.block
	switch {
	case !d.toSpace:
		return []int{n, c, h / b, b, w / b, b}, []int{0, 3, 5, 1, 2, 4}
	case d.crd:
		return []int{n, c / (b * b), b, b, h, w}, []int{0, 1, 4, 2, 5, 3}
	default:
		return []int{n, b, b, c / (b * b), h, w}, []int{0, 3, 4, 1, 5, 2}
	}
}

func (d *depthSpace) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	s := in[0].Shape
	if len(s) != 4 {
		return nil, fmt.Errorf("input %s must be N,C,H,W", tensor.ShapeString(s))
	}
	b := d.block
	if d.toSpace {
		if s[1]%(b*b) != 0 {
			return nil, fmt.Errorf("channels %d are not a multiple of blocksize² %d", s[1], b*b)
		}
		h, err1 := tensor.CheckShape([]int{s[2], b})
		w, err2 := tensor.CheckShape([]int{s[3], b})
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("input %s with blocksize %d: output too large", tensor.ShapeString(s), b)
		}
		return one(in[0].DType, []int{s[0], s[1] / (b * b), h, w}), nil
	}
	if s[2]%b != 0 || s[3]%b != 0 {
		return nil, fmt.Errorf("height and width of %s are not multiples of blocksize %d", tensor.ShapeString(s), b)
	}
	c, err := tensor.CheckShape([]int{s[1], b, b})
	if err != nil {
		return nil, fmt.Errorf("input %s with blocksize %d: %w", tensor.ShapeString(s), b, err)
	}
	return one(in[0].DType, []int{s[0], c, s[2] / b, s[3] / b}), nil
}

func (d *depthSpace) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	shape, perm := d.view(in[0].Shape)
	x := &tensor.Tensor{DType: in[0].DType, Shape: shape, F32: in[0].F32, I64: in[0].I64}
	y := &tensor.Tensor{DType: out[0].DType, Shape: make([]int, 6), F32: out[0].F32, I64: out[0].I64}
	for i, p := range perm {
		y.Shape[i] = shape[p]
	}
	return (&transpose{perm: perm}).Run(ctx, []*tensor.Tensor{x}, []*tensor.Tensor{y})
}
