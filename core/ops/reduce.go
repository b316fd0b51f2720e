package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// The Reduce* operators, CumSum and ArgMax/ArgMin. Floats accumulate in float64 and
// are rounded once; integers accumulate in wrapping int64 and are wrapped
// to their type at the end.
func init() {
	for _, k := range []struct {
		name string
		// axesInput is the opset from which axes is an input, not an
		// attribute, and noop_with_empty_axes exists.
		axesInput int64
		ints      bool // defined on integer (and, for Max/Min, bool) types here
	}{
		{"ReduceSum", 13, true}, {"ReduceMean", 18, false}, {"ReduceMax", 18, true},
		{"ReduceMin", 18, true}, {"ReduceProd", 18, true}, {"ReduceSumSquare", 18, true},
		{"ReduceL1", 18, true}, {"ReduceL2", 18, false}, {"ReduceLogSum", 18, false},
		{"ReduceLogSumExp", 18, false},
	} {
		k := k
		register(k.name, 1, func(n *onnx.Node, opset int64) (Op, error) {
			r := &reduce{kind: k.name, keepdims: attrInt(n, "keepdims", 1) != 0, ints: k.ints}
			if opset >= k.axesInput {
				if n.Attr("axes") != nil {
					return nil, fmt.Errorf("attribute axes became input 1 in opset %d", k.axesInput)
				}
				r.axesInput = true
				r.noopEmpty = attrInt(n, "noop_with_empty_axes", 0) != 0
				return r, nil
			}
			if n.Attr("noop_with_empty_axes") != nil {
				return nil, fmt.Errorf("attribute noop_with_empty_axes exists from opset %d on", k.axesInput)
			}
			r.axes = attrInts(n, "axes")
			return r, nil
		}, "axes", "keepdims", "noop_with_empty_axes")
	}
	register("CumSum", 11, func(n *onnx.Node, _ int64) (Op, error) {
		return &cumSum{exclusive: attrInt(n, "exclusive", 0) != 0, reverse: attrInt(n, "reverse", 0) != 0}, nil
	}, "exclusive", "reverse")
	for _, name := range []string{"ArgMax", "ArgMin"} {
		name := name
		register(name, 1, func(n *onnx.Node, _ int64) (Op, error) {
			return &argReduce{
				max:      name == "ArgMax",
				axis:     int(attrInt(n, "axis", 0)),
				keepdims: attrInt(n, "keepdims", 1) != 0,
				last:     attrInt(n, "select_last_index", 0) != 0,
			}, nil
		}, "axis", "keepdims", "select_last_index")
	}
}

// reduce is one Reduce* operator. Reducing over an empty set gives the
// operation's identity (ONNX opset 18): 0 for sums, 1 for the product, -inf
// for Max and LogSum(Exp) (the type's minimum for integers), +inf for Min,
// NaN for Mean.
type reduce struct {
	kind      string
	axes      []int // the attribute (before axes became an input)
	axesInput bool
	keepdims  bool
	noopEmpty bool
	ints      bool
}

// resolve returns which axes of a rank-dimensional input are reduced, or
// noop when none are (empty axes with noop_with_empty_axes=1).
func (r *reduce) resolve(rank int, in []Meta, consts []*tensor.Tensor) (mask []bool, noop bool, err error) {
	axes := r.axes
	if r.axesInput && len(in) > 1 && in[1].DType != tensor.Undefined {
		c, err := requireConst(consts, 1, "axes")
		if err != nil {
			return nil, false, err
		}
		if c.DType != tensor.Int64 || len(c.Shape) != 1 {
			return nil, false, fmt.Errorf("axes must be a 1-D int64 tensor, got %v%s", c.DType, tensor.ShapeString(c.Shape))
		}
		axes = c.Ints()
	}
	mask = make([]bool, rank)
	if len(axes) == 0 {
		if r.noopEmpty {
			return nil, true, nil
		}
		for i := range mask {
			mask[i] = true
		}
		return mask, false, nil
	}
	for _, a := range axes {
		ax, err := normAxis(a, rank)
		if err != nil {
			return nil, false, fmt.Errorf("axes %v: %w", axes, err)
		}
		if mask[ax] {
			return nil, false, fmt.Errorf("axes %v name axis %d twice", axes, ax)
		}
		mask[ax] = true
	}
	return mask, false, nil
}

func (r *reduce) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	maxIn := 1
	if r.axesInput {
		maxIn = 2
	}
	if err := wantInputs(in, 1, maxIn); err != nil {
		return nil, err
	}
	dt := in[0].DType
	if !dt.IsFloat() && (!r.ints || dt == tensor.Bool && r.kind != "ReduceMax" && r.kind != "ReduceMin") {
		return nil, fmt.Errorf("input type %v not supported by %s (want a float type)", dt, r.kind)
	}
	mask, noop, err := r.resolve(len(in[0].Shape), in, consts)
	if err != nil {
		return nil, err
	}
	if noop {
		return one(dt, in[0].Shape), nil
	}
	var shape []int
	for i, d := range in[0].Shape {
		switch {
		case !mask[i]:
			shape = append(shape, d)
		case r.keepdims:
			shape = append(shape, 1)
		}
	}
	return one(dt, shape), nil
}

func (r *reduce) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	metas := make([]Meta, len(in))
	for i, t := range in {
		if t != nil {
			metas[i] = Meta{DType: t.DType, Shape: t.Shape}
		}
	}
	mask, noop, err := r.resolve(len(x.Shape), metas, in)
	if err != nil {
		return err
	}
	if noop {
		copyRange(y, 0, x, 0, x.Len())
		return nil
	}
	l := newReduceLayout(x.Shape, mask)
	if x.DType.IsFloat() {
		reduceRun(ctx, r.kind, l, x.F32, y.F32, math.Inf(-1), math.Inf(1), func(acc float64) float32 {
			return float32(finishFloat(r.kind, acc, l.count))
		})
		return nil
	}
	lo, hi := intRange(x.DType)
	reduceRun(ctx, r.kind, l, x.I64, y.I64, lo, hi, func(acc int64) int64 { return wrapInt(acc, y.DType) })
	return nil
}

// finishFloat turns a float accumulator into the result.
func finishFloat(kind string, acc float64, count int) float64 {
	switch kind {
	case "ReduceMean":
		return acc / float64(count)
	case "ReduceL2":
		return math.Sqrt(acc)
	case "ReduceLogSum":
		return math.Log(acc)
	}
	return acc
}

// intRange returns the smallest and largest value of an integer type.
func intRange(dt tensor.DType) (lo, hi int64) {
	switch dt {
	case tensor.Int32:
		return math.MinInt32, math.MaxInt32
	case tensor.Int8:
		return math.MinInt8, math.MaxInt8
	case tensor.Uint8:
		return 0, math.MaxUint8
	case tensor.Bool:
		return 0, 1
	}
	return math.MinInt64, math.MaxInt64
}

// reduceLayout is an input shape split into what one output element
// reduces. Dimensions of size 1 are dropped and neighbours both reduced or
// both kept are merged; the innermost merged dimension is walked as a
// contiguous segment of segLen elements. When it is reduced (vector false)
// each output element folds whole segments into one value; when it is
// kept (vector true) each run of segLen outputs folds segments elementwise.
type reduceLayout struct {
	segLen int
	vector bool
	red    []reduceDim // reduced dims outside the segment, outermost first
	kept   []reduceDim // kept dims outside the segment, outermost first
	count  int         // elements reduced into each output element
}

type reduceDim struct{ n, stride int }

func newReduceLayout(shape []int, mask []bool) reduceLayout {
	strides := tensor.Strides(shape)
	type dim struct {
		reduceDim
		red bool
	}
	var ds []dim
	l := reduceLayout{count: 1, segLen: 1}
	for i, n := range shape {
		if mask[i] {
			l.count *= n
		}
		if n == 1 {
			continue
		}
		// Adjacent dimensions of a contiguous tensor continue each other's
		// layout, so two of the same kind are one.
		if k := len(ds) - 1; k >= 0 && ds[k].red == mask[i] {
			ds[k].n *= n
			ds[k].stride = strides[i]
			continue
		}
		ds = append(ds, dim{reduceDim{n, strides[i]}, mask[i]})
	}
	if len(ds) == 0 {
		return l
	}
	last := ds[len(ds)-1]
	l.segLen, l.vector = last.n, !last.red
	for _, d := range ds[:len(ds)-1] {
		if d.red {
			l.red = append(l.red, d.reduceDim)
		} else {
			l.kept = append(l.kept, d.reduceDim)
		}
	}
	return l
}

// base returns the input offset where the o-th output (vector: output
// run) starts.
func (l *reduceLayout) base(o int) int {
	b := 0
	for i := len(l.kept) - 1; i >= 0; i-- {
		d := l.kept[i]
		b += (o % d.n) * d.stride
		o /= d.n
	}
	return b
}

// segments calls fn with the offset of every segment reduced into the
// output that starts at base.
func (l *reduceLayout) segments(base int, fn func(off int)) {
	total := 1
	for _, d := range l.red {
		total *= d.n
	}
	for k := 0; k < total; k++ {
		off, kk := base, k
		for i := len(l.red) - 1; i >= 0; i-- {
			d := l.red[i]
			off += (kk % d.n) * d.stride
			kk /= d.n
		}
		fn(off)
	}
}

// reduceRun reduces x into y along l with accumulators of type A, lo and
// hi being the initial values of Max and Min and finish making the result.
func reduceRun[T float32 | int64, A float64 | int64](ctx *Ctx, kind string, l reduceLayout, x, y []T, lo, hi A, finish func(A) T) {
	if len(y) == 0 {
		return
	}
	runs, work := len(y), max(1, l.count)
	if l.vector {
		runs /= l.segLen
		work *= l.segLen
	}
	init := func(acc []A, kind string) {
		v := A(0)
		switch kind {
		case "ReduceProd":
			v = 1
		case "ReduceMax":
			v = lo
		case "ReduceMin":
			v = hi
		}
		for i := range acc {
			acc[i] = v
		}
	}
	parallel.For(runs, ctx.Workers, max(1, minParallel/work), func(first, end int) {
		width := 1
		if l.vector {
			width = l.segLen
		}
		acc, shift := make([]A, width), make([]A, width)
		for o := first; o < end; o++ {
			base := l.base(o)
			fold := func(kind string) {
				init(acc, kind)
				l.segments(base, func(off int) {
					seg := x[off : off+l.segLen]
					if l.vector {
						foldVector(kind, acc, seg, shift)
					} else {
						acc[0] = foldScalar(kind, acc[0], seg, shift[0])
					}
				})
			}
			if kind == "ReduceLogSumExp" {
				// log Σ e^x = m + log Σ e^(x-m) with m the maximum, so
				// that no exponential overflows.
				fold("ReduceMax")
				copy(shift, acc)
				fold(kind)
				for i, m := range shift {
					if !math.IsInf(float64(m), 0) {
						acc[i] = A(float64(m) + math.Log(float64(acc[i])))
					} else {
						acc[i] = m
					}
				}
			} else {
				fold(kind)
			}
			for i, a := range acc {
				y[o*width+i] = finish(a)
			}
		}
	})
}

// foldScalar folds seg into acc; shift is LogSumExp's maximum.
func foldScalar[T float32 | int64, A float64 | int64](kind string, acc A, seg []T, shift A) A {
	switch kind {
	case "ReduceMax":
		for _, v := range seg {
			acc = max(acc, A(v))
		}
	case "ReduceMin":
		for _, v := range seg {
			acc = min(acc, A(v))
		}
	case "ReduceProd":
		for _, v := range seg {
			acc *= A(v)
		}
	case "ReduceSumSquare", "ReduceL2":
		for _, v := range seg {
			acc += A(v) * A(v)
		}
	case "ReduceL1":
		for _, v := range seg {
			if v < 0 {
				v = -v
			}
			acc += A(v)
		}
	case "ReduceLogSumExp":
		for _, v := range seg {
			acc += A(math.Exp(float64(A(v) - shift)))
		}
	default: // ReduceSum, ReduceMean, ReduceLogSum
		for _, v := range seg {
			acc += A(v)
		}
	}
	return acc
}

// foldVector folds seg into acc elementwise.
func foldVector[T float32 | int64, A float64 | int64](kind string, acc []A, seg []T, shift []A) {
	for i := range seg {
		acc[i] = foldScalar(kind, acc[i], seg[i:i+1], shift[i])
	}
}

// argReduce is ArgMax or ArgMin along one axis: the int64 index of the
// first (select_last_index: last) extreme. A NaN counts as the extreme, as
// in NumPy, so that it is not hidden.
type argReduce struct {
	max, keepdims, last bool
	axis                int
}

func (a *argReduce) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if in[0].DType == tensor.Bool {
		return nil, fmt.Errorf("input type bool not supported; want a numeric type")
	}
	s := in[0].Shape
	ax, err := normAxis(a.axis, len(s))
	if err != nil {
		return nil, err
	}
	if s[ax] == 0 {
		return nil, fmt.Errorf("axis %d of %s is empty: there is no index to return", a.axis, tensor.ShapeString(s))
	}
	shape := append([]int(nil), s[:ax]...)
	if a.keepdims {
		shape = append(shape, 1)
	}
	return one(tensor.Int64, append(shape, s[ax+1:]...)), nil
}

func (a *argReduce) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	ax, _ := normAxis(a.axis, len(x.Shape))
	n, inner := x.Shape[ax], tensor.NumElements(x.Shape[ax+1:])
	if x.DType.IsFloat() {
		argRun(ctx, a, x.F32, out[0].I64, n, inner)
	} else {
		argRun(ctx, a, x.I64, out[0].I64, n, inner)
	}
	return nil
}

func argRun[T float32 | int64](ctx *Ctx, a *argReduce, x []T, y []int64, n, inner int) {
	better := func(v, best T) bool {
		if v != v { // NaN; never true for integers
			return best == best || a.last
		}
		if best != best {
			return false
		}
		if a.max {
			return v > best || a.last && v == best
		}
		return v < best || a.last && v == best
	}
	parallel.For(len(y), ctx.Workers, max(1, minParallel/n), func(lo, hi int) {
		for o := lo; o < hi; o++ {
			base := (o/inner)*n*inner + o%inner
			best, bi := x[base], 0
			for i := 1; i < n; i++ {
				if v := x[base+i*inner]; better(v, best) {
					best, bi = v, i
				}
			}
			y[o] = int64(bi)
		}
	})
}

// cumSum is CumSum: running sums along an axis (input 1, which the
// output's shape does not depend on), optionally exclusive (each sum leaves
// its own element out) and reversed (summing from the end).
type cumSum struct{ exclusive, reverse bool }

// axis reads the axis tensor a for an input of the given rank.
func (c *cumSum) axis(rank int, a *tensor.Tensor) (int, error) {
	if a.Len() != 1 || len(a.Shape) > 1 {
		return 0, fmt.Errorf("axis must hold one value, got %v%s", a.DType, tensor.ShapeString(a.Shape))
	}
	return normAxis(int(a.I64[0]), rank)
}

func (c *cumSum) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	if in[0].DType == tensor.Bool {
		return nil, fmt.Errorf("input type bool not supported; want a numeric type")
	}
	if dt := in[1].DType; dt != tensor.Int32 && dt != tensor.Int64 {
		return nil, fmt.Errorf("axis is %v; want int32 or int64", dt)
	}
	if len(consts) > 1 && consts[1] != nil {
		if _, err := c.axis(len(in[0].Shape), consts[1]); err != nil {
			return nil, err
		}
	}
	return one(in[0].DType, in[0].Shape), nil
}

func (c *cumSum) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	ax, err := c.axis(len(x.Shape), in[1])
	if err != nil {
		return err
	}
	outer, n, inner := tensor.NumElements(x.Shape[:ax]), x.Shape[ax], tensor.NumElements(x.Shape[ax+1:])
	if x.DType.IsFloat() {
		cumSumRun(ctx, c, x.F32, y.F32, outer, n, inner, func(v float64) float32 { return float32(v) })
	} else {
		cumSumRun(ctx, c, x.I64, y.I64, outer, n, inner, func(v int64) int64 { return wrapInt(v, y.DType) })
	}
	return nil
}

func cumSumRun[T float32 | int64, A float64 | int64](ctx *Ctx, c *cumSum, x, y []T, outer, n, inner int, finish func(A) T) {
	if outer*n*inner == 0 {
		return
	}
	parallel.For(outer, ctx.Workers, max(1, minParallel/(n*inner)), func(lo, hi int) {
		acc := make([]A, inner)
		for o := lo; o < hi; o++ {
			clear(acc)
			for s := 0; s < n; s++ {
				i := s
				if c.reverse {
					i = n - 1 - s
				}
				row := (o*n + i) * inner
				for k, v := range x[row : row+inner] {
					if c.exclusive {
						y[row+k] = finish(acc[k])
						acc[k] += A(v)
					} else {
						acc[k] += A(v)
						y[row+k] = finish(acc[k])
					}
				}
			}
		}
	})
}
