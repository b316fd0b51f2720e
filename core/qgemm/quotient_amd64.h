// QUOTIENT sets x to the float32 quotient x / scale, correctly rounded as
// VDIVPS rounds it, wherever that quotient lies in [lo, hi] = [-128, 127],
// and to a value beyond the same bound as the quotient elsewhere: all that
// quantizing then needs, since it clamps to [lo, hi] before rounding. It
// multiplies instead of dividing (a 16-lane VDIVPS issues once in 16
// cycles or so, a third of the INT8 epilogue's time): with inv =
// QuantInverse(scale), the float nearest 1/scale,
//
//	t = x·inv, within an ulp of x/scale (clamped to [lo, hi]: a t
//	    outside moves toward x/scale, so it stays within an ulp where the
//	    quotient is inside, and keeps its side where it is not)
//	r = x − t·scale, exact in one fused multiply-add
//	x = t + r·inv, rounded once: the correctly rounded quotient
//	    (Markstein's theorem: inv within half an ulp of 1/scale, t within
//	    an ulp of x/scale)
//
// Outside the bound r and the result keep the quotient's side, ±Inf
// included (an infinite x gives a clamped t and an infinite r), and a
// NaN x gives NaN. QuantInverse is 0 for scales where the remainder
// could underflow (then the callers use Go's division). Registers: x,
// scale, inv, hi, lo are read, t and r clobbered; Z or Y registers alike.
#define QUOTIENT(x, scale, inv, hi, lo, t, r) \
	VMULPS       inv, x, t \
	VMINPS       hi, t, t \
	VMAXPS       lo, t, t \
	VMOVAPS      x, r \
	VFNMADD231PS scale, t, r \
	VFMADD231PS  inv, r, t \
	VMOVAPS      t, x
