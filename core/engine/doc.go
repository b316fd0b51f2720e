// Package engine executes a graph on the CPU in FP32, FP16 or INT8.
//
// An Engine plans once per input shape: shape-dependent subgraphs are folded
// to constants, operators are built and their constant weights packed, a
// following Relu or Clip is fused into Conv, Gemm and Add where nothing
// needs to see the intermediate tensor (a bias Add into the MatMul before
// it, and the exporters' five-operator GELU into one Gelu step, gelu.go),
// and every intermediate tensor is given a slot in a small set of buffers
// reused once the tensor is dead; a Reshape, Flatten, Squeeze or
// Unsqueeze of a computed tensor shares its input's slot and does not
// run. Kernels split their work across all cores.
//
// Run splits a batch that the network computes image by image into one
// part per worker (split.go): each part runs in a plan of its own on one
// worker, the parts side by side, and their outputs are copied into the
// whole batch's, the same bytes one plan over all the workers gives. The
// network is checked for that once per input shapes (separable): every
// tensor carries the batch on its first axis at two batch sizes, and every
// operator is one known to keep images apart, with its axis off the batch.
// Observed runs are never split.
//
// An INT8 plan (Options.Precision) swaps in the integer kernels of the
// layers whose inputs have calibrated scales (Options.Int8Scales) and,
// when it fuses, keeps in int8 the tensors that only INT8 layers touch:
// their producer requantizes with its readers' scale, giving the bytes
// the readers would have made of its float32 output, so the results are
// the same either way (Plan.linkInt8).
//
// A run can observe every tensor as it is produced (the graph input, each
// intermediate and the outputs), which is how calibration collects
// activation statistics; an observed plan is built without fusion so that
// every tensor the model names exists. RunObservedChunks runs such a plan
// with each Relu merged into the step right before it when that step
// computes its input (an Add of two same-shape tensors and the Relu in
// one vector pass), handing the values these steps compute to the caller
// piece by piece while they are in cache: calibration fills its
// statistics there instead of reading the tensors again. A Conv that
// computes such a step's input runs in the same step and reports its
// output as it computes it (ops.ProgressRunner: an image, or a Winograd
// block, at a time), and the Relu's pass runs on each part right then.
package engine
