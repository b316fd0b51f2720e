package qgemm

import (
	"math"
	"math/rand"
	randv2 "math/rand/v2"
	"slices"
	"testing"

	"github.com/int8cal/int8cal/core/internal/quanttest"
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

// The vector quantizers multiply by QuantInverse(scale) and correct the
// quotient with one fused multiply-add (quotient_amd64.h) instead of
// dividing; that must give the division's integers everywhere. On random
// scales, scales whose significand is all ones or nearly 1 (where
// reciprocals round worst) and the ends of QuantInverse's range, values a
// few ulps either side of every half-integer quotient from -130.5 to
// 130.5 (the only places where a quotient an ulp off would round to
// another integer), random, huge, tiny, infinite and NaN ones quantize as
// the scalar division does, on every path.
func TestQuantizeWithoutDivision(t *testing.T) {
	r := randv2.New(randv2.NewPCG(5, 7))
	n := 1500
	if testing.Short() {
		n = 150
	}
	scales := quanttest.Scales(r, n)
	var src []float32
	var got, want []int8
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, s := range scales {
				src = quanttest.Values(src[:0], r, s, 6)
				got, want = slices.Grow(got[:0], len(src))[:len(src)], slices.Grow(want[:0], len(src))[:len(src)]
				Quantize(got, src, s)
				for i, x := range src {
					want[i] = quantize1(float32(x/s), -128)
				}
				for i := range src {
					if got[i] != want[i] {
						t.Fatalf("%v scale %g (%#x), x %g (%#x): %d, division %d", im, s, math.Float32bits(s), src[i], math.Float32bits(src[i]), got[i], want[i])
					}
				}
			}
		})
	}
}

func TestQuantInverse(t *testing.T) {
	for _, tc := range []struct{ scale, want float32 }{
		{0.5, 2}, {0.25, 4}, {0, 0}, {-1, 0}, {float32(math.NaN()), 0}, {float32(math.Inf(1)), 0},
		{0x1p-127, 0}, {0x1p-126, 0}, {0x1.fffffep-101, 0}, {0x1p-100, 0x1p100}, {0x1p126, 0x1p-126}, {0x1p127, 0}, {math.MaxFloat32, 0},
	} {
		if got := QuantInverse(tc.scale); got != tc.want {
			t.Errorf("QuantInverse(%g) = %g, want %g", tc.scale, got, tc.want)
		}
	}
}
