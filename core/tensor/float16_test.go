package tensor

import (
	"math"
	"math/rand"
	"testing"

	"github.com/int8cal/int8cal/internal/float16"
)

// RoundToFloat16's fast path agrees with the exact conversions on every
// float32 around the half-precision boundaries and on random values.
func TestRoundToFloat16MatchesConversion(t *testing.T) {
	var vals []float32
	for _, edge := range []uint32{0x38800000, 0x477fe000, 0x477ff000, 0x33000000, 0x387fc000, 0x3f800000} {
		for d := uint32(0); d < 1<<14; d++ {
			vals = append(vals, math.Float32frombits(edge-d), math.Float32frombits(edge+d), -math.Float32frombits(edge+d))
		}
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 1<<20; i++ {
		vals = append(vals, math.Float32frombits(rng.Uint32()))
	}
	got := append([]float32(nil), vals...)
	RoundToFloat16(got)
	for i, v := range vals {
		want := float16.ToFloat32(float16.FromFloat32(v))
		if math.Float32bits(got[i]) != math.Float32bits(want) && !(want != want && got[i] != got[i]) {
			t.Fatalf("RoundToFloat16(%g [%08x]) = %g, want %g", v, math.Float32bits(v), got[i], want)
		}
	}
}
