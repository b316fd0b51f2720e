// Package histogram collects per-tensor activation statistics for INT8
// calibration: a histogram of |x| (or, signed, of x) over float32 batches,
// 2048 bins by default, with the exact min, max, max|x|, count, number of
// zeros, NaNs and infinities beside it. Calibrators (calib/entropy2,
// calib/minmax, calib/legacy) turn a Histogram into a tensor's amax.
// The host (core/calibrate, core/cuda) fills histograms and calibrator
// plugins read them, so the package lives on the calibrator contract's
// side and imports nothing of this module: a plugin binary never depends
// on the host.
//
// The host calls Add once per batch per tensor, or per piece of a tensor.
// Add is the hot path: it does not allocate, and on amd64 its loop runs
// in AVX-512 or AVX2 assembly (16 or 8 bin indices a step, the +0s of a
// ReLU output counted apart, the increments from a packed buffer), with
// the portable Go loop as the definition they follow and the fallback
// (build tag purego, other architectures; SetImpl forces one for tests
// and benchmarks). On one core of the 2-core development Xeon
// (BenchmarkAdd, 256 KiB batches): AVX-512 9.5 GB/s of float32 input on
// dense data and 13 GB/s on ReLU outputs, AVX2 7.6 and 9.7, Go 2.4. Memory
// is (bins+1)·8 bytes per side, 16 KiB for the default histogram of |x|.
// Bounds is the min/max scan alone (what min/max calibration needs), with
// the same order of values (-0 below +0) and kernels.
//
// # Range growth: power-of-two doubling, exact
//
// In the default (streaming) mode the histogram of |x| covers [0, R] with R
// the smallest power of two >= max|x| over all finite values added so far
// (R is 0, and every value is in bin 0, while only zeros were added). A
// value v lands in bin
//
//	j(v) = floor(|v| · bins / R),  and bin bins-1 when |v| == R,
//
// computed in float64, where it is exact: |v| has 24 significant bits,
// bins at most 2^24 (MaxBins), and R a power of two, so |v|·bins·2^-e is a
// float64 without rounding and the floor is the exact one.
//
// When a value above R arrives, R doubles d times to the new power of two
// and every count moves from bin j to bin j>>d. This is exact because
// floor(floor(y)/2^d) = floor(y/2^d) for y = |v|·bins/R: each value ends up
// where it would have been had R been the final range from the start. The
// values equal to R, which the last bin holds although |v|·bins/R = bins,
// are kept in a separate slot so that they move to bin bins>>d, where they
// belong, rather than to (bins-1)>>d.
//
// Guarantee: the histogram, and every statistic beside it, is a function of
// the multiset of values added (and of the layout) only: any batching, any
// order of values and batches, and any Merge tree over any partition of the
// values give identical bytes from MarshalBinary. Tests check this against
// an exact rational-arithmetic oracle and across random batchings,
// permutations and merge trees (TestOracle, TestBatchingAndOrder,
// TestMergeAnyOrder). Min and max are tracked as order-preserving integer
// keys with -0 < +0, so even the sign of a zero min/max does not depend on
// order.
//
// The price of exactness: bins span [0, R] with R up to twice max|x|, so
// between half and all of the bins are in use, and thresholds found on this
// grid (R/bins) differ from those of a histogram over [0, max|x|] — the one
// TensorRT's EntropyCalibration2 uses (calibration-anchors.md 1.2) — unless
// max|x| is a power of two (MNIST pixels/255 and softmax outputs have max 1,
// so the published goldens are reproduced either way).
//
// # Fixed range: the two-pass scheme
//
// For TensorRT-exact thresholds on other tensors, run the calibration data
// twice: a first pass (a streaming histogram, or any max|x| tracker) gives
// max|x|, and a second pass fills NewFixed(2048, maxAbs). A fixed histogram
// bins v as floor(float64(|v|) · fl(bins/R)) (fl: rounded to float64), the
// last bin also taking |v| >= R (counted in Clipped when |v| > R). The bin
// is again a function of v alone, so the same batching, order and Merge
// guarantee holds; only histograms with the same fixed R merge.
//
// # Signed histograms
//
// NewSigned(2n) keeps n bins for x >= +0 and n for x <= -0 over [-R, R]
// (Bins returns them from -R to R); each side bins |x| as above, so the
// guarantees carry over, and Abs folds the two sides into exactly the
// n-bin histogram of |x| that New(n) would have collected (FoldSigned does
// the same for plain counts). -0 counts on the negative side.
//
// # NaN and Inf
//
// NaNs are counted (NaNs) and otherwise ignored. ±Inf are counted (Infs),
// kept out of the bins and statistics, and make Err return an error
// wrapping ErrInf, which the host reports with the tensor's name;
// calibrators refuse such histograms. Count, Min, Max, MaxAbs and Zeros are
// over the finite values only.
//
// A Histogram is not safe for concurrent use: collect in parallel into one
// histogram per goroutine and Merge them.
package histogram
