package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/cuda"
	"github.com/int8cal/int8cal/internal/testfixture"
)

const dataDir = "../../data/mnist"

var pluginDir string

// TestMain builds the bundled calibrator and data set plugins, as `make`
// does, so that the tests start the real plugin binaries.
func TestMain(m *testing.M) {
	dir, err := testfixture.BuildPlugins()
	if err != nil {
		panic(err)
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

// trtDouble is the TensorRT ABI double of the major version, set as the
// ONNX parser too.
func trtDouble(t *testing.T, major int) string {
	out := testfixture.TRTDouble(t, major)
	t.Setenv("INT8CAL_NVONNXPARSER_LIB", out)
	return out
}

// cudaLibs are the CUDA libraries with the fake driver.
func cudaLibs(t *testing.T) cuda.Libraries {
	return cuda.Libraries{Driver: testfixture.FakeCUDADriver(t)}
}
