// Package entropy computes a tensor's dynamic range (amax) the way
// TensorRT's EntropyCalibration (v1, IInt8EntropyCalibrator) is published
// to: the KL-divergence search of the GTC 2017 talk S7310 "8-bit Inference
// with TensorRT" (Szymon Migacz), with the talk's candidate cuts. The
// calibrator calib/entropy2 is its successor EntropyCalibration2, tuned to
// TensorRT's published cache values; this package runs the same search
// (it calls entropy2's) and differs where the talk does. Section numbers refer to
// calibration-anchors.md (shared/docs).
//
// # What is published about v1
//
//   - The interface: IInt8EntropyCalibrator, "the Legacy Entropy
//     calibrator. It is less complicated than the legacy calibrator and
//     produces better results"; CalibrationAlgoType kENTROPY_CALIBRATION
//     = 1 (NvInfer.h, section 2). The TensorRT 6 developer guide calls it
//     the "legacy entropy calibrator which supports per channel scaling"
//     and EntropyCalibrator2 the preferred one (section 2).
//
//   - Its cache header names the algorithm EntropyCalibration
//     (TRT-7000-EntropyCalibration in third-party docs, section 1.3);
//     core/calibtable.EntropyCalibration, which TensorRT's own cache
//     reader accepts for this calibrator.
//
//   - It calibrates after layer fusion (NVIDIA/TensorRT #747, section 2;
//     QuantizationFlag kCALIBRATE_BEFORE_FUSION applies to it): which
//     tensors TensorRT gives ranges to, a property of TensorRT's builder,
//     not of the per-tensor algorithm. int8cal calibrates the ONNX graph's
//     tensors for every calibrator.
//
//   - The algorithm is the talk's (section 4.1), the only KL algorithm
//     NVIDIA published, older than EntropyCalibration2; it is quoted
//     below.
//
// The talk's pseudocode, over a 2048-bin histogram of |x| ("Int8
// quantization is symmetric. So we just need to quantize the absolute
// value", NVIDIA in the forum thread that quotes it):
//
//	For i in range(128, 2048):
//	  reference_distribution_P = [bin[0], ..., bin[i-1]]
//	  outliers_count = sum(bin[i], bin[i+1], ..., bin[2047])
//	  reference_distribution_P[i-1] += outliers_count
//	  P /= sum(P)
//	  candidate_distribution_Q = quantize [bin[0], ..., bin[i-1]] into 128 levels
//	  Q /= sum(Q)
//	  divergence[i] = KL_divergence(reference_distribution_P, candidate_distribution_Q)
//
// No v1 cache with values for a known input is public, so nothing below
// is checked against TensorRT's numbers; entropy2's goldens are v2's.
//
// # Algorithm
//
// With h[0..n) the histogram of |x| (n = 2048) and w its bin width:
//
//  1. Candidates i = 128..n−1 (the talk's range(128, 2048) stops at
//     2047; ncnn, the closest public clone, also stops there, section
//     4.6). EntropyCalibration2 also tries i = n, no clipping (verified
//     from its cache values, section 1.2). Published.
//  2. P, Q and D(i) = KL(P‖Q) exactly as entropy2 (the talk's pseudocode:
//     outliers folded into P[i−1], Q from the i kept bins merged into 128
//     levels and spread over each level's non-empty bins, no smoothing,
//     +Inf where Q is 0 and P is not). Published up to the merge rule and
//     the q = 0 case, which the talk leaves open; inferred as entropy2
//     documents.
//  3. Bin 0 replaced by bin 1 before the search (option keep_zero_bin
//     = false), pytorch-quantization's rule, as entropy2. Inferred, and
//     against the letter of the pseudocode, whose P starts at bin[0]: read
//     literally (keep_zero_bin=true) the exact zeros of a ReLU's output
//     dominate P and Q and the divergence is smallest at the first
//     candidates, cutting post-ReLU tensors at 128.5/2048 of the
//     histogram range. Measured with `int8cal compare` on ResNet-20
//     (CIFAR-10, 10,000 test images, 1,000 calibration images;
//     BENCHMARKS.md): 35.40% Top-1 against 80.82% in FP32, and 80.75% with
//     bin 0 replaced; MobileNetV2 11.45% against 86.93% (86.99%); LeNet
//     98.91% against 99.02% (99.02%). The ViT, with few ReLUs, is the
//     exception: 78.74% against 78.76% (78.61%). TensorRT's entropy calibrator was its recommended
//     one for CNNs before EntropyCalibration2 ("produces better results"
//     than the legacy calibrator, NvInfer.h), so it cannot have cut that
//     way: it must discount the zero spike somehow. How is not published
//     (ncnn skips exact zeros; the histogram the host sends cannot tell
//     exact zeros from small values in bin 0), and pytorch-quantization's
//     rule is the one NVIDIA published.
//  4. The first minimum of D (the talk does not say; ncnn, MXNet, ONNX
//     Runtime and TVM all take the first; last_minimum=true takes the
//     last). Inferred.
//  5. amax = (i+0.5)·w, computed in float64 and rounded once: the
//     threshold of the talk's reimplementations (ncnn, TPU-MLIR,
//     darknet, section 4.1) and of EntropyCalibration2's cache values.
//     Inferred for v1.
//
// With these choices EntropyCalibration and EntropyCalibration2 differ
// exactly on the tensors where EntropyCalibration2's best cut is i = n
// (no clipping): v1 then clips at its best cut below n.
//
// When no candidate below n has a finite divergence (all of the mass in
// the last bin, or a histogram of fewer than start bins), there is nothing
// to compare and amax covers the whole histogram: i = n, as
// EntropyCalibration2 would answer (Diagnostics.Fallback says why).
//
// The divergences are those of entropy2's search (prefix sums, checked
// there against a direct O(n²) reference): 0.4–1.5 ms per 2048-bin tensor
// on one Xeon core. Curve is D per candidate (Curve[k] for i = start+k),
// Chosen the index of the chosen candidate in it.
//
// # Degenerate cases
//
// No finite values: an error wrapping histogram.ErrEmpty. Infinite
// values: an error wrapping histogram.ErrInf (Amax; the host refuses them
// before a plugin sees them). All values zero: amax 0. Every value in bin
// 0 (no counts left after the zero-bin rule): amax = max|x| (entropy2's
// rule). The result depends only on the histogram (fixed float64
// operation order), which does not depend on batching (calib/histogram).
package entropy
