package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("GatherElements", 11, func(n *onnx.Node, opset int64) (Op, error) {
		return &gatherElements{axis: int(attrInt(n, "axis", 0))}, nil
	}, "axis")
	register("ScatterND", 11, buildScatterND, "reduction")
	register("ScatterElements", 11, buildScatterElements, "axis", "reduction")
}

// resolveIndex resolves a possibly negative index into an axis of extent d.
func resolveIndex(ix int64, d int, what string) (int, error) {
	i := ix
	if i < 0 {
		i += int64(d)
	}
	if i < 0 || i >= int64(d) {
		return 0, fmt.Errorf("%s index %d out of range for an axis of %d", what, ix, d)
	}
	return int(i), nil
}

// gatherElements picks, for every position of indices, the data element
// at the same position except along axis, where the index says.
type gatherElements struct{ axis int }

func (g *gatherElements) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	d, ix := in[0].Shape, in[1].Shape
	if in[1].DType.IsFloat() {
		return nil, fmt.Errorf("indices must be integers, got %v", in[1].DType)
	}
	axis, err := normAxis(g.axis, len(d))
	if err != nil {
		return nil, err
	}
	if len(ix) != len(d) {
		return nil, fmt.Errorf("indices %s and data %s differ in rank", tensor.ShapeString(ix), tensor.ShapeString(d))
	}
	for i := range d {
		if i != axis && ix[i] > d[i] {
			return nil, fmt.Errorf("indices %s exceed data %s on axis %d", tensor.ShapeString(ix), tensor.ShapeString(d), i)
		}
	}
	return one(in[0].DType, append([]int(nil), ix...)), nil
}

func (g *gatherElements) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return g.walk(in[0].Shape, in[1], func(o, src int) { copyElem(out[0], o, in[0], src) })
}

// walk calls fn for every position o of indices with the offset in data
// (of shape) it addresses.
func (g *gatherElements) walk(shape []int, ix *tensor.Tensor, fn func(o, at int)) error {
	axis, _ := normAxis(g.axis, len(shape))
	strides := tensor.Strides(shape)
	pos := make([]int, len(ix.Shape))
	for o := range ix.I64 {
		at := 0
		for d, p := range pos {
			if d != axis {
				at += p * strides[d]
			}
		}
		i, err := resolveIndex(ix.I64[o], shape[axis], "element")
		if err != nil {
			return err
		}
		fn(o, at+i*strides[axis])
		for d := len(pos) - 1; d >= 0; d-- {
			pos[d]++
			if pos[d] < ix.Shape[d] {
				break
			}
			pos[d] = 0
		}
	}
	return nil
}

// scatterND copies data and writes (or combines, with reduction) updates
// into the slices indices address: the last axis of indices holds the
// first q coordinates of a slice of data.
type scatterND struct{ reduction string }

// readReduction reads the reduction attribute of ScatterND and
// ScatterElements: none until opset 16, add and mul from 16, max and min
// from 18.
func readReduction(n *onnx.Node, opset int64) (string, error) {
	r := attrString(n, "reduction", "none")
	switch {
	case n.Attr("reduction") != nil && opset < 16:
		return "", fmt.Errorf("reduction needs opset 16")
	case (r == "max" || r == "min") && opset < 18:
		return "", fmt.Errorf("reduction %s needs opset 18", r)
	case r != "none" && r != "add" && r != "mul" && r != "max" && r != "min":
		return "", fmt.Errorf("reduction %q is not supported (none, add, mul, max, min)", r)
	}
	return r, nil
}

func buildScatterND(n *onnx.Node, opset int64) (Op, error) {
	r, err := readReduction(n, opset)
	if err != nil {
		return nil, err
	}
	return &scatterND{reduction: r}, nil
}

func (s *scatterND) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	d, ix, u := in[0].Shape, in[1].Shape, in[2].Shape
	if in[1].DType != tensor.Int64 {
		return nil, fmt.Errorf("indices must be int64, got %v", in[1].DType)
	}
	if in[2].DType != in[0].DType {
		return nil, fmt.Errorf("updates are %v, data %v", in[2].DType, in[0].DType)
	}
	if len(ix) == 0 || ix[len(ix)-1] > len(d) {
		return nil, fmt.Errorf("indices %s: the last axis must hold at most %d coordinates (data %s)", tensor.ShapeString(ix), len(d), tensor.ShapeString(d))
	}
	q := ix[len(ix)-1]
	want := append(append([]int(nil), ix[:len(ix)-1]...), d[q:]...)
	if !tensor.EqualShape(u, want) {
		return nil, fmt.Errorf("updates %s, want %s for indices %s into data %s", tensor.ShapeString(u), tensor.ShapeString(want), tensor.ShapeString(ix), tensor.ShapeString(d))
	}
	return one(in[0].DType, append([]int(nil), d...)), nil
}

func (s *scatterND) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	data, ix, u, y := in[0], in[1], in[2], out[0]
	copyRange(y, 0, data, 0, data.Len())
	q := ix.Shape[len(ix.Shape)-1]
	strides := tensor.Strides(data.Shape)
	slice := tensor.NumElements(data.Shape[q:])
	if slice == 0 {
		return nil
	}
	n := u.Len() / slice
	for k := 0; k < n; k++ {
		off := 0
		for j := 0; j < q; j++ {
			i, err := resolveIndex(ix.I64[k*q+j], data.Shape[j], "ScatterND")
			if err != nil {
				return err
			}
			off += i * strides[j]
		}
		if y.F32 != nil {
			combine(s.reduction, y.F32[off:off+slice], u.F32[k*slice:(k+1)*slice])
		} else {
			combine(s.reduction, y.I64[off:off+slice], u.I64[k*slice:(k+1)*slice])
		}
	}
	return nil
}

// combine applies a Scatter reduction ("" replaces) of src into dst.
// Go's max and min return NaN when either side is NaN, as ONNX Runtime's
// scatter reductions do.
func combine[T float32 | int64](reduction string, dst, src []T) {
	for i, v := range src {
		switch reduction {
		case "add":
			dst[i] += v
		case "mul":
			dst[i] *= v
		case "max":
			dst[i] = max(dst[i], v)
		case "min":
			dst[i] = min(dst[i], v)
		default:
			dst[i] = v
		}
	}
}

// scatterElements is GatherElements' inverse: a copy of data in which the
// element at each position of indices, with the index along axis, takes
// (or is combined with) the update at that position.
type scatterElements struct {
	gather    gatherElements // the same shape rules, with updates for the output
	reduction string
}

func buildScatterElements(n *onnx.Node, opset int64) (Op, error) {
	r, err := readReduction(n, opset)
	if err != nil {
		return nil, err
	}
	return &scatterElements{gather: gatherElements{axis: int(attrInt(n, "axis", 0))}, reduction: r}, nil
}

func (s *scatterElements) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	if _, err := s.gather.Infer(in[:2], nil); err != nil {
		return nil, err
	}
	if in[2].DType != in[0].DType || !tensor.EqualShape(in[2].Shape, in[1].Shape) {
		return nil, fmt.Errorf("updates %v must have data's type and indices' shape %s", in[2], tensor.ShapeString(in[1].Shape))
	}
	return one(in[0].DType, append([]int(nil), in[0].Shape...)), nil
}

func (s *scatterElements) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	data, ix, u, y := in[0], in[1], in[2], out[0]
	copyRange(y, 0, data, 0, data.Len())
	return s.gather.walk(data.Shape, ix, func(o, dst int) {
		if y.F32 != nil {
			combine(s.reduction, y.F32[dst:dst+1], u.F32[o:o+1])
		} else {
			combine(s.reduction, y.I64[dst:dst+1], u.I64[o:o+1])
		}
	})
}
