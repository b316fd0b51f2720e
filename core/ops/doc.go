// Package ops holds the ONNX operators the CPU engine executes: for each
// operator, how its attributes are read and checked, how output shapes
// follow from input shapes, and the FP32 kernel that computes it.
//
// An operator is built once per graph node (Build reads and validates the
// attributes for the model's opset) and then asked, for concrete input
// shapes, for its output shapes (Infer) before being run many times (Run).
// Keeping shape inference next to the kernel means the importer's constant
// folding, the executor's planning and the kernels can never disagree about
// an operator's semantics.
//
// Some operators have a channels-last version (ChannelsLastRole, nhwc.go):
// the engine moves stretches of a network to that layout where it pays,
// converting at their edges (ToChannelsLast, ToChannelsFirst).
package ops
