package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/engine"
)

// trtDouble builds loader/tensorrt/abi's C++ ABI test double of TensorRT
// 10.x, which also stands in for libnvonnxparser: an engine built from a
// real ONNX model with an optimization profile has LeNet's I/O with a
// dynamic batch (data, prob), which setInputShape fixes, and its
// enqueueV3 writes prob[i][j] = sum(data[i]) + j, or skips without g++.
func trtDouble(t *testing.T) string { return trtDoubleMajor(t, 10) }

// trtDoubleMajor builds the double of another major version.
func trtDoubleMajor(t *testing.T, major int) string {
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
	return out
}

// TestRunTensorRT runs the sample with --backend tensorrt on the ABI
// double and the fake libcuda: the engines are built for the command's
// batch size (LeNet's batch dimension is dynamic) and run (the double's
// output is no classifier, so the sample's accuracy check fails); INT8
// is built from the calibration cache the CPU calibration wrote.
func TestRunTensorRT(t *testing.T) {
	needMNIST(t)
	double := trtDouble(t)
	t.Setenv("INT8CAL_NVONNXPARSER_LIB", double)
	base := []string{"run", "--log-level", "error", "--datadir", dataDir, "--backend", "tensorrt", "--tensorrt-lib", double,
		"--cuda-lib", fakeDriver(t), "--batch", "2", "--start", "0", "--score", "3"}

	code, out, errOut := run(append(base, "--precision", "fp32,fp16")...)
	if code == 0 || !strings.Contains(out, "&&&& FAILED int8cal.run") {
		t.Errorf("exit %d: want the sample's accuracy check to fail\n%s", code, out)
	}
	if n := strings.Count(out, "Top1: "); n != 2 {
		t.Errorf("want a score for fp32 and fp16, got %d:\n%s\n%s", n, out, errOut)
	}

	// The engine's I/O has the command's batch.
	eb := &backendFlags{name: "tensorrt", trtLib: double, model: filepath.Join(dataDir, "lenet.onnx")}
	eb.libs.Driver = fakeDriver(t)
	r, err := eb.newRunner(nil, engine.Options{Precision: engine.FP32}, runSpec{batch: 5}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if io := r.(trtRunner).IO(); len(io) != 2 || !slices.Equal(io[0].Shape, []int{5, 1, 28, 28}) || !slices.Equal(io[1].Shape, []int{5, 10}) {
		t.Errorf("the engine's I/O for batch 5: %+v", io)
	}
	release(r)
	eb.close()

	// INT8: the CPU engine calibrates (TensorRT cannot show the
	// intermediate tensors), then TensorRT builds from the cache the
	// calibration wrote; the engine's plan holds the cache as the
	// double's readCalibrationCache received it.
	cache := filepath.Join(t.TempDir(), "CalibrationTable")
	code, out, errOut = run(append(base, "--precision", "int8", "--plugin-dir", pluginDir, "--calibrator", "minmax", "--cache", cache,
		"--cal-batches", "2", "--cal-batch", "10")...)
	if n := strings.Count(out, "Top1: "); n != 1 || !strings.Contains(out, "Writing Calibration Cache for calibrator: TRT-") {
		t.Errorf("exit %d: want a calibration and an INT8 score:\n%s\n%s", code, out, errOut)
	}
	table, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	ib := &backendFlags{name: "tensorrt", trtLib: double, model: filepath.Join(dataDir, "lenet.onnx")}
	ib.libs.Driver = fakeDriver(t)
	r, err = ib.newRunner(nil, engine.Options{Precision: engine.INT8}, runSpec{batch: 2, int8Cache: cache}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if plan := string(r.(trtRunner).Plan); !strings.Contains(plan, "flags=2\n"+string(table)) {
		t.Errorf("the INT8 plan %q does not hold the cache %q as read by readCalibrationCache", plan, table)
	}
	release(r)
	ib.close()

	// Without a calibration step, INT8 is refused before TensorRT is opened.
	b := &backendFlags{name: "tensorrt", trtLib: double}
	if _, err := b.newRunner(nil, engine.Options{Precision: engine.INT8}, runSpec{batch: 1}, hclog.NewNullLogger()); err == nil || !strings.Contains(err.Error(), "calibration cache") {
		t.Errorf("--backend tensorrt in INT8 without a cache: got %v", err)
	}
	if b.trt != nil {
		t.Error("TensorRT was opened for a refused INT8 engine")
	}
}

// TestTensorRT11INT8Refused: TensorRT 11 has no implicit INT8, so a
// calibration cache cannot be used; the error points to int8cal export.
func TestTensorRT11INT8Refused(t *testing.T) {
	double := trtDoubleMajor(t, 11)
	t.Setenv("INT8CAL_NVONNXPARSER_LIB", double)
	cache := filepath.Join(t.TempDir(), "CalibrationTable")
	if err := os.WriteFile(cache, []byte("TRT-8601-EntropyCalibration2\ndata: 3c010204\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &backendFlags{name: "tensorrt", trtLib: double, model: filepath.Join(dataDir, "lenet.onnx")}
	b.libs.Driver = fakeDriver(t)
	defer b.close()
	if _, err := b.newRunner(nil, engine.Options{Precision: engine.INT8}, runSpec{batch: 1, int8Cache: cache}, hclog.NewNullLogger()); err == nil || !strings.Contains(err.Error(), "int8cal export") {
		t.Errorf("INT8 on 11.x: want a refusal pointing to int8cal export, got %v", err)
	}
}

// TestUseDLACore: --useDLACore=N reaches TensorRT's builder (the double
// has 2 cores unless TRTDOUBLE_DLA_CORES says otherwise), and is refused
// for other backends, for a negative core and where the builder reports
// no DLA cores.
func TestUseDLACore(t *testing.T) {
	needMNIST(t)
	double := trtDouble(t)
	t.Setenv("INT8CAL_NVONNXPARSER_LIB", double)
	base := []string{"run", "--log-level", "error", "--datadir", dataDir, "--tensorrt-lib", double,
		"--cuda-lib", fakeDriver(t), "--batch", "2", "--start", "0", "--score", "2", "--precision", "fp16"}

	code, out, errOut := run(append(base, "--backend", "tensorrt", "--useDLACore", "1")...)
	if n := strings.Count(out, "Top1: "); n != 1 {
		t.Errorf("exit %d: want an FP16 score on DLA core 1:\n%s\n%s", code, out, errOut)
	}
	if _, _, errOut := run(append(base, "--backend", "cpu", "--useDLACore", "0")...); !strings.Contains(errOut, "--useDLACore=0: DLA cores are used only by --backend tensorrt") {
		t.Errorf("--useDLACore with --backend cpu: %s", errOut)
	}
	if _, _, errOut := run(append(base, "--backend", "tensorrt", "--useDLACore", "-3")...); !strings.Contains(errOut, "useDLACore") {
		t.Errorf("--useDLACore -3: %s", errOut)
	}
	t.Setenv("TRTDOUBLE_DLA_CORES", "0")
	if _, _, errOut := run(append(base, "--backend", "tensorrt", "--useDLACore", "0")...); !strings.Contains(errOut, "reports no DLA cores") {
		t.Errorf("--useDLACore on a builder without DLA: %s", errOut)
	}

	// The option reaches BuildOptions.DLACore.
	t.Setenv("TRTDOUBLE_DLA_CORES", "2")
	b := &backendFlags{name: "tensorrt", trtLib: double, model: filepath.Join(dataDir, "lenet.onnx")}
	b.libs.Driver = fakeDriver(t)
	if err := b.dla.Set("1"); err != nil {
		t.Fatal(err)
	}
	defer b.close()
	r, err := b.newRunner(nil, engine.Options{Precision: engine.FP16}, runSpec{batch: 1}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if plan := string(r.(trtRunner).Plan); !strings.Contains(plan, "flags=9\n") { // kFP16 | kGPU_FALLBACK
		t.Errorf("plan %q: want FP16 with GPU fallback (a DLA build)", plan)
	}
	release(r)
}
