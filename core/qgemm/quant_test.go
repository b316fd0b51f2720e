package qgemm

import (
	"math"
	"math/rand"
	"testing"
)

func TestQuantize(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	cases := []struct {
		x     float32
		scale float32
		want  int8
	}{
		// Ties go to even.
		{0.5, 1, 0}, {1.5, 1, 2}, {2.5, 1, 2}, {3.5, 1, 4}, {-0.5, 1, 0}, {-1.5, 1, -2}, {-2.5, 1, -2},
		{126.5, 1, 126}, {-126.5, 1, -126}, {-127.5, 1, -128},
		// Not ties.
		{0.49999997, 1, 0}, {0.50000006, 1, 1}, {2.5000002, 1, 3}, {-2.5000002, 1, -3}, {7, 1, 7},
		// The division happens first: 1.25/0.5 = 2.5 → 2, 0.75/0.5 = 1.5 → 2.
		{1.25, 0.5, 2}, {0.75, 0.5, 2}, {-0.75, 0.5, -2}, {3, 0.25, 12},
		// Clamping to [-128, 127].
		{127.49, 1, 127}, {127.5, 1, 127}, {128, 1, 127}, {1e9, 1, 127}, {inf, 1, 127},
		{-128, 1, -128}, {-128.5, 1, -128}, {-129, 1, -128}, {-1e9, 1, -128}, {-inf, 1, -128},
		{64, 0.5, 127}, {-64, 0.5, -128}, {-63.75, 0.5, -128}, {-63.5, 0.5, -127},
		// NaN → 0.
		{nan, 1, 0},
	}
	for _, c := range cases {
		var got [1]int8
		Quantize(got[:], []float32{c.x}, c.scale)
		if got[0] != c.want {
			t.Errorf("Quantize(%v, scale %v) = %d, want %d", c.x, c.scale, got[0], c.want)
		}
	}
	// Against a float64 reference on random data.
	r := rand.New(rand.NewSource(1))
	src := make([]float32, 10000)
	for i := range src {
		src[i] = float32(r.NormFloat64() * 3)
	}
	const scale = float32(0.021)
	dst := make([]int8, len(src)+3)
	Quantize(dst, src, scale)
	for i, x := range src {
		v := math.RoundToEven(float64(x / scale))
		want := int8(max(-128, min(127, v)))
		if dst[i] != want {
			t.Fatalf("Quantize(%v) = %d, want %d", x, dst[i], want)
		}
	}
}

func TestQuantizeWeights(t *testing.T) {
	w := []float32{
		127, -0.5, 2.5, -3.5, 63.5, 0.49, // amax 127 → scale 1
		-254, 3, 5, -1, 1, 254, // amax 254 → scale 2: 1.5→2, 2.5→2, -0.5→0, 0.5→0
		0, 0, 0, 0, 0, 0, // zero row → scale 1
		1e-45, 0, 0, 0, 0, 0, // max/127 underflows → treated as zero
		-1, 0.25, 0.5, 0.75, -0.5, 1.0 / 254, // amax 1 → scale 1/127
	}
	q, s := QuantizeWeights(w, 5, 6)
	wantS := []float32{1, 2, 1, 1, float32(1) / 127}
	wantQ := []int8{
		127, 0, 2, -4, 64, 0,
		-127, 2, 2, 0, 0, 127,
		0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0,
		-127, 32, 64, 95, -64, 0, // 31.75→32, 63.5→64, 95.25→95, 0.5→0
	}
	for i := range wantS {
		if s[i] != wantS[i] {
			t.Errorf("scale[%d] = %v, want %v", i, s[i], wantS[i])
		}
	}
	for i := range wantQ {
		if q[i] != wantQ[i] {
			t.Errorf("q[%d][%d] = %d, want %d (w = %v)", i/6, i%6, q[i], wantQ[i], w[i])
		}
	}
	// Random rows: |q·s − w| ≤ s/2 (plus rounding of the division), q in
	// [-127, 127], and the largest |w| maps to ±127.
	r := rand.New(rand.NewSource(2))
	const rows, cols = 40, 77
	w = make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.Intn(9)-6)))
	}
	q, s = QuantizeWeights(w, rows, cols)
	for i := 0; i < rows; i++ {
		hit := false
		for j := 0; j < cols; j++ {
			x, v := float64(w[i*cols+j]), int(q[i*cols+j])
			if v < -127 || v > 127 {
				t.Fatalf("q[%d][%d] = %d out of range", i, j, v)
			}
			if d := math.Abs(float64(v)*float64(s[i]) - x); d > float64(s[i])*0.5000001 {
				t.Fatalf("row %d: %v quantized to %d·%v (error %g)", i, x, v, s[i], d)
			}
			hit = hit || v == 127 || v == -127
		}
		if !hit {
			t.Errorf("row %d: no value reached ±127", i)
		}
	}
}

func TestDequantize(t *testing.T) {
	const pad = float32(-777)
	c := []int32{
		1, -2, 3, 99,
		16777217, -5, 0, 99,
	}
	newDst := func() []float32 {
		d := make([]float32, 2*5)
		for i := range d {
			d[i] = pad
		}
		return d
	}
	scale := []float32{0.5, 2}
	bias := []float32{1, -10}
	cases := []struct {
		bias []float32
		relu bool
		want []float32
	}{
		// float32(16777217) = 16777216 (round to even), ·2 = 33554432, −10 = 33554422.
		{bias, false, []float32{1.5, 0, 2.5, pad, pad, 33554422, -20, -10, pad, pad}},
		{bias, true, []float32{1.5, 0, 2.5, pad, pad, 33554422, 0, 0, pad, pad}},
		{nil, false, []float32{0.5, -1, 1.5, pad, pad, 33554432, -10, 0, pad, pad}},
		{nil, true, []float32{0.5, 0, 1.5, pad, pad, 33554432, 0, 0, pad, pad}},
	}
	for ci, tc := range cases {
		dst := newDst()
		Dequantize(c, 2, 3, 4, scale, tc.bias, tc.relu, dst, 5)
		for i := range dst {
			if dst[i] != tc.want[i] && !(math.IsNaN(float64(dst[i])) && math.IsNaN(float64(tc.want[i]))) {
				t.Errorf("case %d: dst[%d] = %v, want %v", ci, i, dst[i], tc.want[i])
			}
		}
	}
	// Separate roundings (no FMA): 3·0.1f = 0.3 rounded to float32, then
	// −0.3f. A fused multiply-add would give the exact product's residue
	// (≈ 1.2e-8) instead.
	dst := make([]float32, 1)
	Dequantize([]int32{3}, 1, 1, 1, []float32{0.1}, []float32{-0.3}, false, dst, 1)
	want := float32(float64(float32(float64(3)*float64(float32(0.1)))) + float64(float32(-0.3)))
	fused := float32(float64(3)*float64(float32(0.1)) + float64(float32(-0.3)))
	if dst[0] != want {
		t.Errorf("Dequantize(3·0.1 − 0.3) = %g, want %g (fused would be %g)", dst[0], want, fused)
	}
	// Random data against a float64 model of the documented order.
	r := rand.New(rand.NewSource(3))
	const rows, cols = 7, 33
	ci := make([]int32, rows*cols)
	for i := range ci {
		ci[i] = int32(r.Intn(1<<26) - 1<<25)
	}
	sc, bs := make([]float32, rows), make([]float32, rows)
	for i := range sc {
		sc[i] = float32(r.Float64() * 1e-4)
		bs[i] = float32(r.NormFloat64())
	}
	out := make([]float32, rows*cols)
	Dequantize(ci, rows, cols, cols, sc, bs, true, out, cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			v := float32(float64(float32(ci[i*cols+j])) * float64(sc[i]))
			v = float32(float64(v) + float64(bs[i]))
			v = max(v, 0)
			if out[i*cols+j] != v {
				t.Fatalf("dst[%d][%d] = %v, want %v", i, j, out[i*cols+j], v)
			}
		}
	}
}

// DequantizeCols and Dequantize on random data against a float64 model of
// the documented order, on the vector path and the Go one (ImplGo turns
// the vector path off), for widths with and without a tail of 16.
func TestDequantizeColsAndRowsEveryPath(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, cols := range []int{1, 15, 16, 17, 48, 53} {
				const rows = 5
				c := make([]int32, rows*cols)
				for i := range c {
					c[i] = int32(r.Intn(1<<26) - 1<<25)
				}
				sc, bs := make([]float32, max(rows, cols)), make([]float32, max(rows, cols))
				for i := range sc {
					sc[i] = float32(r.Float64() * 1e-4)
					bs[i] = float32(r.NormFloat64())
				}
				for _, bias := range [][]float32{nil, bs} {
					cols8, rows8 := make([]float32, rows*cols), make([]float32, rows*cols)
					DequantizeCols(c, rows, cols, cols, sc, bias, cols8, cols)
					Dequantize(c, rows, cols, cols, sc, bias, false, rows8, cols)
					for i := 0; i < rows; i++ {
						for j := 0; j < cols; j++ {
							model := func(s, b float64) float32 {
								v := float32(float64(float32(c[i*cols+j])) * s)
								if bias != nil {
									v = float32(float64(v) + b)
								}
								return v
							}
							var bj, bi float64
							if bias != nil {
								bj, bi = float64(bias[j]), float64(bias[i])
							}
							if want := model(float64(sc[j]), bj); cols8[i*cols+j] != want {
								t.Fatalf("%v cols %d bias %v: DequantizeCols [%d][%d] = %v, want %v", im, cols, bias != nil, i, j, cols8[i*cols+j], want)
							}
							if want := model(float64(sc[i]), bi); rows8[i*cols+j] != want {
								t.Fatalf("%v cols %d bias %v: Dequantize [%d][%d] = %v, want %v", im, cols, bias != nil, i, j, rows8[i*cols+j], want)
							}
						}
					}
				}
			}
		})
	}
}

// rowSum's lanes fold before they overflow: long rows of -128 and of 127,
// and random rows of every length around the fold and the word.
func TestRowSum(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	for _, n := range []int{0, 1, 7, 8, 9, 1023, 1024, 1025, 2047, 3000, 9000} {
		for _, fill := range []func(int) int8{
			func(int) int8 { return -128 },
			func(int) int8 { return 127 },
			func(int) int8 { return int8(r.Intn(256) - 128) },
		} {
			v := make([]int8, n)
			var want int32
			for i := range v {
				v[i] = fill(i)
				want += int32(v[i])
			}
			if got := rowSum(v); got != want {
				t.Fatalf("rowSum of %d values = %d, want %d", n, got, want)
			}
		}
	}
}

// DequantizePlanes (one plane) on every path (ImplAVX2 forces the AVX2 epilogue,
// ImplGo the Go loop) against the documented steps done in Go, with
// strided rows, widths around both vector lengths, and the values whose
// handling vector code could get wrong: NaN, ±Inf and −0 (a negative
// scale makes float32(0)·scale −0, a −0 residual keeps it −0; the ReLU
// turns it into +0 and keeps NaN, as Go's max does; the clip keeps both).
func TestDequantizePlaneEveryPath(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	specials := []float32{nan, inf, -inf, float32(math.Copysign(0, -1)), 0}
	for _, im := range Available() {
		withImpl(t, im, func() {
			// Rows apart in c and dst, and rows that follow each other in
			// both (a pointwise convolution's, converted as one row).
			for _, layout := range [][3]int{{1, 40, 35}, {3, 40, 35}, {3, 0, 0}, {5, 0, 0}} {
				for _, cols := range []int{1, 7, 8, 9, 15, 16, 17, 24, 33} {
					rows, ldc, ldd := layout[0], layout[1], layout[2]
					if ldc == 0 {
						ldc, ldd = cols, cols
					}
					c := make([]int32, rows*ldc)
					res := make([]float32, rows*ldd)
					for i := range c {
						c[i] = int32(r.Intn(1<<26) - 1<<25)
						if r.Intn(4) == 0 {
							c[i] = 0
						}
					}
					for i := range res {
						res[i] = float32(r.NormFloat64())
						if r.Intn(4) == 0 {
							res[i] = specials[r.Intn(len(specials))]
						}
					}
					for _, scale := range []float32{float32(r.Float64() * 1e-4), -float32(r.Float64() * 1e-4), 1e38} {
						for _, bias := range [][]float32{nil, {float32(r.NormFloat64())}} {
							for _, rs := range [][]float32{nil, res} {
								for _, act := range []Activation{{}, {ReLU: true}, {Clip: true, Lo: 0, Hi: 6}, {Clip: true, Lo: -0.5, Hi: 1e-5}} {
									const pad = float32(-777)
									dst := make([]float32, rows*ldd)
									for i := range dst {
										dst[i] = pad
									}
									DequantizePlanes(c, 1, rows, cols, ldc, []float32{scale}, bias, rs, act, dst, ldd, rows*ldd)
									for i := 0; i < rows; i++ {
										for j := 0; j < ldd; j++ {
											want := pad
											if j < cols {
												// Conversions keep Go from fusing the steps.
												want = float32(float32(c[i*ldc+j]) * scale)
												if bias != nil {
													want = float32(want + bias[0])
												}
												if rs != nil {
													want += rs[i*ldd+j]
												}
												if act.ReLU {
													want = max(want, 0)
												}
												if act.Clip && want < act.Lo {
													want = act.Lo
												} else if act.Clip && want > act.Hi {
													want = act.Hi
												}
											}
											got := dst[i*ldd+j]
											if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
												t.Fatalf("%v %d rows of %d (ldc %d, ldd %d) scale %g bias %v res %v act %+v: [%d][%d] = %v, want %v",
													im, rows, cols, ldc, ldd, scale, bias != nil, rs != nil, act, i, j, got, want)
											}
										}
									}
								}
							}
						}
					}
				}
			}
		})
	}
}

// DequantizePlanes gives, on every path, what it gives plane by plane:
// each plane's scale and bias on its rows only, the planes (of dst and of
// the residual) where the pitch puts them and nothing written between
// them.
func TestDequantizePlanesMatchesPlaneByPlane(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, cols := range []int{1, 7, 8, 9, 16, 17, 33} {
				for _, rows := range []int{1, 3} {
					const planes, ldc, ldd = 5, 40, 35
					pitch := rows*ldd + 11
					all := planes * rows
					c := make([]int32, all*ldc)
					res := make([]float32, planes*pitch)
					for i := range c {
						c[i] = int32(r.Intn(1<<20) - 1<<19)
					}
					for i := range res {
						res[i] = float32(r.NormFloat64())
					}
					scales, bias := make([]float32, planes), make([]float32, planes)
					for p := range scales {
						scales[p], bias[p] = float32(r.Float64()*1e-3), float32(r.NormFloat64())
					}
					for _, act := range []Activation{{}, {ReLU: true}, {Clip: true, Lo: 0, Hi: 0.5}} {
						for _, rs := range [][]float32{nil, res} {
							for _, b := range [][]float32{nil, bias} {
								got, want := make([]float32, planes*pitch), make([]float32, planes*pitch)
								for i := range got {
									got[i], want[i] = -777, -777
								}
								DequantizePlanes(c, planes, rows, cols, ldc, scales, b, rs, act, got, ldd, pitch)
								for p := 0; p < planes; p++ {
									var bp, rp []float32
									if b != nil {
										bp = b[p : p+1]
									}
									if rs != nil {
										rp = rs[p*pitch:]
									}
									DequantizePlanes(c[p*rows*ldc:], 1, rows, cols, ldc, scales[p:p+1], bp, rp, act, want[p*pitch:], ldd, pitch)
								}
								for i := range want {
									if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
										t.Fatalf("%v, %d rows of %d, act %+v: value %d = %v, want %v", im, rows, cols, act, i, got[i], want[i])
									}
								}
							}
						}
					}
				}
			}
		})
	}
}
