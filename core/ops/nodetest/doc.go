// Package nodetest runs the ONNX backend node tests (the test_* cases of
// onnx/backend/test/data/node, as Debian's libonnx-testdata installs them)
// for every operator the engine claims (ops.Supported), through the path a
// model takes: core/graph loads model.onnx, core/engine runs it on the
// serialized input TensorProtos, and each output is compared with the
// expected one at ONNX's own tolerance. The package holds only that test;
// `make nodetests` installs the data and runs it.
package nodetest
