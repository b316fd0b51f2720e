package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/qgemm"
	"github.com/int8cal/int8cal/core/tensor"
)

// The implicit-GEMM INT8 convolution: no unfolded matrix. The input of
// one image and group is quantized once into a zero-padded,
// channel-interleaved int8 image (qgemm.QuantizeInterleaved: blocks of
// qgemm.KGroup channels whose bytes are adjacent per position), and the
// weights' k is ordered (channel block, kernel tap, channel in block), so
// that a k group of the GEMM is one tap of one channel block and its
// operand for GEMM column j is the dword at a fixed offset + 4j of that
// image: qgemm's MulTaps reads B in place from per-group offsets.
//
// Column j stands for output position (j / PW, j mod PW) of a "wide"
// output of PW columns per row, as in the float wide strategy: columns
// with j mod PW ≥ OW are computed and dropped. A stride s > 1 is turned
// into stride 1 by splitting the padded image into s_h·s_w phases (padded
// position (y, x) goes to phase (y mod s_h, x mod s_w) at (y div s_h,
// x div s_w)); tap (ky, kx) then reads one phase at a shift, and PW is
// the phases' width. Only the phases some tap reads are written (a 1×1
// stride-2 shortcut quantizes a quarter of its input).

// tapsChunkBytes bounds the integer products of one chunk of output rows:
// a part of the L2 cache of any recent x86 core.
const tapsChunkBytes = 256 << 10

// tapsGeometry is the implicit GEMM's layout of one image's group of
// input channels.
type tapsGeometry struct {
	blocks     int        // channel blocks: ceil(cin / KGroup)
	stride     [2]int     // the convolution's, = the phase grid
	phaseHW    [2]int     // one phase plane: the padded size / stride, rounded up
	runs       []phaseRun // the input's parts in the phases some tap reads
	planeBytes int        // one phase plane of a block: KGroup bytes a position
	blockBytes int        // all phases of a block
	n          int        // GEMM columns: (OH-1)·PW + OW
	chunkRows  int        // output rows multiplied and dequantized at once
	offs       []int32    // per k group (block, tap): where its operand starts
	size       int        // bytes of the interleaved image, reads past the end included
}

// tapsWorthIt says whether the implicit GEMM suits cin input channels per
// group: padding them to whole blocks of qgemm.KGroup may add at most a
// third to the products (3 RGB channels padded to 4: yes; LeNet's single
// channel to 4, four times the work: no).
func tapsWorthIt(cin, taps int) bool {
	blocks := (cin + qgemm.KGroup - 1) / qgemm.KGroup
	return 3*blocks*qgemm.KGroup*taps <= 4*qgemm.PaddedK(cin*taps)
}

// taps lays out g's input for the implicit GEMM; an error says the image
// is too large for the GEMM's 32-bit offsets.
func (g *convGeometry) taps() (tapsGeometry, error) {
	w := &g.win
	t := tapsGeometry{blocks: (g.cin + qgemm.KGroup - 1) / qgemm.KGroup, stride: w.stride}
	var padded [2]int
	for d := range 2 {
		padded[d] = g.inHW[d] + w.padBegin[d] + w.padEnd[d]
		t.phaseHW[d] = (padded[d] + w.stride[d] - 1) / w.stride[d]
	}
	pw := t.phaseHW[1]
	sizes := []struct {
		n     *int
		shape []int
	}{
		{&t.planeBytes, []int{t.phaseHW[0], pw, qgemm.KGroup}},
		{&t.blockBytes, []int{w.stride[0] * w.stride[1], t.phaseHW[0], pw, qgemm.KGroup}},
		{&t.n, []int{g.outHW[0] - 1, pw}},
	}
	for _, s := range sizes {
		n, err := tensor.CheckShape(s.shape)
		if err != nil {
			return t, fmt.Errorf("the interleaved INT8 input: %w", err)
		}
		*s.n = n
	}
	t.n += g.outHW[1]
	// Chunks of output rows whose products fit tapsChunkBytes, so that
	// the epilogue reads them back from the cache they were written to.
	t.chunkRows = min(g.outHW[0], max(1, tapsChunkBytes/(4*max(1, g.cout)*pw)))
	kh, kw := w.kernel[0], w.kernel[1]
	t.offs = make([]int32, 0, t.blocks*kh*kw)
	seen := make(map[[2]int]bool)
	maxOff := 0
	for b := 0; b < t.blocks; b++ {
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				dy, dx := ky*w.dilation[0], kx*w.dilation[1]
				phase := [2]int{dy % w.stride[0], dx % w.stride[1]}
				if r := g.phaseRun(phase, pw); !seen[phase] && r.rows > 0 && r.cols > 0 {
					r.at = (phase[0]*w.stride[1]+phase[1])*t.planeBytes + r.at*qgemm.KGroup
					t.runs = append(t.runs, r)
				}
				seen[phase] = true
				off := b*t.blockBytes + (phase[0]*w.stride[1]+phase[1])*t.planeBytes +
					((dy/w.stride[0])*pw+dx/w.stride[1])*qgemm.KGroup
				maxOff = max(maxOff, off)
				t.offs = append(t.offs, int32(min(off, math.MaxInt32)))
			}
		}
	}
	all, err := tensor.CheckShape([]int{t.blocks, t.blockBytes})
	if err == nil {
		// A chunk from column c0 reads TapsSpan of its own width from
		// offset + 4·c0: up to 15 columns (one 64-byte panel) past what
		// TapsSpan(n) covers, when c0 is not a multiple of 16.
		t.size = max(all, maxOff+qgemm.TapsSpan(t.n)+qgemm.TapsSpan(1))
	}
	if err != nil || t.size > math.MaxInt32 {
		return t, fmt.Errorf("the interleaved INT8 input of %d channels of %d×%d: over 2 GiB, too large for the implicit GEMM's offsets", g.cin, g.inHW[0], g.inHW[1])
	}
	return t, nil
}

// fill quantizes the group's input planes src (cin planes of the input
// size) into buf, writing every position a tap reads; planes already in
// int8 are interleaved as they are. Padding is never written: buf holds
// zeros there from when it was laid out.
func (t *tapsGeometry) fill(g *convGeometry, buf []int8, src int8Source, scale float32) {
	ih, iw := g.inHW[0], g.inHW[1]
	sh, sw := t.stride[0], t.stride[1]
	pw := t.phaseHW[1]
	for b := 0; b < t.blocks; b++ {
		ch := min(qgemm.KGroup, g.cin-b*qgemm.KGroup)
		first := b * qgemm.KGroup * ih * iw
		for _, r := range t.runs {
			dst := buf[b*t.blockBytes+r.at:]
			if src.q != nil {
				qgemm.Interleave(dst, pw*qgemm.KGroup, src.q[first+r.from:], ih*iw, sh*iw, sw, ch, r.rows, r.cols)
			} else {
				qgemm.QuantizeInterleaved(dst, pw*qgemm.KGroup, src.f[first+r.from:], ih*iw, sh*iw, sw, ch, r.rows, r.cols, scale)
			}
		}
	}
}

// phaseRun is the part of an input plane that lands in one phase of its
// zero-padded, stride-split copy: rows×cols values from input offset from
// on, every stride-th row and column, written from offset at of the phase
// (in positions; callers scale it to their layout).
type phaseRun struct{ from, rows, cols, at int }

// phaseRun returns phase p's part of g's input, for phases pw positions
// wide (rows or cols ≤ 0: none).
func (g *convGeometry) phaseRun(p [2]int, pw int) phaseRun {
	sh, sw := g.win.stride[0], g.win.stride[1]
	top, left := g.win.padBegin[0], g.win.padBegin[1]
	// The first input row and column whose padded position is ≡ p.
	y0, x0 := floorMod(p[0]-top, sh), floorMod(p[1]-left, sw)
	return phaseRun{
		from: y0*g.inHW[1] + x0,
		rows: ceilDiv(g.inHW[0]-y0, sh), cols: ceilDiv(g.inHW[1]-x0, sw),
		at: (y0+top)/sh*pw + (x0+left)/sw,
	}
}

// tapsWeights reorders the m×(cin·taps) quantized weights q (k ordered
// channel, tap) into the implicit GEMM's k order (channel block, tap,
// channel in block), zero for the channels that pad the last block.
func tapsWeights(q []int8, m, cin, taps int) (reordered []int8, k int) {
	blocks := (cin + qgemm.KGroup - 1) / qgemm.KGroup
	k = blocks * taps * qgemm.KGroup
	reordered = make([]int8, m*k)
	for i := 0; i < m; i++ {
		row, out := q[i*cin*taps:], reordered[i*k:]
		for c := 0; c < cin; c++ {
			b, cb := c/qgemm.KGroup, c%qgemm.KGroup
			for r := 0; r < taps; r++ {
				out[(b*taps+r)*qgemm.KGroup+cb] = row[c*taps+r]
			}
		}
	}
	return reordered, k
}

// floorMod is a mod m in [0, m).
func floorMod(a, m int) int { return ((a % m) + m) % m }

// runTaps is Run for weights prepared in the implicit GEMM's order: per
// unit (image × group) one pass quantizes the input into the interleaved
// image; then per chunk of output rows one MulTaps computes the products
// and one pass per output channel dequantizes them.
func (c *qconv) runTaps(ctx *Ctx, geo *convGeometry, n int, bias []float32, in, out []*tensor.Tensor) error {
	if c.tapsHW != geo.inHW || c.tapsGeo.offs == nil {
		t, err := geo.taps()
		if err != nil {
			return err
		}
		c.tapsGeo, c.tapsHW = t, geo.inHW
	}
	t := &c.tapsGeo
	acc, err := tensor.CheckShape([]int{geo.cout, t.chunkRows, t.phaseHW[1]})
	if err != nil {
		return fmt.Errorf("the integer products: %w", err)
	}
	units := n * c.group
	areas := c.areas(ctx.Workers, units)
	for i := range areas {
		sc := &areas[i]
		sc.padded = layOut(sc.padded, t.size, &sc.laidOut, geo.inHW)
		sc.acc = grow(sc.acc, acc)
	}
	parallel.Each(units, len(areas), func(wk, lo, hi int) {
		sc := &areas[wk]
		for u := lo; u < hi; u++ {
			g := u % c.group
			src, outAt, res := c.unitTensors(geo, u, in)
			image := sc.padded
			if c.blockedIn {
				image = blockedImage(in[0], u*len(src.q), t.size, sc.padded)
			} else {
				t.fill(geo, sc.padded, src, c.inScale)
			}
			oh, ow, pw := geo.outHW[0], geo.outHW[1], t.phaseHW[1]
			for y0 := 0; y0 < oh; y0 += t.chunkRows {
				rows := min(t.chunkRows, oh-y0)
				// Channel oc's products at oc·rows·PW: every row of the
				// chunk PW after the one before, across channels too.
				cols := (rows-1)*pw + ow
				c.qpacked[g].MulTaps(cols, image[y0*pw*qgemm.KGroup:], t.offs, sc.acc, rows*pw)
				c.dequantize(geo, g, sc.acc, rows*pw, y0, rows, ow, pw, bias, res, out[0], outAt)
			}
		}
	})
	return nil
}

// Int8Slack is how many bytes past its end an int8 tensor's storage keeps
// readable (a plan allocates them), so that a pointwise convolution reads
// a blocked input in place: the implicit GEMM reads whole tiles of
// columns, up to TapsSpan(1) bytes past a block's last position and as
// many again for a chunk that starts within a tile.
const Int8Slack = 2 * qgemm.NR * qgemm.KGroup

// blockedImage returns the interleaved image of size bytes a pointwise
// convolution reads, its input x blocked (CanReadBlocked) from byte at
// on: the tensor's bytes in place, where its storage holds the tile
// reads past its end (Int8Slack), else copied into buf.
func blockedImage(x *tensor.Tensor, at, size int, buf []int8) []int8 {
	if at+size <= cap(x.I8) {
		return x.I8[at : at+size : at+size]
	}
	copy(buf, x.I8[at:])
	return buf
}

// tapsMemory is Memory for the implicit GEMM: the reordered weights
// packed (k padded to whole channel blocks) with their row sums and
// scales, and per scratch area the interleaved image and the products.
func (c *qconv) tapsMemory(geo *convGeometry, n int, w []int, workers int) (prepared, working int64, err error) {
	t, err := geo.taps()
	if err != nil {
		return 0, 0, err
	}
	m := int64(w[0])
	weights, err := bufferBytes(1, "the packed int8 weights", int(m), len(t.offs)*qgemm.KGroup)
	if err != nil {
		return 0, 0, err
	}
	// The AMX kernel's copy: m is per group here, as the packing is.
	weights += int64(c.group) * qgemm.AMXCopyBytes(w[0]/c.group, len(t.offs)*qgemm.KGroup)
	acc, err := bufferBytes(4, "the integer products", geo.cout, t.chunkRows, t.phaseHW[1])
	if err != nil {
		return 0, 0, err
	}
	areas := int64(min(max(1, workers), n*c.group))
	return weights + 8*m, areas * (int64(t.size) + acc), nil
}
