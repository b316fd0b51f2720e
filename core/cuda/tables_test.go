package cuda

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/int8cal/int8cal/core/internal/quanttest"
	"github.com/int8cal/int8cal/core/qgemm"
)

// The im2col kernels find each tap through tables made on the host
// (tapTable for NCHW inputs, wordTable for channels-last int8 ones). These
// tests read the tables the way the kernels do and compare with the
// definition of the unfolded matrix, on a geometry with strides, padding
// and dilation, so that the index arithmetic is checked without a GPU.

var tableGeo = convGeo{N: 2, C: 3, H: 5, W: 4, KH: 3, KW: 2, SH: 2, SW: 1, PH: 1, PW: 0, DH: 1, DW: 2, OH: 3, OW: 2}

// direct is the unfolded input by definition: row (b, oy, ox), column
// (c, ky, kx) in ONNX weight order.
func direct(g convGeo, x func(b, c, y, xx int32) int32, b, oy, ox, c, ky, kx int32) int32 {
	iy, ix := oy*g.SH-g.PH+ky*g.DH, ox*g.SW-g.PW+kx*g.DW
	if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
		return 0
	}
	return x(b, c, iy, ix)
}

func value(b, c, y, x int32) int32 { return 1000*b + 100*c + 10*y + x + 1 }

func TestTapTable(t *testing.T) {
	g := tableGeo
	g.K = g.C * g.KH * g.KW
	g.Kpad = int32(roundUp(int(g.K), productAlign))
	taps := tapTable(g)
	for b := int32(0); b < g.N; b++ {
		for oy := int32(0); oy < g.OH; oy++ {
			for ox := int32(0); ox < g.OW; ox++ {
				y0, x0 := oy*g.SH-g.PH, ox*g.SW-g.PW
				corner := b*g.C*g.H*g.W + y0*g.W + x0
				for k := int32(0); k < g.Kpad; k++ {
					off, dy, dx := taps[4*k], taps[4*k+1], taps[4*k+2]
					iy, ix := uint32(y0+dy), uint32(x0+dx)
					var got int32
					if iy < uint32(g.H) && ix < uint32(g.W) {
						at := corner + off // the kernel's corner[t.x]
						got = value(at/(g.C*g.H*g.W), at/(g.H*g.W)%g.C, at/g.W%g.H, at%g.W)
					}
					var want int32
					if k < g.K {
						c, r := k/(g.KH*g.KW), k%(g.KH*g.KW)
						want = direct(g, value, b, oy, ox, c, r/g.KW, r%g.KW)
					}
					if got != want {
						t.Fatalf("row (%d,%d,%d) tap %d: table reads %d, want %d", b, oy, ox, k, got, want)
					}
				}
			}
		}
	}
}

func TestWordTableAndChannelsLast(t *testing.T) {
	g := tableGeo
	cq := int32(roundUp(int(g.C), 4))
	g.K = g.KH * g.KW * cq
	g.Kpad = int32(roundUp(int(g.K), productAlign))
	wpt := cq / 4
	words := wordTable(g, wpt)
	// The channels-last input as bytes; channel c of pixel (b, y, x) at
	// ((b·H + y)·W + x)·cq + c, the channels past C zero.
	q := func(b, y, x, c int32) int32 {
		if c >= g.C {
			return 0
		}
		return value(b, c, y, x)
	}
	for b := int32(0); b < g.N; b++ {
		for oy := int32(0); oy < g.OH; oy++ {
			for ox := int32(0); ox < g.OW; ox++ {
				y0, x0 := oy*g.SH-g.PH, ox*g.SW-g.PW
				for w := int32(0); w < g.Kpad/4; w++ {
					dy, dx, cw := words[4*w], words[4*w+1], words[4*w+2]
					iy, ix := uint32(y0+dy), uint32(x0+dx)
					for j := int32(0); j < 4; j++ {
						var got int32
						if iy < uint32(g.H) && ix < uint32(g.W) {
							got = q(b, int32(iy), int32(ix), 4*cw+j)
						}
						k := 4*w + j // column in (ky, kx, channel) order
						var want int32
						if k < g.K {
							tap, c := k/cq, k%cq
							if c < g.C {
								want = direct(g, value, b, oy, ox, c, tap/g.KW, tap%g.KW)
							}
						}
						if got != want {
							t.Fatalf("row (%d,%d,%d) column %d: table reads %d, want %d", b, oy, ox, k, got, want)
						}
					}
				}
			}
		}
	}
	// The weights follow the same column order.
	rows, taps := 2, int(g.KH*g.KW)
	w := make([]int8, rows*int(g.C)*taps)
	for i := range w {
		w[i] = int8(i)
	}
	cl := channelsLast(w, rows, int(g.C), taps, int(cq))
	for r := 0; r < rows; r++ {
		for c := 0; c < int(cq); c++ {
			for tp := 0; tp < taps; tp++ {
				want := int8(0)
				if c < int(g.C) {
					want = w[(r*int(g.C)+c)*taps+tp]
				}
				if got := cl[(r*taps+tp)*int(cq)+c]; got != want {
					t.Fatalf("weight row %d tap %d channel %d: %d, want %d", r, tp, c, got, want)
				}
			}
		}
	}
}

// TestConvTile reads each product row's words the way conv_s8 does with
// its input tile (conv_tile: the block's virtual input rows, each row's
// base, the word table's tile offsets) and compares them with the
// unfolded input by definition, for blocks that start on an output row,
// blocks that start inside one and blocks that span images, on
// geometries with strides, padding and dilation and on a 3×3 one; the
// block's slots must also fit in the bytes tileBytes gives the launch.
func TestConvTile(t *testing.T) {
	g3 := convGeo{N: 3, C: 5, H: 6, W: 7, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, OH: 6, OW: 7}
	dilated := convGeo{N: 2, C: 3, H: 9, W: 8, KH: 3, KW: 2, SH: 2, SW: 1, PH: 2, PW: 1, DH: 2, DW: 3, OH: 5, OW: 7}
	for _, g := range []convGeo{tableGeo, g3, dilated} {
		cq := int32(roundUp(int(g.C), channelAlign))
		wpt := cq / 4
		g.K = g.KH * g.KW * cq
		g.Kpad = int32(roundUp(int(g.K), convK))
		g.Rows = g.N * g.OH * g.OW
		words := wordTable(g, wpt)
		ic := tileColumns(g)
		geo := newIConv(g, 8, int(cq), int(g.K), false, 1)
		ihv := geo.IHV
		q := func(b, y, x, c int32) int32 {
			if c >= g.C {
				return 0
			}
			return value(b, c, y, x)
		}
		for _, bm := range []int{16, 64, int(g.OW), 2 * int(g.OW)} {
			for row0 := int32(0); row0 < g.Rows; row0 += int32(bm) {
				// The block's virtual rows, as conv_s8 counts them.
				rLast := (min(row0+int32(bm), g.Rows) - 1) / g.OW
				r0 := row0 / g.OW
				v0 := r0/g.OH*ihv + r0%g.OH*g.SH
				slots := rLast/g.OH*ihv + rLast%g.OH*g.SH + (g.KH-1)*g.DH - v0 + 1
				if need := 4 * int(slots) * (int(ic*wpt) + 1); need > tileBytes(geo, bm) {
					t.Fatalf("bm %d, block at row %d: the tile needs %d bytes, the launch gives %d", bm, row0, need, tileBytes(geo, bm))
				}
				// The tile as conv_tile fills it: channel bytes of each
				// slot's pixels, zero outside the image.
				tile := make([]int32, slots*ic*cq)
				for s := int32(0); s < slots; s++ {
					v := v0 + s
					b := v / ihv
					iy := v - b*ihv - g.PH
					for c := int32(0); c < ic; c++ {
						ix := c - g.PW
						if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
							continue
						}
						for ch := int32(0); ch < cq; ch++ {
							tile[(s*ic+c)*cq+ch] = q(b, iy, ix, ch)
						}
					}
				}
				for row := row0; row < min(row0+int32(bm), g.Rows); row++ {
					r, ox := row/g.OW, row%g.OW
					b, oy := r/g.OH, r%g.OH
					base := ((b*ihv+oy*g.SH-v0)*ic + ox*g.SW) * cq // bytes, as pix
					for w := int32(0); w < g.Kpad/4; w++ {
						for j := int32(0); j < 4; j++ {
							k := 4*w + j
							at := base + words[4*w+3] + j
							if at < 0 || at >= int32(len(tile)) {
								t.Fatalf("bm %d row %d column %d: tile byte %d of %d", bm, row, k, at, len(tile))
							}
							if k >= g.K {
								continue // padding words meet zero weights: any value in the tile will do
							}
							var want int32
							if tap, c := k/cq, k%cq; c < g.C {
								want = direct(g, value, b, oy, ox, c, tap/g.KW, tap%g.KW)
							}
							if got := tile[at]; got != want {
								t.Fatalf("bm %d row %d column %d: the tile reads %d, want %d", bm, row, k, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestFragmentOrder checks the weight layout conv_s8 reads its B
// fragments from: lane g·4+t of a warp reads, for tile r/8 and step s,
// the 8 bytes at (s·tiles + tile)·256 + 8·lane, which must be bytes
// 32s+8t to 32s+8t+7 of row r (g = r%8), every byte once.
func TestFragmentOrder(t *testing.T) {
	const rows, k = 24, 96
	w := make([]int8, rows*k)
	for i := range w {
		w[i] = int8(i % 251)
	}
	got := fragmentOrder(w, k)
	if len(got) != len(w) {
		t.Fatalf("%d bytes, want %d", len(got), len(w))
	}
	steps := k / 32
	for r := 0; r < rows; r++ {
		for s := 0; s < steps; s++ {
			for tg := 0; tg < 4; tg++ {
				lane := (r%8)*4 + tg
				at := (s*rows/8+r/8)*256 + 8*lane
				for j := 0; j < 8; j++ {
					if want := w[r*k+32*s+8*tg+j]; got[at+j] != want {
						t.Fatalf("row %d step %d lane %d byte %d: %d, want %d", r, s, lane, j, got[at+j], want)
					}
				}
			}
		}
	}
}

// TestConvCandidates: every product shape gets at least one conv_s8
// kernel to time, none with a channel chunk twice the channels or more,
// and K is split only for few rows.
func TestConvCandidates(t *testing.T) {
	for _, rows := range []int{1, 3, 100, convFewRows - 1, convFewRows, 1 << 20} {
		for _, cout := range []int{1, 8, 10, 16, 20, 50, 64, 500} {
			cands := convCandidates(rows, cout)
			if len(cands) == 0 {
				t.Fatalf("%d rows × %d channels: no candidate", rows, cout)
			}
			for _, c := range cands {
				if c.channels() >= 2*roundUp(cout, 8) || (c.kw > 1) != (rows < convFewRows) {
					t.Errorf("%d rows × %d channels: candidate %s", rows, cout, c.name())
				}
			}
		}
	}
}

// quantDiv is kernels.cu's quant: clamp(round half to even(x/scale)), NaN
// → 0, in float32 as the GPU computes it.
func quantDiv(x, scale float32) int {
	v := x / scale
	if v != v {
		return 0
	}
	v = min(max(v, -128), 127)
	return int(math.RoundToEven(float64(v)))
}

// fma32 is float32's fused multiply-add a·b + c, rounded once: the
// product is exact in float64, TwoSum makes hi + lo the exact sum, and
// rounding hi to float32 is rounding hi + lo except where hi is a float32
// midpoint (then lo, far below float32's ulp, breaks the tie).
func fma32(a, b, c float32) float32 {
	p, c64 := float64(a)*float64(b), float64(c)
	hi := p + c64
	if math.IsInf(hi, 0) || math.IsNaN(hi) {
		return float32(hi)
	}
	bb := hi - p
	lo := (p - (hi - bb)) + (c64 - bb)
	r := float32(hi)
	if lo != 0 && float64(r) != hi {
		// hi a midpoint: its two float32 neighbours are r and the one
		// the other side of hi.
		other := math.Nextafter32(r, float32(math.Copysign(math.Inf(1), hi-float64(r))))
		if float64(r)+float64(other) == 2*hi && (lo > 0) == (float64(other) > float64(r)) {
			r = other
		}
	}
	return r
}

// quantExact is kernels.cu's quant_exact, step for step in float32, or
// the division where inv is 0 (as conv_quantized chooses).
func quantExact(x, scale, inv float32) int {
	if inv == 0 {
		return quantDiv(x, scale)
	}
	t := float32(x * inv)
	v := fma32(fma32(-t, scale, x), inv, t)
	if math.IsInf(float64(t), 0) {
		v = t
	}
	if x != x {
		return 0
	}
	return int(math.RoundToEven(float64(min(max(v, -128), 127))))
}

// TestQuantExact checks quant_exact's argument (kernels.cu) in float32
// arithmetic, which the GPU's follows (--fmad=false, fmaf fused): on
// random scales (and scales whose significand is all ones or nearly 1,
// where reciprocals round worst), values a few ulps either side of
// every half-integer quotient from -130.5 to 130.5 (the only places
// where a quotient an ulp off would round to another integer), random,
// huge, tiny, infinite and NaN values, it quantizes exactly as the
// division does.
func TestQuantExact(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 3000
	if testing.Short() {
		n = 300
	}
	checked := 0
	var xs []float32
	for _, s := range quanttest.Scales(r, n) {
		inv := qgemm.QuantInverse(s)
		xs = quanttest.Values(xs[:0], r, s, 8)
		for _, x := range xs {
			if got, want := quantExact(x, s, inv), quantDiv(x, s); got != want {
				t.Fatalf("scale %g (%#x), x %g (%#x): quant_exact %d, division %d", s, math.Float32bits(s), x, math.Float32bits(x), got, want)
			}
		}
		checked += len(xs)
	}
	t.Logf("%d values checked", checked)
}

// TestFMA32 checks fma32 against big-free exact cases: ties broken by a
// tiny addend, and a·b + c exact.
func TestFMA32(t *testing.T) {
	for _, tc := range []struct{ a, b, c, want float32 }{
		{1, 1, 0x1p-24, 1},                                // 1 + 2^-24: a tie, to even
		{1, 1 + 0x1p-23, 0x1p-24, 1 + 0x1p-22},            // 1 + 2^-23 + 2^-24: a tie, to even upwards
		{1 + 0x1p-23, 1 + 0x1p-23, -1, 0x1p-22 + 0x1p-46}, // exact
		{1, 1, 0x1p-24 + 0x1p-47, 1 + 0x1p-23},            // just past the tie
		{3, 5, -15, 0},
	} {
		if got := fma32(tc.a, tc.b, tc.c); got != tc.want {
			t.Errorf("fma32(%g, %g, %g) = %g, want %g", tc.a, tc.b, tc.c, got, tc.want)
		}
	}
}

// TestFastDiv checks conv_s8's division by multiplication (fastDiv, the
// kernel's fdiv step for step) against Go's division: every divisor to
// 4096 and powers of two and their neighbours to 2^31-1, on numerators
// near multiples of the divisor, near 2^31 and at random.
func TestFastDiv(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var ds []int32
	for d := int32(1); d <= 4096; d++ {
		ds = append(ds, d)
	}
	for l := 12; l < 31; l++ {
		ds = append(ds, 1<<l-1, 1<<l, 1<<l+1, int32(r.IntN(1<<l)+1<<l))
	}
	ds = append(ds, math.MaxInt32)
	for _, d := range ds {
		f := newFastDiv(d)
		try := func(n int32) {
			if n < 0 {
				return
			}
			if got, want := f.div(n), n/d; got != want {
				t.Fatalf("%d / %d: fastDiv %+v gives %d, want %d", n, d, f, got, want)
			}
		}
		for _, n := range []int32{0, 1, d - 1, d, d + 1, math.MaxInt32, math.MaxInt32 - 1, math.MaxInt32 - d} {
			try(n)
		}
		for i := 0; i < 64; i++ {
			k := int32(r.IntN(int(math.MaxInt32/d) + 1))
			try(k*d - 1)
			try(k * d)
			try(k*d + d - 1)
			try(int32(r.Uint32() >> 1))
		}
	}
}
