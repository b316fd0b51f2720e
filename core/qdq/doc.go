// Package qdq turns a float ONNX model and a TensorRT calibration table
// into an explicitly quantized ("QDQ") ONNX model, the form TensorRT 10/11
// and ONNX Runtime consume in place of an implicit calibration cache.
//
// [Export] inserts, for every Conv, ConvTranspose, Gemm and MatMul node (the
// operators the CPU engine runs in INT8) and the operators of
// [Options.ExtraOps]:
//
//   - on each activation input x (a tensor computed at run time):
//     x → QuantizeLinear → DequantizeLinear → node, int8 with zero point 0
//     and the table's scale for x (TensorRT's amax/127). One Q/DQ pair is
//     made per tensor and shared by the quantized nodes that read it;
//     other readers keep reading the float tensor. A tensor that is not in
//     the table, or whose scale is not a positive finite number, stays in
//     float and is listed in [Report.Skipped].
//   - on each constant float weight: an int8 initializer, quantized
//     symmetrically to [-127, 127] with round-half-to-even of w/scale, and a
//     DequantizeLinear that restores it. Scales are max|w|/127 per output
//     channel: axis 0 of Conv weights [M, C/g, kh, kw]; axis 1 of
//     ConvTranspose weights [C, M/g, kh, kw] (with groups, the output
//     channels of one index in every group share a scale); axis 0 of Gemm's B
//     with transB=1 ([N, K]) and axis 1 with transB=0 ([K, N]); the last
//     axis of MatMul's B ([..., K, N]). [Options.PerTensorWeights] uses one
//     scale per weight tensor instead. A channel whose weights are all
//     zero gets scale 1 (its values quantize to 0 either way). Weights are
//     the initializers and the tensors computed from initializers alone
//     (a Reshape of an initializer, say, as in the ONNX Model Zoo MNIST
//     model); nodes and initializers left unused by the rewiring are
//     removed.
//   - biases (input 2 of Conv, ConvTranspose and Gemm) are kept in
//     float, as TensorRT expects.
//
// A Gemm or MatMul whose second input is not constant (a MatMul of two
// activations) gets Q/DQ on both inputs as activations. A constant first
// input is left alone and reported. An input already produced by a
// DequantizeLinear is left alone: the model is already quantized there.
//
// The nodes [Options.Exclude] matches (by name, pattern or operator type)
// get neither: they stay in float, as the CPU and CUDA engines keep them
// in FP32 under the same exclusions, and are listed in [Report.Excluded].
//
// # Residual connections and concatenations
//
// Add and Concat get no Q/DQ by default. The engine's INT8 layers write
// float32 and the next INT8 layer quantizes its own input, so a residual
// Add or a Concat of INT8 branches runs in FP32 on the dequantized values
// (its plan log lists them among the operators without an INT8 kernel),
// and the default export keeps them in float to describe the same
// arithmetic. [Options.ExtraOps] = {"Add", "Concat"} puts Q/DQ on their
// activation inputs for runtimes that then fuse them in INT8 (TensorRT);
// such a model rounds those tensors once more than the engine does.
//
// # Opset
//
// Per-axis DequantizeLinear needs opset 13. A model that imports an older
// default-domain opset is relabelled to opset 13 (and IR version 7 at
// least) when every operator it uses means the same at 13 as at its own
// opset (see upgradeSince; Softmax, Squeeze, Unsqueeze, Split, ReduceSum
// and friends changed meaning or moved attributes to inputs and are
// refused); otherwise Export fails and names the nodes in the way. Models
// at opset 13 or later keep their opset.
//
// Initializers listed among the graph inputs (IR version 3 and older) are
// treated as constants; a replaced weight is removed from the inputs too.
package qdq
