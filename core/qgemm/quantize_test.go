package qgemm

import (
	"math"
	"math/rand"
	"testing"
)

// The vector Quantize equals the scalar one value for value: ties, values
// beyond the range, infinities, NaN, subnormals, and lengths that are not
// multiples of 16.
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
	src[3], src[4], src[5], src[6] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-42
	for _, scale := range []float32{0.05, 1, 0.0078125, 3.3} {
		want := make([]int8, len(src))
		for i, x := range src {
			want[i] = quantize1(float32(x/scale), -128)
		}
		for _, n := range []int{len(src), 16, 15, 33, 0} {
			got := make([]int8, n)
			Quantize(got, src[:n], scale)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("scale %v, n %d: value %d (%v) → %d, scalar %d", scale, n, i, src[i], got[i], want[i])
				}
			}
		}
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
