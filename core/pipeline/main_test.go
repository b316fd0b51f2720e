package pipeline

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/cuda"
	"github.com/int8cal/int8cal/loader"
)

const dataDir = "../../data/mnist"

var pluginDir string

// TestMain builds the bundled calibrator and data set plugins, as `make`
// does, so that the tests start the real plugin binaries.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "int8cal-plugins")
	if err != nil {
		panic(err)
	}
	calibrators, _ := filepath.Glob("../../plugins/*/main.go")
	datasets, _ := filepath.Glob("../../datasets/plugins/*/main.go")
	for _, e := range append(calibrators, datasets...) {
		kind := "calibrator"
		if strings.Contains(e, "datasets/") {
			kind = "batchstream"
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "int8cal-"+kind+"-"+filepath.Base(filepath.Dir(e))), "./"+filepath.Dir(e))
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			os.Stderr.Write(out)
			panic(err)
		}
	}
	pluginDir = dir
	os.Setenv("INT8CAL_PLUGIN_PATH", dir) // for the Example, which names no directory
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needMNIST(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dataDir, "train-images-idx3-ubyte")); err != nil {
		t.Skipf("MNIST not placed in %s: run `make data` (%v)", dataDir, err)
	}
}

// lenet is a pipeline of LeNet on MNIST with the bundled plugins.
func lenet(t *testing.T, b Backend) *Pipeline {
	t.Helper()
	needMNIST(t)
	p, err := New(Options{Model: filepath.Join(dataDir, "lenet.onnx"), DataDir: dataDir, PluginDir: pluginDir, Backend: b, Log: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// fakeDriver compiles the fake CUDA driver of loader/cudadriver's tests
// (one "Fake GPU"), or skips when there is no C compiler.
func fakeDriver(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skipf("no gcc to build the fake CUDA driver: %v", err)
	}
	out := filepath.Join(t.TempDir(), "libcuda.so.1")
	if b, err := exec.Command(cc, "-shared", "-fPIC", "-o", out, "../../loader/cudadriver/testdata/fakecuda.c").CombinedOutput(); err != nil {
		t.Fatalf("building the fake driver: %v\n%s", err, b)
	}
	return out
}

// trtDouble builds loader/tensorrt/abi's C++ ABI test double of TensorRT
// of the major version, which also stands in for libnvonnxparser (set as
// such here), or skips without g++. Its engines have LeNet's I/O with a
// dynamic batch.
func trtDouble(t *testing.T, major int) string {
	t.Helper()
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skipf("no g++ to build the TensorRT ABI test double: %v", err)
	}
	out := filepath.Join(t.TempDir(), fmt.Sprintf("libnvinfer.so.%d", major))
	cmd := exec.Command(cxx, "-std=c++17", "-O1", "-shared", "-fPIC", "-fvisibility=hidden", "-Wl,-Bsymbolic",
		fmt.Sprintf("-DTRT_MAJOR=%d", major), "-o", out, "../../loader/tensorrt/abi/testdata/trtdouble.cpp", "-lpthread")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the double: %v\n%s", err, b)
	}
	t.Setenv("INT8CAL_NVONNXPARSER_LIB", out)
	return out
}

// doubleRecord returns a function that reads and clears the calls the
// double at path has recorded.
func doubleRecord(t *testing.T, path string) func() string {
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

// cudaLibs are the CUDA libraries with the fake driver.
func cudaLibs(t *testing.T) cuda.Libraries { return cuda.Libraries{Driver: fakeDriver(t)} }
