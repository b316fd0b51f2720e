// Package layererr measures how far a quantized run strays from its FP32
// reference, tensor by tensor: the numbers behind `int8cal debug`.
//
// Metrics accumulates one tensor's error over any number of batches as
// sums (Σref², Σ(ref−x)², Σref·x, Σ|ref−x| …), so that four batches give
// the same SQNR as one batch of all their samples, never an average of
// per-batch ratios. A NaN or infinity in the tested run is counted
// (NonFinite) and makes the affected metrics NaN: a broken layer must show
// in the report, not be averaged away.
//
// Compare drives the engine: one FP32 run, one INT8 run with every scale
// of the table ("accumulated": each layer sees the errors of the layers
// before it) and one INT8 run per quantized layer with only that layer's
// input scales ("alone": the rest of the network in FP32), all observed,
// so that every layer's own output tensor is compared, plus the model's
// outputs. Layers are named by their ONNX node, operator and tensors.
package layererr
