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
	r := rand.New(rand.NewSource(7))
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0, 1, -1}
	for ow := 1; ow <= 21; ow++ {
		for _, extra := range []int{0, 1} {
			oh := 1 + ow%4
			iw, ih := 2*ow+extra, 2*oh+extra
			src := make([]float32, ih*iw)
			for i := range src {
				src[i] = float32(r.NormFloat64())
				if r.Intn(2) == 0 {
					src[i] = specials[r.Intn(len(specials))]
				}
			}
			got, want := make([]float32, oh*ow), make([]float32, oh*ow)
			maxPool2x2(src, got, iw, oh, ow)
			vectorPool = false
			maxPool2x2(src, want, iw, oh, ow)
			vectorPool = true
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("ow %d iw %d: output %d = %v (%#x), the Go loop gives %v (%#x)", ow, iw, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
			}
		}
	}
}

// The int8 kernel, which pools a whole plane's rows in one call, gives
// the Go loop's bytes for the same widths and heights, with -128, 127 and
// ties everywhere.
func TestMaxPool2x2Int8VectorMatchesGo(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	for ow := 1; ow <= 21; ow++ {
		for _, extra := range []int{0, 1} {
			oh := 1 + ow%5
			iw, ih := 2*ow+extra, 2*oh+extra
			src := make([]int8, ih*iw)
			for i := range src {
				src[i] = int8(r.Intn(256) - 128)
				if r.Intn(3) == 0 {
					src[i] = []int8{-128, 127, 0, -1}[r.Intn(4)]
				}
			}
			got, want := make([]int8, oh*ow), make([]int8, oh*ow)
			maxPool2x2(src, got, iw, oh, ow)
			vectorPool = false
			maxPool2x2(src, want, iw, oh, ow)
			vectorPool = true
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("ow %d oh %d iw %d: output %d = %d, the Go loop gives %d", ow, oh, iw, i, got[i], want[i])
				}
			}
		}
	}
}
