package legacy

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/calib/histogram"
)

// Options are the two parameters of TensorRT's IInt8LegacyCalibrator. They
// have no defaults in TensorRT ("requires user parameterization"); see
// Polygraphy and BERTDemo for two published settings.
type Options struct {
	// Quantile, in [0, 1], selects the region maximum when the quantile
	// method is in use (getQuantile).
	Quantile float64
	// RegressionCutoff, in [0, 1], is the fraction of the maximum that
	// bounds the regression (getRegressionCutoff); 1 selects the quantile
	// method.
	RegressionCutoff float64
}

// Published settings (calibration-anchors.md section 2).
var (
	// Polygraphy's Calibrator defaults.
	Polygraphy = Options{Quantile: 0.5, RegressionCutoff: 0.5}
	// TensorRT's BERT demo: a 99.99% percentile-max.
	BERTDemo = Options{Quantile: 0.9999, RegressionCutoff: 1}
)

// Method names the estimator that produced a result.
type Method string

const (
	Quantile   Method = "quantile"
	Regression Method = "regression"
)

// MinPoints is the fewest histogram edges with a non-zero tail the
// regression fits; with fewer it falls back to the quantile.
const MinPoints = 3

// ErrEmpty is returned for a histogram without finite values.
var ErrEmpty = histogram.ErrEmpty

// Diagnostics describes how Amax reached its result.
type Diagnostics struct {
	Method Method
	// Fallback says why the quantile method was used although
	// RegressionCutoff < 1 (empty otherwise).
	Fallback string
	// QuantileValue is the Quantile-quantile of |x| (a_q in the package
	// doc); MaxAbs the largest |x|; Cutoff = RegressionCutoff·MaxAbs.
	QuantileValue float64
	MaxAbs        float64
	Cutoff        float64
	// The fit, for the regression method: Points bin edges x in
	// [QuantileValue, Cutoff], ln S(x) ≈ Intercept + Slope·x, and the
	// extrapolated end of the tail before clamping to [QuantileValue,
	// MaxAbs].
	Points       int
	Slope        float64
	Intercept    float64
	Extrapolated float64
}

func (o Options) validate() error {
	if !(o.Quantile >= 0 && o.Quantile <= 1) {
		return fmt.Errorf("legacy: quantile must be in [0,1], got %v", o.Quantile)
	}
	if !(o.RegressionCutoff >= 0 && o.RegressionCutoff <= 1) {
		return fmt.Errorf("legacy: regression_cutoff must be in [0,1], got %v", o.RegressionCutoff)
	}
	return nil
}

// Amax returns the legacy calibrator's dynamic range of the tensor whose
// histogram is h, by the algorithm of the package doc. A signed histogram
// is folded to |x| first. It returns an error for invalid options, for a
// histogram with infinite values (wrapping histogram.ErrInf) and for one
// without finite values (ErrEmpty).
func Amax(h *histogram.Histogram, opts Options) (float32, Diagnostics, error) {
	if err := opts.validate(); err != nil {
		return 0, Diagnostics{}, err
	}
	bins, width, maxAbs, err := h.Magnitudes()
	if err != nil {
		return 0, Diagnostics{}, fmt.Errorf("legacy: %w", err)
	}
	return AmaxFromBins(bins, width, maxAbs, opts)
}

// AmaxFromBins is Amax for a histogram of |x| given as plain counts over
// [0, len(bins)·binWidth], with maxAbs the exact max|x| (the form of the
// calibrator protocol's calib.TensorStats; fold a signed histogram first
// with histogram.FoldSigned). N is the sum of the counts.
func AmaxFromBins(bins []uint64, binWidth float64, maxAbs float32, opts Options) (float32, Diagnostics, error) {
	var d Diagnostics
	if err := opts.validate(); err != nil {
		return 0, d, err
	}
	cum := make([]uint64, len(bins)+1)
	for j, c := range bins {
		cum[j+1] = cum[j] + c
	}
	if cum[len(bins)] == 0 {
		return 0, d, ErrEmpty
	}
	if !(maxAbs >= 0 && maxAbs <= math.MaxFloat32) {
		return 0, d, fmt.Errorf("legacy: max|x| %v: must be finite and non-negative", maxAbs)
	}
	m := float64(maxAbs)
	d.Method, d.MaxAbs, d.Cutoff = Quantile, m, opts.RegressionCutoff*m
	if m == 0 {
		d.Fallback = "all values are zero"
		return 0, d, nil
	}
	if !(binWidth > 0 && binWidth <= math.MaxFloat64) {
		return 0, d, fmt.Errorf("legacy: bin width %v: must be finite and positive", binWidth)
	}
	d.QuantileValue = histogram.Quantile(bins, binWidth, m, cum[len(bins)], opts.Quantile)
	if opts.RegressionCutoff == 1 {
		return float32(d.QuantileValue), d, nil
	}
	if !d.regress(cum, binWidth) {
		return float32(d.QuantileValue), d, nil
	}
	d.Method = Regression
	return float32(min(max(d.Extrapolated, d.QuantileValue), m)), d, nil
}

// regress fits ln S(x) linearly over the bin edges x = k·w in
// [QuantileValue, Cutoff], S(x) being the fraction of values with
// x <= |v| <= Cutoff (values beyond the cutoff are the outliers the fit
// ignores), and extrapolates to S = 1/N. It reports whether the fit is
// usable, setting Fallback if not.
func (d *Diagnostics) regress(cum []uint64, w float64) bool {
	n := cum[len(cum)-1]
	nb := len(cum) - 1
	// Values <= Cutoff: whole bins below the cutoff's bin, plus the
	// cutoff's bin pro rata (uniform within the bin), as for the quantile.
	kc := d.Cutoff / w
	jc := min(int(kc), nb)
	below := float64(cum[jc])
	if jc < nb {
		below += (kc - float64(jc)) * float64(cum[jc+1]-cum[jc])
	}
	// Weighted least squares, weight = the tail count at the edge: ln S
	// of a tail of c values has a variance of about 1/c, so the sparse
	// far tail does not dominate the fit.
	var sw, sx, sy, sxx, sxy float64
	pts := 0
	k0 := int(math.Ceil(d.QuantileValue / w))
	for k := k0; k <= nb && float64(k)*w <= d.Cutoff; k++ {
		c := below - float64(cum[k])
		if c <= 0 {
			break
		}
		x, y := float64(k)*w, math.Log(c/float64(n))
		sw, sx, sy, sxx, sxy = sw+c, sx+c*x, sy+c*y, sxx+c*x*x, sxy+c*x*y
		pts++
	}
	d.Points = pts
	if pts < MinPoints {
		d.Fallback = fmt.Sprintf("%d histogram edges with a tail between the quantile %g and the cutoff %g, need %d", pts, d.QuantileValue, d.Cutoff, MinPoints)
		return false
	}
	slope := (sw*sxy - sx*sy) / (sw*sxx - sx*sx)
	if !(slope < 0) {
		d.Fallback = fmt.Sprintf("the tail does not decrease over [%g, %g] (slope %g)", d.QuantileValue, d.Cutoff, slope)
		return false
	}
	d.Slope = slope
	d.Intercept = (sy - slope*sx) / sw
	d.Extrapolated = (-math.Log(float64(n)) - d.Intercept) / slope
	return true
}
