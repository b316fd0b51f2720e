package histogram

import "math"

// Keys of the largest finite magnitudes: every NaN and ±Inf has a key
// outside [minFiniteKey, maxFiniteKey].
const (
	maxFiniteKey = 0x7f7fffff        // key(MaxFloat32)
	minFiniteKey = -maxFiniteKey - 1 // key(-MaxFloat32)
)

// Bounds returns the smallest and largest value of x in the order Min and
// Max use (-0 below +0, so that neither depends on the order of the
// values), scanning whole vectors at a time where the CPU has them. ok is
// false when x is empty or holds a NaN or ±Inf; lo and hi are then
// meaningless and the caller goes through the values itself.
func Bounds(x []float32) (lo, hi float32, ok bool) {
	if len(x) == 0 {
		return 0, 0, false
	}
	done, mn, mx := boundsVector(x, math.MaxInt32, math.MinInt32)
	mn, mx = boundsGo(x[done:], mn, mx)
	if mn < minFiniteKey || mx > maxFiniteKey {
		return 0, 0, false
	}
	return unkey(mn), unkey(mx), true
}

// boundsGo folds the keys of x into the min/max keys mn, mx: the
// definition the vector kernels follow.
func boundsGo(x []float32, mn, mx int32) (int32, int32) {
	for _, v := range x {
		k := key(math.Float32bits(v))
		mn, mx = min(mn, k), max(mx, k)
	}
	return mn, mx
}
