// Package tensor defines the dense n-dimensional array that flows between
// the ONNX importer, the graph IR and the executor.
//
// A Tensor carries its ONNX element type and a shape, and keeps its values in
// one of two backing slices: floating-point types (float32, float16, float64)
// in F32, integer and boolean types (int64, int32, int8, uint8, bool) in I64.
// Widening every element on import keeps the operator set small: kernels are
// written once per family instead of once per ONNX type, and the element type
// still travels with the tensor so that Cast and the INT8 paths know what a
// value originally was. A third slice, I8, holds only the activations an
// INT8 plan passes between its INT8 layers in int8, never a model's values.
package tensor
