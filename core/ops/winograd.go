package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/tensor"
)

// Winograd convolution F(4×4, 3×3) (Lavin & Gray 2015, "Fast Algorithms
// for Convolutional Neural Networks", arXiv:1509.09308): a 3×3, stride-1
// convolution computed on 4×4 output tiles, each read from a 6×6 input
// tile d, as
//
//	Y = Aᵀ [ Σ_c (G g_kc Gᵀ) ⊙ (Bᵀ d_c B) ] A
//
// so that the products become 36 independent GEMMs (one per position ξ
// of the 6×6 transformed tile): M_ξ[K × tiles] = U_ξ[K × C] · V_ξ[C ×
// tiles], 36 products per 16 outputs and input channel against 144 for
// the direct convolution (4×; F(2×2,3×3), 16 per 4 outputs, saves 2.25×).
//
// The work is split into blocks of tiles (of any images of
// the batch; a tile's index runs over images, then tile rows, then tile
// columns), sized so that a block's transformed input V (36×C×tiles) and
// products M (36×K×tiles) stay in L2. Per block:
//
//  1. the input transform gathers each tile's 6×6 input values (16 tiles
//     a vector, padding and the image's edges masked to zero) and writes
//     Bᵀ d B straight into the GEMM's packed-B layout: V_ξ's panel q holds
//     tiles [16q, 16q+16), one row of 16 per input channel;
//  2. gemm.MulPackedBufEx multiplies each U_ξ (the weights G g Gᵀ,
//     transformed and packed once in Prepare) by V_ξ into M_ξ;
//  3. the output transform computes Aᵀ m A + bias for 16 tiles at a time,
//     transposes them to one 4-value row per tile and output row, and
//     stores each row with the fused residual added and the activation
//     applied. When the output is not a whole number of tiles, the tiles
//     go to a staging area instead and are cropped into the output.
//
// The transforms are assembly on amd64 (AVX-512: 16 tiles a vector,
// gathering the input's values in pairs where their reads stay inside the
// tensor; AVX2: 8), following the float GEMM's implementation
// (gemm.SetImpl, INT8CAL_KERNELS); winoInputGo and winoOutputGo are the
// portable ones (purego, other architectures).
//
// Numerics: the transforms' constants (1/4, 1/6, 4, 5, 8, ...) amplify
// rounding, and mix a tile's 16 outputs. Against a float64 direct
// convolution, TestWinogradReference bounds the error by 5e-7·(1 +
// sqrt(9·C)) times the largest sum of absolute products Σ|x·w| among the
// output's tile (plus |bias| and |residual|); measured worst 1e-6 to 2e-6
// of it for 3 to 64 channels. F(4×4) was chosen over F(2×2) (known to
// be a few times more accurate) for its 4× (against 2.25×) fewer
// products: at 16 channels even those only just pay for the transforms
// (BenchmarkConv3x3), and F(2×2) needs 16 transformed values per 4
// outputs against 36 per 16. A NaN or an infinity in the input makes
// the whole 4×4 output tiles whose 6×6 input tiles hold it NaN (Inf −
// Inf in the transforms), not only the outputs whose window holds it.

// The 1-D transforms of F(4, 3): Bᵀ (6×6) for the input, G (6×3) for the
// weights, Aᵀ (4×6) for the output.
var (
	winoG = [6][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
)

// winoInput1D applies Bᵀ to x (x0..x5):
//
//	[4  0 -5  0 1 0]
//	[0 -4 -4  1 1 0]
//	[0  4 -4 -1 1 0]
//	[0 -2 -1  2 1 0]
//	[0  2 -1 -2 1 0]
//	[0  4  0 -5 0 1]
//
// in the assembly kernels' order of operations (without their FMAs).
func winoInput1D(x *[6]float32) {
	t1, t2 := x[4]-4*x[2], x[3]-4*x[1]
	t3, t4 := x[4]-x[2], x[3]-x[1]
	y0 := x[4] + 4*x[0] - 5*x[2]
	y5 := x[5] + 4*x[1] - 5*x[3]
	*x = [6]float32{y0, t1 + t2, t1 - t2, t3 + 2*t4, t3 - 2*t4, y5}
}

// winoOutput1D applies Aᵀ to m (m0..m5), into y0..y3 of m:
//
//	[1 1  1 1  1 0]
//	[0 1 -1 2 -2 0]
//	[0 1  1 4  4 0]
//	[0 1 -1 8 -8 1]
func winoOutput1D(m *[6]float32) {
	a, b := m[1]+m[2], m[1]-m[2]
	c, d := m[3]+m[4], m[3]-m[4]
	m[0], m[1], m[2], m[3] = m[0]+a+c, b+2*d, a+4*c, b+8*d+m[5]
}

// winoBlockBytes bounds a block's V and M together: half the 2 MiB L2
// (blocks of 224 tiles for 16 channels in and out, 48 for 64); a
// quarter and three eighths measured no faster (BenchmarkConv3x3).
const winoBlockBytes = 1 << 20

// winoReportedBlockBytes is winoBlockBytes for runs that hand each
// block's output on as it is computed (RunProgress: calibration's
// chained Relu and statistics, which stream the block's output, its
// residual, Add and Relu through L2 right after it): a quarter of L2.
// The blocks' size does not change the results (each output is the
// same sum whatever the GEMM's column count), but half-L2 blocks left
// the pass too little room.
const winoReportedBlockBytes = 1 << 19

// winogradMode overrides the rule for tests and benchmarks: winoForce
// makes every convolution the Winograd strategy can compute take it,
// winoNever none.
var winogradMode winoMode

type winoMode int

const (
	winoByRule winoMode = iota
	winoForce
	winoNever
)

// winograd decides whether the Winograd strategy computes this
// convolution: one group, a 3×3 kernel, stride and dilation 1, at least
// 16 input and output channels, and an output that fills its 4×4 tiles
// at least half (16·tiles ≤ 2·OH·OW: a 7×7 output's 64 computed values
// for 49 pay, a 2×2's 16 for 4 would not). Measured with
// BenchmarkConv3x3 on the 2-core Xeon (ReLU fused, 2 workers), the
// Winograd time against the existing strategies' (AVX-512 / AVX2):
// ResNet-20's 16×32×32 0.77 / 0.69, 32×16×16 0.54 / 0.60, 64×8×8
// 0.34 / 0.32; ResNet-50's 64×56×56 0.37 / 0.31, 128×28×28 0.39 / 0.29,
// 256×14×14 0.49 / 0.35, 512×7×7 0.45 / 0.37 (the last two staged and
// cropped). At 16 channels the transforms, whose cost grows with the
// channels in and out, take about as long as the 16-deep products.
func (c *conv) winograd(g *convGeometry) bool {
	w := &g.win
	if c.group != 1 || w.kernel != [2]int{3, 3} || w.stride != [2]int{1, 1} || w.dilation != [2]int{1, 1} {
		return false
	}
	switch winogradMode {
	case winoForce:
		return true
	case winoNever:
		return false
	}
	oh, ow := g.outHW[0], g.outHW[1]
	return winoChannelsPay(g.cin, g.cout) && 16*((oh+3)/4)*((ow+3)/4) <= 2*oh*ow
}

// winoChannelsPay is the channel part of the rule.
func winoChannelsPay(cin, cout int) bool { return cin >= 16 && cout >= 16 }

// winogradWeights reports whether Prepare transforms weights of this
// shape for the Winograd strategy: those of a convolution it may
// compute, whatever the input's size.
func (c *conv) winogradWeights(w []int) bool {
	win := c.win
	return len(w) == 4 && c.group == 1 && w[2] == 3 && w[3] == 3 && win.stride == [2]int{1, 1} && win.dilation == [2]int{1, 1} &&
		winogradMode != winoNever && (winogradMode == winoForce || winoChannelsPay(w[1], w[0]))
}

// winoMemory is Memory for the Winograd strategy: a scratch area per
// worker when there are as many blocks, and the plan's tables.
func (c *conv) winoMemory(g *convGeometry, n, workers int, prepared int64) (int64, int64, error) {
	p, err := winoLayout(winoKey{n: n, in: g.inHW, out: g.outHW, pad: g.win.padBegin, cin: g.cin, cout: g.cout})
	if err != nil {
		return 0, 0, err
	}
	s, err := p.scratch()
	if err != nil {
		return 0, 0, err
	}
	areas := 1
	if (p.tiles+p.block-1)/p.block >= max(1, workers) {
		areas = max(1, workers)
	}
	return prepared, 4*int64(areas)*int64(s.col+s.padded+s.out) + p.tableBytes(), nil
}

// winoTransformWeights returns the 36 transformed weight matrices U_ξ =
// (G g Gᵀ)_ξ, K×C each, packed for the GEMM; computed in float64 and
// rounded once.
func winoTransformWeights(w []float32, k, c int) []*gemm.PackedA {
	u := make([]float32, 36*k*c)
	for o := 0; o < k; o++ {
		for i := 0; i < c; i++ {
			g := w[(o*c+i)*9:]
			var tmp [6][3]float64 // G g
			for r := 0; r < 6; r++ {
				for s := 0; s < 3; s++ {
					for t := 0; t < 3; t++ {
						tmp[r][s] += winoG[r][t] * float64(g[t*3+s])
					}
				}
			}
			for r := 0; r < 6; r++ {
				for s := 0; s < 6; s++ {
					var v float64 // (G g) Gᵀ
					for t := 0; t < 3; t++ {
						v += tmp[r][t] * winoG[s][t]
					}
					u[((r*6+s)*k+o)*c+i] = float32(v)
				}
			}
		}
	}
	packed := make([]*gemm.PackedA, 36)
	for xi := range packed {
		packed[xi] = gemm.PackA(k, c, u[xi*k*c:], c)
	}
	return packed
}

// winoPlan is the tiling of one batch: per tile its input and output
// offsets, per group of 16 tiles the masks of the input rows and columns
// inside the image. It depends on the batch size and the geometry only.
type winoPlan struct {
	key    winoKey
	th, tw int // tiles per column and row of an image
	tiles  int // of the batch
	block  int // tiles per block, a multiple of 16
	staged bool
	idx    []int32  // input offset of tile t's top-left value (may be negative: padding)
	out    []int32  // output offset of tile t's top-left value (staged: 16·(t mod block))
	bits   []uint16 // per group: 6 row masks, then 6 column masks (bit l: lane l inside)
	pairs  []uint16 // per group: 18 masks of row r and column pair p (3r+p), 36 of row r and column s (18+6r+s)
	// pairsOut: a pair the group gathers (a value inside the image and
	// its neighbour) may lie partly outside the tensor (its first or
	// last value's neighbour): the group gathers values one by one.
	pairsOut   []bool
	bytes      []int8 // the same as bytes (0 or -1), 16 a mask
	zeroBias   []float32
	inPlane    int // H·W
	outPlane   int // OH·OW, or 16·block staged
	ldo        int // output row pitch (4 staged)
	vLen, mLen int
	// The 36 matrices of V and of M are vStride and mStride floats
	// apart: their size rounded to an odd number of 64-byte lines, so
	// that the transforms' 36 lines of one tile group fall in different
	// L1 sets (a multiple of 4 KiB apart they shared 4 sets, and the
	// transforms ran at L2 speed).
	vStride, mStride int
}

type winoKey struct {
	n         int
	in, out   [2]int
	pad       [2]int
	cin, cout int
	// reported: the blocks' output is handed on as it is computed
	// (winoReportedBlockBytes).
	reported bool
}

// winoPlanFor returns the plan of n images for geometry g, made when the
// previous one was for another batch size or geometry, or for runs that
// do (not) report their output (reported).
func (c *conv) winoPlanFor(g *convGeometry, n int, reported bool) (*winoPlan, error) {
	key := winoKey{n: n, in: g.inHW, out: g.outHW, pad: g.win.padBegin, cin: g.cin, cout: g.cout, reported: reported}
	if c.wino != nil && c.wino.key == key {
		return c.wino, nil
	}
	p, err := newWinoPlan(key)
	if err != nil {
		return nil, err
	}
	c.wino = p
	return p, nil
}

// winoLayout returns the plan's sizes, without its tables.
func winoLayout(key winoKey) (*winoPlan, error) {
	ih, iw := key.in[0], key.in[1]
	oh, ow := key.out[0], key.out[1]
	p := &winoPlan{key: key, th: (oh + 3) / 4, tw: (ow + 3) / 4, inPlane: ih * iw}
	p.staged = oh%4 != 0 || ow%4 != 0
	tiles, err := tensor.CheckShape([]int{key.n, p.th, p.tw})
	if err != nil {
		return nil, fmt.Errorf("winograd tiles: %w", err)
	}
	// Offsets are int32 in the kernels: the batch's input and output
	// must be indexable (the engine's tensors are far below this).
	if int64(key.n)*int64(key.cin)*int64(ih*iw) >= math.MaxInt32 || int64(key.n)*int64(key.cout)*int64(oh*ow) >= math.MaxInt32 {
		return nil, fmt.Errorf("winograd: batch of %d×%d×%d×%d too large for 32-bit offsets", key.n, key.cin, ih, iw)
	}
	p.tiles = tiles
	bytes := winoBlockBytes
	if key.reported {
		bytes = winoReportedBlockBytes
	}
	p.block = max(16, bytes/(4*36*(key.cin+key.cout))/16*16)
	p.block = min(p.block, (tiles+15)/16*16)
	p.ldo, p.outPlane = ow, oh*ow
	if p.staged {
		p.ldo, p.outPlane = 4, 16*p.block
	}
	p.vStride, p.mStride = oddLines(key.cin*p.block), oddLines(key.cout*p.block)
	if p.vLen, err = tensor.CheckShape([]int{36, p.vStride}); err != nil {
		return nil, fmt.Errorf("winograd input: %w", err)
	}
	if p.mLen, err = tensor.CheckShape([]int{36, p.mStride}); err != nil {
		return nil, fmt.Errorf("winograd products: %w", err)
	}
	return p, nil
}

// oddLines rounds n floats (a multiple of 16) up to an odd number of
// 64-byte lines.
func oddLines(n int) int {
	if n/16%2 == 0 {
		return n + 16
	}
	return n
}

// tableBytes is the size of the plan's tables.
func (p *winoPlan) tableBytes() int64 {
	groups := int64(p.tiles+15) / 16
	return groups*(16*4+16*4+12*2+54*2+12*16+1) + 4*int64(p.key.cout)
}

func newWinoPlan(key winoKey) (*winoPlan, error) {
	p, err := winoLayout(key)
	if err != nil {
		return nil, err
	}
	ih, iw := key.in[0], key.in[1]
	oh, ow := key.out[0], key.out[1]
	tiles := p.tiles
	groups := (tiles + 15) / 16
	p.idx = make([]int32, 16*groups)
	p.out = make([]int32, 16*groups)
	p.bits = make([]uint16, 12*groups)
	p.pairs = make([]uint16, 54*groups)
	p.pairsOut = make([]bool, groups)
	p.bytes = make([]int8, 12*16*groups)
	p.zeroBias = make([]float32, key.cout)
	top, left := key.pad[0], key.pad[1]
	for t := 0; t < tiles; t++ {
		img, r := t/(p.th*p.tw), t%(p.th*p.tw)
		y, x := 4*(r/p.tw), 4*(r%p.tw)
		p.idx[t] = int32(img*key.cin*ih*iw + (y-top)*iw + x - left)
		if p.staged {
			p.out[t] = int32(16 * (t % p.block))
		} else {
			p.out[t] = int32(img*key.cout*oh*ow + y*ow + x)
		}
		g, l := t/16, t%16
		for k := 0; k < 6; k++ {
			if yy := y - top + k; yy >= 0 && yy < ih {
				p.bits[12*g+k] |= 1 << l
				p.bytes[16*(12*g+k)+l] = -1
			}
			if xx := x - left + k; xx >= 0 && xx < iw {
				p.bits[12*g+6+k] |= 1 << l
				p.bytes[16*(12*g+6+k)+l] = -1
			}
		}
	}
	for g := 0; g < groups; g++ {
		row, col := p.bits[12*g:12*g+6], p.bits[12*g+6:12*g+12]
		for r := 0; r < 6; r++ {
			for s := 0; s < 6; s++ {
				p.pairs[54*g+18+6*r+s] = row[r] & col[s]
			}
			for q := 0; q < 3; q++ {
				m := row[r] & (col[2*q] | col[2*q+1])
				p.pairs[54*g+3*r+q] = m
				for l := 0; l < 16; l++ {
					first := int(p.idx[16*g+l]) + r*iw + 2*q // of channel 0; its pair's last of channel C-1
					if m>>l&1 != 0 && (first < 0 || first+1+(key.cin-1)*ih*iw >= key.n*key.cin*ih*iw) {
						p.pairsOut[g] = true
					}
				}
			}
		}
	}
	return p, nil
}

// scratch returns the floats of one worker's scratch: V, then M, then
// the staging area.
func (p *winoPlan) scratch() (scratchSizes, error) {
	s := scratchSizes{col: p.vLen, out: p.mLen}
	if p.staged {
		var err error
		if s.padded, err = tensor.CheckShape([]int{p.key.cout, 16 * p.block}); err != nil {
			return s, fmt.Errorf("winograd staging: %w", err)
		}
	}
	return s, nil
}

// winoInArgs is one input transform: for each of chans input channels
// (src's planes, inPlane apart) and groups groups of 16 tiles, the
// transformed tiles V_ξ into dst's packed-B panels (ξ's matrix vStride
// floats apart, panel g at 16·chans·g, channel c's row at 16c). The
// tiles' input offsets, masks and pairsOut are the plan's (winoPlan),
// from the block's first group on.
type winoInArgs struct {
	dst, src       []float32
	idx            []int32
	bits           []uint16
	pairs          []uint16
	bytes          []int8
	pairsOut       []bool
	groups, chans  int
	inPlane, width int
	vStride        int
}

// winoOutArgs is one output transform: for each of chans output channels
// and groups groups of 16 tiles of M (ξ's matrix mStride floats apart,
// channel k's row at k·ldm), Aᵀ m A + bias[k] into the first n tiles'
// 4×4 blocks of dst at out[t] + i·ldo (rows i = 0..3), channel k's plane
// at k·outPlane; res (nil: none) is added at the same places, then the
// values are clamped to [lo, hi] (NaN kept). tmp is the kernels' 1 KiB of
// scratch.
type winoOutArgs struct {
	dst, res, m, bias []float32
	out               []int32
	n, groups, chans  int
	mStride, ldm      int
	outPlane, ldo     int
	lo, hi            float32
	tmp               []float32
}

// winoInputGo is the portable input transform (winoInArgs).
func winoInputGo(a *winoInArgs) {
	for c := 0; c < a.chans; c++ {
		src := a.src[c*a.inPlane:]
		for g := 0; g < a.groups; g++ {
			for l := 0; l < 16; l++ {
				var d [6][6]float32
				base := int(a.idx[16*g+l])
				for r := 0; r < 6; r++ {
					if a.bits[12*g+r]>>l&1 == 0 {
						continue
					}
					for s := 0; s < 6; s++ {
						if a.bits[12*g+6+s]>>l&1 != 0 {
							d[r][s] = src[base+r*a.width+s]
						}
					}
				}
				winoInputTile(&d)
				at := 16*a.chans*g + 16*c + l
				for r := 0; r < 6; r++ {
					for s := 0; s < 6; s++ {
						a.dst[(r*6+s)*a.vStride+at] = d[r][s]
					}
				}
			}
		}
	}
}

// winoInputTile computes Bᵀ d B in place: the rows' transform, then the
// columns', as the assembly kernels do.
func winoInputTile(d *[6][6]float32) {
	for r := range d {
		winoInput1D(&d[r])
	}
	for s := 0; s < 6; s++ {
		col := [6]float32{d[0][s], d[1][s], d[2][s], d[3][s], d[4][s], d[5][s]}
		winoInput1D(&col)
		for r := range d {
			d[r][s] = col[r]
		}
	}
}

// winoOutputGo is the portable output transform (winoOutArgs).
func winoOutputGo(a *winoOutArgs) {
	for k := 0; k < a.chans; k++ {
		dst := a.dst[k*a.outPlane:]
		var res []float32
		if a.res != nil {
			res = a.res[k*a.outPlane:]
		}
		for t := 0; t < a.n; t++ {
			var m [6][6]float32
			at := k*a.ldm + t
			for r := 0; r < 6; r++ {
				for s := 0; s < 6; s++ {
					m[r][s] = a.m[(r*6+s)*a.mStride+at]
				}
			}
			for r := range m { // rows: m[r][0..3] = (m Aᵀ)[r]
				winoOutput1D(&m[r])
			}
			for j := 0; j < 4; j++ {
				col := [6]float32{m[0][j], m[1][j], m[2][j], m[3][j], m[4][j], m[5][j]}
				winoOutput1D(&col)
				for i := 0; i < 4; i++ {
					v := col[i] + a.bias[k]
					o := int(a.out[t]) + i*a.ldo + j
					if res != nil {
						v += res[o]
					}
					if v < a.lo {
						v = a.lo
					} else if v > a.hi {
						v = a.hi
					}
					dst[o] = v
				}
			}
		}
	}
}

// runWinograd computes the convolution with the Winograd strategy (see
// above): each worker taking the next block of tiles when done with its
// last (eachTask), or the blocks in turn with the workers splitting each
// GEMM when there are fewer blocks than workers. The blocks do not
// depend on the worker count or on which worker computes them, so
// neither do the results. done (RunProgress; nil: none) gets each
// block's output as the block is finished when the workers share out the
// blocks and the blocks cover whole rows of tiles, else the whole output
// at the end.
func (c *conv) runWinograd(ctx *Ctx, in, out []*tensor.Tensor, geo *convGeometry, n int, bias []float32, done func(worker, lo, hi int)) error {
	p, err := c.winoPlanFor(geo, n, done != nil)
	if err != nil {
		return err
	}
	sizes, err := p.scratch()
	if err != nil {
		return err
	}
	u := c.winoU
	if u == nil { // weights computed at run time
		u = winoTransformWeights(in[1].F32, geo.cout, geo.cin)
	}
	if bias == nil {
		bias = p.zeroBias
	}
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	switch c.act.Kind {
	case ReluActivation:
		lo = 0
	case ClipActivation:
		lo, hi = c.act.Min, c.act.Max
	}
	var res []float32
	if c.residual {
		res = in[3].F32
	}
	x, y := in[0].F32, out[0].F32
	cin, cout, blk := geo.cin, geo.cout, p.block
	blocks := (p.tiles + blk - 1) / blk
	runBlock := func(b int, sc *convScratch, workers int) {
		t0 := b * blk
		cnt := min(blk, p.tiles-t0)
		groups := (cnt + 15) / 16
		g0 := t0 / 16
		v, m := sc.col[:p.vLen], sc.out[:p.mLen]
		winoInput(&winoInArgs{dst: v, src: x, idx: p.idx[t0:], bits: p.bits[12*g0:], pairs: p.pairs[54*g0:], bytes: p.bytes[16*12*g0:],
			pairsOut: p.pairsOut[g0:],
			groups:   groups, chans: cin, inPlane: p.inPlane, width: geo.inHW[1], vStride: p.vStride})
		for xi := 0; xi < 36; xi++ {
			u[xi].MulPackedBufEx(cnt, v[xi*p.vStride:], m[xi*p.mStride:], blk, false, nil, workers)
		}
		oa := winoOutArgs{dst: y, res: res, m: m, bias: bias, out: p.out[t0:], n: cnt, groups: groups, chans: cout,
			mStride: p.mStride, ldm: blk, outPlane: p.outPlane, ldo: p.ldo, lo: lo, hi: hi, tmp: sc.tmp[:]}
		if p.staged {
			oa.dst, oa.res, oa.lo, oa.hi = sc.padded, nil, float32(math.Inf(-1)), float32(math.Inf(1))
		}
		winoOutput(&oa)
		if p.staged {
			p.crop(sc.padded, y, res, t0, cnt, c.act)
		}
	}
	workers := max(1, ctx.Workers)
	if blocks >= workers {
		c.growScratch(workers, sizes)
		byBlock := done != nil && blk%p.tw == 0
		eachTask(blocks, workers, func(w, b int) {
			runBlock(b, &c.scratch[w], 1)
			if byBlock {
				p.doneBlock(done, w, b*blk, min(blk, p.tiles-b*blk))
			}
		})
		if !byBlock {
			doneAll(done, len(y), workers)
		}
		return nil
	}
	c.growScratch(1, sizes)
	for b := 0; b < blocks; b++ {
		runBlock(b, &c.scratch[0], workers)
	}
	doneAll(done, len(y), workers)
	return nil
}

// doneBlock reports to done, as worker w, the output of tiles [t0,
// t0+cnt), which begin and end on rows of tiles: per image and output
// channel, a run of whole output rows, runs that meet merged (a block of
// whole images is one run).
func (p *winoPlan) doneBlock(done func(worker, lo, hi int), w, t0, cnt int) {
	oh, ow, cout := p.key.out[0], p.key.out[1], p.key.cout
	per := p.th * p.tw // tiles per image
	lo, hi := 0, 0     // the run not yet reported
	for t := t0; t < t0+cnt; {
		img := t / per
		end := min(t0+cnt, (img+1)*per)
		r0, r1 := 4*(t%per/p.tw), min(oh, 4*((end-1)%per/p.tw+1))
		for k := 0; k < cout; k++ {
			at := (img*cout + k) * oh * ow
			if at+r0*ow != hi {
				if hi > lo {
					done(w, lo, hi)
				}
				lo = at + r0*ow
			}
			hi = at + r1*ow
		}
		t = end
	}
	if hi > lo {
		done(w, lo, hi)
	}
}

// crop copies the staged tiles [t0, t0+cnt) (16 values each, row-major,
// channel k's at 16·block·k) into the output, adding the residual (nil:
// none) and applying act, where they fall inside it.
func (p *winoPlan) crop(staged, y, res []float32, t0, cnt int, act Activation) {
	oh, ow := p.key.out[0], p.key.out[1]
	for t := t0; t < t0+cnt; t++ {
		img, r := t/(p.th*p.tw), t%(p.th*p.tw)
		ty, tx := 4*(r/p.tw), 4*(r%p.tw)
		for k := 0; k < p.key.cout; k++ {
			src := staged[16*(k*p.block+t-t0):]
			plane := (img*p.key.cout + k) * oh * ow
			for i := 0; i < 4 && ty+i < oh; i++ {
				at := plane + (ty+i)*ow + tx
				row := y[at : at+min(4, ow-tx)]
				copy(row, src[4*i:])
				if res != nil {
					for j := range row {
						row[j] += res[at+j]
					}
				}
				act.apply(row)
			}
		}
	}
}

// winoInput runs the input transform on the GEMM implementation's
// kernel.
func winoInput(a *winoInArgs) {
	if !winoInputFast(a) {
		winoInputGo(a)
	}
}

// winoOutput runs the output transform on the GEMM implementation's
// kernel.
func winoOutput(a *winoOutArgs) {
	if !winoOutputFast(a) {
		winoOutputGo(a)
	}
}
