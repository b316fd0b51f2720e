// Package tensorrt is int8cal's TensorRT backend: it builds a TensorRT
// engine from an ONNX model's bytes, in FP32, FP16 or INT8, and runs it on
// named float32 tensors as a session.Runner. INT8 comes three ways:
//
//   - implicit, from int8cal's ranges (8.6, 10.x): CacheCalibrator hands
//     TensorRT a calibration cache int8cal wrote (readCalibrationCache),
//     and TensorRT takes every tensor's range from it;
//   - implicit, TensorRT's own calibration (8.6, 10.x): DataCalibrator
//     serves batches to getBatch from device buffers, TensorRT computes
//     the ranges with its implementation of the algorithm (entropy 2,
//     entropy, min-max, legacy) and its table comes back through
//     writeCalibrationCache;
//   - explicit, a model with QuantizeLinear/DequantizeLinear nodes and no
//     calibrator (every version; the only INT8 of 11.x).
//
// Everything is called without cgo: libnvinfer and libnvonnxparser are
// found by loader/tensorrt and called through loader/tensorrt/abi's
// vtable slot tables (TensorRT 8.6, 10.x, 11.x); device memory, the
// context and the stream come from the CUDA driver (loader/cudadriver).
// TensorRT's log messages reach an hclog.Logger.
//
// Shapes: an ONNX graph input whose first dimension is dynamic (symbolic
// or unknown, such as LeNet's N) gets one optimization profile with
// min = opt = max = BuildOptions.Batch; the engine is built for that one
// batch size, and Run sets the input's shape (setInputShape) before the
// first enqueueV3. Other dynamic dimensions are refused, as are I/O
// tensors whose getTensorDataType is not kFLOAT: inputs and outputs are
// float32.
//
// Building and running have been checked only against the C++ ABI test
// double of loader/tensorrt/abi (testdata/trtdouble.cpp, built for each
// major version) and the fake libcuda of loader/cudadriver, whose device
// memory is host memory: the order and arguments of the calls, the
// copies, the batches TensorRT's calibration reads, and the destruction
// of every object once (Checked says how far NVIDIA's real libraries
// went).
package tensorrt
