package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/float16"
)

func init() {
	register("Concat", 1, func(n *onnx.Node, opset int64) (Op, error) {
		if n.Attr("axis") == nil {
			return nil, fmt.Errorf("axis is required")
		}
		return &concat{axis: int(attrInt(n, "axis", 0))}, nil
	}, "axis")
	register("Slice", 1, buildSlice, "starts", "ends", "axes")
	register("Gather", 1, func(n *onnx.Node, opset int64) (Op, error) {
		return &gather{axis: int(attrInt(n, "axis", 0))}, nil
	}, "axis")
	register("Constant", 1, buildConstant, "value", "value_float", "value_floats", "value_int", "value_ints")
	register("ConstantOfShape", 9, buildConstantOfShape, "value")
	register("Cast", 6, buildCast, "to", "saturate")
	register("CastLike", 15, func(*onnx.Node, int64) (Op, error) { return &cast{like: true}, nil }, "saturate")
	register("Pad", 2, buildPad, "mode", "pads", "value")
}

type concat struct{ axis int }

func (c *concat) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("no inputs")
	}
	rank := len(in[0].Shape)
	axis, err := normAxis(c.axis, rank)
	if err != nil {
		return nil, err
	}
	out := append([]int(nil), in[0].Shape...)
	out[axis] = 0
	for i, m := range in {
		if m.DType != in[0].DType || len(m.Shape) != rank {
			return nil, fmt.Errorf("input %d is %v, input 0 is %v", i, m, in[0])
		}
		for d := range m.Shape {
			if d != axis && m.Shape[d] != in[0].Shape[d] {
				return nil, fmt.Errorf("input %d is %v, input 0 is %v: only axis %d may differ", i, m, in[0], axis)
			}
		}
		// Checked as it grows: each input's axis is at most
		// tensor.MaxElements, so the sum stops short of overflowing.
		out[axis] += m.Shape[axis]
		if _, err := tensor.CheckShape(out); err != nil {
			return nil, fmt.Errorf("concatenating %d inputs: %w", len(in), err)
		}
	}
	return one(in[0].DType, out), nil
}

func (c *concat) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	axis, _ := normAxis(c.axis, len(out[0].Shape))
	outer := tensor.NumElements(out[0].Shape[:axis])
	inner := tensor.NumElements(out[0].Shape[axis+1:])
	rowOut := out[0].Shape[axis] * inner
	off := 0
	for _, t := range in {
		row := t.Shape[axis] * inner
		for o := 0; o < outer; o++ {
			copyRange(out[0], o*rowOut+off, t, o*row, row)
		}
		off += row
	}
	return nil
}

// slice holds attributes for opsets before 10; later opsets pass starts,
// ends, axes and steps as inputs.
type slice struct {
	starts, ends, axes []int
	fromInputs         bool
}

func buildSlice(n *onnx.Node, opset int64) (Op, error) {
	s := &slice{fromInputs: opset >= 10}
	if s.fromInputs {
		if n.Attr("starts") != nil || n.Attr("ends") != nil || n.Attr("axes") != nil {
			return nil, fmt.Errorf("starts/ends/axes became inputs in opset 10")
		}
		return s, nil
	}
	s.starts, s.ends, s.axes = attrInts(n, "starts"), attrInts(n, "ends"), attrInts(n, "axes")
	if s.starts == nil || s.ends == nil {
		return nil, fmt.Errorf("starts and ends are required")
	}
	return s, nil
}

type sliceDim struct{ start, step, count int }

// resolve returns, per input dimension, the first index, the step and the
// number of elements taken.
// present[i] tells whether optional input i is wired; its value must then
// be known.
func (s *slice) resolve(shape []int, consts []*tensor.Tensor, present []bool) ([]sliceDim, error) {
	starts, ends, axes := s.starts, s.ends, s.axes
	var steps []int
	if s.fromInputs {
		get := func(i int, what string) ([]int, error) {
			if i >= len(present) || !present[i] {
				if i < 3 {
					return nil, fmt.Errorf("input %d (%s) is required", i, what)
				}
				return nil, nil
			}
			c, err := requireConst(consts, i, what)
			if err != nil {
				return nil, err
			}
			return c.Ints(), nil
		}
		var err error
		if starts, err = get(1, "starts"); err != nil {
			return nil, err
		}
		if ends, err = get(2, "ends"); err != nil {
			return nil, err
		}
		if axes, err = get(3, "axes"); err != nil {
			return nil, err
		}
		if steps, err = get(4, "steps"); err != nil {
			return nil, err
		}
	}
	if len(starts) != len(ends) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
		return nil, fmt.Errorf("starts, ends, axes and steps differ in length")
	}
	dims := make([]sliceDim, len(shape))
	for i, d := range shape {
		dims[i] = sliceDim{0, 1, d}
	}
	for i := range starts {
		axis := i
		if axes != nil {
			axis = axes[i]
		}
		axis, err := normAxis(axis, len(shape))
		if err != nil {
			return nil, err
		}
		step := 1
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return nil, fmt.Errorf("step 0 on axis %d", axis)
		}
		d := shape[axis]
		if d == 0 {
			dims[axis] = sliceDim{0, 1, 0}
			continue
		}
		// Any step longer than the axis selects at most one element;
		// clamping it keeps the arithmetic below from overflowing.
		step = clamp(step, -d, d)
		st, en := starts[i], ends[i]
		if st < 0 {
			st += d
		}
		if en < 0 {
			en += d
		}
		var count int
		if step > 0 {
			st, en = clamp(st, 0, d), clamp(en, 0, d)
			count = max(0, (en-st+step-1)/step)
		} else {
			st, en = clamp(st, 0, d-1), clamp(en, -1, d-1)
			count = max(0, (st-en-step-1)/(-step))
		}
		dims[axis] = sliceDim{st, step, count}
	}
	return dims, nil
}

func (s *slice) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 5); err != nil {
		return nil, err
	}
	present := make([]bool, len(in))
	for i, m := range in {
		present[i] = m.DType != tensor.Undefined
	}
	dims, err := s.resolve(in[0].Shape, consts, present)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(dims))
	for i, d := range dims {
		out[i] = d.count
	}
	return one(in[0].DType, out), nil
}

// Run resolves the bounds again from its inputs: from opset 10 they are
// inputs, which the executor passes to Run like any other.
func (s *slice) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	present := make([]bool, len(in))
	for i, t := range in {
		present[i] = t != nil
	}
	dims, err := s.resolve(in[0].Shape, in, present)
	if err != nil {
		return err
	}
	strides := tensor.Strides(in[0].Shape)
	rank := len(dims)
	n := out[0].Len()
	if n == 0 {
		return nil
	}
	// Walk the output row by row (its innermost dimension), each row a
	// strided read of the input; the rows are split between the workers
	// (a ResNet shortcut's every-other-pixel Slice is a few percent of the
	// network).
	last := dims[rank-1]
	rows := n / last.count
	step := last.step * strides[rank-1]
	src0 := 0
	for i, d := range dims {
		src0 += d.start * strides[i]
	}
	workers := 1
	if ctx != nil {
		workers = max(1, ctx.Workers)
	}
	if x := in[0].F32; x != nil && everyOther(dims, in[0].Shape) {
		// The output is every other value of the whole input (a ResNet
		// shortcut's every-other-column Slice): one vector pass.
		parallel.For(n, workers, 1<<14, func(lo, hi int) { evenValues(out[0].F32[lo:hi], x[2*lo:2*hi]) })
		return nil
	}
	parallel.For(rows, workers, max(1, 1<<14/last.count), func(lo, hi int) {
		// Row lo's index over the outer dimensions, and where it starts.
		idx := make([]int, rank-1)
		src := src0
		for d, r := rank-2, lo; d >= 0; d-- {
			idx[d] = r % dims[d].count
			r /= dims[d].count
			src += idx[d] * dims[d].step * strides[d]
		}
		for r := lo; r < hi; r++ {
			o := r * last.count
			switch {
			case in[0].F32 != nil && step == 1:
				copy(out[0].F32[o:o+last.count], in[0].F32[src:])
			case in[0].F32 != nil:
				dst, from := out[0].F32[o:o+last.count], in[0].F32
				for i := range dst {
					dst[i] = from[src+i*step]
				}
			default:
				for i := 0; i < last.count; i++ {
					out[0].I64[o+i] = in[0].I64[src+i*step]
				}
			}
			for d := rank - 2; d >= 0; d-- {
				idx[d]++
				src += dims[d].step * strides[d]
				if idx[d] < dims[d].count {
					break
				}
				src -= dims[d].step * strides[d] * dims[d].count
				idx[d] = 0
			}
		}
	})
	return nil
}

// everyOther reports whether a slice of dims from an input of shape
// takes every value of the outer dimensions and the even indices of an
// even-sized last one: every other value of the input, in order.
func everyOther(dims []sliceDim, shape []int) bool {
	rank := len(dims)
	last := dims[rank-1]
	if last.start != 0 || last.step != 2 || shape[rank-1]%2 != 0 || last.count != shape[rank-1]/2 {
		return false
	}
	for i, d := range dims[:rank-1] {
		if d.start != 0 || d.step != 1 || d.count != shape[i] {
			return false
		}
	}
	return true
}

// evenValues writes src's even-indexed values to dst (len(src) =
// 2·len(dst)) with the vector deinterleave, the odd ones going to a
// scratch on the stack.
func evenValues(dst, src []float32) {
	var odd [1024]float32
	for len(dst) > 0 {
		m := min(len(dst), len(odd))
		deinterleave(dst[:m], odd[:m], src[:2*m])
		dst, src = dst[m:], src[2*m:]
	}
}

type gather struct{ axis int }

func (g *gather) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	if in[1].DType.IsFloat() {
		return nil, fmt.Errorf("indices must be integers, got %v", in[1].DType)
	}
	s := in[0].Shape
	axis, err := normAxis(g.axis, len(s))
	if err != nil {
		return nil, err
	}
	out := append(append(append([]int(nil), s[:axis]...), in[1].Shape...), s[axis+1:]...)
	return one(in[0].DType, out), nil
}

func (g *gather) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	s := in[0].Shape
	axis, _ := normAxis(g.axis, len(s))
	outer := tensor.NumElements(s[:axis])
	inner := tensor.NumElements(s[axis+1:])
	idx := in[1].I64
	for o := 0; o < outer; o++ {
		for j, ix := range idx {
			i := int(ix)
			if i < 0 {
				i += s[axis]
			}
			if i < 0 || i >= s[axis] {
				return fmt.Errorf("index %d out of range for axis %d of size %d", ix, axis, s[axis])
			}
			copyRange(out[0], (o*len(idx)+j)*inner, in[0], (o*s[axis]+i)*inner, inner)
		}
	}
	return nil
}

// constant is the Constant operator: its value is fixed at build time.
type constant struct{ value *tensor.Tensor }

func buildConstant(n *onnx.Node, opset int64) (Op, error) {
	if len(n.Attrs) != 1 {
		return nil, fmt.Errorf("exactly one value attribute is required, got %d", len(n.Attrs))
	}
	a := n.Attrs[0]
	switch a.Name {
	case "value":
		if a.T == nil {
			return nil, fmt.Errorf("value holds no tensor")
		}
		return &constant{value: a.T}, nil
	case "value_float":
		return &constant{value: tensor.FromFloat32([]float32{a.F})}, nil
	case "value_floats":
		return &constant{value: tensor.FromFloat32(append([]float32(nil), a.Floats...), len(a.Floats))}, nil
	case "value_int":
		return &constant{value: tensor.FromInt64([]int64{a.I})}, nil
	default: // value_ints
		return &constant{value: tensor.FromInt64(append([]int64(nil), a.Ints...), len(a.Ints))}, nil
	}
}

// Value returns the constant, for the importer.
func (c *constant) Value() *tensor.Tensor { return c.value }

func (c *constant) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	return one(c.value.DType, c.value.Shape), nil
}

func (c *constant) Run(_ *Ctx, _, out []*tensor.Tensor) error {
	copyRange(out[0], 0, c.value, 0, c.value.Len())
	return nil
}

type constantOfShape struct{ value *tensor.Tensor }

func buildConstantOfShape(n *onnx.Node, opset int64) (Op, error) {
	v := tensor.FromFloat32([]float32{0}, 1)
	if a := n.Attr("value"); a != nil {
		if a.T == nil || a.T.Len() != 1 {
			return nil, fmt.Errorf("value must be a one-element tensor")
		}
		v = a.T
	}
	return &constantOfShape{value: v}, nil
}

func (c *constantOfShape) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	s, err := requireConst(consts, 0, "shape")
	if err != nil {
		return nil, err
	}
	// The shape is checked with every operator's output (Infer): a
	// negative or too large dimension is refused there.
	return one(c.value.DType, s.Ints()), nil
}

func (c *constantOfShape) Run(_ *Ctx, _, out []*tensor.Tensor) error {
	for i := range out[0].F32 {
		out[0].F32[i] = c.value.F32[0]
	}
	for i := range out[0].I64 {
		out[0].I64[i] = c.value.I64[0]
	}
	return nil
}

// cast is Cast, or CastLike (like: the type is input 1's, whose values
// are not read).
type cast struct {
	to   tensor.DType
	like bool
}

func buildCast(n *onnx.Node, opset int64) (Op, error) {
	a := n.Attr("to")
	if a == nil {
		return nil, fmt.Errorf("attribute to is required")
	}
	to := tensor.DType(a.I)
	if !to.Supported() {
		return nil, fmt.Errorf("cast to data type %d not supported", a.I)
	}
	return &cast{to: to}, nil
}

func (c *cast) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if c.like {
		if err := wantInputs(in, 2, 2); err != nil {
			return nil, err
		}
		return one(in[1].DType, in[0].Shape), nil
	}
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	return one(c.to, in[0].Shape), nil
}

func (c *cast) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	CastInto(out[0], in[0])
	return nil
}

// CastInto converts src's values to dst's element type as ONNX Cast does:
// floats to integers truncate toward zero and wrap to the target width,
// anything to bool is "non-zero", float32 to float16 rounds to nearest even.
func CastInto(dst, src *tensor.Tensor) {
	n := src.Len()
	for i := 0; i < n; i++ {
		if src.DType.IsFloat() {
			v := src.F32[i]
			switch {
			case dst.DType == tensor.Float16:
				dst.F32[i] = float16.ToFloat32(float16.FromFloat32(v))
			case dst.DType.IsFloat():
				dst.F32[i] = v
			case dst.DType == tensor.Bool:
				dst.I64[i] = boolInt(v != 0)
			default:
				dst.I64[i] = wrapInt(floatToInt64(float64(v)), dst.DType)
			}
			continue
		}
		v := src.I64[i]
		switch {
		case dst.DType == tensor.Float16:
			dst.F32[i] = float16.ToFloat32(float16.FromFloat32(float32(v)))
		case dst.DType.IsFloat():
			dst.F32[i] = float32(v)
		case dst.DType == tensor.Bool:
			dst.I64[i] = boolInt(v != 0)
		default:
			dst.I64[i] = wrapInt(v, dst.DType)
		}
	}
}

func floatToInt64(v float64) int64 {
	switch {
	case v != v:
		return 0
	case v >= math.MaxInt64:
		return math.MaxInt64
	case v <= math.MinInt64:
		return math.MinInt64
	}
	return int64(v)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func wrapInt(v int64, dt tensor.DType) int64 {
	switch dt {
	case tensor.Int32:
		return int64(int32(v))
	case tensor.Int8:
		return int64(int8(v))
	case tensor.Uint8:
		return int64(uint8(v))
	}
	return v
}

// pad is Pad with constant, reflect or edge mode. Before opset 11 pads and
// value are attributes; from 11 on they are inputs (and axes from 18).
type pad struct {
	mode       string
	pads       []int
	value      padValue
	fromInputs bool
}

// padValue is the fill of constant padding, kept in the form of the
// tensor it fills so that large int64 values stay exact.
type padValue struct {
	f float32
	i int64
}

func buildPad(n *onnx.Node, opset int64) (Op, error) {
	p := &pad{mode: attrString(n, "mode", "constant"), fromInputs: opset >= 11}
	switch p.mode {
	case "constant", "reflect", "edge":
	default:
		return nil, fmt.Errorf("mode %q not supported (constant, reflect, edge)", p.mode)
	}
	if !p.fromInputs {
		p.pads = attrInts(n, "pads")
		p.value.f = attrFloat(n, "value", 0)
		p.value.i = int64(p.value.f)
		if p.pads == nil {
			return nil, fmt.Errorf("pads is required")
		}
	} else if n.Attr("pads") != nil || n.Attr("value") != nil {
		return nil, fmt.Errorf("pads and value became inputs in opset 11")
	}
	return p, nil
}

// resolve returns per-dimension begin and end padding and the fill value.
func (p *pad) resolve(rank int, consts []*tensor.Tensor) (begin, end []int, value padValue, err error) {
	pads, value := p.pads, p.value
	var axes []int
	if p.fromInputs {
		c, err := requireConst(consts, 1, "pads")
		if err != nil {
			return nil, nil, value, err
		}
		pads = c.Ints()
		if len(consts) > 2 && consts[2] != nil && consts[2].Len() > 0 {
			if consts[2].DType.IsFloat() {
				value = padValue{f: consts[2].F32[0], i: int64(consts[2].F32[0])}
			} else {
				value = padValue{f: float32(consts[2].I64[0]), i: consts[2].I64[0]}
			}
		}
		if len(consts) > 3 && consts[3] != nil {
			axes = consts[3].Ints()
		}
	}
	if axes == nil {
		axes = make([]int, rank)
		for i := range axes {
			axes[i] = i
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, nil, value, fmt.Errorf("pads has %d values, want %d", len(pads), 2*len(axes))
	}
	// Bounded so that a dimension plus its two pads cannot overflow; the
	// padded shape is then checked like every output.
	for _, v := range pads {
		if v < -tensor.MaxElements || v > tensor.MaxElements {
			return nil, nil, value, fmt.Errorf("pads %v: %d is beyond ±%d, the most elements a tensor may have", pads, v, tensor.MaxElements)
		}
	}
	begin, end = make([]int, rank), make([]int, rank)
	for i, a := range axes {
		a, err := normAxis(a, rank)
		if err != nil {
			return nil, nil, value, err
		}
		begin[a], end[a] = pads[i], pads[len(axes)+i]
	}
	return begin, end, value, nil
}

func (p *pad) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 4); err != nil {
		return nil, err
	}
	begin, end, _, err := p.resolve(len(in[0].Shape), consts)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(begin))
	for i, d := range in[0].Shape {
		out[i] = d + begin[i] + end[i]
		if out[i] < 0 {
			return nil, fmt.Errorf("negative output dimension on axis %d", i)
		}
		if p.mode == "reflect" && (begin[i] >= d || end[i] >= d) && (begin[i] > 0 || end[i] > 0) {
			return nil, fmt.Errorf("reflect padding %d/%d on axis %d of size %d", begin[i], end[i], i, d)
		}
		if p.mode == "edge" && d == 0 && (begin[i] > 0 || end[i] > 0) {
			return nil, fmt.Errorf("edge padding of an empty axis %d", i)
		}
	}
	return one(in[0].DType, out), nil
}

func (p *pad) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	begin, _, value, err := p.resolve(len(x.Shape), in)
	if err != nil {
		return err
	}
	if p.mode == "constant" {
		padConstant(y, x, begin, value)
		return nil
	}
	rank := len(x.Shape)
	inStrides := tensor.Strides(x.Shape)
	idx := make([]int, rank)
	n := y.Len()
	for o := 0; o < n; o++ {
		src, inside := 0, true
		for d := 0; d < rank; d++ {
			i := idx[d] - begin[d]
			size := x.Shape[d]
			if i < 0 || i >= size {
				switch p.mode {
				case "constant":
					inside = false
				case "edge":
					i = clamp(i, 0, size-1)
				case "reflect":
					for i < 0 || i >= size {
						if i < 0 {
							i = -i
						}
						if i >= size {
							i = 2*(size-1) - i
						}
					}
				}
			}
			src += i * inStrides[d]
		}
		switch {
		case inside:
			copyElem(y, o, x, src)
		case y.F32 != nil:
			y.F32[o] = value.f
		default:
			y.I64[o] = value.i
		}
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < y.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return nil
}

// padConstant fills y with value and copies every row of x to its place,
// cropping where a pad is negative. Whole-row copies keep the common case
// (padding channels or borders of activations) at memory speed.
func padConstant(y, x *tensor.Tensor, begin []int, value padValue) {
	if math.Float32bits(value.f) == 0 && value.i == 0 {
		clear(y.F32) // zero padding: memclr, several times the loop's speed
		clear(y.I64)
	} else {
		for i := range y.F32 {
			y.F32[i] = value.f
		}
		for i := range y.I64 {
			y.I64[i] = value.i
		}
	}
	rank := len(x.Shape)
	if rank == 0 || x.Len() == 0 || y.Len() == 0 {
		return
	}
	// The trailing dimensions that are neither padded nor cropped are
	// one contiguous run in x and in y with the dimension before them,
	// k: a row is dimension k and those (a ResNet shortcut's channel
	// padding copies whole images, not rows of a few values).
	k := rank - 1
	for k > 0 && begin[k] == 0 && x.Shape[k] == y.Shape[k] {
		k--
	}
	tail := 1
	for _, d := range x.Shape[k+1:] {
		tail *= d
	}
	inner := x.Shape[k] * tail
	// The part of each row that lands inside y.
	lo := max(0, -begin[k]) * tail
	hi := min(x.Shape[k], y.Shape[k]-begin[k]) * tail
	if lo >= hi {
		return
	}
	yStrides := tensor.Strides(y.Shape)
	rows := x.Len() / inner
	idx := make([]int, k)
	for r := 0; r < rows; r++ {
		off, inside := 0, true
		for d, i := range idx {
			o := i + begin[d]
			if o < 0 || o >= y.Shape[d] {
				inside = false
				break
			}
			off += o * yStrides[d]
		}
		if inside {
			copyRange(y, off+lo+begin[k]*tail, x, r*inner+lo, hi-lo)
		}
		for d := k - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < x.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
}
