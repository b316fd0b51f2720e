package ops

import (
	"math"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/tensor"
)

// Depthwise FP32 convolutions (one input channel per group: MobileNet's
// 3×3 layers) run a direct kernel instead of one GEMM per group, which
// would have a single row (m = the channel multiplier, k = the taps) and
// unfold as much as it multiplies. Each channel is copied once into
// zero-padded planes split into stride×stride phases (dwGeometry, shared
// with the INT8 kernel), where every tap of an output row reads a
// contiguous run at a fixed offset; the kernel then sums the taps 16
// (AVX-512) or 8 (AVX2) outputs at a time straight into the output rows,
// adding the bias and clamping (ReLU, Clip) before the store.
//
// The implementation follows the GEMM's (gemm.SetImpl forces it): the
// AVX-512 and AVX2 kernels are assembly, the Go one is the reference.
// Every output is Σ_t w[t]·x[t] over the taps in order (one FMA each in
// assembly, a rounded product and sum in Go), then + bias, then the
// clamp: a NaN passes the clamp, as in the GEMM's epilogue.

// isDepthwiseF32 reports whether weights of shape w with group groups
// have one input channel per group.
func isDepthwiseF32(w []int, group int) bool {
	return group > 1 && len(w) > 1 && w[1] == 1
}

// dwKey identifies a phase layout: the input size, the padding before it
// and the strides fix which positions hold input values.
type dwKey struct{ in, pad, stride, sub [2]int }

// dwSlack is how far past a tap's run of wideN values the kernels may
// read: the AVX2 kernel loads a whole vector of 8 for a row's last
// outputs (AVX-512 masks its loads).
const dwSlack = 7

// dwPlan is a depthwise convolution's layout for one input size.
type dwPlan struct {
	d      dwGeometry
	planes int   // floats of one channel's phase planes
	off    []int // per tap, bytes: where its run starts in the phase planes
	rowIn  int   // bytes between output rows in the phase planes
	n      int   // floats of the phase planes with the kernels' slack
	key    dwKey
	// wide: outputs narrower than a vector are computed as one run of
	// d.wideN positions (rows d.sub[1] apart, the padding columns
	// between them computed and dropped) into a buffer, then narrowed:
	// row by row, each row would be a single masked vector whose taps
	// form one dependent chain of FMAs (7×7 and 14×14 planes ran twice
	// as long that way).
	wide bool
}

// dwWideBelow is the output width under which a depthwise convolution
// computes its plane as one wide run (dwPlan.wide).
const dwWideBelow = 16

func (g *convGeometry) dwPlan() (dwPlan, error) {
	d, err := g.depthwise()
	if err != nil {
		return dwPlan{}, err
	}
	p := dwPlan{d: d, planes: g.win.stride[0] * g.win.stride[1] * d.phase, off: make([]int, len(d.off)), rowIn: 4 * d.sub[1], n: d.bufLen + dwSlack}
	for t, o := range d.off {
		p.off[t] = 4 * o
	}
	p.key = dwKey{in: g.inHW, pad: g.win.padBegin, stride: g.win.stride, sub: d.sub}
	p.wide = g.outHW[1] < dwWideBelow && g.outHW[0] > 1
	return p, nil
}

// plan returns the convolution's phase layout, computed once per input
// size (Run is never concurrent for one operator).
func (c *conv) plan(g *convGeometry) (*dwPlan, error) {
	if c.phases == nil || c.phases.key.in != g.inHW {
		p, err := g.dwPlan()
		if err != nil {
			return nil, err
		}
		c.phases = &p
	}
	return c.phases, nil
}

// ready makes sc.padded n floats of zero-padded phase planes. Only input
// positions are ever written (fill), so the padding stays zero once
// cleared: the planes are cleared when they are (re)made for a layout.
func (p *dwPlan) ready(sc *convScratch, n int) {
	sc.padded = layOut(sc.padded, n, &sc.dw, p.key)
}

// fill copies one input plane src into the phase planes starting at dst.
func (p *dwPlan) fill(g *convGeometry, dst, src []float32) {
	d := &p.d
	ih, iw := g.inHW[0], g.inHW[1]
	sh, sw := g.win.stride[0], g.win.stride[1]
	left := d.padLeft[1]
	// Padded row py = y + top is row py/sh of row phase py%sh, kept
	// incrementally (a division per row costs as much as copying a short
	// one).
	ph, pr := d.padLeft[0]%sh, d.padLeft[0]/sh
	if sh == 1 && sw == 1 { // one phase: the rows copied at its pitch
		copyRows(dst[pr*d.sub[1]+left:], src, ih, iw, d.sub[1], iw)
		return
	}
	for y := 0; y < ih; y, ph = y+1, ph+1 {
		if ph == sh {
			ph, pr = 0, pr+1
		}
		row := src[y*iw : (y+1)*iw]
		line := dst[ph*sw*d.phase+pr*d.sub[1]:]
		switch sw {
		case 1:
			copy(line[left:left+iw], row)
		case 2: // MobileNet's stride-2 layers: one vector pass per row
			e, o := line[(left+1)/2:d.phase], line[d.phase+left/2:]
			if left%2 == 1 { // input column 0 is padded column 1: phase 1
				e, o = o, e
			}
			deinterleave(e, o, row)
		default:
			// Phase b holds the padded columns b, b+sw, ...: the input
			// columns x ≡ b − left (mod sw), in order.
			for b := 0; b < sw; b++ {
				x0 := ((b-left)%sw + sw) % sw
				dst := line[b*d.phase+(x0+left)/sw:]
				for i, x := 0, x0; x < iw; i, x = i+1, x+sw {
					dst[i] = row[x]
				}
			}
		}
	}
}

// copyRows copies rows rows of n floats, row r of src at r·srcPitch to
// row r of dst at r·dstPitch, in one vector call where there is one.
func copyRows(dst, src []float32, rows, n, dstPitch, srcPitch int) {
	if rows == 0 || n == 0 {
		return
	}
	_, _ = dst[(rows-1)*dstPitch+n-1], src[(rows-1)*srcPitch+n-1]
	if copyRowsFast(dst, src, rows, n, dstPitch, srcPitch) {
		return
	}
	for r := 0; r < rows; r++ {
		copy(dst[r*dstPitch:r*dstPitch+n], src[r*srcPitch:])
	}
}

// deinterleave writes src's even-indexed values to even and odd-indexed
// ones to odd (len(src) of them in all).
func deinterleave(even, odd, src []float32) {
	i := deinterleaveFast(even, odd, src)
	for ; 2*i+1 < len(src); i++ {
		even[i], odd[i] = src[2*i], src[2*i+1]
	}
	if 2*i < len(src) {
		even[i] = src[2*i]
	}
}

// dwArgs is one call of a depthwise kernel: rows output rows of n
// values, rows dstPitch floats apart in dst, the input of output row r
// at src + r·srcPitch bytes, tap t's values at byte offset off[t] from
// there, weighted by w[t].
type dwArgs struct {
	dst, src           []float32
	off                []int
	w                  []float32
	rows, n            int
	srcPitch, dstPitch int // bytes
	bias, lo, hi       float32
}

// depthwiseRows runs the kernel of the active implementation.
func depthwiseRows(a *dwArgs) {
	if a.rows == 0 || a.n == 0 {
		return
	}
	// Every load and store in bounds: the last row's last vector included.
	last := (a.rows-1)*a.srcPitch/4 + a.n
	for _, o := range a.off {
		_ = a.src[o/4+last-1+dwSlack]
	}
	_ = a.dst[(a.rows-1)*a.dstPitch/4+a.n-1]
	_ = a.w[len(a.off)-1]
	if depthwiseRowsFast(a) {
		return
	}
	depthwiseRowsGo(a)
}

// depthwiseRowsGo is the portable kernel, the reference of the others.
func depthwiseRowsGo(a *dwArgs) {
	for r := 0; r < a.rows; r++ {
		out := a.dst[r*a.dstPitch/4:][:a.n]
		base := r * a.srcPitch / 4
		for j := range out {
			var s float32
			for t, o := range a.off {
				s += a.w[t] * a.src[base+o/4+j]
			}
			s += a.bias
			if s < a.lo {
				s = a.lo
			}
			if s > a.hi {
				s = a.hi
			}
			out[j] = s
		}
	}
}

// clampBounds returns the bounds that apply activation act (none: the
// infinities, which leave every value, NaN included, as it is).
func clampBounds(act Activation) (lo, hi float32) {
	lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	switch act.Kind {
	case ReluActivation:
		lo = 0
	case ClipActivation:
		lo, hi = act.Min, act.Max
	}
	return lo, hi
}

// runDepthwise is RunProgress for a depthwise convolution: units are
// image × group (input channel), each with its channel multiplier's
// outputs, reported to done (when not nil) as each is computed.
func (c *conv) runDepthwise(ctx *Ctx, in, out []*tensor.Tensor, done func(worker, lo, hi int)) error {
	x, w, y := in[0], in[1], out[0]
	geo, n, bias, err := c.geometryFor(in)
	if err != nil {
		return err
	}
	p, err := c.plan(&geo)
	if err != nil {
		return err
	}
	taps := len(p.off)
	plane, outPlane := geo.inHW[0]*geo.inHW[1], geo.spatial
	units := n * c.group
	workers := min(max(1, ctx.Workers), units)
	for len(c.scratch) < workers {
		c.scratch = append(c.scratch, convScratch{})
	}
	if p.wide {
		for i := range workers {
			c.scratch[i].out = grow(c.scratch[i].out, p.d.wideN)
		}
	}
	lo, hi := clampBounds(c.act)
	if c.residual { // the activation follows the residual's sum
		lo, hi = clampBounds(Activation{})
	}
	oh, ow := geo.outHW[0], geo.outHW[1]
	parallel.Each(units, workers, func(wk, u0, u1 int) {
		sc := &c.scratch[wk]
		p.ready(sc, p.n) // once: fill writes only input positions, the padding stays zero
		for u := u0; u < u1; u++ {
			p.fill(&geo, sc.padded, x.F32[u*plane:(u+1)*plane])
			img, g := u/c.group, u%c.group
			for co := 0; co < geo.cout; co++ {
				o := g*geo.cout + co
				at := (img*c.group*geo.cout + o) * outPlane
				dst := y.F32[at : at+outPlane]
				a := dwArgs{dst: dst, src: sc.padded, off: p.off, w: w.F32[o*taps : (o+1)*taps],
					rows: oh, n: ow, srcPitch: p.rowIn, dstPitch: 4 * ow, lo: lo, hi: hi}
				if bias != nil {
					a.bias = bias[o]
				}
				if p.wide {
					a.dst, a.rows, a.n = sc.out, 1, p.d.wideN
				}
				depthwiseRows(&a)
				if p.wide {
					copyRows(dst, sc.out, oh, ow, ow, p.d.sub[1])
				}
				if c.residual {
					for i, r := range in[3].F32[at : at+outPlane] {
						dst[i] += r
					}
					c.act.apply(dst)
				}
			}
			if done != nil {
				at := (img*c.group + g) * geo.cout * outPlane
				done(wk, at, at+geo.cout*outPlane)
			}
		}
	})
	return nil
}

// depthwiseWorking is Memory's working size of a depthwise convolution:
// one worker's phase planes, and its wide run if any.
func (g *convGeometry) depthwiseWorking() (int64, error) {
	p, err := g.dwPlan()
	if err != nil {
		return 0, err
	}
	n := int64(p.n)
	if p.wide {
		n += int64(p.d.wideN)
	}
	return 4 * n, nil
}
