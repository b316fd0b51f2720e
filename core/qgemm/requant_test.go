package qgemm

import (
	"math"
	"math/rand"
	"testing"
)

// RequantizePlanes must give, on every implementation, the bytes Quantize
// makes of DequantizePlanes' float32 output (both under the Go code): the
// INT8 layers it feeds then see what they would have quantized
// themselves. Residuals holding NaN, ±Inf, values that saturate and
// values on half-integers of the output scale exercise every rule; the
// planes go to a pitch (and the residual comes from one), leaving the
// bytes between rows and planes as they were.
func TestRequantizePlanesMatchesDequantizeThenQuantize(t *testing.T) {
	// Scales whose reciprocal is inexact, a subnormal one, a huge one.
	for _, outScale := range []float32{0.0625, 0.0173, 1.0 / 3, 7.1e-3, 1e-30, 1e-40, 3e38} {
		requantizeMatches(t, outScale)
	}
}

func requantizeMatches(t *testing.T, outScale float32) {
	r := rand.New(rand.NewSource(18))
	const planes = 3
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e9, -1e9, 0.5 * outScale, 1.5 * outScale, -2.5 * outScale, 127.5 * outScale, -128.5 * outScale}
	// Values on and within a few ulps of half-integers of the scale.
	for k := -130; k <= 130; k += 7 {
		h := (float32(k) + 0.5) * outScale
		special = append(special, h, math.Nextafter32(h, 0), math.Nextafter32(h, float32(math.Inf(1))), math.Nextafter32(math.Nextafter32(h, 0), 0))
	}
	for _, cols := range []int{1, 7, 8, 9, 15, 16, 17, 33, 40, 63, 64, 65, 100, 130} {
		for _, rows := range []int{1, 2, 5} {
			all, ldc := planes*rows, cols+1
			c := make([]int32, all*ldc)
			for i := range c {
				c[i] = int32(r.Intn(1<<20) - 1<<19)
			}
			resv := make([]float32, all*cols) // plane after plane, rows of cols
			for i := range resv {
				if r.Intn(3) == 0 {
					resv[i] = special[r.Intn(len(special))]
				} else {
					resv[i] = float32(r.NormFloat64()) * 64 * outScale
				}
			}
			scales, bias := make([]float32, planes), make([]float32, planes)
			for p := range scales {
				scales[p], bias[p] = float32(r.Float64()*1e-5), float32(r.NormFloat64())
			}
			for _, ld := range [][2]int{{cols, rows * cols}, {cols + 3, rows*(cols+3) + 5}} {
				ldd, pitch := ld[0], ld[1]
				at := func(i, j int) int { // row i (of all), column j, in the pitched layout
					return i/rows*pitch + i%rows*ldd + j
				}
				size := at(all-1, cols-1) + 1
				res := make([]float32, size)
				for i := 0; i < all; i++ {
					copy(res[at(i, 0):], resv[i*cols:(i+1)*cols])
				}
				// Clips beyond the quantizer's range on either side, one whose
				// bounds cross (ReLU's 0 above Hi), and NaN bounds (no clamp).
				for _, act := range []Activation{{}, {ReLU: true}, {Clip: true, Lo: 0, Hi: 6},
					{Clip: true, Lo: -3e38, Hi: -1e9}, {Clip: true, Lo: 1e9, Hi: 3e38}, {ReLU: true, Clip: true, Lo: -5, Hi: -1},
					{Clip: true, Lo: float32(math.NaN()), Hi: float32(math.NaN())}} {
					for _, withRes := range []bool{false, true} {
						for _, b := range [][]float32{nil, bias} {
							rf, rq := []float32(nil), []float32(nil)
							if withRes {
								rf, rq = resv, res
							}
							want := make([]int8, all*cols)
							withImpl(t, ImplGo, func() {
								f := make([]float32, all*cols)
								DequantizePlanes(c, planes, rows, cols, ldc, scales, b, rf, act, f, cols, rows*cols)
								Quantize(want, f, outScale)
							})
							for _, im := range Available() {
								withImpl(t, im, func() {
									got := make([]int8, size)
									for i := range got {
										got[i] = 99 // the bytes between rows and planes stay as they were
									}
									RequantizePlanes(c, planes, rows, cols, ldc, scales, b, rq, act, outScale, got, ldd, pitch)
									if ldd == cols { // the same products without a gap between rows (one row a plane)
										dense := make([]int32, all*cols)
										for i := 0; i < all; i++ {
											copy(dense[i*cols:(i+1)*cols], c[i*ldc:])
										}
										again := make([]int8, size)
										RequantizePlanes(dense, planes, rows, cols, cols, scales, b, rq, act, outScale, again, ldd, pitch)
										for i := 0; i < all; i++ {
											for j := 0; j < cols; j++ {
												if again[at(i, j)] != got[at(i, j)] {
													t.Fatalf("%v, %d rows of %d without gaps: [%d][%d] = %d, with gaps %d", im, rows, cols, i, j, again[at(i, j)], got[at(i, j)])
												}
											}
										}
									}
									for i := 0; i < all; i++ {
										for j := 0; j < cols; j++ {
											if g, w := got[at(i, j)], want[i*cols+j]; g != w {
												t.Fatalf("%v, scale %g, %d rows of %d (ldd %d, pitch %d), act %+v, residual %v, bias %v: [%d][%d] = %d, want %d", im, outScale, rows, cols, ldd, pitch, act, withRes, b != nil, i, j, g, w)
											}
											got[at(i, j)] = 99
										}
									}
									for i, g := range got {
										if g != 99 {
											t.Fatalf("%v, %d rows of %d (ldd %d, pitch %d): byte %d outside the planes written", im, rows, cols, ldd, pitch, i)
										}
									}
								})
							}
						}
					}
				}
			}
		}
	}
}

// Planes that would overlap, or a destination too short for the pitch,
// are programming errors reported by a panic naming the call.
func TestPlanesCheckPitch(t *testing.T) {
	c := make([]int32, 2*2*8)
	s := []float32{1, 1}
	for name, f := range map[string]func(){
		"overlapping planes": func() { DequantizePlanes(c, 2, 2, 8, 8, s, nil, nil, Activation{}, make([]float32, 64), 8, 10) },
		"short destination":  func() { RequantizePlanes(c, 2, 2, 8, 8, s, nil, nil, Activation{}, 1, make([]int8, 39), 8, 24) },
		"short residual": func() {
			DequantizePlanes(c, 2, 2, 8, 8, s, nil, make([]float32, 39), Activation{}, make([]float32, 40), 8, 24)
		},
		"zero output scale": func() { RequantizePlanes(c, 2, 2, 8, 8, s, nil, nil, Activation{}, 0, make([]int8, 40), 8, 24) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// Products that land on and next to half-integers of the output scale
// (scale/2 times odd integers, rounded), where any shortcut for the
// division (a multiplication by the reciprocal rounds differently there)
// would give other bytes.
func TestRequantizeNearHalfIntegers(t *testing.T) {
	for _, outScale := range []float32{0.0173, 1.0 / 3, 7.1e-3, 0.1, 3.3} {
		const rows, cols = 4, 61
		c := make([]int32, rows*cols)
		for i := range c {
			c[i] = int32(i%521 - 260)
		}
		scales := []float32{outScale * 0.5, math.Nextafter32(outScale*0.5, 1), math.Nextafter32(outScale*0.5, 0), outScale * 1.5}
		for p, s := range scales {
			want := make([]int8, rows*cols)
			withImpl(t, ImplGo, func() {
				f := make([]float32, rows*cols)
				DequantizePlanes(c, 1, rows, cols, cols, []float32{s}, nil, nil, Activation{}, f, cols, rows*cols)
				Quantize(want, f, outScale)
			})
			for _, im := range Available() {
				withImpl(t, im, func() {
					got := make([]int8, rows*cols)
					RequantizePlanes(c, 1, rows, cols, cols, []float32{s}, nil, nil, Activation{}, outScale, got, cols, rows*cols)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%v, scale %g, product scale %d: value %d (c = %d) = %d, want %d", im, outScale, p, i, c[i], got[i], want[i])
						}
					}
				})
			}
		}
	}
}
