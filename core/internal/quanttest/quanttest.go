// Package quanttest gives the tests of quantizers that avoid dividing
// (core/qgemm's vector kernels, core/cuda's quant_exact) the cases where
// such a quantizer is most likely to differ from the division: scales
// across the range qgemm.QuantInverse serves, scales whose reciprocals
// round worst, and values a few ulps either side of every half-integer
// quotient.
package quanttest

import (
	"math"
	"math/rand/v2"
)

// Scales returns fixed scales (powers of two, the ends of QuantInverse's
// range, just past them) and 3n random ones: n spread over 2^±29, and 2n
// with a significand of nearly all ones or nearly 1 (where 1/scale rounds
// worst), a tenth of them anywhere from 2^-100 to 2^125.
func Scales(r *rand.Rand, n int) []float32 {
	scales := []float32{1, 0.5, 1.0 / 3, 0.1, 1e-3, 7.3e-5, 3e-38, 1e30, 0x1.fffffep-1, 0x1.fffffep-20, 0x1.000002p0,
		0x1p-126, 0x1p126, 0x1p-100, 0x1.fffffep-100, 0x1.000002p-100, 0x1.fffffep125, 0x1p127}
	for i := 0; i < n; i++ {
		scales = append(scales, float32(math.Exp(r.Float64()*40-20)))
		e := r.IntN(60) - 30
		if i%10 == 0 {
			e = r.IntN(226) - 100
		}
		scales = append(scales, math.Float32frombits(uint32(127+e)<<23|(1<<23-1-uint32(r.IntN(64)))),
			math.Float32frombits(uint32(127+e)<<23|uint32(r.IntN(64))))
	}
	return scales
}

// Values appends to dst, for scale s: the floats within ulps of every
// half-integer quotient from -130.5 to 130.5 (the only places where a
// quotient an ulp off rounds to another integer, the clamping bounds
// included), 64 random values of quotients around ±200, and zeros,
// subnormals, the largest floats, infinities and NaN.
func Values(dst []float32, r *rand.Rand, s float32, ulps int32) []float32 {
	for k := -131; k <= 130; k++ {
		x := (float32(k) + 0.5) * s
		for d := -ulps; d <= ulps; d++ {
			dst = append(dst, math.Float32frombits(uint32(int32(math.Float32bits(x))+d)))
		}
	}
	for range 64 {
		dst = append(dst, float32(r.NormFloat64()*200)*s)
	}
	return append(dst, 0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, math.MaxFloat32, -math.MaxFloat32,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()))
}
