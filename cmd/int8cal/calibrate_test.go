package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/internal/testfixture"
)

var pluginDir string

// TestMain builds the bundled calibrator and data set plugins, as `make`
// does, so that the CLI tests start the real plugin binaries.
func TestMain(m *testing.M) {
	dir, err := testfixture.BuildPlugins()
	if err != nil {
		panic(err)
	}
	pluginDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestPluginsListsBundledCalibrators(t *testing.T) {
	code, out, errOut := run("plugins", "--plugin-dir", pluginDir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"calibrator minmax", "protocol 1", "MinMaxCalibration", "calibrator entropy2", "calibrator legacy",
		"calibrator entropy ", "algorithm EntropyCalibration;", "calibrator percentile", "calibrator mse", "calibrator aciq"} {
		if !strings.Contains(out, want) {
			t.Errorf("plugins output lacks %q:\n%s", want, out)
		}
	}
}

func TestCalibrateWritesReusesAndRecalibrates(t *testing.T) {
	needMNIST(t)
	cache := filepath.Join(t.TempDir(), "CalibrationTablelenet")
	args := []string{"calibrate", "--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrator", "minmax", "--cache", cache, "--log-level", "info"}
	code, out, errOut := run(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Starting Calibration with batch size 50.\n",
		"Calibrated batch 0 in ", "Calibrated batch 9 in ",
		"Post Processing Calibration data in ", "Calibration completed in ",
		"Writing Calibration Cache for calibrator: TRT-8601-MinMaxCalibration\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	table, err := calibtable.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	// Every tensor of the sample's table, plus flatten and relu1; the
	// input's range is exactly 1 (pixel 255/255), encoded 3c010204.
	for _, name := range []string{"data", "conv1", "pool1", "conv2", "pool2", "flatten", "ip1", "relu1", "ip2", "prob"} {
		if _, ok := table.Lookup(name); !ok {
			t.Errorf("table lacks %s", name)
		}
	}
	if e, _ := table.Lookup("data"); e.Hex() != "3c010204" {
		t.Errorf("data: %s, want 3c010204 (amax 1)", e.Hex())
	}
	first, _ := os.ReadFile(cache)

	// Same run: the cache is reused, not rewritten.
	code, out, errOut = run(args...)
	if code != 0 || strings.Contains(out, "Starting Calibration") || !strings.Contains(errOut, "using calibration cache") {
		t.Errorf("second run should reuse the cache: exit %d\n%s\n%s", code, out, errOut)
	}
	// Another batch count: the sidecar differs, so it recalibrates and says why.
	code, out, errOut = run(append(args, "--cal-batches", "5")...)
	if code != 0 || !strings.Contains(out, "Starting Calibration") || !strings.Contains(errOut, "the calibration batches changed") {
		t.Errorf("a changed batch count should recalibrate: exit %d\n%s\n%s", code, out, errOut)
	}
	// Another TensorRT version: the header differs.
	code, out, errOut = run(append(args, "--trt-version", "10.3")...)
	if code != 0 || !strings.Contains(out, "TRT-100300-MinMaxCalibration") || !strings.Contains(errOut, "another TensorRT version") {
		t.Errorf("a changed version should recalibrate: exit %d\n%s\n%s", code, out, errOut)
	}
	// Deterministic: back to the first settings, the same bytes.
	run(args...)
	run(append(args, "--trt-version", "8.6.1", "--cal-batches", "10")...)
	again, _ := os.ReadFile(cache)
	if string(again) != string(first) {
		t.Errorf("same inputs gave a different table:\n%s\nthen\n%s", first, again)
	}
}

func TestCalibrateErrors(t *testing.T) {
	needMNIST(t)
	cache := filepath.Join(t.TempDir(), "table")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown calibrator", []string{"--calibrator", "nosuch"}, `calibrator plugin "nosuch" not found`},
		{"unknown option", []string{"--calibrator", "minmax", "--calibrator-opt", "q=1"}, `unknown option "q"`},
		{"bad option syntax", []string{"--calibrator", "minmax", "--calibrator-opt", "q"}, `"q" is not KEY=VALUE`},
		{"bad version", []string{"--calibrator", "minmax", "--trt-version", "banana"}, "--trt-version"},
		{"too many batches", []string{"--calibrator", "minmax", "--cal-batches", "5000"}, "needs 250000 samples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"calibrate", "--datadir", dataDir, "--plugin-dir", pluginDir, "--cache", cache, "--log-level", "error"}, tc.args...)
			code, _, errOut := run(args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want failure mentioning %q", code, errOut, tc.want)
			}
			if _, err := os.Stat(cache); err == nil {
				t.Errorf("a failed calibration left a table at %s", cache)
			}
		})
	}
}

// Through the real entropy2 plugin, LeNet's table carries TensorRT's
// published values for the input (3c008912) and the softmax (3c010a14).
func TestCalibrateEntropy2MatchesTensorRT(t *testing.T) {
	needMNIST(t)
	cache := filepath.Join(t.TempDir(), "CalibrationTablelenet")
	jsonOut := filepath.Join(t.TempDir(), "table.json")
	code, out, errOut := run("calibrate", "--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrator", "entropy2", "--cache", cache, "--json", jsonOut, "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Writing Calibration Cache for calibrator: TRT-8601-EntropyCalibration2") {
		t.Errorf("output:\n%s", out)
	}
	table, err := calibtable.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"data": "3c008912", "prob": "3c010a14"} {
		if e, _ := table.Lookup(name); e.Hex() != want {
			t.Errorf("%s: %s, want TensorRT's %s", name, e.Hex(), want)
		}
	}
	if b, err := os.ReadFile(jsonOut); err != nil || !strings.Contains(string(b), `"hex": "3c008912"`) {
		t.Errorf("JSON output %s: %v", b, err)
	}
	// legacy with its defaults (99.99th percentile) is at most minmax.
	code, _, errOut = run("calibrate", "--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrator", "legacy", "--calibrator-opt", "quantile=0.999", "--cache", cache, "--log-level", "warn")
	if code != 0 {
		t.Fatalf("legacy: exit %d: %s", code, errOut)
	}
	if table, err = calibtable.ReadFile(cache); err != nil || table.Algorithm != "LegacyCalibration" {
		t.Errorf("legacy table %+v: %v", table, err)
	}
}

// A plugin that crashes mid-calibration fails the command with its name,
// and the cache already there is left exactly as it was.
func TestCrashingPluginLeavesTheCacheAlone(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "int8cal-calibrator-test-crash")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.mode=crash", "-o", bin, "../../core/pluginhost/testdata/testplugin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cache := filepath.Join(dir, "table")
	old := "TRT-8601-EntropyCalibration2\ndata: 3c008912\n" // another algorithm: recalibrates
	os.WriteFile(cache, []byte(old), 0o644)
	code, _, errOut := run("calibrate", "--datadir", dataDir, "--plugin-dir", dir, "--calibrator", "test-crash", "--cache", cache, "--log-level", "error")
	if code == 0 || !strings.Contains(errOut, "test-crash") || !strings.Contains(errOut, "crashed") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if b, _ := os.ReadFile(cache); string(b) != old {
		t.Errorf("the cache changed:\n%s", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("left files behind: %v", entries)
	}
}

// The histogram cache lets a second calibration with other options skip
// the network: no "Starting Calibration" line, a different table.
func TestHistogramCacheSkipsTheNetwork(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	cache, hist := filepath.Join(dir, "table"), filepath.Join(dir, "hist.json")
	base := []string{"calibrate", "--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrator", "legacy", "--cache", cache, "--histogram-cache", hist, "--log-level", "info"}
	code, out, errOut := run(base...)
	if code != 0 || !strings.Contains(out, "Starting Calibration") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	first, _ := calibtable.ReadFile(cache)
	code, out, errOut = run(append(base, "--calibrator-opt", "quantile=0.99")...)
	if code != 0 || strings.Contains(out, "Starting Calibration") || !strings.Contains(errOut, "using histogram cache") {
		t.Fatalf("second run should use the histogram cache: exit %d\n%s\n%s", code, out, errOut)
	}
	second, _ := calibtable.ReadFile(cache)
	a, _ := first.Lookup("conv1")
	b, _ := second.Lookup("conv1")
	if !(b.Amax() < a.Amax()) {
		t.Errorf("quantile 0.99 should give a smaller conv1 range than 0.9999: %v then %v", a.Amax(), b.Amax())
	}
	// Other batches: the histogram cache no longer applies.
	code, out, _ = run(append(base, "--cal-batches", "4")...)
	if code != 0 || !strings.Contains(out, "Starting Calibration") {
		t.Errorf("other batches should recollect: exit %d\n%s", code, out)
	}
}

// A plugin that fails its handshake (here: it speaks only protocol 2) is
// listed with the reason instead of hiding the others.
func TestPluginsListsBrokenPluginWithReason(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-ldflags", "-X main.mode=v2", "-o", filepath.Join(dir, "int8cal-calibrator-future"), "../../core/pluginhost/testdata/testplugin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	code, out, _ := run("plugins", "--plugin-dir", dir, "--log-level", "off")
	if code != 0 || !strings.Contains(out, "calibrator future") || !strings.Contains(out, "unusable") || !strings.Contains(strings.ToLower(out), "version") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// calibrate → export → eval: the QDQ LeNet runs in our engine and scores
// within 0.1% of FP32 on t10k.
func TestExportQDQ(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	cache, out := filepath.Join(dir, "table"), filepath.Join(dir, "lenet_qdq.onnx")
	if code, _, errOut := run("calibrate", "--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrator", "entropy2", "--cache", cache, "--log-level", "warn"); code != 0 {
		t.Fatal(errOut)
	}
	code, stdout, errOut := run("export", "--model", filepath.Join(dataDir, "lenet.onnx"), "--cache", cache, "--out", out)
	if code != 0 || !strings.Contains(stdout, "4 activation(s) and 4 weight(s) quantized") {
		t.Fatalf("export: exit %d\n%s\n%s", code, stdout, errOut)
	}
	code, stdout, errOut = run("eval", "--datadir", dataDir, "--model", out, "--batch", "100", "--log-level", "warn")
	if code != 0 || !strings.Contains(stdout, "Top1: 0.99") {
		t.Errorf("QDQ eval: exit %d\n%s\n%s", code, stdout, errOut)
	}
	if code, _, errOut := run("export", "--model", filepath.Join(dataDir, "lenet.onnx"), "--out", out); code == 0 || !strings.Contains(errOut, "--cache") {
		t.Errorf("missing --cache: exit %d, %q", code, errOut)
	}
}

// compare calibrates with each calibrator and prints one row per result.
func TestCompareJSON(t *testing.T) {
	needMNIST(t)
	code, out, errOut := run("compare", "--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrators", "entropy2,minmax",
		"--cache", filepath.Join(t.TempDir(), "table"), "--format", "json", "--batch", "100", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []compareRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(rows) != 3 || rows[0].Name != "FP32" || rows[1].Name != "entropy2" || rows[2].Name != "minmax" {
		t.Fatalf("rows %+v", rows)
	}
	for _, r := range rows[1:] {
		if r.DeltaTop1 < -0.001 {
			t.Errorf("%s: INT8 Top-1 %.4f more than 0.1%% below FP32 %.4f", r.Name, r.Top1, rows[0].Top1)
		}
	}
}
