package float16

import (
	"math"
	"testing"
)

// refHalf computes the value of a finite half bit pattern independently of
// ToFloat32, from the IEEE definition, in float64.
func refHalf(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	if exp == 0 {
		return sign * math.Ldexp(mant, -24)
	}
	return sign * math.Ldexp(1024+mant, exp-25)
}

func isHalfNaN(h uint16) bool { return h&0x7c00 == 0x7c00 && h&0x3ff != 0 }

// TestAllValues checks every one of the 65536 half bit patterns:
// the float32 value is exact, and converting back gives the same bits
// (NaNs come back as NaNs of the same sign with the quiet bit set).
func TestAllValues(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := ToFloat32(h)
		fb := math.Float32bits(f)
		if fb>>31 != uint32(h>>15) {
			t.Fatalf("%#04x: sign of %v (%#08x) lost", h, f, fb)
		}
		switch {
		case isHalfNaN(h):
			if !math.IsNaN(float64(f)) {
				t.Fatalf("%#04x: got %v, want NaN", h, f)
			}
			if fb&0x7fffff != uint32(h&0x3ff)<<13 {
				t.Fatalf("%#04x: NaN payload not kept: %#08x", h, fb)
			}
			back := FromFloat32(f)
			if !isHalfNaN(back) || back&0x8000 != h&0x8000 || back&0x200 == 0 {
				t.Fatalf("%#04x: NaN round-trips to %#04x, want a quiet NaN of the same sign", h, back)
			}
			if h&0x200 != 0 && back != h {
				t.Fatalf("quiet NaN %#04x round-trips to %#04x", h, back)
			}
		case h&0x7fff == 0x7c00:
			if !math.IsInf(float64(f), 0) {
				t.Fatalf("%#04x: got %v, want infinity", h, f)
			}
			if back := FromFloat32(f); back != h {
				t.Fatalf("%#04x: infinity round-trips to %#04x", h, back)
			}
		default:
			if want := refHalf(h); float64(f) != want {
				t.Fatalf("%#04x: got %v, want %v", h, f, want)
			}
			if back := FromFloat32(f); back != h {
				t.Fatalf("%#04x (%v): round-trips to %#04x", h, f, back)
			}
		}
	}
}

// TestFromFloat32Rounding checks, for every pair of adjacent finite
// non-negative halves, that their exact midpoint rounds to the even one and
// that the float32 neighbours of the midpoint round to the nearer half.
// Midpoints of halves need at most 12 significant bits, so they are exact in
// float32.
func TestFromFloat32Rounding(t *testing.T) {
	for h := uint16(0); h < 0x7bff; h++ {
		for _, sign := range []uint16{0, 0x8000} {
			lo, hi := h|sign, (h+1)|sign
			a, b := refHalf(lo), refHalf(hi)
			mid := float32((a + b) / 2)
			if float64(mid) != (a+b)/2 {
				t.Fatalf("midpoint of %#04x and %#04x is not exact in float32", lo, hi)
			}
			even := lo
			if lo&1 == 1 {
				even = hi
			}
			if got := FromFloat32(mid); got != even {
				t.Fatalf("tie %v between %#04x and %#04x: got %#04x, want %#04x", mid, lo, hi, got, even)
			}
			// One float32 ulp towards lo and towards hi.
			toLo := math.Nextafter32(mid, float32(a))
			toHi := math.Nextafter32(mid, float32(b))
			if got := FromFloat32(toLo); got != lo {
				t.Fatalf("%v (just below tie): got %#04x, want %#04x", toLo, got, lo)
			}
			if got := FromFloat32(toHi); got != hi {
				t.Fatalf("%v (just above tie): got %#04x, want %#04x", toHi, got, hi)
			}
		}
	}
}

func TestCases(t *testing.T) {
	nan32 := math.Float32frombits
	tests := []struct {
		name string
		f    float32
		h    uint16
	}{
		{"zero", 0, 0x0000},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"one third", 1.0 / 3, 0x3555},           // 0.333251953125
		{"max half", 65504, 0x7bff},              // (2-2^-10)*2^15
		{"min normal", 6.1035156e-05, 0x0400},    // 2^-14
		{"min subnormal", 5.9604645e-08, 0x0001}, // 2^-24
		{"max subnormal", 6.0975552e-05, 0x03ff}, // 1023*2^-24
		{"neg min subnormal", -5.9604645e-08, 0x8001},
		{"pi", math.Pi, 0x4248}, // 3.140625
		{"infinity", float32(math.Inf(1)), 0x7c00},
		{"minus infinity", float32(math.Inf(-1)), 0xfc00},
		// Overflow: the ulp at 65504 is 32, so 65520 is the tie between
		// 65504 (odd significand 0x3ff) and the next step, which is
		// infinity (even); ties to even therefore overflow.
		{"65519 rounds down", 65519, 0x7bff},
		{"65520 tie goes to infinity", 65520, 0x7c00},
		{"70000 overflows", 70000, 0x7c00},
		{"-1e10 overflows", -1e10, 0xfc00},
		{"max float32", math.MaxFloat32, 0x7c00},
		// Ties between representable halves near 1: ulp is 2^-10.
		{"1+2^-11 tie to even (down)", 1 + 1.0/2048, 0x3c00},
		{"1+3*2^-11 tie to even (up)", 1 + 3.0/2048, 0x3c02},
		{"1+2^-11+2^-23 rounds up", 1 + 1.0/2048 + 1.0/(1<<23), 0x3c01},
		{"2048+1 tie to even", 2049, 0x6800}, // ulp 2 at 2048
		{"2048+3 tie to even", 2051, 0x6802},
		// Subnormal rounding: ulp 2^-24.
		{"2^-25 tie to zero", 2.9802322e-08, 0x0000},
		{"3*2^-25 tie to 2", 8.940697e-08, 0x0002},
		{"just above 2^-25", math.Nextafter32(2.9802322e-08, 1), 0x0001},
		{"tiny", 1e-30, 0x0000},
		{"negative tiny", -1e-30, 0x8000},
		{"float32 subnormal", math.SmallestNonzeroFloat32, 0x0000},
		// Largest subnormal + half ulp is a tie between 0x03ff (odd) and
		// 0x0400 (even, the smallest normal).
		{"subnormal carries into normal", 1023.5 / (1 << 24), 0x0400},
		{"quiet NaN", nan32(0x7fc00000), 0x7e00},
		{"negative quiet NaN", nan32(0xffc00000), 0xfe00},
		{"NaN payload kept", nan32(0x7fd56000), 0x7eab},
		{"signalling NaN with low payload becomes quiet", nan32(0x7f800001), 0x7e00},
	}
	for _, tc := range tests {
		if got := FromFloat32(tc.f); got != tc.h {
			t.Errorf("%s: FromFloat32(%v) = %#04x, want %#04x", tc.name, tc.f, got, tc.h)
		}
	}

	back := []struct {
		h uint16
		f float32
	}{
		{0x7bff, 65504},
		{0x0400, 6.1035156e-05},
		{0x0001, 5.9604645e-08},
		{0x03ff, 6.0975552e-05},
		{0x3c00, 1},
		{0xc000, -2},
		{0x3555, 0.333251953125},
		{0x4248, 3.140625},
		{0x3c01, 1.0009765625},
	}
	for _, tc := range back {
		if got := ToFloat32(tc.h); got != tc.f {
			t.Errorf("ToFloat32(%#04x) = %v, want %v", tc.h, got, tc.f)
		}
	}
	if got := math.Float32bits(ToFloat32(0x8000)); got != 0x80000000 {
		t.Errorf("ToFloat32(0x8000) bits = %#08x, want negative zero", got)
	}
	if got := math.Float32bits(ToFloat32(0x7d00)); got != 0x7fa00000 {
		t.Errorf("signalling NaN 0x7d00 -> %#08x, want 0x7fa00000", got)
	}
}
