// Package entropy2 computes a tensor's dynamic range (amax) the way
// TensorRT's EntropyCalibration2 does, as far as its published facts go:
// the GTC 2017 S7310 algorithm (KL divergence between a clipped reference
// distribution and its 128-level quantization) over a 2048-bin histogram of
// |x|, with TensorRT's threshold (i+0.5)·bin width. It is a pure,
// deterministic function of a [histogram.Histogram]. Section numbers below
// refer to calibration-anchors.md (shared/docs).
//
// # Algorithm
//
// Let h[0..n) be the histogram of |x| (n = 2048 by default; a signed
// histogram is folded with Abs first) and w its bin width.
//
//  1. Zero bin: h[0] is replaced by h[1] (Options.KeepZeroBin turns this
//     off). This is pytorch-quantization's rule (section 4.2, `bins[0] =
//     bins[1]`): exact zeros (dead ReLUs, MNIST background) would otherwise
//     dominate both distributions.
//  2. Candidates: every cut i from Start = 128 to n inclusive, stride 1
//     (section 4.1; i = n, "no clipping", is a candidate, section 1.2). A
//     histogram with fewer than Start bins has the single candidate i = n.
//  3. Reference P = h[0..i) with the outliers Σh[i..n) added to P[i-1].
//  4. Candidate Q: the i kept bins h[0..i) (without the outliers, as the
//     talk's pseudocode quantizes [bin[0], ..., bin[i-1]]) are merged into
//     128 levels, bin j going to level floor(128·j/i) (pytorch-quantization's
//     np.digitize over linspace(0, i, 129), exact for these integers); each
//     level's sum is spread evenly over the level's non-empty bins, empty
//     bins of h[0..i) get Q = 0.
//  5. D(i) = KL(P/ΣP ‖ Q/ΣQ) = Σ p·ln(p/q) over p > 0, with no smoothing:
//     where p > 0 and q = 0 (only possible at bin i-1, when it is empty but
//     receives outliers) D(i) = +Inf, as scipy.stats.entropy gives.
//  6. The chosen cut is the first minimum of D (Options.LastMinimum picks
//     the last, as pytorch-quantization does); amax =
//     float32((i+0.5)·w), computed in float64 then rounded once.
//
// The search is O(n·levels + n²/levels) with prefix sums (the derivation is
// at search in entropy2.go): 0.4–1.2 ms per 2048-bin tensor on one quiet
// Xeon core (BenchmarkAmax; up to ~1.5 ms on a loaded shared core),
// allocating a few 16 KiB arrays. A direct O(n²) reference implementation
// in the tests checks every divergence to 1e-9.
//
// Amax takes a [histogram.Histogram]; AmaxFromBins takes plain counts, bin
// width and max|x|, the form in which the calibrator protocol
// (calib.TensorStats) delivers them to a plugin, and gives the same result.
//
// # Golden values
//
// The tests reproduce, bit for bit, the TensorRT cache entries of section
// 1.2 (hex of the float32 amax/127):
//
//   - 3c008912, sampleINT8's MNIST input "data" (TRT 7): the first 500
//     training images as pixel/255, 10 batches of 50; the cut is i = 2040
//     (pixel value 255 folded into 254), amax = 2040.5/2048. Images 50..549
//     (MNISTBatchStream skips its first batch, section 3.2) give the same.
//   - 3c010a14, the softmax output "prob" of LeNet over the same images
//     (repo's data/mnist/lenet.onnx run by core/engine): max 1, cut
//     i = 2048, amax = 2048.5/2048.
//   - 3c000889 (TRT 5.1 "data", pixels/256) with a fixed-range (two-pass)
//     histogram over [0, 255/256]: cut 2040 again. The TRT 5.1 calibration
//     images are not known; this is a consistency check.
//   - 3c010204 is amax exactly 1 (the MinMax result on these inputs); an
//     entropy search never returns exactly 1 for a histogram over [0, 1].
//
// Which of the unpublished choices matter for the goldens was measured
// over all 64 combinations of: zero-bin rule, Q from the kept bins or from
// P, digitize or MXNet-style (i/128 per level, remainder to the last)
// grouping, empty-bin mask from the kept bins or from P, ORT-style 1e-4
// smoothing or none, first or last minimum. Only the zero-bin rule with
// digitize grouping, Q from the kept bins and no smoothing gives both 2040
// for "data" and 2048 for "prob" (the mask and the tie-break do not change
// them). Without the zero-bin rule "prob" gives i = 252; with smoothing
// "prob" gives 259; with MXNet grouping "data" gives 2048.
//
// # Where the sources differ (section 8)
//
// TensorRT's own zero-bin handling, smoothing, Q construction and
// tie-break are not public; only the 2048 bins, the candidates up to
// i = 2048 and the (i+0.5)·w threshold follow from its cache values. The
// other choices above are pytorch-quantization's / ModelOpt's, whose own
// threshold is the bin edge i·w instead and whose tie-break is the last
// minimum. ONNX Runtime and MXNet differ more: a signed histogram over
// [-T, T], MXNet grouping (i/128 bins per level, remainder to the last),
// outliers folded into both end bins and 1e-4 smoothing (ORT also truncates
// Q shares to integers and defaults to 128 bins). ncnn skips exact zeros,
// splits bins fractionally between levels, adds 1e-4 to every bin, stops at
// i = 2047 and uses (i+0.5)·w like TensorRT. The talk's pseudocode leaves
// the zero bin, the grouping of i bins into 128 levels and the treatment
// of q = 0 open.
//
// # Histogram range
//
// TensorRT's histogram spans [0, max|x|] (inferred from the goldens). The
// streaming histogram of calib/histogram spans [0, R], R the smallest power
// of two >= max|x|, so the two agree exactly when max|x| is a power of two
// (all goldens above: max 1). Otherwise the thresholds lie on a grid of
// R/2048 instead of max|x|/2048 and the cut is searched over the bins up to
// R; for bit-exact TensorRT behaviour on such tensors use the two-pass
// scheme (histogram.NewFixed(2048, max|x|) in a second pass).
//
// # Degenerate cases
//
//   - No finite values: ErrEmpty. Infinite values: an error wrapping
//     histogram.ErrInf (the host names the tensor). NaNs are ignored.
//   - All values zero: amax = 0, no error, Diagnostics.Degenerate = "all
//     values are zero" (a TensorRT cache then holds 00000000, which some
//     readers decode as 2^-127, section 1.2; the host decides).
//   - All counts in bin 0 after the zero-bin rule (non-zero values all below
//     w, only possible with a fixed range far above the data): amax =
//     max|x|, Degenerate = "no counts outside bin 0".
//   - All data in the first 128 bins (e.g. a fixed range far above the
//     data): at i = 128 every level is one bin, Q = P and D = 0, so the
//     first candidate wins and amax = 128.5·w, which covers max|x|.
//   - A single spike (every value equal, in bin s): D = +Inf for i <= s
//     (the spike folded into an empty bin), exactly 0 for every i > s; the
//     first minimum gives amax = (s+1.5)·w, just above the spike (with
//     LastMinimum, (n+0.5)·w). Zeros beside the spike are removed by the
//     zero-bin rule.
//
// Results are computed in float64 with a fixed order of operations, so a
// given histogram always gives the same result on one platform (math.Log
// may differ in the last bit between GOARCHes, which could only matter for
// candidates tied to ~1e-15). D is clamped at 0 so that rounding cannot make
// an exact tie (D = 0) lose to a tiny negative value.
package entropy2
