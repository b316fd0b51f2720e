// Package abi calls TensorRT's C++ objects from Go without cgo, through
// ebitengine/purego, and builds the application-side objects (ILogger,
// IInt8Calibrator) TensorRT calls back into. It is the bottom layer of the
// TensorRT backend (issue 7).
//
// TensorRT exports only a few C functions (createInferBuilder_INTERNAL,
// createInferRuntime_INTERNAL, getInferLibVersion; the ONNX parser's
// createNvOnnxParser_INTERNAL). Everything else is C++ virtual dispatch:
//
//   - a library object (IBuilder, IBuilderConfig, ICudaEngine, …) is a
//     wrapper, [0] vptr, [8] mImpl; its methods are inline calls through
//     mImpl, an apiv::V<Class>, whose vtable has the two destructor slots
//     first and then the methods in the order include/NvInferImpl.h
//     declares them. Impl reads mImpl, Method a slot's function pointer.
//     Deleting a wrapper calls slot 1 of the wrapper's own vtable (the
//     deleting destructor), which also destroys the implementation.
//   - nvonnxparser::IParser and IParserError are plain abstract classes
//     (no mImpl); their destructor pair sits where it is declared.
//   - structs larger than 16 bytes (Dims64, Dims32 in 8.x) come back
//     through a hidden pointer passed before this (x86-64 psABI).
//
// The slot numbers differ between major versions (10.x only appends to
// 10.0; 11.0 removed methods), so a Lib holds the Slots table for the
// opened library's major version, from ForMajor: 8 (8.6), 10 and 11. They
// were counted from NVIDIA/TensorRT's public headers at the tags named
// beside each table, and are checked by the tests against an ABI test
// double (testdata/trtdouble.cpp) compiled with those declaration orders;
// no full libnvinfer that builds engines was at hand to check them
// against. On a GPU, NVIDIA's lean runtimes 10.16.1 and 11.4.0 (PyPI)
// confirmed the ILogger layouts (TensorRT logging through them from its
// threads), IRuntime's getLogger, setMaxThreads, getMaxThreads and
// deserializeCudaEngine slots, and deletion (TestRealRuntime,
// tools/gpu/trt-check.sh).
//
// Application objects are C-layout objects whose vtables hold
// purego.NewCallback function pointers. purego allows about 2000
// callbacks per process and never frees them, so each callback is made
// once per process (for all objects of a kind) and finds its Go object
// through the object's address (the this pointer) in a registry. The
// vtables are package-level arrays (never moved, never freed); each object
// is a small Go allocation pinned with runtime.Pinner until it is closed.
// IInt8LegacyCalibrator's getQuantile and getRegressionCutoff return
// doubles, which purego callbacks cannot: they return struct{ float64 },
// which the x86-64 psABI returns in XMM0 like a double (amd64 only).
package abi
