package mse

import (
	"fmt"

	"github.com/int8cal/int8cal/calib/histogram"
)

// DefaultStart is pytorch-quantization's start_bin (compute_amax's
// default, calibration-anchors.md section 4.2).
const DefaultStart = 128

// maxLevel is the largest INT8 level of narrow-range symmetric
// quantization: [-127, 127], scale amax/127.
const maxLevel = 127

// Options tunes the search. The zero value is pytorch-quantization's
// setting.
type Options struct {
	// Start is the first candidate bin: amax candidates are the centers
	// of bins Start, Start+1, ... up to the bin holding max|x|. 0 means
	// DefaultStart.
	Start int
}

func (o Options) resolve() (int, error) {
	switch {
	case o.Start == 0:
		return DefaultStart, nil
	case o.Start < 0:
		return 0, fmt.Errorf("mse: option start must be at least 1, got %d", o.Start)
	}
	return o.Start, nil
}

// Diagnostics describes a search.
type Diagnostics struct {
	// Start is the candidate of MSE[0]: MSE[k] is the mean squared
	// quantization error (in units of x²) with amax the center of bin
	// Start+k. Nil for an all-zero tensor.
	Start int
	MSE   []float64
	// Best is the chosen bin; amax is its center (Best+0.5)·BinWidth.
	Best     int
	BinWidth float64
}

// Amax returns the amax minimizing the quantization MSE of the tensor
// whose histogram is h (a signed histogram is folded first), by the
// algorithm of the package doc. It fails for invalid options, for a
// histogram with infinite values (wrapping histogram.ErrInf) and for one
// without finite values (wrapping histogram.ErrEmpty).
func Amax(h *histogram.Histogram, opts Options) (float32, Diagnostics, error) {
	if _, err := opts.resolve(); err != nil {
		return 0, Diagnostics{}, err
	}
	bins, width, maxAbs, err := h.Magnitudes()
	if err != nil {
		return 0, Diagnostics{}, fmt.Errorf("mse: %w", err)
	}
	return AmaxFromBins(bins, width, maxAbs, opts)
}

// AmaxFromBins is Amax for a histogram of |x| given as plain counts over
// [0, len(bins)·binWidth] with maxAbs the exact max|x|, as the calibrator
// protocol's calib.TensorStats carries them (fold a signed histogram first
// with histogram.FoldSigned). bins is not modified.
func AmaxFromBins(bins []uint64, binWidth float64, maxAbs float32, opts Options) (float32, Diagnostics, error) {
	d := Diagnostics{BinWidth: binWidth}
	start, err := opts.resolve()
	if err != nil {
		return 0, d, err
	}
	total, err := histogram.CheckMagnitudes(bins, binWidth, maxAbs)
	if err != nil {
		return 0, d, fmt.Errorf("mse: %w", err)
	}
	if maxAbs == 0 {
		return 0, d, nil
	}
	n := len(bins)
	last := min(int(float64(maxAbs)/binWidth), n-1)
	d.Start = min(start, last)
	d.MSE = curve(bins, d.Start, last, binWidth*binWidth/float64(total))
	best := 0
	for k, v := range d.MSE {
		if v < d.MSE[best] {
			best = k
		}
	}
	d.Best = d.Start + best
	return float32((float64(d.Best) + 0.5) * binWidth), d, nil
}

// curve returns MSE(i)·N/w² scaled by norm for i in [lo, hi], in bin
// units: bin j's center is j+0.5, candidate i's step s = (i+0.5)/127.
func curve(bins []uint64, lo, hi int, norm float64) []float64 {
	n := len(bins)
	// Prefix sums of h, h·j and h·j²: the error of a run of bins [a, b)
	// represented by the level at t = m+0.5 is
	// Σ h·(j − m)² = S2 − 2m·S1 + m²·S0.
	p0, p1, p2 := make([]float64, n+1), make([]float64, n+1), make([]float64, n+1)
	for j, c := range bins {
		f, fj := float64(c), float64(j)
		p0[j+1], p1[j+1], p2[j+1] = p0[j]+f, p1[j]+f*fj, p2[j]+f*fj*fj
	}
	run := func(a, b int, m float64) float64 {
		s0, s1, s2 := p0[b]-p0[a], p1[b]-p1[a], p2[b]-p2[a]
		return max(0, s2-2*m*s1+m*m*s0) // a sum of squares; clears cancellation below 0
	}
	out := make([]float64, hi-lo+1)
	for i := lo; i <= hi; i++ {
		s := float64(2*i+1) / (2 * maxLevel)
		var sum float64
		a := 0
		for k := 0; k < maxLevel && a < n; k++ {
			if b := min(levelEnd(i, k), n); b > a {
				sum += run(a, b, float64(k)*s-0.5)
				a = b
			}
		}
		if a < n { // the top level, clipped values included
			sum += run(a, n, maxLevel*s-0.5)
		}
		out[i-lo] = sum * norm
	}
	return out
}

// levelEnd returns the first bin whose center rounds above level k for
// candidate i: bin j rounds to at most k iff (j+0.5)/s < k+0.5 with
// s = (i+0.5)/127, i.e. 254·(2j+1) < (2k+1)·(2i+1) = X, i.e.
// j < (X−254)/508, a non-integer since X is odd; so the count of such
// bins is floor((X−254)/508)+1 = (X+254)/508 in integer division (X >= 1).
func levelEnd(i, k int) int {
	x := (2*k + 1) * (2*i + 1)
	return (x + 2*maxLevel) / (4 * maxLevel)
}
