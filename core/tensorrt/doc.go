// Package tensorrt is int8cal's TensorRT backend (issue 7): it builds a
// TensorRT engine from an ONNX model's bytes, in FP32, FP16 or INT8
// (implicit INT8 through a Go calibrator on TensorRT 8.6 and 10.x,
// explicit Q/DQ models on every version), and runs it on named
// float32 tensors as a session.Runner.
//
// Everything is called without cgo: libnvinfer and libnvonnxparser are
// found by loader/tensorrt and called through loader/tensorrt/abi's
// vtable slot tables (TensorRT 8.6, 10.x, 11.x); device memory, the
// context and the stream come from the CUDA driver (loader/cudadriver).
// TensorRT's log messages reach an hclog.Logger.
//
// Limits: I/O tensors must have static shapes (the engine's
// getTensorShape has no -1; there is no setInputShape call yet) and be
// float32 (their data type is not read back from the engine yet).
//
// This package has been checked only against the C++ ABI test double of
// loader/tensorrt/abi (testdata/trtdouble.cpp, built for each major
// version) and the fake libcuda of loader/cudadriver, whose device
// memory is host memory: the order and arguments of the calls, the
// copies, and the destruction of every object once. It has not been run
// against a real TensorRT on a GPU.
package tensorrt
