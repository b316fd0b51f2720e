package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/calibtable"
)

// A hand-edited table is used as given through --table: its edit shows in
// the scores (pool1's scale shrunk until conv2's input saturates) and the
// file is never rewritten, nor a sidecar written beside it, by run or eval
// (issue 16: --cache recalibrated over an edited table).
func TestTableAsGiven(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	_, good := calibratedCache(t, dir)
	edited := filepath.Join(dir, "edited")
	table := withLine(t, good, "pool1", "pool1: 38000000")
	if err := os.WriteFile(edited, table, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run("eval", "--datadir", dataDir, "--precision", "int8", "--table", edited, "--batch", "100", "--score", "10", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"table " + edited + ", INT8: 10 batches", "Top1: 0.2"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "PASSED") || strings.Contains(out, "FAILED") {
		t.Errorf("eval judged its scores:\n%s", out)
	}
	code, out, errOut = run("run", "--datadir", dataDir, "--plugin-dir", pluginDir, "--table", edited, "--precision", "fp32,int8", "score=10", "--log-level", "warn")
	if code == 0 || !strings.Contains(out, "&&&& FAILED") {
		t.Fatalf("run with the broken table: exit %d\n%s", code, out)
	}
	if !strings.Contains(errOut, "below FP32's 0.996875, more than the threshold 0.01") {
		t.Errorf("run's FAILED does not name the threshold and values: %s", errOut)
	}
	if strings.Contains(out, "Calibration") {
		t.Errorf("run calibrated although --table was given:\n%s", out)
	}
	if b, err := os.ReadFile(edited); err != nil || !bytes.Equal(b, table) {
		t.Errorf("%s was changed (%v)", edited, err)
	}
	if _, err := os.Stat(calibtable.SidecarPath(edited)); err == nil {
		t.Errorf("a sidecar was written beside %s", edited)
	}
}

func TestTableErrors(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	cache, _ := calibratedCache(t, dir)
	foreign := filepath.Join(dir, "foreign")
	os.WriteFile(foreign, []byte("TRT-8601-MinMaxCalibration\nfoo: 3c010204\n"), 0o644)
	zero := filepath.Join(dir, "zero")
	os.WriteFile(zero, []byte("TRT-8601-MinMaxCalibration\ndata: 00000000\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--precision", "int8"}, "--precision int8 needs --table"},
		{[]string{"eval", "--table", cache}, "is for --precision int8; FP32 uses no table"},
		{[]string{"eval", "--precision", "bf16"}, `--precision: "bf16" unknown`},
		{[]string{"eval", "--precision", "int8", "--table", foreign}, `none of the table's 1 tensors ("foo") is a tensor of the model`},
		{[]string{"eval", "--precision", "int8", "--table", zero}, zero},
		{[]string{"eval", "--precision", "int8", "--table", filepath.Join(dir, "none")}, "none"},
		{[]string{"run", "--table", cache, "--cache", cache}, "give one; --table uses a table as given"},
		{[]string{"run", "--table", cache, "--calibrator-opt", "quantile=0.9"}, "nothing is calibrated, so --calibrator-opt"},
		{[]string{"run", "--table", cache, "--histogram-cache", filepath.Join(dir, "h")}, "nothing is calibrated"},
		{[]string{"run", "--table", foreign, "score=1"}, "the table was made for another model"},
	} {
		code, _, errOut := run(append(tc.args, "--datadir", dataDir, "--plugin-dir", pluginDir, "--log-level", "warn")...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error with %q", tc.args, code, errOut, tc.want)
		}
	}
}
