package histogram

import (
	"fmt"
	"math"
)

// CheckMagnitudes checks a histogram of |x| in the form the calibrator
// protocol delivers it (plain counts over [0, len(bins)·binWidth], bin j
// covering [j·w, (j+1)·w), and the exact max|x|) before a calibrator
// searches it, and returns the total count. It fails with ErrEmpty when no
// bin holds a value, and with an error naming the field when max|x| is not
// finite and non-negative, or, for a tensor with non-zero values, when the
// bin width is not finite and positive (an all-zero tensor, maxAbs 0,
// needs no width: its amax is 0). Callers prefix the error with the
// calibrator's name.
func CheckMagnitudes(bins []uint64, binWidth float64, maxAbs float32) (total uint64, err error) {
	for _, c := range bins {
		total += c
	}
	if total == 0 {
		return 0, ErrEmpty
	}
	if !(maxAbs >= 0 && maxAbs <= math.MaxFloat32) {
		return 0, fmt.Errorf("max|x| %v: must be finite and non-negative", maxAbs)
	}
	if maxAbs != 0 && !(binWidth > 0 && binWidth <= math.MaxFloat64) {
		return 0, fmt.Errorf("bin width %v: must be finite and positive", binWidth)
	}
	return total, nil
}

// Quantile returns the q-quantile (q in [0, 1]) of |x| from a histogram of
// |x| with total count total: the point where the cumulative count reaches
// q·total, interpolated linearly inside the bin that crosses it (the
// values of a bin taken as uniform over it), at most maxAbs; exactly
// maxAbs for q = 1, so that the full range is never cut by rounding. The
// crossing bin is the first non-empty bin whose cumulative count reaches
// q·total, so an empty bin never holds a quantile.
//
// Linear interpolation makes the answer a function of the data rather than
// of the bin grid, to within the spread of the values inside one bin: the
// streaming histogram spans [0, R] with R a power of two, and a bin-edge
// answer would move with R.
func Quantile(bins []uint64, binWidth, maxAbs float64, total uint64, q float64) float64 {
	if q == 1 {
		return maxAbs
	}
	t := q * float64(total)
	var cum uint64
	for j, c := range bins {
		if c != 0 && float64(cum+c) >= t {
			frac := max(0, (t-float64(cum))/float64(c))
			return min((float64(j)+frac)*binWidth, maxAbs)
		}
		cum += c
	}
	return maxAbs
}
