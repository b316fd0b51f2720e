package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("Reshape", 5, buildReshape, "allowzero")
	register("Flatten", 1, func(n *onnx.Node, opset int64) (Op, error) {
		return &flatten{axis: int(attrInt(n, "axis", 1))}, nil
	}, "axis")
	register("Transpose", 1, func(n *onnx.Node, opset int64) (Op, error) {
		return &transpose{perm: attrInts(n, "perm")}, nil
	}, "perm")
	register("Squeeze", 1, buildAxesOp(false), "axes")
	register("Unsqueeze", 1, buildAxesOp(true), "axes")
	register("Shape", 1, func(n *onnx.Node, opset int64) (Op, error) {
		s := &shapeOp{start: int(attrInt(n, "start", 0)), end: int(attrInt(n, "end", 1<<31))}
		if opset < 15 && (n.Attr("start") != nil || n.Attr("end") != nil) {
			return nil, fmt.Errorf("start/end need opset 15")
		}
		return s, nil
	}, "start", "end")
}

// moveOp is an operator whose output is its input's values in the same
// order under a new shape (Reshape, Flatten, Squeeze, Unsqueeze).
type moveOp struct{}

func (moveOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	copy(out[0].F32, in[0].F32)
	copy(out[0].I64, in[0].I64)
	copy(out[0].I8, in[0].I8)
	return nil
}

// MovesValues says that the output is the input's values in their order,
// whatever the shape: a plan may bind the output to the input's storage
// and not run the operator at all.
func (moveOp) MovesValues() bool { return true }

// CanPassInt8: moving values keeps them, quantized or not.
func (moveOp) CanPassInt8() bool { return true }

// PassInt8 has nothing to set: Run copies whichever storage is used.
func (moveOp) PassInt8() {}

type reshape struct {
	moveOp
	allowZero bool
}

func buildReshape(n *onnx.Node, opset int64) (Op, error) {
	return &reshape{allowZero: attrInt(n, "allowzero", 0) != 0}, nil
}

func (r *reshape) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	st, err := requireConst(consts, 1, "shape")
	if err != nil {
		return nil, err
	}
	target := st.Ints()
	out := make([]int, len(target))
	infer := -1
	for i, d := range target {
		switch {
		case d == 0 && !r.allowZero:
			if i >= len(in[0].Shape) {
				return nil, fmt.Errorf("shape %v copies dimension %d of a rank-%d input", target, i, len(in[0].Shape))
			}
			out[i] = in[0].Shape[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", target)
			}
			infer = i
			continue
		case d < 0:
			return nil, fmt.Errorf("shape %v has a negative dimension", target)
		default:
			out[i] = d
		}
	}
	// The product of the given dimensions (the one to infer counting as
	// 1), checked: a target such as [2^40, 2^40, -1] must not wrap around
	// to a divisor of the input's size.
	given := append([]int(nil), out...)
	if infer >= 0 {
		given[infer] = 1
	}
	known, err := tensor.CheckShape(given)
	if err != nil {
		return nil, fmt.Errorf("target shape %v: %w", target, err)
	}
	total := tensor.NumElements(in[0].Shape)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %s to %v", tensor.ShapeString(in[0].Shape), target)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, fmt.Errorf("cannot reshape %s (%d values) to %v", tensor.ShapeString(in[0].Shape), total, target)
	}
	return one(in[0].DType, out), nil
}

type flatten struct {
	moveOp
	axis int
}

func (f *flatten) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	s := in[0].Shape
	axis := f.axis
	if axis < 0 {
		axis += len(s)
	}
	if axis < 0 || axis > len(s) {
		return nil, fmt.Errorf("axis %d out of range for rank %d", f.axis, len(s))
	}
	return one(in[0].DType, []int{tensor.NumElements(s[:axis]), tensor.NumElements(s[axis:])}), nil
}

// axesOp is Squeeze or Unsqueeze; axes come from an attribute before opset
// 13 and from the second input after.
type axesOp struct {
	moveOp
	unsqueeze bool
	axes      []int
	fromInput bool
}

func buildAxesOp(unsqueeze bool) builder {
	return func(n *onnx.Node, opset int64) (Op, error) {
		o := &axesOp{unsqueeze: unsqueeze, axes: attrInts(n, "axes"), fromInput: opset >= 13}
		if o.fromInput && n.Attr("axes") != nil {
			return nil, fmt.Errorf("the axes attribute became an input in opset 13")
		}
		if unsqueeze && !o.fromInput && o.axes == nil {
			return nil, fmt.Errorf("axes is required")
		}
		return o, nil
	}
}

func (o *axesOp) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 2); err != nil {
		return nil, err
	}
	axes := o.axes
	if o.fromInput && len(in) > 1 && in[1].DType != tensor.Undefined {
		c, err := requireConst(consts, 1, "axes")
		if err != nil {
			return nil, err
		}
		axes = c.Ints()
	}
	s := in[0].Shape
	if o.unsqueeze {
		if axes == nil {
			return nil, fmt.Errorf("axes input is required")
		}
		rank := len(s) + len(axes)
		mark := make([]bool, rank)
		for _, a := range axes {
			a, err := normAxis(a, rank)
			if err != nil {
				return nil, err
			}
			if mark[a] {
				return nil, fmt.Errorf("axis %d repeated", a)
			}
			mark[a] = true
		}
		out := make([]int, 0, rank)
		j := 0
		for i := 0; i < rank; i++ {
			if mark[i] {
				out = append(out, 1)
			} else {
				out = append(out, s[j])
				j++
			}
		}
		return one(in[0].DType, out), nil
	}
	drop := make([]bool, len(s))
	if axes == nil {
		for i, d := range s {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		a, err := normAxis(a, len(s))
		if err != nil {
			return nil, err
		}
		if s[a] != 1 {
			return nil, fmt.Errorf("cannot squeeze axis %d of size %d", a, s[a])
		}
		drop[a] = true
	}
	out := []int{}
	for i, d := range s {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return one(in[0].DType, out), nil
}

type transpose struct{ perm []int }

func (t *transpose) permFor(rank int) ([]int, error) {
	if t.perm == nil {
		p := make([]int, rank)
		for i := range p {
			p[i] = rank - 1 - i
		}
		return p, nil
	}
	if len(t.perm) != rank {
		return nil, fmt.Errorf("perm %v for rank %d", t.perm, rank)
	}
	seen := make([]bool, rank)
	for _, p := range t.perm {
		if p < 0 || p >= rank || seen[p] {
			return nil, fmt.Errorf("perm %v is not a permutation", t.perm)
		}
		seen[p] = true
	}
	return t.perm, nil
}

func (t *transpose) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	perm, err := t.permFor(len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	out := make([]int, len(perm))
	for i, p := range perm {
		out[i] = in[0].Shape[p]
	}
	return one(in[0].DType, out), nil
}

func (t *transpose) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	perm, err := t.permFor(len(in[0].Shape))
	if err != nil {
		return err
	}
	transposeTensor(in[0], out[0], perm, ctx.Workers)
	return nil
}

func copyElem(dst *tensor.Tensor, di int, src *tensor.Tensor, si int) {
	if src.F32 != nil {
		dst.F32[di] = src.F32[si]
	} else {
		dst.I64[di] = src.I64[si]
	}
}

// copyRange copies n elements whatever the backing slice.
func copyRange(dst *tensor.Tensor, di int, src *tensor.Tensor, si, n int) {
	if src.F32 != nil {
		copy(dst.F32[di:di+n], src.F32[si:si+n])
	} else {
		copy(dst.I64[di:di+n], src.I64[si:si+n])
	}
}

type shapeOp struct{ start, end int }

func (s *shapeOp) bounds(rank int) (int, int) {
	lo, hi := s.start, s.end
	if lo < 0 {
		lo += rank
	}
	if hi < 0 {
		hi += rank
	}
	lo, hi = clamp(lo, 0, rank), clamp(hi, 0, rank)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

func (s *shapeOp) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	lo, hi := s.bounds(len(in[0].Shape))
	return one(tensor.Int64, []int{hi - lo}), nil
}

func (s *shapeOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	lo, hi := s.bounds(len(in[0].Shape))
	for i, d := range in[0].Shape[lo:hi] {
		out[0].I64[i] = int64(d)
	}
	return nil
}
