package ops

import (
	"math"
	"math/rand"
	"testing"
)

// maxPool2x2 with its vector kernel gives the bits of the Go loop (the
// kernel off), for widths around the kernel's groups of 8 and 4, odd input
// widths and heights (the last column or row unused), and data full of
// ties between ±0, NaN and ±Inf, where the order of the comparisons
// decides the result.
func TestMaxPool2x2VectorMatchesGo(t *testing.T) {
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0, 1, -1}
	pool2x2MatchesGo(t, rand.New(rand.NewSource(7)), 4, func(r *rand.Rand) float32 {
		if r.Intn(2) == 0 {
			return specials[r.Intn(len(specials))]
		}
		return float32(r.NormFloat64())
	}, func(v float32) uint32 { return math.Float32bits(v) })
}

// The int8 kernel, which pools a whole plane's rows in one call, gives
// the Go loop's bytes for the same widths and heights, with -128, 127 and
// ties everywhere.
func TestMaxPool2x2Int8VectorMatchesGo(t *testing.T) {
	pool2x2MatchesGo(t, rand.New(rand.NewSource(8)), 5, func(r *rand.Rand) int8 {
		if r.Intn(3) == 0 {
			return []int8{-128, 127, 0, -1}[r.Intn(4)]
		}
		return int8(r.Intn(256) - 128)
	}, func(v int8) uint32 { return uint32(uint8(v)) })
}

// pool2x2MatchesGo pools planes of 1 to 21 outputs a row, and 1 to
// heights rows, of values drawn by value, with the vector kernel and with
// the Go loop, and compares the results' bits.
func pool2x2MatchesGo[T float32 | int8](t *testing.T, r *rand.Rand, heights int, value func(*rand.Rand) T, bits func(T) uint32) {
	t.Helper()
	for ow := 1; ow <= 21; ow++ {
		for _, extra := range []int{0, 1} {
			oh := 1 + ow%heights
			iw, ih := 2*ow+extra, 2*oh+extra
			src := make([]T, ih*iw)
			for i := range src {
				src[i] = value(r)
			}
			got, want := make([]T, oh*ow), make([]T, oh*ow)
			maxPool2x2(src, got, iw, oh, ow)
			vectorPool = false
			maxPool2x2(src, want, iw, oh, ow)
			vectorPool = true
			for i := range got {
				if bits(got[i]) != bits(want[i]) {
					t.Fatalf("ow %d oh %d iw %d: output %d = %v (%#x), the Go loop gives %v (%#x)", ow, oh, iw, i, got[i], bits(got[i]), want[i], bits(want[i]))
				}
			}
		}
	}
}
