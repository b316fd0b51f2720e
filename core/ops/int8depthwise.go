package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/qgemm"
	"github.com/int8cal/int8cal/core/tensor"
)

// Depthwise convolutions (one input channel per group: MobileNet's 3×3
// layers) skip the GEMM where the CPU has AVX2. Per group it would be a
// product of one weight row (m = 1 per output channel, k = the taps) with
// the unfolded input,
// which packs and unfolds as much as it multiplies: measured no faster
// than the float path, and slower with stride 2. Two direct kernels
// replace it:
//
//   - With AVX-512 VNNI and VBMI, the row kernel (qgemm.DepthwiseRows)
//     reads the int8 planes as they are, a kernel row's window of each
//     output gathered into a dword and its taps multiplied at once,
//     masked loads giving the padding; float32 planes are quantized
//     first, a chunk of channels at once. Filling phase planes, which
//     the other kernel needs, had cost as much as its sums (MobileNetV2
//     INT8: 17% of the run against 14%).
//   - Otherwise each channel is quantized (or copied) into zero-padded
//     planes split into stride×stride phases, where every tap of every
//     output position reads a contiguous run at a fixed offset (outputs
//     at a fixed pitch, a few discarded where a row wraps: the wide
//     strategy of the float path, extended to strides), and the taps are
//     summed in int32 32 positions at a time (qgemm.DepthwiseSums:
//     AVX-512 VNNI four taps to an instruction, or AVX2).

// isDepthwise reports whether weights of shape w with group groups have
// one input channel per group, and the direct kernel is vectorised here
// (without AVX2 the per-group GEMM stays).
func isDepthwise(w []int, group int) bool {
	return group > 1 && len(w) > 1 && w[1] == 1 && qgemm.DepthwiseVector()
}

// dwGeometry is the phase-split layout of one channel.
type dwGeometry struct {
	sub     [2]int // one phase's rows and columns
	phase   int    // one phase's values
	off     []int  // per tap: where its run starts
	wideN   int    // output positions computed: (OH-1)·sub[1] + OW
	bufLen  int    // the buffer the taps read (every run of qgemm.DepthwisePadded(wideN) inside)
	accLen  int    // the sums of one channel: qgemm.DepthwisePadded(wideN)
	pitch   int    // the sums of one channel apart: OH·sub[1], whole rows
	padLeft [2]int
	runs    []phaseRun // the input's part in each phase
}

func (g *convGeometry) depthwise() (dwGeometry, error) {
	w := &g.win
	var d dwGeometry
	padded := [2]int{g.inHW[0] + w.padBegin[0] + w.padEnd[0], g.inHW[1] + w.padBegin[1] + w.padEnd[1]}
	for a := range 2 {
		d.sub[a] = (padded[a] + w.stride[a] - 1) / w.stride[a]
	}
	d.padLeft = w.padBegin
	var err error
	if d.phase, err = tensor.CheckShape([]int{d.sub[0], d.sub[1]}); err != nil {
		return d, fmt.Errorf("the padded input: %w", err)
	}
	planes, err := tensor.CheckShape([]int{w.stride[0], w.stride[1], d.phase})
	if err != nil {
		return d, fmt.Errorf("the padded input: %w", err)
	}
	for a := 0; a < w.stride[0]; a++ {
		for b := 0; b < w.stride[1]; b++ {
			if r := g.phaseRun([2]int{a, b}, d.sub[1]); r.rows > 0 && r.cols > 0 {
				r.at += (a*w.stride[1] + b) * d.phase
				d.runs = append(d.runs, r)
			}
		}
	}
	d.wideN = (g.outHW[0]-1)*d.sub[1] + g.outHW[1]
	d.accLen = qgemm.DepthwisePadded(d.wideN)
	if d.pitch, err = tensor.CheckShape([]int{g.outHW[0], d.sub[1]}); err != nil {
		return d, fmt.Errorf("the depthwise sums: %w", err)
	}
	d.bufLen = planes
	for ky := 0; ky < w.kernel[0]; ky++ {
		for kx := 0; kx < w.kernel[1]; kx++ {
			dy, dx := ky*w.dilation[0], kx*w.dilation[1]
			o := ((dy%w.stride[0])*w.stride[1]+dx%w.stride[1])*d.phase + dy/w.stride[0]*d.sub[1] + dx/w.stride[1]
			d.off = append(d.off, o)
			d.bufLen = max(d.bufLen, o+d.accLen)
		}
	}
	return d, nil
}

// fill quantizes one channel's input plane src straight into the
// stride×stride phase planes of buf, a pass per phase (a plane already in
// int8 is copied). Padding is never written: buf holds zeros there from
// when it was laid out.
func (d *dwGeometry) fill(g *convGeometry, buf []int8, src int8Source, scale float32) {
	sh, sw, iw := g.win.stride[0], g.win.stride[1], g.inHW[1]
	for _, r := range d.runs {
		if src.q != nil {
			qgemm.GatherRows(buf[r.at:], d.sub[1], src.q[r.from:], sh*iw, sw, r.rows, r.cols)
		} else {
			qgemm.QuantizeRows(buf[r.at:], d.sub[1], src.f[r.from:], sh*iw, sw, r.rows, r.cols, scale)
		}
	}
}

// dwChunkBytes bounds the sums of the channels dequantized together.
const dwChunkBytes = 64 << 10

// chunk returns how many groups of cout output channels (of groups) go
// together, and the sums they need: channel after channel at a pitch of
// whole rows, so that their planes dequantize in one call (small planes,
// 8×8 or 4×4, would otherwise pay a call each). A channel's padded tail
// may run into the next one's first row, which is summed after it.
// With blocks, chunks come in whole blocks of four groups (a blocked
// output).
func (d *dwGeometry) chunk(groups, cout int, blocks bool) (chunk, sums int) {
	chunk = groupChunk(groups, d.pitch*cout, blocks)
	return chunk, (chunk*cout-1)*d.pitch + d.accLen
}

// groupChunk is how many of groups groups, perGroup sums each, go
// together within dwChunkBytes: at least one, or with blocks a multiple
// of four (a blocked output takes whole blocks).
func groupChunk(groups, perGroup int, blocks bool) int {
	chunk := max(1, min(groups, dwChunkBytes/(4*max(1, perGroup))))
	if blocks {
		chunk = max(4, chunk&^3)
	}
	return chunk
}

// dwWeights returns the quantized weights widened to int32, output
// channel by output channel.
func dwWeights(q []int8) []int32 {
	w := make([]int32, len(q))
	for i, v := range q {
		w[i] = int32(v)
	}
	return w
}

// runDepthwise is Run for a depthwise convolution: units are image ×
// chunk of groups, each group with its own output channels (the channel
// multiplier). The row kernel reads the input planes as they are, where
// it runs; else each channel is filled into phase planes first.
func (c *qconv) runDepthwise(ctx *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	geo, n, bias, err := c.geometryFor(in)
	if err != nil {
		return err
	}
	if rows := c.rowsFor(&geo); rows != nil {
		c.runDepthwiseRows(ctx, rows, &geo, n, bias, in, out)
		return nil
	}
	p, err := c.plan(&geo) // the phase layout, made once per input size
	if err != nil {
		return err
	}
	d := &p.d
	taps := len(d.off)
	plane := geo.inHW[0] * geo.inHW[1]
	chunk, sums := d.chunk(c.group, geo.cout, c.blockedOut)
	perImage := (c.group + chunk - 1) / chunk
	areas := c.areas(ctx.Workers, n*perImage)
	for i := range areas {
		sc := &areas[i]
		sc.x = layOut(sc.x, d.bufLen, &sc.laidOut, geo.inHW)
		sc.acc = grow(sc.acc, sums)
	}
	parallel.Each(n*perImage, len(areas), func(wk, lo, hi int) {
		sc := &areas[wk]
		for u := lo; u < hi; u++ {
			img, g0 := u/perImage, u%perImage*chunk
			g1 := min(c.group, g0+chunk)
			o0 := g0 * geo.cout
			for g := g0; g < g1; g++ {
				d.fill(&geo, sc.x, c.sourceOf(x, (img*c.group+g)*plane, (img*c.group+g+1)*plane), c.inScale)
				for o := g * geo.cout; o < (g+1)*geo.cout; o++ {
					qgemm.DepthwiseSums(sc.acc[(o-o0)*d.pitch:], sc.x, d.off, c.dw[o*taps:(o+1)*taps], d.wideN)
				}
			}
			// The sums' rows are sub[1] apart, the valid columns first.
			c.depthwiseEpilogue(&geo, sc.acc, img, g0, g1, d.sub[1], bias, in, out)
		}
	})
	return nil
}

// rowsFor returns the row kernel's layout for g's input size, made once
// per size, or nil where the kernel does not run.
func (c *qconv) rowsFor(g *convGeometry) *qgemm.DepthwiseRows {
	if c.dwRows == nil {
		return nil
	}
	if !c.rowsMade || c.rowsHW != g.inHW {
		c.rowsHW, c.rowsMade, c.rows = g.inHW, true, g.depthwiseRows()
	}
	return c.rows
}

// depthwiseRows lays g out for the row kernel, or returns nil where it
// does not run.
func (g *convGeometry) depthwiseRows() *qgemm.DepthwiseRows {
	if g.spatial == 0 || g.inHW[0]*g.inHW[1] == 0 {
		return nil
	}
	w := &g.win
	rows, ok := qgemm.NewDepthwiseRows(qgemm.DepthwiseWindow{
		In: g.inHW, Out: g.outHW, Kernel: w.kernel, Stride: w.stride, Dilation: w.dilation, PadBegin: w.padBegin,
	})
	if !ok {
		return nil
	}
	return rows
}

// rowsChunk is how many groups of the row kernel go together: their sums
// lie output plane after output plane.
func (c *qconv) rowsChunk(g *convGeometry) int {
	return groupChunk(c.group, g.spatial*g.cout, c.blockedOut)
}

// runDepthwiseRows is runDepthwise with the row kernel: a chunk of
// groups' planes, quantized at once where the input is float32, summed
// into output planes and converted in one epilogue call.
func (c *qconv) runDepthwiseRows(ctx *Ctx, rows *qgemm.DepthwiseRows, geo *convGeometry, n int, bias []float32, in, out []*tensor.Tensor) {
	plane, outPlane := geo.inHW[0]*geo.inHW[1], geo.spatial
	chunk := c.rowsChunk(geo)
	perImage := (c.group + chunk - 1) / chunk
	areas := c.areas(ctx.Workers, n*perImage)
	for i := range areas {
		sc := &areas[i]
		if !c.int8In {
			// Written all over: no phase layout's zero padding is left.
			sc.x, sc.laidOut = grow(sc.x, chunk*plane), [2]int{-1, -1}
		}
		sc.acc = grow(sc.acc, chunk*geo.cout*outPlane)
	}
	parallel.Each(n*perImage, len(areas), func(wk, lo, hi int) {
		sc := &areas[wk]
		for u := lo; u < hi; u++ {
			img, g0 := u/perImage, u%perImage*chunk
			g1 := min(c.group, g0+chunk)
			src := c.sourceOf(in[0], (img*c.group+g0)*plane, (img*c.group+g1)*plane)
			x := src.q
			if x == nil {
				x = sc.x[:(g1-g0)*plane]
				qgemm.Quantize(x, src.f, c.inScale)
			}
			if geo.cout == 1 {
				rows.Sums(sc.acc, x, c.dwRows, g0, g1)
			} else {
				for o := g0 * geo.cout; o < g1*geo.cout; o++ {
					g := o/geo.cout - g0
					rows.Sums(sc.acc[(o-g0*geo.cout)*outPlane:], x[g*plane:(g+1)*plane], c.dwRows, o, o+1)
				}
			}
			c.depthwiseEpilogue(geo, sc.acc, img, g0, g1, geo.outHW[1], bias, in, out)
		}
	})
}

// depthwiseEpilogue converts the sums of groups [g0, g1) of image img,
// each output channel's rows ldc apart and its planes OH·ldc apart, into
// the output.
func (c *qconv) depthwiseEpilogue(geo *convGeometry, acc []int32, img, g0, g1, ldc int, bias []float32, in, out []*tensor.Tensor) {
	o0, o1 := g0*geo.cout, g1*geo.cout
	at := (img*c.group*geo.cout + o0) * geo.spatial
	var res, b []float32
	if c.residual {
		res = in[3].F32[at : at+(o1-o0)*geo.spatial]
	}
	if bias != nil {
		b = bias[o0:o1]
	}
	if c.blockedOut {
		// Whole blocks (rowsChunk, CanWriteBlocked): the rows' valid
		// columns one run, or a row at a time where they are ldc apart
		// (phase planes, should this CPU have lost the row kernel).
		oh, ow := geo.outHW[0], geo.outHW[1]
		if ldc == ow {
			oh, ow = 1, geo.spatial
		}
		for r := 0; r < oh; r++ {
			qgemm.RequantizeBlocks(acc[r*ldc:], o1-o0, ow, geo.outHW[0]*ldc, c.rowScale[o0:o1], b, c.act.int8Epilogue(), c.outScale, out[0].I8[at:], r*ow, geo.spatial)
		}
		return
	}
	c.epilogue(acc, o1-o0, geo.outHW[0], geo.outHW[1], ldc, c.rowScale[o0:o1], b, res, out[0], at, geo.spatial)
}

// depthwiseMemory is Memory for a depthwise convolution: the int32
// weights (twice: the row kernel's too) with their scales, and per worker
// the phase planes and the sums, or the row kernel's input planes and
// sums.
func (c *qconv) depthwiseMemory(geo *convGeometry, n int, w []int, workers int) (prepared, working int64, err error) {
	weights := int64(tensor.NumElements(w))
	prepared = 8*weights + 12*int64(w[0])
	if geo.depthwiseRows() != nil {
		chunk := c.rowsChunk(geo)
		areas := int64(min(max(1, workers), n*((c.group+chunk-1)/chunk)))
		plane := int64(geo.inHW[0] * geo.inHW[1])
		return prepared, areas * int64(chunk) * (plane + 4*int64(geo.cout*geo.spatial)), nil
	}
	d, err := geo.depthwise()
	if err != nil {
		return 0, 0, err
	}
	chunk, sums := d.chunk(c.group, geo.cout, c.blockedOut)
	areas := int64(min(max(1, workers), n*((c.group+chunk-1)/chunk)))
	return prepared, areas * (int64(d.bufLen) + 4*int64(sums)), nil
}
