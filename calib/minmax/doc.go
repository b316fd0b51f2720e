// Package minmax is TensorRT's MinMaxCalibration: a tensor's dynamic range
// is the largest magnitude seen over all calibration batches,
//
//	amax = max over batches of max(|min|, |max|)
//
// (calibration-anchors.md sections 2 and 9; IInt8MinMaxCalibrator). The
// statistic is exact: calib/histogram tracks min and max exactly and
// independently of batching, so Amax needs no histogram bins at all
// (histogram.New(1) is enough). AmaxFromMinMax does the same from a min and
// max alone, the form of the calibrator protocol's calib.TensorStats.
//
// NaNs are ignored (as the histogram ignores them); infinities are an
// error wrapping histogram.ErrInf, for the host to report with the tensor's
// name; a histogram with no finite values is ErrEmpty. An all-zero tensor
// gives amax 0 without error. A TensorRT cache stores amax/127 as float32
// bits: amax exactly 1 (MNIST pixels/255, a softmax output) is 3c010204.
package minmax
