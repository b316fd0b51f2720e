package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/tensor"
)

// The channels-last layout (NHWC) of a float 4-D tensor keeps its Meta,
// [N, C, H, W], and its values, but orders them image, row, column,
// channel: value (n, c, y, x) is at ((n·H + y)·W + x)·C + c. A
// channels-last operator reads and writes that layout; the engine places
// them over stretches of a network where it pays (pointwise and depthwise
// convolutions: MobileNets) and converts at the stretch's edges
// (ToChannelsLast, ToChannelsFirst).
//
// Why: a pointwise convolution over channels-last values is one matrix
// product of the input as it lies (positions × channels) by the packed
// weights, with no per-call packing of the input planes and no partial
// tiles on 7×7 planes; a depthwise convolution's kernel runs over
// channels in vectors, reading each tap's channels as one contiguous
// run, with no padded copy or phase planes of each channel.

// channelsLast returns the channels-last operator computing what op
// computes, for inputs of these metas with constant weights (consts[1]),
// or nil where there is none: a float Conv that is pointwise (1×1,
// stride 1, no padding, one group) or depthwise 3×3 or 5×5 (one output
// channel per group, padding at most half the kernel, no dilation), its
// weights and bias constant. Its input 0 (and a fused residual, input 3)
// must be channels-last, and its output is.
func channelsLast(op Op, in []Meta, consts []*tensor.Tensor) Op {
	c, ok := op.(*conv)
	if !ok || len(in) < 2 || len(in[0].Shape) != 4 || len(consts) < 2 || consts[1] == nil {
		return nil
	}
	if len(in) > 2 && in[2].DType != tensor.Undefined && (len(consts) < 3 || consts[2] == nil) {
		return nil
	}
	geo, _, err := c.geometryOf(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil
	}
	w := consts[1]
	win := geo.win
	// The attributes, fusions and bias, without the usual layout's packed
	// weights and scratch, which the plan then drops.
	attrs := &conv{win: c.win, group: c.group, act: c.act, residual: c.residual, bias: c.bias}
	switch {
	case geo.pointwise && c.group == 1:
		return &convNHWC{conv: attrs, geo: geo, wt: gemm.PackB(geo.k, geo.cout, w.F32, geo.k, true)}
	case isDepthwiseF32(w.Shape, c.group) && w.Shape[0] == c.group &&
		(win.kernel == [2]int{3, 3} || win.kernel == [2]int{5, 5}) && win.dilation == [2]int{1, 1} &&
		max(win.padBegin[0], win.padBegin[1], win.padEnd[0], win.padEnd[1]) <= win.kernel[0]/2:
		ch, taps := c.group, win.kernel[0]*win.kernel[1]
		// Tap-major weights: tap t's channels are one run, as the input's.
		dw := make([]float32, taps*ch)
		for o := 0; o < ch; o++ {
			for t := 0; t < taps; t++ {
				dw[t*ch+o] = w.F32[o*taps+t]
			}
		}
		return &convNHWC{conv: attrs, geo: geo, dw: dw}
	}
	return nil
}

// IsChannelsLast reports whether op is a channels-last convolution
// (ChannelsLastRole's for a Conv).
func IsChannelsLast(op Op) bool {
	_, ok := op.(*convNHWC)
	return ok
}

// LayoutRole is how a step can take part in a channels-last stretch
// (see ChannelsLastRole).
type LayoutRole struct {
	// Op computes the step channels-last: op itself where the layout is
	// all the same to it.
	Op Op
	// Inputs are the inputs it reads channels-last; the others it reads
	// as they are (constants, bounds, a scale a channel).
	Inputs []int
	// Output says whether its output is channels-last: a global pooling's
	// [N, C, 1, 1] is the same either way.
	Output bool
}

// ChannelsLastRole returns how op, with inputs of these metas and these
// constants (nil where not constant), can run in a channels-last
// stretch, or false where it cannot:
//   - float Convs that are pointwise (1×1, stride 1, no padding, one
//     group) or depthwise 3×3 or 5×5 (one output channel per group,
//     padding at most half the kernel, no dilation), with constant
//     weights and bias;
//   - elementwise functions of one float 4-D tensor (activations, math
//     functions), and Add, Sub, Mul, Div of two 4-D tensors of one shape,
//     or of a 4-D tensor and a scalar or a value per image: the layout is
//     all the same to them;
//   - Add, Sub, Mul, Div of a 4-D tensor and a value per channel
//     (shape [C, 1, 1], [1, C, 1, 1] or [N, C, 1, 1]: a squeeze-and-excite
//     block's scale), GlobalAveragePool and ReduceMean over the two
//     spatial axes, in channels-last versions.
func ChannelsLastRole(op Op, in []Meta, consts []*tensor.Tensor) (LayoutRole, bool) {
	if c := channelsLast(op, in, consts); c != nil {
		inputs := []int{0}
		if c.(*convNHWC).conv.residual {
			inputs = append(inputs, 3)
		}
		return LayoutRole{Op: c, Inputs: inputs, Output: true}, true
	}
	tensor4 := func(i int) bool {
		return i < len(in) && in[i].DType == tensor.Float32 && len(in[i].Shape) == 4
	}
	switch o := op.(type) {
	case *unary:
		if tensor4(0) {
			return LayoutRole{Op: op, Inputs: []int{0}, Output: true}, true
		}
	case *pointwise:
		if tensor4(0) && o.f != nil && o.test == nil && !o.bools {
			return LayoutRole{Op: op, Inputs: []int{0}, Output: true}, true
		}
	case *binary:
		if len(in) != 2 {
			break
		}
		for x := 0; x < 2; x++ {
			v := 1 - x
			if !tensor4(x) || in[v].DType != tensor.Float32 {
				continue
			}
			switch broadcastKind(in[v].Shape, in[x].Shape) {
			case sameShape:
				if tensor4(v) {
					return LayoutRole{Op: op, Inputs: []int{0, 1}, Output: true}, true
				}
			case perImage:
				return LayoutRole{Op: op, Inputs: []int{x}, Output: true}, true
			case perChannel:
				return LayoutRole{Op: &channelBinary{binary: o, x: x}, Inputs: []int{x}, Output: true}, true
			}
		}
	case *globalAvgPool:
		if tensor4(0) {
			return LayoutRole{Op: gapNHWC{}, Inputs: []int{0}, Output: false}, true
		}
	case *reduce:
		if mask, noop, err := o.resolve(len(in[0].Shape), in, consts); tensor4(0) && o.kind == "ReduceMean" &&
			err == nil && !noop && mask[2] && mask[3] && !mask[0] && !mask[1] {
			return LayoutRole{Op: &spatialMeanNHWC{o}, Inputs: []int{0}, Output: false}, true
		}
	}
	return LayoutRole{}, false
}

// How a binary operator's operand v broadcasts over a 4-D x.
const (
	otherBroadcast = iota
	sameShape      // v is x's shape
	perImage       // one value an image or one in all ([N|1, 1, 1, 1], a scalar)
	perChannel     // one value a channel (and image): [N|1, C, 1, 1] or [C, 1, 1]
)

func broadcastKind(v, x []int) int {
	if len(v) > 4 {
		return otherBroadcast
	}
	d := [4]int{1, 1, 1, 1} // v right-aligned to x's four axes
	copy(d[4-len(v):], v)
	switch {
	case d == [4]int(x):
		return sameShape
	case d[2] != 1 || d[3] != 1 || d[0] != 1 && d[0] != x[0]:
		return otherBroadcast
	case d[1] == 1:
		return perImage
	case d[1] == x[1]:
		return perChannel
	}
	return otherBroadcast
}

// channelBinary is a binary operator of a channels-last 4-D tensor (input
// x) and a value per channel (the other input, [N|1, C, 1, 1]), computed
// a position at a time: each position's C values against the image's C
// values, with binary's row kernel and its activation.
type channelBinary struct {
	*binary
	x int // the 4-D input
}

func (c *channelBinary) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, v, z := in[c.x], in[1-c.x], out[0]
	n, ch, hw := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	perImage := 0 // v's values of image i start at i·perImage
	if len(v.F32) > ch {
		perImage = ch
	}
	f := floatBinary(c.kind)
	eachTask(n, ctx.Workers, func(_, img int) {
		vs := v.F32[img*perImage : img*perImage+ch]
		for p := img * hw; p < (img+1)*hw; p++ {
			row, xs := z.F32[p*ch:(p+1)*ch], x.F32[p*ch:(p+1)*ch]
			if c.x == 0 {
				f(row, xs, vs, 1, 1)
			} else {
				f(row, vs, xs, 1, 1)
			}
			c.act.apply(row)
		}
	})
	return nil
}

// gapNHWC is GlobalAveragePool of a channels-last input: each channel's
// values summed over the positions in order, as globalAvgPool sums a
// plane, then divided by their number.
type gapNHWC struct{ globalAvgPool }

func (gapNHWC) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	s := in[0].Shape
	ch, hw := s[1], s[2]*s[3]
	x, y := in[0].F32, out[0].F32
	eachTask(s[0], ctx.Workers, func(_, img int) {
		sums := y[img*ch : (img+1)*ch]
		clear(sums)
		for p := img * hw; p < (img+1)*hw; p++ {
			for c, v := range x[p*ch : (p+1)*ch] {
				sums[c] += v
			}
		}
		for c := range sums {
			sums[c] /= float32(hw)
		}
	})
	return nil
}

// convNHWC is a channels-last convolution (see channelsLast): pointwise
// (wt) or depthwise (dw).
type convNHWC struct {
	conv *conv // the attributes, activation, residual and bias
	geo  convGeometry
	wt   *gemm.PackedB // pointwise: the weights, K×M packed
	dw   []float32     // depthwise: the weights, tap-major [KH·KW][C]
	// zero is the depthwise kernel's row of zeros, read for a tap row in
	// the padding: an input row of channels with as many positions before
	// it as the left padding.
	zero []float32
}

// Infer is the convolution's.
func (c *convNHWC) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	return c.conv.Infer(in, consts)
}

// Memory counts the packed weights and the row of zeros.
func (c *convNHWC) Memory(in []Meta, _ int) (prepared, working int64, err error) {
	if c.wt != nil {
		return 4 * int64(len(c.wt.Data())), 0, nil
	}
	return 4 * int64(len(c.dw)), 4 * int64(c.zeroLen()), nil
}

// zeroLen is the length of the depthwise kernel's row of zeros.
func (c *convNHWC) zeroLen() int {
	return (c.geo.win.padBegin[1] + c.geo.inHW[1]) * c.conv.group
}

func (c *convNHWC) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	geo, n, bias, err := c.conv.geometryFor(in)
	if err != nil {
		return err
	}
	if geo.inHW != c.geo.inHW || geo.cin != c.geo.cin || geo.cout != c.geo.cout {
		return fmt.Errorf("channels-last convolution prepared for %v planes of %d channels a group, run on %v of %d", c.geo.inHW, c.geo.cin, geo.inHW, geo.cin)
	}
	var res []float32
	if c.conv.residual {
		res = in[3].F32
	}
	workers := max(1, ctx.Workers)
	if c.wt != nil {
		// out[P×M] = x[P×K]·W[K×M], P the positions of the batch: the
		// epilogue adds the residual, the bias a column (output channel),
		// then applies the activation.
		ep := actEpilogue(c.conv.act)
		ep.ColBias, ep.Residual = bias, res
		gemm.MulPackedBEx(n*geo.spatial, x.F32, geo.k, c.wt, y.F32, geo.cout, false, &ep, workers)
		return nil
	}
	c.runDepthwise(x.F32, y.F32, res, bias, n, workers)
	return nil
}

// runDepthwise computes the depthwise convolution an output row at a
// time, rows shared out among the workers.
func (c *convNHWC) runDepthwise(x, y, res, bias []float32, n, workers int) {
	g := &c.geo
	ch := c.conv.group // one channel a group
	k := g.win.kernel[0]
	h, w := g.inHW[0], g.inHW[1]
	oh, ow := g.outHW[0], g.outHW[1]
	sy, sx := g.win.stride[0], g.win.stride[1]
	pt, pl := g.win.padBegin[0], g.win.padBegin[1]
	if need := c.zeroLen(); len(c.zero) < need {
		c.zero = make([]float32, need)
	}
	if bias == nil {
		bias = c.zero[:ch]
	}
	lo, hi := clampBounds(c.conv.act)
	if res != nil { // the activation follows the residual's sum
		lo, hi = clampBounds(Activation{})
	}
	// Output columns [x0, x1) read all k tap columns in the input; the
	// others (a column or two on each side, where the padding is) skip
	// the taps that fall in it, a position at a time.
	x0 := min(ow, ceilDiv(pl, sx))
	x1 := max(x0, min(ow, floorDiv(w-k+pl, sx)+1))
	parallel.Each(n*oh, workers, func(_, r0, r1 int) {
		a := dwLastArgs{k: k, w: c.dw, bias: bias, c: ch, step: sx * ch, lo: lo, hi: hi}
		for r := r0; r < r1; r++ {
			img, oy := r/oh, r%oh
			for ky := 0; ky < k; ky++ {
				iy := oy*sy - pt + ky
				if iy < 0 || iy >= h {
					a.src[ky], a.at[ky] = c.zero, pl*ch
				} else {
					a.src[ky], a.at[ky] = x, (img*h+iy)*w*ch
				}
			}
			line := y[r*ow*ch : (r+1)*ow*ch]
			run := func(from, to int) {
				if from >= to {
					return
				}
				a.col0 = (from*sx - pl) * ch
				a.out, a.n, a.skip = line[from*ch:to*ch], to-from, 0
				if to-from == 1 {
					a.skip = c.skipOf(from)
				}
				dwLast(&a)
			}
			for ox := 0; ox < x0; ox++ {
				run(ox, ox+1)
			}
			run(x0, x1)
			for ox := x1; ox < ow; ox++ {
				run(ox, ox+1)
			}
			if res != nil {
				for i, v := range res[r*ow*ch : (r+1)*ow*ch] {
					line[i] += v
				}
				c.conv.act.apply(line)
			}
		}
	})
}

// skipOf returns the tap columns output column ox skips, bit kx for
// column kx, where they fall in the padding.
func (c *convNHWC) skipOf(ox int) int {
	g := &c.geo
	col := ox*g.win.stride[1] - g.win.padBegin[1]
	skip := 0
	for kx := 0; kx < g.win.kernel[1]; kx++ {
		if col+kx < 0 || col+kx >= g.inHW[1] {
			skip |= 1 << kx
		}
	}
	return skip
}

// dwLastArgs is one call of a channels-last depthwise kernel of k×k taps
// (k = 3 or 5): n output positions of one output row, c channels each,
// into out. Tap row ky is the input row whose column 0 is
// src[ky][at[ky]] (a row of zeros where it is padding, with the left
// padding's positions of zeros before it); the first position's window
// starts col0 floats from there (before it where the left tap columns
// are padding), each next one step floats on. skip leaves out the tap
// columns whose bit is set, which would read the padding. Each value is
// Σ w[t]·in[t] over the taps in order, then the bias, then clamped to
// [lo, hi].
type dwLastArgs struct {
	k       int
	src     [5][]float32
	at      [5]int
	col0    int
	w, bias []float32 // w tap-major, [k·k][c]
	out     []float32
	n, c    int
	step    int
	skip    int
	lo, hi  float32
}

// dwLast checks that every read and write of the call is in bounds and
// runs the kernel of the active implementation.
func dwLast(a *dwLastArgs) {
	if a.k != 3 && a.k != 5 || a.n < 1 || a.c < 1 || a.skip != 0 && a.n != 1 {
		panic(fmt.Sprintf("ops: channels-last depthwise kernel called with k=%d, n=%d, c=%d, skip=%b", a.k, a.n, a.c, a.skip))
	}
	first, last := a.k, -1 // the tap columns read
	for kx := 0; kx < a.k; kx++ {
		if a.skip&(1<<kx) == 0 {
			first, last = min(first, kx), kx
		}
	}
	if last >= 0 {
		for ky := 0; ky < a.k; ky++ {
			lo := a.at[ky] + a.col0 + first*a.c
			hi := a.at[ky] + a.col0 + (a.n-1)*a.step + (last+1)*a.c
			if lo < 0 || hi > len(a.src[ky]) {
				panic(fmt.Sprintf("ops: depthwise tap row %d reads [%d, %d) of %d floats", ky, lo, hi, len(a.src[ky])))
			}
		}
	}
	_ = a.w[a.k*a.k*a.c-1]
	_ = a.bias[a.c-1]
	_ = a.out[a.n*a.c-1]
	if dwLastFast(a) {
		return
	}
	dwLastGo(a)
}

// dwLastGo is the portable kernel, the reference of the others.
func dwLastGo(a *dwLastArgs) {
	for i := 0; i < a.n; i++ {
		for ch := 0; ch < a.c; ch++ {
			var s float32
			for ky := 0; ky < a.k; ky++ {
				at := a.at[ky] + a.col0 + i*a.step + ch
				for kx := 0; kx < a.k; kx++ {
					if a.skip&(1<<kx) != 0 {
						continue
					}
					s += a.w[(ky*a.k+kx)*a.c+ch] * a.src[ky][at+kx*a.c]
				}
			}
			s += a.bias[ch]
			if s < a.lo {
				s = a.lo
			}
			if s > a.hi {
				s = a.hi
			}
			a.out[i*a.c+ch] = s
		}
	}
}

// spatialMeanNHWC is ReduceMean over the spatial axes of a channels-last
// input: each channel's values summed in float64 over the positions in
// order, as reduce sums them, and rounded once after the division.
type spatialMeanNHWC struct{ *reduce }

func (r *spatialMeanNHWC) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	s := in[0].Shape
	ch, hw := s[1], s[2]*s[3]
	x, y := in[0].F32, out[0].F32
	sums := make([][]float64, max(1, ctx.Workers)) // a worker's, made once a run
	eachTask(s[0], ctx.Workers, func(w, img int) {
		if sums[w] == nil {
			sums[w] = make([]float64, ch)
		}
		sums := sums[w]
		clear(sums)
		for p := img * hw; p < (img+1)*hw; p++ {
			for c, v := range x[p*ch : (p+1)*ch] {
				sums[c] += float64(v)
			}
		}
		for c, v := range sums {
			y[img*ch+c] = float32(finishFloat(r.kind, v, hw))
		}
	})
	return nil
}

// ToChannelsLast returns the operator that writes its float 4-D input,
// [N, C, H, W] in the usual layout, channels-last (same Meta).
func ToChannelsLast() Op { return transposeLayout{toLast: true} }

// ToChannelsFirst returns the operator that writes its channels-last
// input in the usual layout.
func ToChannelsFirst() Op { return transposeLayout{} }

// transposeLayout converts between the layouts, an image a task: each
// image is a C × H·W matrix transposed (or back).
type transposeLayout struct{ toLast bool }

func (t transposeLayout) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if in[0].DType != tensor.Float32 || len(in[0].Shape) != 4 {
		return nil, fmt.Errorf("want a float32 4-D tensor, got %v", in[0])
	}
	return one(tensor.Float32, in[0].Shape), nil
}

func (t transposeLayout) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	s := in[0].Shape
	n, rows, cols := s[0], s[1], s[2]*s[3] // channels-first: C rows of H·W
	if !t.toLast {
		rows, cols = cols, rows
	}
	size := rows * cols
	src, dst := in[0].F32, out[0].F32
	eachTask(n, ctx.Workers, func(_, img int) {
		gemm.Transpose(dst[img*size:(img+1)*size], src[img*size:(img+1)*size], rows, cols)
	})
	return nil
}
