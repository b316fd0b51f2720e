// Package calibrate is the host side of calibration: it runs the FP32
// network over the calibration batches, gathers the statistics a
// calibrator asks for from every activation tensor (the network input and
// output included), hands them to the calibrator and turns its ranges into
// a TensorRT calibration table.
//
// Statistics are exact and deterministic: histograms grow their range by
// powers of two, merging bins pairwise (calib/histogram), so the same
// inputs give the same table byte for byte whatever the batching.
//
// Collection runs where the values are: with a runner that can hand over
// pieces of tensors (ChunkRunner, the CPU engine's RunObservedChunks), the
// outputs of each Relu, and of an Add feeding one, are added to per-worker
// partial statistics piece by piece as the engine computes them, while
// they are in cache; the other tensors are split over the cores after
// their step. Either way each worker fills its own partial histogram and
// the parts merge exactly, so the split does not change a byte.
//
// A calibration can also be split over processes or machines: RunShard
// collects the statistics of a part of the batches into a statistics file
// (core/stats), and a job whose Merged statistics are the shards' merged
// calibrates from them without running the network. Merging being exact,
// the table is the one a single job writes.
package calibrate
