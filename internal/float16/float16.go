// Package float16 converts between float32 and IEEE 754 binary16 (half
// precision) bit patterns, exactly and with round-to-nearest-even. It
// imports nothing of this module: the ONNX reader and the engine
// (core/tensor, core/onnx, core/ops) and the NumPy reader of the data set
// plugins (datasets/npy) share it, and a plugin binary never depends on
// the host.
package float16

import "math"

// ToFloat32 converts an IEEE 754 binary16 bit pattern to float32.
// The conversion is exact: every half-precision value, including the
// subnormals, both zeros and both infinities, is representable in float32.
// A NaN keeps its sign and its payload (shifted into the high bits of the
// float32 significand), so a quiet NaN stays quiet and a signalling NaN
// stays signalling.
func ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal: rebias the exponent from 15 to 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// Subnormal half: mant * 2^-24. Normalise it, which float32 can do
	// because its exponent range is much wider.
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// FromFloat32 converts a float32 to the nearest IEEE 754 binary16 value
// and returns its bit pattern. Rounding is to nearest, ties to even; values
// too large for half precision become infinities of the same sign (as IEEE
// rounding prescribes, everything at or above 65520 rounds to infinity);
// values too small become half subnormals or signed zeros. A NaN becomes a
// quiet NaN of the same sign that keeps the top bits of the payload.
func FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff

	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00 // infinity
		}
		// NaN: set the quiet bit so the result is never mistaken for
		// infinity, even when the payload lives only in the low bits.
		return sign | 0x7c00 | 0x200 | uint16(mant>>13)
	}

	e := exp - 127 + 15 // biased half exponent, if the value were normal
	if e >= 0x1f {
		return sign | 0x7c00 // overflow
	}
	if e <= 0 {
		// Half subnormal (or zero). The value is m * 2^(exp-150) with the
		// 24-bit significand m; in units of the smallest half subnormal
		// (2^-24) that is m * 2^(e-14), so shift right by 14-e bits.
		if e < -10 {
			// Below 2^-25, half of the smallest subnormal: rounds to zero.
			// (Float32 subnormals, exp == 0, all land here too.)
			return sign
		}
		m := mant | 0x800000
		shift := uint(14 - e) // 14..24
		r := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++ // may carry into the exponent field: 0x400 is the smallest normal
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // a carry out of the significand bumps the exponent; 0x7c00 is infinity
	}
	return sign | uint16(r)
}
