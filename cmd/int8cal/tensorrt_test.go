package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/internal/gpulibs"
	"github.com/int8cal/int8cal/internal/testfixture"
)

// TestRunTensorRT runs the sample with --backend tensorrt on the ABI
// double and the fake libcuda: the engines are built for the command's
// batch size (LeNet's batch dimension is dynamic) and run (the double's
// output is no classifier, so the sample's accuracy check fails); INT8
// is built from the calibration cache the CPU calibration wrote.
func TestRunTensorRT(t *testing.T) {
	needMNIST(t)
	double := testfixture.TRTDouble(t, 10)
	t.Setenv("INT8CAL_NVONNXPARSER_LIB", double)
	base := []string{"run", "--log-level", "error", "--datadir", dataDir, "--backend", "tensorrt", "--tensorrt-lib", double,
		"--cuda-lib", testfixture.FakeCUDADriver(t), "--batch", "2", "--start", "0", "--score", "3"}

	code, out, errOut := run(append(base, "--precision", "fp32,fp16")...)
	if code == 0 || !strings.Contains(out, "&&&& FAILED int8cal.run") {
		t.Errorf("exit %d: want the sample's accuracy check to fail\n%s", code, out)
	}
	if n := strings.Count(out, "Top1: "); n != 2 {
		t.Errorf("want a score for fp32 and fp16, got %d:\n%s\n%s", n, out, errOut)
	}

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
}

// TestUseDLACore: --useDLACore=N reaches TensorRT's builder (the double
// has 2 cores unless TRTDOUBLE_DLA_CORES says otherwise), and is refused
// for other backends, for a negative core and where the builder reports
// no DLA cores.
func TestUseDLACore(t *testing.T) {
	needMNIST(t)
	double := testfixture.TRTDouble(t, 10)
	t.Setenv("INT8CAL_NVONNXPARSER_LIB", double)
	base := []string{"run", "--log-level", "error", "--datadir", dataDir, "--tensorrt-lib", double,
		"--cuda-lib", testfixture.FakeCUDADriver(t), "--batch", "2", "--start", "0", "--score", "2", "--precision", "fp16"}

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

}

// TestTensorRTQDQ builds INT8 from the Q/DQ model of the calibration
// cache: the default on 11.x (which has no implicit INT8), asked for with
// --tensorrt-int8 qdq on 10.x. The double counts the Q/DQ nodes of the
// model its parser got; kINT8 is set only where it exists.
func TestTensorRTQDQ(t *testing.T) {
	needMNIST(t)
	for _, c := range []struct {
		major int
		args  []string
		flags int
	}{{11, nil, 0}, {10, []string{"--tensorrt-int8", "qdq"}, 2}} {
		t.Run(fmt.Sprint("TensorRT", c.major), func(t *testing.T) {
			double := testfixture.TRTDouble(t, c.major)
			t.Setenv("INT8CAL_NVONNXPARSER_LIB", double)
			cache := filepath.Join(t.TempDir(), "CalibrationTable")
			args := append([]string{"run", "--log-level", "error", "--datadir", dataDir, "--backend", "tensorrt", "--tensorrt-lib", double,
				"--cuda-lib", testfixture.FakeCUDADriver(t), "--batch", "2", "--start", "0", "--score", "3", "--precision", "int8",
				"--plugin-dir", pluginDir, "--calibrator", "entropy2", "--cache", cache, "--cal-batches", "2", "--cal-batch", "10"}, c.args...)
			code, out, errOut := run(args...)
			if n := strings.Count(out, "Top1: "); n != 1 {
				t.Errorf("exit %d: want an INT8 score:\n%s\n%s", code, out, errOut)
			}
		})
	}
}

// TestTensorRTCalibrates: with --tensorrt-int8 tensorrt, TensorRT's own
// calibration reads int8cal's calibration data through getBatch and its
// table lands in --cache, from calibrate and from run.
func TestTensorRTCalibrates(t *testing.T) {
	needMNIST(t)
	double := testfixture.TRTDouble(t, 10)
	t.Setenv("INT8CAL_NVONNXPARSER_LIB", double)
	dir := t.TempDir()
	base := []string{"--log-level", "error", "--datadir", dataDir, "--backend", "tensorrt", "--tensorrt-lib", double,
		"--cuda-lib", testfixture.FakeCUDADriver(t), "--tensorrt-int8", "tensorrt", "--cal-batches", "2", "--cal-batch", "10"}

	// calibrate: an engine of the calibration batch size, 2 batches. A
	// sidecar of an earlier int8cal calibration goes: it described
	// another table.
	cache := filepath.Join(dir, "legacy.table")
	if err := os.WriteFile(calibtable.SidecarPath(cache), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(append([]string{"calibrate", "--calibrator", "legacy", "--calibrator-opt", "quantile=0.999", "--cache", cache}, base...)...)
	if code != 0 || !strings.Contains(out, "wrote "+cache+" (TensorRT's LegacyCalibration)") {
		t.Errorf("calibrate: exit %d\n%s\n%s", code, out, errOut)
	}
	// The double's table: its header, and the data's scale from the
	// largest pixel of the 20 images (1.0 after the sample's scaling).
	if b, err := os.ReadFile(cache); err != nil || string(b) != "TRT-101601-LegacyCalibration\ndata: 3c010204\nprob: 3c010a14\n" {
		t.Errorf("the cache TensorRT wrote: %q, %v", b, err)
	}
	if _, err := os.Stat(calibtable.SidecarPath(cache)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the stale sidecar: %v, want it removed", err)
	}

	// run: the INT8 engine of the run's batch size (2) is the one
	// calibrated, from 10 batches.
	cache = filepath.Join(dir, "entropy2.table")
	code, out, errOut = run(append([]string{"run", "--calibrator", "entropy2", "--cache", cache, "--batch", "2", "--start", "0", "--score", "3", "--precision", "int8"}, base...)...)
	if n := strings.Count(out, "Top1: "); n != 1 || strings.Contains(out, "Writing Calibration Cache") {
		t.Errorf("run: exit %d: want an INT8 score and no calibration by int8cal:\n%s\n%s", code, out, errOut)
	}
	if b, err := os.ReadFile(cache); err != nil || !strings.HasPrefix(string(b), "TRT-101601-EntropyCalibration2\n") {
		t.Errorf("the cache TensorRT wrote: %q, %v", b, err)
	}

	// compare: each of TensorRT's algorithms calibrates and scores.
	code, out, errOut = run(append([]string{"compare", "--calibrators", "entropy2,minmax", "--cache", filepath.Join(dir, "cmp"), "--batch", "10", "--format", "csv"}, base...)...)
	if code != 0 || !strings.Contains(out, "\nentropy2,") || !strings.Contains(out, "\nminmax,") {
		t.Errorf("compare: exit %d: want a row per algorithm:\n%s\n%s", code, out, errOut)
	}
	for _, name := range []string{"entropy2", "minmax"} {
		if _, err := os.Stat(filepath.Join(dir, "cmp."+name)); err != nil {
			t.Errorf("compare: TensorRT's %s table: %v", name, err)
		}
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--calibrator", "percentile"}, `TensorRT has no calibrator "percentile"`},
		{[]string{"--calibrator", "legacy", "--calibrator-opt", "quantile=2"}, "quantile must be in [0, 1], got 2"},
		{[]string{"--calibrator", "minmax", "--calibrator-opt", "quantile=0.9"}, "MinMaxCalibration calibrator has no such option"},
		{[]string{"run", "--calibrator", "minmax", "--batch", "32", "--precision", "int8", "--cache", filepath.Join(dir, "t")}, "the 20 calibration samples (--cal-batch × --cal-batches) make no batch of 32"},
	} {
		cmd := "calibrate"
		if c.args[0] == "run" {
			cmd, c.args = "run", c.args[1:]
		}
		args := append(append([]string{cmd}, base...), c.args...)
		if code, _, errOut := run(args...); code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, want an error saying %q:\n%s", c.args, code, c.want, errOut)
		}
	}
}

// TestTensorRTINT8Flag: --tensorrt-int8 is checked against the backend
// and the TensorRT version before anything runs.
func TestTensorRTINT8Flag(t *testing.T) {
	needMNIST(t)
	double11 := testfixture.TRTDouble(t, 11)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--backend", "cpu", "--tensorrt-int8", "qdq"}, "only --backend tensorrt builds INT8 that way"},
		{[]string{"--backend", "tensorrt", "--tensorrt-lib", double11, "--tensorrt-int8", "cache"}, "use --tensorrt-int8=qdq"},
		{[]string{"--backend", "tensorrt", "--tensorrt-lib", double11, "--tensorrt-int8", "tensorrt"}, "which TensorRT 11.1.0 removed"},
		{[]string{"--backend", "tensorrt", "--tensorrt-lib", double11, "--tensorrt-int8", "fast"}, "--tensorrt-int8=fast unknown: want cache, qdq or tensorrt"},
	} {
		args := append([]string{"calibrate", "--datadir", dataDir}, c.args...)
		if code, _, errOut := run(args...); code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, want an error saying %q:\n%s", c.args, code, c.want, errOut)
		}
	}
}

// TestTensorRTLeanRuntime: NVIDIA's lean runtime (the wheels `make
// trtlibs` installs) loads and has a supported version, but cannot build:
// --backend tensorrt says so before any work.
func TestTensorRTLeanRuntime(t *testing.T) {
	wheels := gpulibs.TensorRT("../..")
	if len(wheels) == 0 {
		t.Skip("no TensorRT wheels in .trtlibs (make trtlibs)")
	}
	for _, w := range wheels {
		if !w.Lean {
			continue
		}
		code, _, errOut := run("calibrate", "--datadir", dataDir, "--backend", "tensorrt", "--tensorrt-lib", w.Infer)
		if code == 0 || !strings.Contains(errOut, "a lean or dispatch runtime cannot build engines") {
			t.Errorf("%s: exit %d, want a refusal naming the lean runtime:\n%s", w.Infer, code, errOut)
		}
	}
}
