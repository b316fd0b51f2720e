package qgemm

import (
	"math"
	"math/rand"
	"testing"
)

// QuantizeInterleaved writes, on every path, exactly the bytes Quantize
// gives each value, at dst[i·ldd + 4j + c], zeros for the planes past ch,
// and nothing else: the bytes between rows (ldd > 4·cols) keep their
// content. Rows of every length around the vector widths, one to four
// planes, gathered columns, and the values quantization treats specially.
func TestQuantizeInterleavedMatchesQuantize(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	src := make([]float32, 4000)
	for i := range src {
		switch i % 5 {
		case 0:
			src[i] = math.Float32frombits(rng.Uint32())
		case 1:
			src[i] = float32(rng.Intn(600)-300) * 0.5
		default:
			src[i] = float32(rng.NormFloat64() * 40)
		}
	}
	edges := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-42,
		float32(math.Copysign(0, -1)), 126.5, 127.5, -127.5, -128.5, -0.5, 0.5, 1.5, -2.5, math.MaxFloat32}
	for i, e := range edges {
		copy(src[i*97:], []float32{e})
	}
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, ch := range []int{4, 3, 1} {
				for _, step := range []int{1, 2, 3} {
					for _, w := range widths() {
						cols, gap, dgap := w.cols, w.gap, w.dgap
						rows, lds, plane, scale := 3, cols*step+gap, 0, float32(0.75)
						plane = rows * lds
						ldd := 4*cols + dgap
						got := make([]int8, rows*ldd)
						for i := range got {
							got[i] = 99
						}
						QuantizeInterleaved(got, ldd, src, plane, lds, step, ch, rows, cols, scale)
						for i := 0; i < rows; i++ {
							for b := 0; b < ldd; b++ {
								want := int8(99)
								if j, c := b/4, b%4; j < cols && c < ch {
									want = quantize1(float32(src[c*plane+i*lds+j*step]/scale), -128)
								} else if j < cols {
									want = 0
								}
								if g := got[i*ldd+b]; g != want {
									t.Fatalf("%v, %d planes, step %d, %d columns: row %d byte %d = %d, want %d", im, ch, step, cols, i, b, g, want)
								}
							}
						}
					}
				}
			}
		})
	}
}

// Too short a source or destination, or an impossible plane count, is a
// programming error reported by a panic naming the call.
func TestQuantizeInterleavedChecksBounds(t *testing.T) {
	for _, tc := range []struct {
		name             string
		dst, src, ch, ld int
	}{
		{"short source", 64, 10, 4, 16},
		{"short destination", 10, 100, 4, 16},
		{"five planes", 64, 100, 5, 16},
		{"rows overlap", 64, 100, 4, 8},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			QuantizeInterleaved(make([]int8, tc.dst), tc.ld, make([]float32, tc.src), 12, 4, 1, tc.ch, 2, 4, 1)
		}()
	}
}

func BenchmarkQuantizeInterleaved(b *testing.B) {
	// One ResNet-20 stage-1 block: 16 channels of 32×32 into padded rows.
	src := make([]float32, 16*32*32)
	for i := range src {
		src[i] = float32(i%251) - 125
	}
	dst := make([]int8, 4*34*34*4)
	for _, im := range Available() {
		b.Run(im.String(), func(b *testing.B) {
			withImpl(b, im, func() {
				b.SetBytes(int64(4 * len(src)))
				for range b.N {
					for g := 0; g < 4; g++ {
						QuantizeInterleaved(dst[g*34*34*4+(34+1)*4:], 34*4, src[g*4*1024:], 1024, 32, 1, 4, 32, 32, 0.5)
					}
				}
			})
		})
	}
}

// QuantizeRows writes, on every path, the bytes Quantize gives each
// value at dst[i·ldd + j], and nothing between the rows.
func TestQuantizeRowsMatchesQuantize(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	src := make([]float32, 2000)
	for i := range src {
		src[i] = float32(rng.NormFloat64() * 60)
		if i%11 == 0 {
			src[i] = math.Float32frombits(rng.Uint32())
		}
	}
	for i, e := range []float32{float32(math.NaN()), float32(math.Inf(-1)), -128.5, 127.5, 0.5, -2.5} {
		src[i*31] = e
	}
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, step := range []int{1, 2, 3} {
				for _, w := range widths() {
					cols, gap, dgap := w.cols, w.gap, w.dgap
					rows, lds, ldd, scale := 4, cols*step+gap, cols+dgap, float32(0.6)
					got := make([]int8, rows*ldd)
					for i := range got {
						got[i] = 99
					}
					QuantizeRows(got, ldd, src, lds, step, rows, cols, scale)
					for i := 0; i < rows; i++ {
						for j := 0; j < ldd; j++ {
							want := int8(99)
							if j < cols {
								want = quantize1(float32(src[i*lds+j*step]/scale), -128)
							}
							if g := got[i*ldd+j]; g != want {
								t.Fatalf("%v, step %d, %d columns: [%d][%d] = %d, want %d", im, step, cols, i, j, g, want)
							}
						}
					}
				}
			}
		})
	}
}

// Near every half-integer quotient (ties included, the clamping bounds
// ±127.5 and −128.5 among them), for scales of many magnitudes, subnormal
// and huge ones, the bytes equal Quantize's: the kernels divide, correctly
// rounded, before rounding to an integer, as quantize1 does. (Multiplying
// by 1/scale instead differs there: a kernel that tried it failed this
// test, and measured no faster, the quantization being bound by reading
// the floats.)
func TestQuantizeNearHalfIntegers(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	scales := []float32{0.05, 1.0 / 3, 0.0078125, 3.3, 1e-3, 1e-40, 1e-45, math.MaxFloat32 / 2, 0x1p-126}
	for range 40 {
		scales = append(scales, float32(math.Pow(10, rng.Float64()*9-6)))
	}
	for _, s := range scales {
		var src []float32
		for k := -131; k <= 131; k++ {
			base := float32(float64(k) + 0.5)
			for _, x := range []float32{base * s, float32((float64(k) + 0.5) * float64(s))} {
				v := x
				for range 6 {
					v = math.Nextafter32(v, float32(math.Inf(1)))
				}
				for range 13 {
					src = append(src, v)
					v = math.Nextafter32(v, float32(math.Inf(-1)))
				}
			}
		}
		for len(src)%4 != 0 {
			src = append(src, 0)
		}
		want := make([]int8, len(src))
		for i, x := range src {
			want[i] = quantize1(float32(x/s), -128)
		}
		for _, im := range Available() {
			withImpl(t, im, func() {
				cols := len(src) / 4
				inter := make([]int8, len(src))
				QuantizeInterleaved(inter, 4*cols, src, cols, 0, 1, 4, 1, cols, s)
				rows := make([]int8, len(src))
				QuantizeRows(rows, len(src), src, 0, 1, 1, len(src), s)
				for i := range src {
					c, j := i/cols, i%cols
					if got := inter[4*j+c]; got != want[i] {
						t.Fatalf("%v, scale %g: QuantizeInterleaved(%g) = %d, want %d", im, s, src[i], got, want[i])
					}
					if rows[i] != want[i] {
						t.Fatalf("%v, scale %g: QuantizeRows(%g) = %d, want %d", im, s, src[i], rows[i], want[i])
					}
				}
			})
		}
	}
}
