// Package aciq computes a tensor's dynamic range (amax) by ACIQ, the
// analytical clipping of Banner, Nahshan and Soudry, "Post-training 4-bit
// quantization of convolutional networks for rapid-deployment" (NeurIPS
// 2019; arXiv 1810.05723 "ACIQ: Analytical Clipping for Integer
// Quantization of neural networks"): the tensor is modelled by a Laplace
// or Gaussian prior fitted to its statistics and amax is the clipping
// value that minimizes the expected quantization MSE under that prior,
// a fixed multiple of the prior's scale. It is a pure, deterministic
// function of a histogram of |x|.
//
// # Published definition
//
// For a value range clipped to [−α, α] and quantized uniformly into 2^M
// levels, the expected MSE is the clipping error plus the rounding noise
// α²/(3·4^M); for the two priors
//
//	Laplace(0, b):  E(α) ≈ 2b²·exp(−α/b) + α²/(3·4^M)
//	Gaussian(0, σ): E(α) ≈ (α²+σ²)·[1 − erf(α/(√2σ))] − √(2/π)·α·σ·exp(−α²/(2σ²)) + α²/(3·4^M)
//
// whose minimizers are α* = c_M·b and α* = g_M·σ. The Laplace expression
// is laplace_prior_mse in the authors' code below; the Gaussian one is the
// paper's as we transcribe it, and the check we have of the
// transcription is that its minimizers reproduce the code's table. The
// authors' code
// (submission2019/cnn-quantization@51f8992
// pytorch_quantizer/quantization/qtypes/int_quantizer.py, IntQuantizer)
// tables, for M = 2 to 8, alpha_laplace c_M = 2.83, 3.89, 5.03, 6.2,
// 7.41, 8.64, 9.89 and alpha_gaus g_M = 1.71, 2.15, 2.55, 2.93, 3.28,
// 3.61, 3.92, with the unrounded minimizers in a comment (9.89675982 and
// 3.92403714 for M = 8). TestPublishedConstants minimizes the two
// expressions numerically and checks every tabled constant against its
// minimizer: all agree to two decimals (truncated, except 5.03 for
// 5.0286). The code takes b = mean|x −
// mean(x)| (get_alpha_laplace) and σ = the standard deviation
// (get_alpha_gaus), and with clip2max bounds the range 2α by max − min
// (alpha2DeltaOffset).
//
// # Algorithm
//
// With h the histogram of |x| (a signed histogram is folded first), w its
// bin width, c_j = min((j+0.5)·w, max|x|) the bin centers, and M = 8:
//
//   - Laplace (option prior=laplace, the default): b = Σ h[j]·c_j / Σ h[j],
//     the mean of |x|, which is the maximum-likelihood scale of a
//     Laplace(0, b); amax = min(9.89·b, max|x|).
//   - Gaussian (prior=gauss): σ = sqrt(Σ h[j]·c_j² / Σ h[j]), the
//     root mean square of x, the maximum-likelihood σ of a Gaussian(0, σ);
//     amax = min(3.92·σ, max|x|).
//
// For a one-sided tensor (min >= 0 or max <= 0: a ReLU's output) the sums
// skip bin 0, so that the exact zeros do not count; see below.
//
// # What is inferred, and why
//
//   - Mean 0. The host sends a histogram of |x|, not x, so the mean of x
//     is unknown; TensorRT's INT8 is symmetric around 0 in any case, so
//     the prior is centered there: b is the mean of |x| and σ the root
//     mean square of x, instead of the code's mean absolute deviation and
//     standard deviation around the mean. Both come from the histogram
//     with values at bin centers (a bias below half a bin width).
//   - 8 bits, 255 levels. The paper's noise term counts 2^M = 256 levels
//     over 2α; TensorRT's symmetric INT8 has 255 ([−127, 127], step
//     α/127). Minimizing with that step gives 9.883 and 3.921 instead of
//     9.897 and 3.924, a 0.1% change of amax; we keep the published
//     constants.
//   - One-sided tensors. The authors' code has separate tables for
//     "positive" tensors, one bit up (alpha_laplace_positive[8] = 11.16,
//     used with force_positive or half_range): for unsigned quantization
//     of [0, α] into 2^M levels. TensorRT does
//     not quantize unsigned: a ReLU output quantized to [−α, α] uses the
//     128 non-negative levels with the same step α/127. Its positive part,
//     modelled as an exponential (the half-Laplace) of scale b, has the
//     clipping error ∫_α^∞ (x−α)²·e^(−x/b)/b dx = 2b²·e^(−α/b), the
//     Laplace's own; a half-Gaussian's equals the Gaussian's likewise. So
//     the same α/b and α/σ are optimal, with b and σ fitted to the
//     non-zero values only: exact zeros are quantized without error and
//     scale both terms of E(α) by the same factor. Bin 0 holds the exact
//     zeros (and values below w, which the fit loses); if every value is
//     in bin 0 it is used after all.
//   - No clipping beyond the data: amax is at most max|x|, as the code's
//     clip2max bound.
//
// # On our models
//
// BENCHMARKS.md (issue 17): within 0.2% of FP32 on LeNet, ResNet-20 and
// MobileNetV2, but 1.60% below on the CIFAR-10 ViT, whose attention
// softmax and GELU outputs are heavier-tailed than a Laplace: 9.89·b cuts
// them at 0.15–0.2 of their max. The Gaussian prior clips harder (−0.71%
// on MobileNetV2, −4.37% on the ViT).
//
// # Degenerate cases
//
// No finite values: an error wrapping histogram.ErrEmpty. Infinite
// values: an error wrapping histogram.ErrInf (Amax; the host refuses them
// before a plugin sees them). All values zero: amax 0. One pass over the
// bins, a few microseconds per 2048-bin tensor; the result depends only on
// the histogram and min/max (fixed float64 operation order), which do not
// depend on batching (calib/histogram).
package aciq
