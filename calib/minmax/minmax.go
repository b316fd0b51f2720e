package minmax

import (
	"errors"
	"fmt"
	"math"

	"github.com/int8cal/int8cal/calib/histogram"
)

// ErrEmpty is returned for a histogram without finite values.
var ErrEmpty = errors.New("minmax: histogram holds no finite values")

// Amax returns max|x| over the finite values h has seen.
func Amax(h *histogram.Histogram) (float32, error) {
	if err := h.Err(); err != nil {
		return 0, fmt.Errorf("minmax: %w", err)
	}
	if h.Count() == 0 {
		return 0, ErrEmpty
	}
	return h.MaxAbs(), nil
}

// AmaxFromMinMax returns max(|min|, |max|), the form of the calibrator
// protocol's calib.TensorStats. It returns an error if either is not
// finite.
func AmaxFromMinMax(min, max float32) (float32, error) {
	a, b := math.Abs(float64(min)), math.Abs(float64(max))
	if !(a <= math.MaxFloat32 && b <= math.MaxFloat32) {
		return 0, fmt.Errorf("minmax: min %v, max %v: must be finite", min, max)
	}
	return float32(math.Max(a, b)), nil
}
