package entropy2

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/calib/histogram"
)

// Default search parameters (calibration-anchors.md section 4.1: 2048 bins,
// 128 target levels, loop start 128, stride 1).
const (
	DefaultStart  = 128
	DefaultLevels = 128
)

// ErrEmpty is returned for a histogram without finite values.
var ErrEmpty = histogram.ErrEmpty

// Options tunes the search. The zero value is TensorRT's EntropyCalibration2
// as this package reproduces it.
type Options struct {
	// Start is the smallest candidate cut i (bins kept); 0 means
	// DefaultStart. Histograms with fewer bins than Start have the single
	// candidate i = bins.
	Start int
	// Levels is the number of quantized levels Q is built from; 0 means
	// DefaultLevels.
	Levels int
	// KeepZeroBin keeps bin 0 as counted. By default bin 0 is replaced by
	// bin 1 before the search (pytorch-quantization's rule; without it the
	// softmax golden 3c010a14 is not reproduced, see the package doc).
	KeepZeroBin bool
	// LastMinimum picks the last of equal minima (pytorch-quantization's
	// tie-break) instead of the first.
	LastMinimum bool
}

// Diagnostics describes a search.
type Diagnostics struct {
	// Start is the candidate cut of Divergence[0]: Divergence[k] is the KL
	// divergence D(P||Q) (natural log) for i = Start+k bins kept, up to
	// i = Bins. +Inf marks candidates whose Q is zero where P is not (the
	// last kept bin is empty but has outliers folded into it).
	Start      int
	Divergence []float64
	// Best is the chosen cut i; the threshold is (Best+0.5)*BinWidth.
	Best int
	// Bins and BinWidth describe the histogram searched (of |x|).
	Bins     int
	BinWidth float64
	// Threshold is (Best+0.5)*BinWidth in float64; Amax returns it rounded
	// to float32.
	Threshold float64
	// Degenerate is empty after a search; otherwise it says why there was
	// none ("all values are zero", "no counts outside bin 0"), and
	// Divergence is nil.
	Degenerate string
}

// Amax returns the EntropyCalibration2 dynamic range of the tensor whose
// histogram is h: the cut that minimizes the KL divergence between the
// clipped reference distribution and its 128-level quantization, as
// threshold (i+0.5)*BinWidth. A signed histogram is folded to |x| first
// (h.Abs()). It returns an error for a histogram with infinite values
// (wrapping histogram.ErrInf) or without finite values (ErrEmpty), and for
// invalid options. See the package doc for the exact algorithm and the
// degenerate cases.
func Amax(h *histogram.Histogram, opts Options) (float32, Diagnostics, error) {
	if _, _, err := opts.resolve(); err != nil {
		return 0, Diagnostics{}, err
	}
	bins, width, maxAbs, err := h.Magnitudes()
	if err != nil {
		return 0, Diagnostics{}, fmt.Errorf("entropy2: %w", err)
	}
	return AmaxFromBins(bins, width, maxAbs, opts)
}

// AmaxFromBins is Amax for a histogram of |x| given as plain counts over
// [0, len(bins)·binWidth] (bin j: [j·w, (j+1)·w), the last bin closed),
// with maxAbs the exact max|x|, as the calibrator protocol's
// calib.TensorStats carries them (fold a signed histogram first with
// histogram.FoldSigned). bins is not modified. Amax(h) equals
// AmaxFromBins(h.Bins(), h.BinWidth(), h.MaxAbs()) for a histogram of |x|.
func AmaxFromBins(bins []uint64, binWidth float64, maxAbs float32, opts Options) (float32, Diagnostics, error) {
	var d Diagnostics
	start, levels, err := opts.resolve()
	if err != nil {
		return 0, d, err
	}
	var total uint64
	for _, c := range bins {
		total += c
	}
	if total == 0 {
		return 0, d, ErrEmpty
	}
	if !(maxAbs >= 0 && maxAbs <= math.MaxFloat32) {
		return 0, d, fmt.Errorf("entropy2: max|x| %v: must be finite and non-negative", maxAbs)
	}
	d.Bins, d.BinWidth = len(bins), binWidth
	if maxAbs == 0 {
		d.Degenerate = "all values are zero"
		return 0, d, nil
	}
	if !(binWidth > 0 && binWidth <= math.MaxFloat64) {
		return 0, d, fmt.Errorf("entropy2: bin width %v: must be finite and positive", binWidth)
	}
	bins = append([]uint64(nil), bins...)
	if !opts.KeepZeroBin && len(bins) > 1 {
		total += bins[1] - bins[0]
		bins[0] = bins[1]
	}
	if total == 0 {
		// Only possible when every value is in bin 0 and bin 1 is empty:
		// the bins carry no information beyond |x| < BinWidth.
		d.Degenerate = "no counts outside bin 0"
		d.Threshold = float64(maxAbs)
		return maxAbs, d, nil
	}
	d.Start, d.Divergence = search(bins, start, levels)
	d.Best = pick(d.Start, d.Divergence, opts.LastMinimum)
	d.Threshold = (float64(d.Best) + 0.5) * d.BinWidth
	return float32(d.Threshold), d, nil
}

func (o Options) resolve() (start, levels int, err error) {
	start, levels = o.Start, o.Levels
	if start == 0 {
		start = DefaultStart
	}
	if levels == 0 {
		levels = DefaultLevels
	}
	if start < 1 {
		return 0, 0, fmt.Errorf("entropy2: start %d: must be at least 1", o.Start)
	}
	if levels < 1 {
		return 0, 0, fmt.Errorf("entropy2: levels %d: must be at least 1", o.Levels)
	}
	return start, levels, nil
}

// pick returns the candidate with the smallest divergence, the first (or
// last) of equal ones.
func pick(start int, div []float64, last bool) int {
	best := 0
	for k, v := range div {
		if v < div[best] || (last && v == div[best]) {
			best = k
		}
	}
	return start + best
}

// search returns the first candidate and the divergence of every candidate
// i in [min(start, n), n], n = len(bins), for a histogram with a non-zero
// total.
//
// With h = bins, T = sum(h), C(k) = sum(h[:k]), O = T - C(i) (the outliers),
// P = h[:i] with O added to P[i-1], and Q spreading each level's sum S_L
// evenly over its n_L non-empty bins, ΣP = T and ΣQ = C(i), so
//
//	D = Σ_j P_j/T · log((P_j/T) / (Q_j/C(i)))
//	  = (ΣP·logP − ΣP·logQ)/T + log(C(i)/T),
//	ΣP·logP = E(i−1) + P[i−1]·log P[i−1],  E(k) = Σ_{j<k} h_j·log h_j,
//	ΣP·logQ = Σ_L S_L·(log S_L − log n_L) + O·log(S_last/n_last),
//
// where S_L and n_L come from prefix sums. Each candidate costs O(levels)
// instead of O(i). The last level always holds bin i−1, since i >= levels.
func search(bins []uint64, start, levels int) (int, []float64) {
	n := len(bins)
	cum := make([]uint64, n+1)   // C(k)
	nz := make([]int32, n+1)     // non-empty bins among h[:k]
	ent := make([]float64, n+1)  // E(k)
	logn := make([]float64, n+1) // log k
	for j, c := range bins {
		cum[j+1] = cum[j] + c
		nz[j+1] = nz[j]
		ent[j+1] = ent[j]
		if c != 0 {
			nz[j+1]++
			f := float64(c)
			ent[j+1] += f * math.Log(f)
		}
		logn[j+1] = math.Log(float64(j + 1))
	}
	total := cum[n]
	t := float64(total)
	logT := math.Log(t)

	// The term S·(log S − log n) of a level of bins [a, b) is tabulated:
	// the levels of candidate i are wl = floor(i/levels) or wl+1 bins wide
	// and wl only grows with i, so two rows indexed by a serve every
	// candidate, term[a] for width wl and term[stride+a] for width wl+1
	// (width 0 is a row of zeros). Over all candidates that is about
	// n·(n/levels+2) logarithms, ~37k for 2048 bins and 128 levels, instead
	// of one per level and candidate (~250k).
	stride := n + 1
	term := make([]float64, 2*stride)
	row := func(dst []float64, w int) {
		clear(dst)
		if w == 0 {
			return
		}
		for a := 0; a+w <= n; a++ {
			if s := cum[a+w] - cum[a]; s != 0 {
				f := float64(s)
				dst[a] = f * (math.Log(f) - logn[nz[a+w]-nz[a]])
			}
		}
	}
	lo := min(start, n)
	wl := lo / levels
	row(term[:stride], wl)
	row(term[stride:], wl+1)

	div := make([]float64, n-lo+1)
	for i := lo; i <= n; i++ {
		out := total - cum[i]
		if out != 0 && bins[i-1] == 0 {
			div[i-lo] = math.Inf(1)
			continue
		}
		if cum[i] == 0 { // nothing kept, nothing folded: P is all zero
			div[i-lo] = math.Inf(1)
			continue
		}
		if w := i / levels; w != wl {
			if w == wl+1 {
				copy(term[:stride], term[stride:])
			} else {
				row(term[:stride], w)
			}
			wl = w
			row(term[stride:], wl+1)
		}
		// Level L covers bins [ceil(L*i/levels), ceil((L+1)*i/levels)).
		// b = ceil((L+1)*i/levels) is stepped without dividing: q and r
		// are the quotient and remainder of (L+1)*i + levels-1 by levels.
		var pq float64 // Σ_L S_L·(log S_L − log n_L)
		di, mi := i/levels, i%levels
		a, q, r := 0, (levels-1)/levels, (levels-1)%levels
		for range levels {
			q, r = q+di, r+mi
			if r >= levels {
				q, r = q+1, r-levels
			}
			pq += term[(q-a-wl)*stride+a]
			a = q
		}
		if out != 0 {
			// Q[i-1] = S/n of the level holding bin i-1 (not empty, since
			// bins[i-1] != 0 here).
			L := levels * (i - 1) / i
			a, b := (L*i+levels-1)/levels, ((L+1)*i+levels-1)/levels
			q := math.Log(float64(cum[b]-cum[a])) - logn[nz[b]-nz[a]]
			pq += float64(out) * q
		}
		pp := ent[i-1] // ΣP·logP, 0·log 0 taken as 0
		if last := float64(bins[i-1] + out); last != 0 {
			pp += last * math.Log(last)
		}
		d := (pp-pq)/t + (math.Log(float64(cum[i])) - logT)
		div[i-lo] = max(d, 0) // KL >= 0; clears rounding below zero
	}
	return lo, div
}
