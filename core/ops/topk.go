package ops

import (
	"fmt"
	"math"
	"slices"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("TopK", 10, buildTopK, "axis", "largest", "sorted")
}

// topK returns the k largest (or smallest) elements along an axis and
// their indices, largest first (smallest first), equal values in index
// order. NaN counts as larger than any number, as in numpy's sort. With
// sorted=0 the spec leaves the order open; they come sorted all the same.
type topK struct {
	axis    int
	largest bool
}

func buildTopK(n *onnx.Node, opset int64) (Op, error) {
	if opset < 11 && (n.Attr("largest") != nil || n.Attr("sorted") != nil) {
		return nil, fmt.Errorf("largest and sorted need opset 11")
	}
	return &topK{axis: int(attrInt(n, "axis", -1)), largest: attrInt(n, "largest", 1) != 0}, nil
}

func (t *topK) k(in []Meta, consts []*tensor.Tensor) (axis, k int, err error) {
	s := in[0].Shape
	if axis, err = normAxis(t.axis, len(s)); err != nil {
		return 0, 0, err
	}
	c, err := requireConst(consts, 1, "K")
	if err != nil {
		return 0, 0, err
	}
	if c.DType != tensor.Int64 || c.Len() != 1 || len(c.Shape) > 1 {
		return 0, 0, fmt.Errorf("K must be one int64 value, got %v%s", c.DType, tensor.ShapeString(c.Shape))
	}
	k = c.Ints()[0]
	if k < 0 || k > s[axis] {
		return 0, 0, fmt.Errorf("K %d is outside [0, %d], the extent of axis %d", k, s[axis], axis)
	}
	return axis, k, nil
}

func (t *topK) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	axis, k, err := t.k(in, consts)
	if err != nil {
		return nil, err
	}
	s := append([]int(nil), in[0].Shape...)
	s[axis] = k
	return []Meta{{DType: in[0].DType, Shape: s}, {DType: tensor.Int64, Shape: s}}, nil
}

func (t *topK) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	metas := []Meta{{DType: x.DType, Shape: x.Shape}, {DType: in[1].DType, Shape: in[1].Shape}}
	axis, k, err := t.k(metas, in)
	if err != nil {
		return err
	}
	d := x.Shape[axis]
	inner := tensor.NumElements(x.Shape[axis+1:])
	lines := tensor.NumElements(x.Shape) / max(1, d)
	if d == 0 || k == 0 {
		return nil
	}
	// before reports whether element i of a line comes before element j.
	before := func(line int, i, j int) bool {
		a, b := line+i*inner, line+j*inner
		var c int
		if x.F32 != nil {
			c = cmpNaNLast(x.F32[a], x.F32[b])
		} else {
			c = cmpInt(x.I64[a], x.I64[b])
		}
		if !t.largest {
			c = -c
		}
		if c != 0 {
			return c > 0
		}
		return i < j
	}
	parallel.For(lines, ctx.Workers, max(1, 4096/d), func(lo, hi int) {
		order := make([]int, d)
		for l := lo; l < hi; l++ {
			o, i := l/inner, l%inner
			line := o*d*inner + i
			for j := range order {
				order[j] = j
			}
			slices.SortFunc(order, func(a, b int) int {
				if before(line, a, b) {
					return -1
				}
				return 1
			})
			dst := o*k*inner + i
			for j, src := range order[:k] {
				if out[0] != nil {
					copyElem(out[0], dst+j*inner, x, line+src*inner)
				}
				if out[1] != nil {
					out[1].I64[dst+j*inner] = int64(src)
				}
			}
		}
	})
	return nil
}

// cmpNaNLast orders floats with NaN above every number.
func cmpNaNLast(a, b float32) int {
	an, bn := math.IsNaN(float64(a)), math.IsNaN(float64(b))
	switch {
	case an || bn:
		return cmpBool(an, bn)
	case a > b:
		return 1
	case a < b:
		return -1
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func cmpInt(a, b int64) int {
	switch {
	case a > b:
		return 1
	case a < b:
		return -1
	}
	return 0
}
