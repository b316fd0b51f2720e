// Package tensorrt is int8cal's TensorRT backend (issue 7): it builds a
// TensorRT engine from an ONNX model's bytes, in FP32, FP16 or INT8
// (implicit INT8 through a Go calibrator on TensorRT 8.6 and 10.x,
// CacheCalibrator serving the ranges of a calibration cache int8cal
// wrote; explicit Q/DQ models on every version), and runs it on named
// float32 tensors as a session.Runner.
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
// This package has been checked only against the C++ ABI test double of
// loader/tensorrt/abi (testdata/trtdouble.cpp, built for each major
// version) and the fake libcuda of loader/cudadriver, whose device
// memory is host memory: the order and arguments of the calls, the
// copies, and the destruction of every object once. It has not been run
// against a real TensorRT on a GPU.
package tensorrt
