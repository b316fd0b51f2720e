// Package mse computes a tensor's dynamic range (amax) as the candidate
// that minimizes the mean squared error of INT8 quantization over the
// histogram of |x|, the "mse" method of pytorch-quantization's
// HistogramCalibrator. It is a pure, deterministic function of a
// histogram of |x|. Section numbers refer to calibration-anchors.md
// (shared/docs).
//
// # Published definition
//
// pytorch-quantization's _compute_amax_mse (NVIDIA/TensorRT@v10.16
// tools/pytorch-quantization/pytorch_quantization/calib/histogram.py;
// section 4.2; the same in TensorRT-Model-Optimizer's torch
// HistogramCalibrator), called by compute_amax("mse", stride=1,
// start_bin=128) on its 2048-bin histogram of |x| over [0, max|x|]:
//
//	centers = (edges[1:] + edges[:-1]) / 2
//	for i in range(start_bin, len(centers), stride):
//	    amax = centers[i]
//	    quant_centers = fake_tensor_quant(centers, amax, num_bits, unsigned)
//	    mse = ((quant_centers - centers)**2 * counts).mean()
//	amax = centers[argmin(mses)]     # the first minimum
//
// fake_tensor_quant with 8 bits, signed, scales by 127/amax, rounds to
// nearest and clamps to [-127, 127] (narrow range; tensor_quant.py): every
// value of a bin is represented by the bin's center, so the error of a bin
// is that of its center, weighted by its count; centers above amax are
// clamped to amax.
//
// # Algorithm
//
// Let h[0..n) be the histogram of |x| (a signed histogram is folded
// first), w its bin width, N its total count and c_j = (j+0.5)·w the bin
// centers. For a candidate i, amax_i = c_i, the step is s_i = amax_i/127
// and
//
//	MSE(i) = Σ_j h[j]·(c_j − s_i·min(127, round(c_j/s_i)))² / N.
//
// Candidates are i = start..last with start = 128 (option start) and last
// the bin holding max|x|, stride 1; the chosen i is the first minimum, as
// np.argmin. The result is amax = c_i (up to half a bin above max|x|).
// Curve is MSE per candidate (Curve[k] for i = start+k), Chosen the index
// of the chosen candidate in Curve.
//
// # Where we follow and where we deviate
//
//   - Followed: bin centers stand for their values; candidate amaxes are
//     centers from bin 128 on, stride 1; signed 8-bit narrow-range
//     quantization (127 levels a side: TensorRT's symmetric INT8, and
//     pytorch-quantization with unsigned off, QuantDescriptor's default;
//     unsigned=True would give a one-sided tensor 255 levels, which
//     TensorRT's symmetric INT8 does not have); first minimum.
//   - Mean over values, not over bins: we divide by N where .mean()
//     divides by the number of bins. Both are constant over the
//     candidates, so the choice is the same; ours makes Curve an MSE in
//     the units of x² that can be compared between tensors.
//   - Last candidate: the bin holding max|x|, not the histogram's last
//     bin. pytorch-quantization's histogram ends at max|x| (its last bin
//     holds it), ours at R, the smallest power of two >= max|x|
//     (calib/histogram), so the bins past max|x| are empty; stopping at
//     max|x|'s bin gives the same candidates relative to the data and
//     keeps amax from exceeding max|x| by more than half a bin. When that
//     bin is below start (all data in the first bins of a fixed-range
//     histogram), its center is the single candidate.
//   - float64 instead of float32 arithmetic, and rounding decided exactly:
//     c_j/s_i = 127·(2j+1)/(2i+1) is never k+½, which would need
//     254·(2j+1) = (2k+1)·(2i+1), an even number equal to an odd one, so
//     no center sits on a tie and every rounding rule agrees (levelEnd).
//   - Exact zeros are in bin 0 like any value below w, represented by c_0
//     as in the published code: every candidate has s_i > w, so bin 0
//     always rounds to 0 with the same error (w/2)², which shifts the
//     curve but never moves its minimum.
//
// Bin-center representation is the published definition, and its known
// limit: once the step s_i is close to w, the centers sit near the levels
// and the within-bin rounding error is not seen. With 2048 bins and 127
// levels s_i is at least 1.01·w (i >= 128), so this matters only for
// the smallest candidates.
//
// # Cost and exactness
//
// Each candidate's sum is taken per quantization level, not per bin: the
// bins rounding to level k form one run [a, b) whose ends follow from
// integer arithmetic (levelEnd), and Σ h·(c − k·s)² over the run comes from
// prefix sums of h, h·j and h·j². That is O(n + candidates·128) instead of
// O(n·candidates): about 0.4 ms for 2048 bins on one loaded Xeon core
// (BenchmarkAmax). The prefix-sum form cancels digits: the tests check
// every candidate against the direct per-bin sum to a relative 1e-9.
//
// # Degenerate cases
//
// No finite values: an error wrapping histogram.ErrEmpty. Infinite
// values: an error wrapping histogram.ErrInf (Amax; the host refuses them
// before a plugin sees them). All values zero: amax 0 and no curve. The
// result depends only on the histogram (fixed float64 operation order),
// which does not depend on batching (calib/histogram).
package mse
