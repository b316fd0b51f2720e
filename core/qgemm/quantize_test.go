package qgemm

import (
	"math"
	"math/rand"
	"testing"
)

// The vector Quantize equals the scalar one value for value on every path
// (ImplAVX2 forces the AVX2 kernel, ImplGo the Go loop): ties, the ties
// and values at the ends of the range, infinities, NaN, −0, subnormals,
// and lengths that are not multiples of 8 or 16, whose tails must not
// write past them.
func TestQuantizeVectorMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	src := make([]float32, 10000+13)
	for i := range src {
		switch i % 7 {
		case 0:
			src[i] = float32(rng.Intn(600)-300) * 0.5 * 0.05 // exact ties at scale 0.05? close to them
		case 1:
			src[i] = math.Float32frombits(rng.Uint32())
		default:
			src[i] = float32(rng.NormFloat64() * 4)
		}
	}
	edges := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-42,
		float32(math.Copysign(0, -1)), 126.5, 127.5, -127.5, -128.5, -128.49999, 127.49999, -0.5, 0.5, 1.5, -2.5,
		math.MaxFloat32, -math.MaxFloat32, 1 << 22, -(1 << 23) - 0.5, 1 << 31, -(1 << 31)}
	copy(src[3:], edges)
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, scale := range []float32{0.05, 1, 0.0078125, 3.3} {
				want := make([]int8, len(src))
				for i, x := range src {
					want[i] = quantize1(float32(x/scale), -128)
				}
				for _, n := range []int{len(src), 16, 15, 33, 7, 8, 9, 17, 24, 0} {
					// Bytes past n must stay as they were (masked tails).
					got := make([]int8, n+16)
					for i := range got {
						got[i] = 99
					}
					Quantize(got, src[:n], scale)
					for i := range got {
						w := int8(99)
						if i < n {
							w = want[i]
						}
						if got[i] != w {
							t.Fatalf("%v scale %v, n %d: value %d → %d, want %d", im, scale, n, i, got[i], w)
						}
					}
				}
			}
		})
	}
}

func BenchmarkQuantize(b *testing.B) {
	src := make([]float32, 1<<16)
	for i := range src {
		src[i] = float32(i%511) - 255.5
	}
	dst := make([]int8, len(src))
	b.SetBytes(int64(4 * len(src)))
	for i := 0; i < b.N; i++ {
		Quantize(dst, src, 0.5)
	}
}
