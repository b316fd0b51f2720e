// Package onnx reads ONNX model files (serialized onnx.ModelProto
// protobuf messages) into plain Go values: the graph's nodes with their
// attributes, its inputs, outputs and value_info with element types and
// shapes, the opset versions it was written against, and its initializers
// as tensor.Tensor values.
//
// The package is the importer's first step and deliberately does no
// interpretation: it does not check that the graph is well formed, sort
// nodes or know what an operator does. It decodes the protobuf wire format
// itself with google.golang.org/protobuf/encoding/protowire, reading only
// the fields the project uses and skipping the rest, so it needs neither
// onnx.proto nor generated code.
//
// Decoding never panics on malformed input. Errors say where the problem
// is, with a path from the model down to the offending value, for example
//
//	onnx: graph.initializer[3] "conv1.weight": raw_data holds 100 bytes, want 2000 for float32 [20,1,5,5]
//
// Tensors whose data lives in external files, sparse initializers and
// element types the tensor package cannot hold are reported as errors that
// name the tensor. Graph-valued attributes (the bodies of If, Loop, Scan)
// are not decoded; Attribute.HasGraph records that one was present.
package onnx
