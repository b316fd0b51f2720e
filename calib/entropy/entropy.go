package entropy

import (
	"cmp"
	"fmt"
	"math"

	"github.com/int8cal/int8cal/calib/entropy2"
	"github.com/int8cal/int8cal/calib/histogram"
)

// Default search parameters: the talk's 128 levels and loop start
// (calibration-anchors.md section 4.1).
const (
	DefaultStart  = entropy2.DefaultStart
	DefaultLevels = entropy2.DefaultLevels
)

// Options tunes the search. The zero value is EntropyCalibration as the
// package doc reads it.
type Options struct {
	// Start is the smallest candidate cut i (bins kept); 0 means
	// DefaultStart.
	Start int
	// Levels is the number of quantized levels Q is built from; 0 means
	// DefaultLevels.
	Levels int
	// KeepZeroBin keeps bin 0 as counted, as the talk's pseudocode reads.
	// By default bin 0 is replaced by bin 1 before the search, as
	// EntropyCalibration2 (calib/entropy2) does: kept, the zero spike of a
	// ReLU's output pulls the cut down to the first candidates (see the
	// package doc).
	KeepZeroBin bool
	// LastMinimum picks the last of equal minima instead of the first.
	LastMinimum bool
}

func (o Options) validate() error {
	if o.Start < 0 {
		return fmt.Errorf("entropy: option start must be at least 1, got %d", o.Start)
	}
	if o.Levels < 0 {
		return fmt.Errorf("entropy: option levels must be at least 1, got %d", o.Levels)
	}
	return nil
}

// Diagnostics describes a search.
type Diagnostics struct {
	// Start is the candidate cut of Divergence[0]: Divergence[k] is
	// D(P‖Q) for i = Start+k bins kept, up to i = Bins, which is only the
	// fallback (see Fallback). Nil when there was no search.
	Start      int
	Divergence []float64
	// Best is the chosen cut i; amax is (Best+0.5)·BinWidth.
	Best     int
	Bins     int
	BinWidth float64
	// Fallback is empty when a candidate below Bins was chosen; otherwise
	// it says why amax covers the whole histogram (or, for a histogram
	// with no counts outside bin 0 after the zero-bin rule, is max|x|).
	Fallback string
}

// Amax returns the EntropyCalibration (v1) dynamic range of the tensor
// whose histogram is h (a signed histogram is folded first), by the
// algorithm of the package doc. It fails for invalid options, for a
// histogram with infinite values (wrapping histogram.ErrInf) and for one
// without finite values (wrapping histogram.ErrEmpty).
func Amax(h *histogram.Histogram, opts Options) (float32, Diagnostics, error) {
	if err := opts.validate(); err != nil {
		return 0, Diagnostics{}, err
	}
	bins, width, maxAbs, err := h.Magnitudes()
	if err != nil {
		return 0, Diagnostics{}, fmt.Errorf("entropy: %w", err)
	}
	return AmaxFromBins(bins, width, maxAbs, opts)
}

// AmaxFromBins is Amax for a histogram of |x| given as plain counts over
// [0, len(bins)·binWidth] with maxAbs the exact max|x|, as the calibrator
// protocol's calib.TensorStats carries them (fold a signed histogram first
// with histogram.FoldSigned). bins is not modified.
func AmaxFromBins(bins []uint64, binWidth float64, maxAbs float32, opts Options) (float32, Diagnostics, error) {
	d := Diagnostics{Bins: len(bins), BinWidth: binWidth}
	if err := opts.validate(); err != nil {
		return 0, d, err
	}
	if _, err := histogram.CheckMagnitudes(bins, binWidth, maxAbs); err != nil {
		return 0, d, fmt.Errorf("entropy: %w", err)
	}
	if maxAbs == 0 {
		return 0, d, nil
	}
	amax, d2, err := entropy2.AmaxFromBins(bins, binWidth, maxAbs, entropy2.Options(opts))
	if err != nil {
		return 0, d, fmt.Errorf("entropy: %w", err)
	}
	if d2.Degenerate != "" {
		d.Fallback = d2.Degenerate
		return amax, d, nil
	}
	d.Start, d.Divergence = d2.Start, d2.Divergence
	// The talk's candidates stop below i = n; entropy2's search ends with
	// i = n, which is kept in Divergence only as the fallback.
	best := -1
	for k, v := range d.Divergence[:len(d.Divergence)-1] {
		if math.IsInf(v, 1) {
			continue
		}
		if best < 0 || v < d.Divergence[best] || (opts.LastMinimum && v == d.Divergence[best]) {
			best = k
		}
	}
	if best < 0 {
		best = len(d.Divergence) - 1
		d.Fallback = fmt.Sprintf("no cut below %d bins has a finite divergence", len(bins))
		if start := cmp.Or(opts.Start, DefaultStart); start >= len(bins) {
			d.Fallback = fmt.Sprintf("%d bins, no more than the first candidate cut %d", len(bins), start)
		}
	}
	d.Best = d.Start + best
	return float32((float64(d.Best) + 0.5) * binWidth), d, nil
}
