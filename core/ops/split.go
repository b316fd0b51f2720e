package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("Split", 2, buildSplit, "axis", "split", "num_outputs")
}

// split cuts its input along one axis into consecutive parts. The part
// sizes come from the split attribute (before opset 13), the split input
// (from 13), num_outputs (from 18: parts of ceil(d/n), the last one
// smaller) or, with none of these, from the number of outputs (equal
// parts).
type split struct {
	axis       int
	sizes      []int // the split attribute, before opset 13
	numOutputs int   // num_outputs from opset 18, else the node's output count
	fromAttr   bool  // numOutputs came from the num_outputs attribute
	opset      int64
}

func buildSplit(n *onnx.Node, opset int64) (Op, error) {
	s := &split{axis: int(attrInt(n, "axis", 0)), numOutputs: len(n.Outputs), opset: opset}
	if s.numOutputs == 0 {
		return nil, fmt.Errorf("the node has no outputs")
	}
	if a := n.Attr("split"); a != nil {
		if opset >= 13 {
			return nil, fmt.Errorf("the split attribute became an input in opset 13")
		}
		s.sizes = attrInts(n, "split")
	}
	if a := n.Attr("num_outputs"); a != nil {
		if opset < 18 {
			return nil, fmt.Errorf("num_outputs needs opset 18")
		}
		if a.I != int64(len(n.Outputs)) {
			return nil, fmt.Errorf("num_outputs is %d but the node has %d outputs", a.I, len(n.Outputs))
		}
		s.fromAttr = true
	}
	return s, nil
}

// parts returns the sizes of the parts of an axis of extent d.
func (s *split) parts(d int, in []Meta, consts []*tensor.Tensor) ([]int, error) {
	sizes := s.sizes
	if len(in) > 1 && in[1].DType != tensor.Undefined {
		if s.opset < 13 {
			return nil, fmt.Errorf("split is an input only from opset 13 (an attribute before)")
		}
		if s.fromAttr {
			return nil, fmt.Errorf("both the split input and num_outputs are given; give one")
		}
		c, err := requireConst(consts, 1, "split")
		if err != nil {
			return nil, err
		}
		sizes = c.Ints()
	}
	n := s.numOutputs
	switch {
	case sizes != nil:
		if len(sizes) != n {
			return nil, fmt.Errorf("split %v has %d sizes for %d outputs", sizes, len(sizes), n)
		}
		sum := 0
		for _, v := range sizes {
			if v < 0 || v > d {
				return nil, fmt.Errorf("split %v: sizes must be in [0, %d]", sizes, d)
			}
			sum += v // at most n·d, which cannot overflow: n ≤ the node's outputs
		}
		if sum != d {
			return nil, fmt.Errorf("split %v sums to %d, the axis has %d", sizes, sum, d)
		}
		return sizes, nil
	case s.fromAttr:
		// Opset 18: parts of ceil(d/n), the last one what remains.
		each := ceilDiv(d, n)
		last := d - each*(n-1)
		if last < 0 {
			return nil, fmt.Errorf("an axis of %d cannot be split into %d parts of %d", d, n, each)
		}
		out := make([]int, n)
		for i := range out {
			out[i] = each
		}
		out[n-1] = last
		return out, nil
	default:
		if d%n != 0 {
			return nil, fmt.Errorf("an axis of %d cannot be split into %d equal parts; give split sizes", d, n)
		}
		out := make([]int, n)
		for i := range out {
			out[i] = d / n
		}
		return out, nil
	}
}

func (s *split) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 2); err != nil {
		return nil, err
	}
	shape := in[0].Shape
	axis, err := normAxis(s.axis, len(shape))
	if err != nil {
		return nil, err
	}
	sizes, err := s.parts(shape[axis], in, consts)
	if err != nil {
		return nil, err
	}
	out := make([]Meta, len(sizes))
	for i, v := range sizes {
		o := append([]int(nil), shape...)
		o[axis] = v
		out[i] = Meta{DType: in[0].DType, Shape: o}
	}
	return out, nil
}

// Run resolves the part sizes again: an output the graph leaves out is
// nil but still takes its part of the axis.
func (s *split) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	shape := in[0].Shape
	axis, _ := normAxis(s.axis, len(shape))
	metas := make([]Meta, len(in))
	for i, t := range in {
		if t != nil {
			metas[i] = Meta{DType: t.DType, Shape: t.Shape}
		}
	}
	sizes, err := s.parts(shape[axis], metas, in)
	if err != nil {
		return err
	}
	outer := tensor.NumElements(shape[:axis])
	inner := tensor.NumElements(shape[axis+1:])
	row := shape[axis] * inner
	off := 0
	for i, t := range out {
		n := sizes[i] * inner
		if t != nil {
			for o := 0; o < outer; o++ {
				copyRange(t, o*n, in[0], o*row+off, n)
			}
		}
		off += n
	}
	return nil
}
