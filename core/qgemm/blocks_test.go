package qgemm

import (
	"math/rand"
	"testing"
)

// RequantizeBlocks gives, on every implementation, RequantizePlanes'
// bytes at their interleaved places (planes of 4, 8 and 12 channels, runs
// of positions around the vector's 16, from an offset into the plane,
// products at a padded stride, with and without bias, activations that
// clamp or not), and leaves every other byte alone.
func TestRequantizeBlocks(t *testing.T) {
	r := rand.New(rand.NewSource(21))
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, planes := range []int{4, 8, 12} {
				for _, n := range []int{1, 7, 15, 16, 17, 49, 100} {
					at, plane, ldc := n%5, n+n%5+3, n+2
					c := make([]int32, planes*ldc)
					for i := range c {
						c[i] = int32(r.Intn(1<<18) - 1<<17)
					}
					scales, bias := make([]float32, planes), make([]float32, planes)
					for i := range scales {
						scales[i], bias[i] = float32(r.Float64()*1e-3), float32(r.NormFloat64())
					}
					for _, act := range []Activation{{}, {ReLU: true}, {Clip: true, Lo: 0, Hi: 6}} {
						for _, b := range [][]float32{nil, bias} {
							const outScale = 0.03
							flat := make([]int8, planes*n)
							RequantizePlanes(c, planes, 1, n, ldc, scales, b, nil, act, outScale, flat, n, n)
							want := make([]int8, planes*plane)
							got := make([]int8, planes*plane)
							for i := range want {
								want[i], got[i] = 99, 99
							}
							for p := 0; p < planes; p++ {
								for j := 0; j < n; j++ {
									want[p/4*4*plane+(at+j)*4+p%4] = flat[p*n+j]
								}
							}
							RequantizeBlocks(c, planes, n, ldc, scales, b, act, outScale, got, at, plane)
							for i := range want {
								if got[i] != want[i] {
									t.Fatalf("%v planes %d n %d act %+v bias %v: byte %d is %d, want %d", im, planes, n, act, b != nil, i, got[i], want[i])
								}
							}
						}
					}
				}
			}
		})
	}
}
