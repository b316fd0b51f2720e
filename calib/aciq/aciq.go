package aciq

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/calib/histogram"
)

// Prior is the distribution ACIQ fits to a tensor.
type Prior string

const (
	Laplace Prior = "laplace"
	Gauss   Prior = "gauss"
)

// The published optimal clipping values for 8 bits, in units of the
// prior's scale (Banner et al.'s alpha_laplace[8] and alpha_gaus[8]; see
// the package doc).
const (
	LaplaceAlpha = 9.89
	GaussAlpha   = 3.92
)

// Options tunes the calibrator. The zero value is the Laplace prior.
type Options struct {
	// Prior is Laplace or Gauss; "" means Laplace.
	Prior Prior
}

func (o Options) resolve() (Prior, error) {
	switch o.Prior {
	case "", Laplace:
		return Laplace, nil
	case Gauss:
		return Gauss, nil
	}
	return "", fmt.Errorf("aciq: option prior must be %s or %s, got %q", Laplace, Gauss, o.Prior)
}

// Diagnostics describes the fit.
type Diagnostics struct {
	Prior Prior
	// Scale is the fitted b (Laplace) or σ (Gauss); Alpha the clipping
	// value before it is bounded by max|x|.
	Scale, Alpha float64
	// OneSided reports that the fit skipped bin 0 (a one-sided tensor).
	OneSided bool
}

// Amax returns the ACIQ dynamic range of the tensor whose histogram is h
// (a signed histogram is folded first), by the algorithm of the package
// doc; the tensor is one-sided when h's min >= 0 or max <= 0. It fails for
// invalid options, for a histogram with infinite values (wrapping
// histogram.ErrInf) and for one without finite values (wrapping
// histogram.ErrEmpty).
func Amax(h *histogram.Histogram, opts Options) (float32, Diagnostics, error) {
	if _, err := opts.resolve(); err != nil {
		return 0, Diagnostics{}, err
	}
	bins, width, maxAbs, err := h.Magnitudes()
	if err != nil {
		return 0, Diagnostics{}, fmt.Errorf("aciq: %w", err)
	}
	return AmaxFromBins(bins, width, maxAbs, h.Min() >= 0 || h.Max() <= 0, opts)
}

// AmaxFromBins is Amax for a histogram of |x| given as plain counts over
// [0, len(bins)·binWidth] with maxAbs the exact max|x|, as the calibrator
// protocol's calib.TensorStats carries them (fold a signed histogram first
// with histogram.FoldSigned); oneSided says that all values have one sign
// (calib.TensorStats' Min >= 0 or Max <= 0). bins is not modified.
func AmaxFromBins(bins []uint64, binWidth float64, maxAbs float32, oneSided bool, opts Options) (float32, Diagnostics, error) {
	prior, err := opts.resolve()
	d := Diagnostics{Prior: prior}
	if err != nil {
		return 0, d, err
	}
	if _, err := histogram.CheckMagnitudes(bins, binWidth, maxAbs); err != nil {
		return 0, d, fmt.Errorf("aciq: %w", err)
	}
	if maxAbs == 0 {
		return 0, d, nil
	}
	m := float64(maxAbs)
	first := 0
	if oneSided {
		for _, c := range bins[1:] {
			if c != 0 {
				first, d.OneSided = 1, true
				break
			}
		}
	}
	var n, s1, s2 float64
	for j := first; j < len(bins); j++ {
		if bins[j] == 0 {
			continue
		}
		c, x := float64(bins[j]), min((float64(j)+0.5)*binWidth, m)
		n, s1, s2 = n+c, s1+c*x, s2+c*x*x
	}
	if prior == Laplace {
		d.Scale = s1 / n
		d.Alpha = LaplaceAlpha * d.Scale
	} else {
		d.Scale = math.Sqrt(s2 / n)
		d.Alpha = GaussAlpha * d.Scale
	}
	return float32(min(d.Alpha, m)), d, nil
}
