// Package calibrate is the host side of calibration: it runs the FP32
// network over the calibration batches, gathers the statistics a
// calibrator asks for from every activation tensor (the network input and
// output included), hands them to the calibrator and turns its ranges into
// a TensorRT calibration table.
//
// Statistics are exact and deterministic: histograms grow their range by
// powers of two, merging bins pairwise (calib/histogram), so the same
// inputs give the same table byte for byte whatever the batching.
package calibrate
