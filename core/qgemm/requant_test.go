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
// values on half-integers of the output scale exercise every rule.
func TestRequantizePlanesMatchesDequantizeThenQuantize(t *testing.T) {
	r := rand.New(rand.NewSource(18))
	const planes, ldc, ldr = 3, 41, 43
	for _, cols := range []int{1, 7, 8, 9, 15, 16, 17, 33, 40} {
		for _, rows := range []int{1, 2, 5} {
			all := planes * rows
			c := make([]int32, all*ldc)
			res := make([]float32, all*ldr)
			for i := range c {
				c[i] = int32(r.Intn(1<<20) - 1<<19)
			}
			const outScale = float32(0.0625)
			special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e9, -1e9, 0.5 * outScale, 1.5 * outScale, -2.5 * outScale, 127.5 * outScale, -128.5 * outScale}
			for i := range res {
				if r.Intn(8) == 0 {
					res[i] = special[r.Intn(len(special))]
				} else {
					res[i] = float32(r.NormFloat64() * 4)
				}
			}
			scales, bias := make([]float32, planes), make([]float32, planes)
			for p := range scales {
				scales[p], bias[p] = float32(r.Float64()*1e-5), float32(r.NormFloat64())
			}
			for _, act := range []Activation{{}, {ReLU: true}, {Clip: true, Lo: 0, Hi: 6}} {
				for _, rs := range [][]float32{nil, res} {
					for _, b := range [][]float32{nil, bias} {
						for _, ldd := range []int{cols, cols + 3} {
							want := make([]int8, all*ldd)
							withImpl(t, ImplGo, func() {
								f := make([]float32, all*cols)
								DequantizePlanes(c, planes, rows, cols, ldc, scales, b, rs, ldr, act, f, cols)
								for i := 0; i < all; i++ {
									Quantize(want[i*ldd:], f[i*cols:(i+1)*cols], outScale)
								}
							})
							for _, im := range Available() {
								withImpl(t, im, func() {
									got := make([]int8, all*ldd)
									for i := range got {
										got[i] = 99 // the bytes between rows must stay as they were
									}
									RequantizePlanes(c, planes, rows, cols, ldc, scales, b, rs, ldr, act, outScale, got, ldd)
									for i := range want {
										w := want[i]
										if i%ldd >= cols {
											w = 99
										}
										if got[i] != w {
											t.Fatalf("%v, %d rows of %d (ldd %d), act %+v, residual %v, bias %v: byte %d = %d, want %d", im, rows, cols, ldd, act, rs != nil, b != nil, i, got[i], w)
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
