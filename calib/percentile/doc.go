// Package percentile computes a tensor's dynamic range (amax) as a
// percentile of |x|, the Percentile calibration method of ONNX Runtime's
// quantizer and of pytorch-quantization's HistogramCalibrator. It is a
// pure, deterministic function of a histogram of |x|. Section numbers
// refer to calibration-anchors.md (shared/docs).
//
// # Published definition
//
//   - ONNX Runtime (microsoft/onnxruntime@b15ffcdd
//     onnxruntime/python/tools/quantization/calibrate.py,
//     HistogramCollector.compute_percentile; section 4.3):
//     CalibrationMethod.Percentile with symmetric=True collects a
//     histogram of |x| (collect_absolute_value, num_bins=2048), then
//     cdf = cumsum(hist/total), idx = searchsorted(cdf, percentile/100)
//     and the range is ±hist_edges[idx]. Its percentile option defaults to
//     99.999 and must lie in [0, 100].
//   - pytorch-quantization (NVIDIA/TensorRT@v10.16
//     tools/pytorch-quantization/pytorch_quantization/calib/histogram.py,
//     _compute_amax_percentile; section 4.2): the same rule over its
//     2048-bin histogram of |x| (exact zeros included: skip_zeros=False),
//     amax = calib_bin_edges[idx]; compute_amax("percentile") defaults to
//     99.99 and must lie in [0, 100].
//
// Both therefore answer the lower edge of the first bin whose cumulative
// fraction reaches p/100.
//
// # Algorithm
//
// Let h be the histogram of |x| (a signed histogram is folded first), w its
// bin width, N its total count (exact zeros included, as both peers count
// them) and M = max|x|. Option percentile = p in (0, 100], default 99.99
// (pytorch-quantization's default; ONNX Runtime's 99.999 is one option
// away). p = 0, which both peers accept, is refused: it would answer 0 (or
// the first edge) for every tensor, which no user wants.
//
//   - p = 100: amax = M exactly (MinMax).
//   - otherwise: with t = p/100·N, the crossing bin j is the first
//     non-empty bin whose cumulative count C(j+1) reaches t, and
//     amax = min((j + (t − C(j))/h[j])·w, M): the point where the
//     cumulative count reaches t when the values of bin j are taken as
//     uniform over it (histogram.Quantile).
//
// # Where we deviate: interpolation inside the crossing bin
//
// The peers answer the crossing bin's lower edge j·w; we interpolate
// linearly inside it. The answer is then never more than one bin width
// above theirs on the same grid (and never below it), but it is a property
// of the data, not of the grid: our streaming histogram spans [0, R] with
// R the smallest power of two >= M (calib/histogram), theirs [0, M] (grown
// by appended bins), so bin edges fall in different places and edge
// answers would differ by up to a bin for the same data, and would jump
// by a whole bin as R doubles. The lower edge also clips slightly more
// than the asked fraction (the whole crossing bin lies above it); the
// interpolated point clips p of the mass exactly under the uniform-bin
// assumption. Linear interpolation is the rule calib/legacy's quantile
// uses, so legacy with regression_cutoff 1 and quantile p/100 gives the
// same amax up to the rounding of p/100 (99.99/100 is not the float64
// 0.9999): the tables of percentile and legacy's defaults are identical on
// LeNet and ResNet-20 (BENCHMARKS.md).
//
// A quantile in bin 0 gives a positive amax below w (bin 0 holds exact
// zeros and tiny values alike): a tensor that is 99.99% zeros gets an amax
// that zeroes most of the rest, as p asks.
//
// # Degenerate cases
//
// No finite values: an error wrapping histogram.ErrEmpty. Infinite values:
// an error wrapping histogram.ErrInf (Amax; the host refuses them before a
// plugin sees them). All values zero: amax 0. Everything is float64 with
// a fixed order of operations, so the result depends only on the
// histogram, which does not depend on batching (calib/histogram); a
// 2048-bin tensor takes a few microseconds (one pass over the bins).
package percentile
