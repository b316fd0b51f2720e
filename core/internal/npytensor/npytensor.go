// Package npytensor reads .npy files as tensors for the tests of the core
// packages: the reference arrays ONNX Runtime writes (tools/ort, stored in
// testdata/golden). It lives with its only users so that the NumPy reader
// (datasets/npy), which data set plugins are built from, does not depend
// on core/tensor.
package npytensor

import (
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/datasets/npy"
)

// Read reads a .npy file of a float or integer type as a float32 tensor
// of its shape, failing the test with the file's name on error.
func Read(tb testing.TB, path string) *tensor.Tensor {
	tb.Helper()
	a, err := npy.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := a.Float32()
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return tensor.FromFloat32(v, a.Shape...)
}

// ReadTyped reads a .npy file as a tensor of its own kind: float arrays as
// float32, integer and boolean ones as int64 (token ids, masks), failing
// the test with the file's name on error.
func ReadTyped(tb testing.TB, path string) *tensor.Tensor {
	tb.Helper()
	a, err := npy.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if strings.Contains(a.Descr, "f") {
		v, err := a.Float32()
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		return tensor.FromFloat32(v, a.Shape...)
	}
	v, err := a.Ints()
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return tensor.FromInt64(v, a.Shape...)
}
