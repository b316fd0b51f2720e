package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/engine"
)

// trtDouble builds loader/tensorrt/abi's C++ ABI test double of TensorRT
// 10.x, which also stands in for libnvonnxparser: an engine built from a
// real ONNX model has LeNet's I/O at batch 1 (data, prob) and its
// enqueueV3 writes prob[j] = sum(data) + j, or skips without g++.
func trtDouble(t *testing.T) string {
	t.Helper()
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skipf("no g++ to build the TensorRT ABI test double: %v", err)
	}
	out := filepath.Join(t.TempDir(), "libnvinfer.so.10")
	cmd := exec.Command(cxx, "-std=c++17", "-O1", "-shared", "-fPIC", "-fvisibility=hidden", "-Wl,-Bsymbolic",
		"-DTRT_MAJOR=10", "-o", out, "../../loader/tensorrt/abi/testdata/trtdouble.cpp", "-lpthread")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the double: %v\n%s", err, b)
	}
	return out
}

// TestRunTensorRT runs the sample with --backend tensorrt on the ABI
// double and the fake libcuda: the engines are built and run (the
// double's output is no classifier, so the sample's accuracy check
// fails); INT8 is refused as not yet supported.
func TestRunTensorRT(t *testing.T) {
	needMNIST(t)
	double := trtDouble(t)
	t.Setenv("INT8CAL_NVONNXPARSER_LIB", double)
	base := []string{"run", "--log-level", "error", "--datadir", dataDir, "--backend", "tensorrt", "--tensorrt-lib", double,
		"--cuda-lib", fakeDriver(t), "--batch", "1", "--start", "0", "--score", "3"}

	code, out, errOut := run(append(base, "--precision", "fp32,fp16")...)
	if code == 0 || !strings.Contains(out, "&&&& FAILED int8cal.run") {
		t.Errorf("exit %d: want the sample's accuracy check to fail\n%s", code, out)
	}
	if n := strings.Count(out, "Top1: "); n != 2 {
		t.Errorf("want a score for fp32 and fp16, got %d:\n%s\n%s", n, out, errOut)
	}

	// INT8 from the calibration table's ranges: refused before TensorRT
	// is opened.
	b := &backendFlags{name: "tensorrt", trtLib: double}
	if _, err := b.newRunner(nil, engine.Options{Precision: engine.INT8}, hclog.NewNullLogger()); err == nil || !strings.Contains(err.Error(), "not supported yet") {
		t.Errorf("--backend tensorrt in INT8: want a not-yet error, got %v", err)
	}
	if b.trt != nil {
		t.Error("TensorRT was opened for a refused INT8 engine")
	}
}
