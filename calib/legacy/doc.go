// Package legacy is a stand-in for TensorRT's legacy calibrator
// (IInt8LegacyCalibrator), parameterized as TensorRT documents it by a
// quantile and a regression cutoff, both in [0, 1]. TensorRT's algorithm is
// not public (calibration-anchors.md sections 2 and 9); this package
// implements the algorithm written down here, chosen to fit every
// published fact, and does not claim to reproduce TensorRT's numbers.
//
// # Facts it is built on (calibration-anchors.md section 2)
//
//   - getQuantile: "The quantile (between 0 and 1) that will be used to
//     select the region maximum when the quantile method is in use."
//   - getRegressionCutoff: "The fraction (between 0 and 1) of the maximum
//     used to define the regression cutoff when using regression to
//     determine the region maximum."
//   - TensorRT picks a method per tensor: its verbose log says "... uses
//     Quantile-based method" (NVIDIA/TensorRT #1053).
//   - TensorRT's BERT demo uses quantile 0.9999 with cutoff 1.0, described
//     as a 99.99% percentile-max; Polygraphy defaults to 0.5 and 0.5.
//
// # Algorithm
//
// Let N be the number of finite values, M = max|x|, h the histogram of |x|
// (a signed histogram is folded to |x|) with bin width w, q the quantile
// and c the regression cutoff.
//
//  1. Validate: q and c must lie in [0, 1] ("legacy: quantile must be in
//     [0,1], got ..."; "legacy: regression_cutoff must be in [0,1], got
//     ..."); NaN is rejected. Infinite values are an error (wrapping
//     histogram.ErrInf), no finite values ErrEmpty, M = 0 gives amax 0.
//  2. Quantile: a_q is the point where the cumulative count of |x| reaches
//     q·N, interpolated linearly inside the crossing bin (values taken as
//     uniform within a bin), at most M; a_q = M exactly when q = 1. Exact
//     zeros count: a ReLU output's median may be 0.
//  3. c = 1 selects the quantile method: amax = a_q. A cutoff at the
//     maximum leaves no outliers for a regression to look past, and this
//     makes (0.9999, 1.0) the 99.99% percentile-max the BERT demo is
//     documented to be (and (1, 1) MinMax).
//  4. c < 1 selects the regression method. The values above the cutoff
//     c·M are set aside as outliers. Over the bin edges x = k·w in
//     [a_q, c·M], let S(x) = #{v : x <= |v| <= c·M} / N (the part of the
//     cutoff's bin below c·M counted pro rata); fit ln S(x) = α + β·x by
//     least squares weighted by the tail count N·S(x) (ln of a count c has
//     variance ≈ 1/c, so the sparse far tail does not dominate). An
//     exponential tail is a straight line here. The region maximum is where
//     the fitted tail falls to one value in N, x* = (ln(1/N) − α)/β: the
//     expected largest value of the bulk, and amax = x* clamped to
//     [a_q, M].
//  5. The regression falls back to the quantile method (amax = a_q,
//     Diagnostics.Fallback says why) when fewer than MinPoints = 3 edges
//     with a non-zero tail lie in the window (c·M at or below a_q, c = 0,
//     no data between the quantile and the cutoff) or the fit does not
//     decrease.
//
// Consequences, tested: with c = 1 the result is the q-quantile of |x|
// (exact max|x| at q = 1); a Laplace/exponential bulk of 10^6 values plus
// a few outliers at 1000 gets amax ≈ ln(10^6) ≈ 13.8 with Polygraphy's
// (0.5, 0.5), clipping the outliers; a Gaussian bulk, whose log-tail bends
// down faster than a line, extrapolates past its max and is clamped to max
// |x|. The result is deterministic (fixed float64 operation order over the
// histogram) and inherits the histogram's independence of batching.
//
// Amax takes a histogram.Histogram; AmaxFromBins takes the plain counts,
// bin width and max|x| of the calibrator protocol and gives the same
// result.
//
// TensorRT's legacy calibrator can also cache the histograms themselves
// (read/writeHistogramCache) to explore (quantile, cutoff) pairs without
// re-running the network; calib/histogram's MarshalBinary serves that
// purpose here, and Amax is cheap enough (well under a millisecond per
// tensor) for a grid search.
package legacy
