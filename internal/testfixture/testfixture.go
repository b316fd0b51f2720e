// Package testfixture builds what the host's tests run against: the
// bundled plugin programs, the fake CUDA driver and the TensorRT ABI test
// double; and reads the code blocks of the guides that tests follow. Only tests import it; it finds the sources from its own location,
// so any package's tests can call it.
package testfixture

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/loader"
)

// root is the module's directory, two levels above this file.
func root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testfixture: no caller information to find the module")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// BuildPlugins builds every bundled calibrator and data set plugin, as
// `make` does, into a new temporary directory (int8cal-calibrator-<name>,
// int8cal-batchstream-<name>) and returns it; the caller removes it. It is
// for TestMain, hence no testing.TB.
func BuildPlugins() (string, error) {
	dir, err := os.MkdirTemp("", "int8cal-plugins")
	if err != nil {
		return "", err
	}
	r := root()
	calibrators, _ := filepath.Glob(filepath.Join(r, "plugins", "*", "main.go"))
	datasets, _ := filepath.Glob(filepath.Join(r, "datasets", "plugins", "*", "main.go"))
	for _, main := range append(calibrators, datasets...) {
		kind := "calibrator"
		if strings.Contains(filepath.ToSlash(main), "/datasets/plugins/") {
			kind = "batchstream"
		}
		src := filepath.Dir(main)
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "int8cal-"+kind+"-"+filepath.Base(src)), ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("building %s: %v\n%s", src, err, out)
		}
	}
	return dir, nil
}

// FakeCUDADriver compiles loader/cudadriver's fake CUDA driver (one "Fake
// GPU", set up through FAKECUDA_* variables) as libcuda.so.1 in a temporary
// directory, or skips t when there is no C compiler; CI has gcc but no GPU.
func FakeCUDADriver(t testing.TB) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skipf("no gcc to build the fake CUDA driver: %v", err)
	}
	out := filepath.Join(t.TempDir(), "libcuda.so.1")
	src := filepath.Join(root(), "loader", "cudadriver", "testdata", "fakecuda.c")
	if b, err := exec.Command(cc, "-shared", "-fPIC", "-o", out, src).CombinedOutput(); err != nil {
		t.Fatalf("building the fake driver: %v\n%s", err, b)
	}
	return out
}

// TRTDouble builds loader/tensorrt/abi's C++ ABI test double of TensorRT of
// the major version, or skips t without g++. The double also stands in for
// libnvonnxparser: an engine built from a real ONNX model with an
// optimization profile has LeNet's I/O with a dynamic batch (data, prob),
// which setInputShape fixes, and its enqueueV3 writes
// prob[i][j] = sum(data[i]) + j.
func TRTDouble(t testing.TB, major int) string {
	t.Helper()
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skipf("no g++ to build the TensorRT ABI test double: %v", err)
	}
	out := filepath.Join(t.TempDir(), fmt.Sprintf("libnvinfer.so.%d", major))
	src := filepath.Join(root(), "loader", "tensorrt", "abi", "testdata", "trtdouble.cpp")
	cmd := exec.Command(cxx, "-std=c++17", "-O1", "-shared", "-fPIC", "-fvisibility=hidden", "-Wl,-Bsymbolic",
		fmt.Sprintf("-DTRT_MAJOR=%d", major), "-o", out, src, "-lpthread")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the double: %v\n%s", err, b)
	}
	return out
}

// DoubleRecord returns a function that reads and clears the calls the
// TensorRT double at path has recorded (the library the code under test
// loaded: the same file is the same library).
func DoubleRecord(t testing.TB, path string) func() string {
	t.Helper()
	lib, err := loader.Open(&loader.Spec{Name: "TensorRT ABI double", Sonames: []string{path}}, "")
	if err != nil {
		t.Fatal(err)
	}
	var log func(buf *byte, n int64) int64
	var reset func()
	if err := lib.BindAll(loader.Binding{Fn: &log, Symbol: "trtdouble_log"}, loader.Binding{Fn: &reset, Symbol: "trtdouble_reset"}); err != nil {
		t.Fatal(err)
	}
	reset()
	return func() string {
		n := log(nil, 0)
		buf := make([]byte, n+1)
		n = log(&buf[0], n)
		reset()
		return string(buf[:n])
	}
}
