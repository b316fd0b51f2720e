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

// ChannelsLast returns the channels-last operator computing what op
// computes, for inputs of these metas with constant weights (consts[1]),
// or nil where there is none: a float Conv that is pointwise (1×1,
// stride 1, no padding, one group) or depthwise 3×3 (one output channel
// per group, padding at most 1, no dilation), its weights and bias
// constant. Its input 0 (and a fused residual, input 3) must be
// channels-last, and its output is.
func ChannelsLast(op Op, in []Meta, consts []*tensor.Tensor) Op {
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
	switch {
	case geo.pointwise && c.group == 1:
		return &convNHWC{conv: c, geo: geo, wt: gemm.PackB(geo.k, geo.cout, w.F32, geo.k, true)}
	case isDepthwiseF32(w.Shape, c.group) && w.Shape[0] == c.group &&
		win.kernel == [2]int{3, 3} && win.dilation == [2]int{1, 1} &&
		max(win.padBegin[0], win.padBegin[1], win.padEnd[0], win.padEnd[1]) <= 1:
		ch := c.group
		// Tap-major weights: tap t's channels are one run, as the input's.
		dw := make([]float32, 9*ch)
		for o := 0; o < ch; o++ {
			for t := 0; t < 9; t++ {
				dw[t*ch+o] = w.F32[o*9+t]
			}
		}
		return &convNHWC{conv: c, geo: geo, dw: dw}
	}
	return nil
}

// IsChannelsLast reports whether op is one ChannelsLast returned.
func IsChannelsLast(op Op) bool {
	_, ok := op.(*convNHWC)
	return ok
}

// convNHWC is a channels-last convolution (see ChannelsLast): pointwise
// (wt) or depthwise 3×3 (dw).
type convNHWC struct {
	conv *conv // the attributes, activation, residual and bias
	geo  convGeometry
	wt   *gemm.PackedB // pointwise: the weights, K×M packed
	dw   []float32     // depthwise: the weights, tap-major [9][C]
	// zero is the depthwise kernel's row of zeros, read for a tap row in
	// the padding: one input row of channels and one more position.
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
	return 4 * int64(len(c.dw)), 4 * int64((c.geo.inHW[1]+1)*c.conv.group), nil
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
		// epilogue adds the bias a column (output channel), the residual
		// as C's old value, then applies the activation.
		ep := actEpilogue(c.conv.act)
		ep.ColBias = bias
		if res != nil {
			copy(y.F32, res)
		}
		gemm.MulPackedBEx(n*geo.spatial, x.F32, geo.k, c.wt, y.F32, geo.cout, res != nil, &ep, workers)
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
	h, w := g.inHW[0], g.inHW[1]
	oh, ow := g.outHW[0], g.outHW[1]
	if need := (w + 1) * ch; len(c.zero) < need {
		c.zero = make([]float32, need)
	}
	if bias == nil {
		bias = c.zero[:ch]
	}
	lo, hi := clampBounds(c.conv.act)
	if res != nil { // the activation follows the residual's sum
		lo, hi = clampBounds(Activation{})
	}
	sy, sx := g.win.stride[0], g.win.stride[1]
	pt, pl := g.win.padBegin[0], g.win.padBegin[1]
	// Output columns [x0, x1) read all three tap columns in the input;
	// the others (at most a column or two on each side, where the
	// padding is) skip the taps that fall in it.
	x0 := min(ow, ceilDiv(pl, sx))
	x1 := max(x0, min(ow, (w-3+pl)/sx+1))
	parallel.Each(n*oh, workers, func(_, r0, r1 int) {
		a := dw3Args{w: c.dw, bias: bias, c: ch, step: sx * ch, lo: lo, hi: hi}
		for r := r0; r < r1; r++ {
			img, oy := r/oh, r%oh
			for ky := 0; ky < 3; ky++ {
				iy := oy*sy - pt + ky
				if iy < 0 || iy >= h {
					a.src[ky], a.at[ky] = c.zero, ch
				} else {
					a.src[ky], a.at[ky] = x, (img*h+iy)*w*ch
				}
			}
			line := y[r*ow*ch : (r+1)*ow*ch]
			run := func(from, to int, skip int) {
				if from >= to {
					return
				}
				a.col0 = (from*sx - pl) * ch
				a.out, a.n, a.skip = line[from*ch:to*ch], to-from, skip
				dw3x3NHWC(&a)
			}
			for ox := 0; ox < x0; ox++ {
				run(ox, ox+1, c.skipOf(ox))
			}
			run(x0, x1, 0)
			for ox := x1; ox < ow; ox++ {
				run(ox, ox+1, c.skipOf(ox))
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

// skipOf says which tap columns output column ox skips: bit 0 the left
// one, bit 1 the right one, where they fall in the padding.
func (c *convNHWC) skipOf(ox int) int {
	g := &c.geo
	col := ox*g.win.stride[1] - g.win.padBegin[1]
	skip := 0
	if col < 0 {
		skip |= 1
	}
	if col+2 >= g.inHW[1] {
		skip |= 2
	}
	return skip
}

// dw3Args is one call of the channels-last depthwise 3×3 kernel: n
// output positions of one output row, c channels each, into out. Tap
// row ky is the input row whose column 0 is src[ky][at[ky]] (a row of
// zeros where it is padding, with one position of zeros before it); the
// first position's window starts col0 floats from there (one position
// before it where the left tap column is padding), each next one step
// floats on. skip (n = 1 only) leaves out the left (bit 0) or right
// (bit 1) tap column, which would read the padding. Each value is
// Σ w[t]·in[t] over the taps in order, then the bias, then clamped to
// [lo, hi].
type dw3Args struct {
	src     [3][]float32
	at      [3]int
	col0    int
	w, bias []float32 // w tap-major, [9][c]
	out     []float32
	n, c    int
	step    int
	skip    int
	lo, hi  float32
}

// dw3x3NHWC checks that every read and write of the call is in bounds
// and runs the kernel of the active implementation.
func dw3x3NHWC(a *dw3Args) {
	if a.skip != 0 && a.n != 1 {
		panic("ops: depthwise tap columns skipped for more than one position")
	}
	first, last := 0, 2
	if a.skip&1 != 0 {
		first = 1
	}
	if a.skip&2 != 0 {
		last = 1
	}
	for ky := range a.src {
		lo := a.at[ky] + a.col0 + first*a.c
		hi := a.at[ky] + a.col0 + (a.n-1)*a.step + (last+1)*a.c
		if lo < 0 || hi > len(a.src[ky]) {
			panic(fmt.Sprintf("ops: depthwise tap row %d reads [%d, %d) of %d floats", ky, lo, hi, len(a.src[ky])))
		}
	}
	_ = a.w[9*a.c-1]
	_ = a.bias[a.c-1]
	_ = a.out[a.n*a.c-1]
	if dw3x3NHWCFast(a) {
		return
	}
	dw3x3NHWCGo(a)
}

// dw3x3NHWCGo is the portable kernel, the reference of the others.
func dw3x3NHWCGo(a *dw3Args) {
	for i := 0; i < a.n; i++ {
		for ch := 0; ch < a.c; ch++ {
			var s float32
			for ky := 0; ky < 3; ky++ {
				at := a.at[ky] + a.col0 + i*a.step + ch
				for kx := 0; kx < 3; kx++ {
					if kx == 0 && a.skip&1 != 0 || kx == 2 && a.skip&2 != 0 {
						continue
					}
					s += a.w[(ky*3+kx)*a.c+ch] * a.src[ky][at+kx*a.c]
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
		transposeMatrix(dst[img*size:(img+1)*size], src[img*size:(img+1)*size], rows, cols)
	})
	return nil
}

// transposeMatrix writes the rows×cols matrix src transposed into dst, in
// tiles that keep both sides' lines in cache.
func transposeMatrix(dst, src []float32, rows, cols int) {
	const tile = 16
	for r0 := 0; r0 < rows; r0 += tile {
		r1 := min(r0+tile, rows)
		for c0 := 0; c0 < cols; c0 += tile {
			c1 := min(c0+tile, cols)
			for r := r0; r < r1; r++ {
				line := src[r*cols : r*cols+c1]
				for c := c0; c < c1; c++ {
					dst[c*rows+r] = line[c]
				}
			}
		}
	}
}
