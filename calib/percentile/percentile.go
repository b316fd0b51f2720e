package percentile

import (
	"fmt"

	"github.com/int8cal/int8cal/calib/histogram"
)

// DefaultPercentile is pytorch-quantization's default percentile
// (compute_amax(percentile=99.99), calibration-anchors.md section 4.2).
const DefaultPercentile = 99.99

// Options tunes the calibrator. The zero value is the default.
type Options struct {
	// Percentile p in (0, 100]: amax is the p-th percentile of |x|; 0
	// means DefaultPercentile.
	Percentile float64
}

func (o Options) resolve() (float64, error) {
	p := o.Percentile
	if p == 0 {
		return DefaultPercentile, nil
	}
	if !(p > 0 && p <= 100) {
		return 0, fmt.Errorf("percentile: option percentile must be in (0,100], got %v", p)
	}
	return p, nil
}

// Amax returns the p-th percentile of |x| of the tensor whose histogram is
// h (a signed histogram is folded first), by the algorithm of the package
// doc. It fails for invalid options, for a histogram with infinite values
// (wrapping histogram.ErrInf) and for one without finite values (wrapping
// histogram.ErrEmpty).
func Amax(h *histogram.Histogram, opts Options) (float32, error) {
	if _, err := opts.resolve(); err != nil {
		return 0, err
	}
	bins, width, maxAbs, err := h.Magnitudes()
	if err != nil {
		return 0, fmt.Errorf("percentile: %w", err)
	}
	return AmaxFromBins(bins, width, maxAbs, opts)
}

// AmaxFromBins is Amax for a histogram of |x| given as plain counts over
// [0, len(bins)·binWidth] with maxAbs the exact max|x|, as the calibrator
// protocol's calib.TensorStats carries them (fold a signed histogram first
// with histogram.FoldSigned). bins is not modified.
func AmaxFromBins(bins []uint64, binWidth float64, maxAbs float32, opts Options) (float32, error) {
	p, err := opts.resolve()
	if err != nil {
		return 0, err
	}
	total, err := histogram.CheckMagnitudes(bins, binWidth, maxAbs)
	if err != nil {
		return 0, fmt.Errorf("percentile: %w", err)
	}
	if maxAbs == 0 {
		return 0, nil
	}
	a := histogram.Quantile(bins, binWidth, float64(maxAbs), total, p/100)
	// float32 rounding must not lift amax above the largest magnitude.
	return min(float32(a), maxAbs), nil
}
