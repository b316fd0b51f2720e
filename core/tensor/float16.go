package tensor

import (
	"math"

	"github.com/int8cal/int8cal/internal/float16"
)

// RoundToFloat16 rounds every value to the nearest IEEE binary16 value (ties
// to even), keeping it as float32: what storing a float32 tensor as float16
// and reading it back gives. Normal half-precision magnitudes take a bit
// trick (round the mantissa from 23 to 10 bits); the rest (subnormal,
// overflowing, NaN) go through the exact conversions.
func RoundToFloat16(x []float32) {
	const (
		minNormal = 0x38800000 // 2^-14, the smallest normal half
		overflow  = 0x477ff000 // 65520: from here on, rounding gives +Inf
	)
	for i, v := range x {
		b := math.Float32bits(v)
		if a := b & 0x7fffffff; a >= minNormal && a < overflow {
			b += 0x0fff + (b>>13)&1
			x[i] = math.Float32frombits(b &^ 0x1fff)
			continue
		}
		x[i] = float16.ToFloat32(float16.FromFloat32(v))
	}
}
