package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every run logs its inputs' statistics once per role, and warns when the
// evaluation data disagree with the table's input range and when data
// options reach a role that reads no plugin (issue 16, item 5).
func TestInputSanity(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	_, good := calibratedCache(t, dir)
	raw := filepath.Join(dir, "raw") // the input calibrated up to 127, as raw pixels would be
	if err := os.WriteFile(raw, withLine(t, good, "data", "data: 3f800000"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"eval as calibrated", []string{"eval", "--precision", "int8", "--table", filepath.Join(dir, "CalibrationTablelenet")},
			[]string{`evaluation input statistics: data="mnist t10k`, `per_channel="c0 mean=0.1`, "min=0 max=1"}, []string{"WARN"}},
		{"eval against a raw-pixel table", []string{"eval", "--precision", "int8", "--table", raw},
			[]string{"the evaluation data look normalized (max|x| 1) but the model's input was calibrated on values up to 127"}, nil},
		{"options without a plugin", []string{"eval", "--eval-opt", "scale=1"},
			[]string{"data set options were given for the evaluation data, which no plugin reads", "--eval-data"}, nil},
		{"run: each role once", []string{"run", "--cache", filepath.Join(dir, "CalibrationTablelenet"), "--calibrator", "minmax", "--cal-batches", "2", "score=2"},
			[]string{"calibration input statistics", "evaluation input statistics"}, []string{"WARN"}},
	} {
		code, out, errOut := run(append(tc.args, "--datadir", dataDir, "--plugin-dir", pluginDir, "--score", "2")...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", tc.name, code, out, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: the log lacks %q:\n%s", tc.name, w, errOut)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(errOut, w) {
				t.Errorf("%s: the log has %q:\n%s", tc.name, w, errOut)
			}
		}
		for _, role := range []string{"calibration", "evaluation"} {
			if n := strings.Count(errOut, role+" input statistics"); n > 1 {
				t.Errorf("%s: %s statistics logged %d times", tc.name, role, n)
			}
		}
	}
}

// eval --format json carries the scores, the run's inputs and the data's
// statistics, for scripts.
func TestEvalJSON(t *testing.T) {
	needMNIST(t)
	cache, _ := calibratedCache(t, t.TempDir())
	code, out, errOut := run("eval", "--datadir", dataDir, "--precision", "int8", "--table", cache, "--batch", "100", "--start", "1", "--score", "2", "--format", "json", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r evalJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	in := r.Input
	if r.Precision != "INT8" || r.Table != cache || r.Images != 200 || r.Start != 1 || r.Top1 < 0.95 || in == nil || in.Samples != 100 ||
		len(in.Channels) != 1 || in.Channels[0].Min != 0 || in.Channels[0].Max != 1 || in.Channels[0].Mean <= 0 {
		t.Errorf("eval's JSON: %s", out)
	}
	noFloatNoise(t, out)
	checkMetadata(t, r.Metadata, cache)
	if code, _, errOut := run("eval", "--datadir", dataDir, "--format", "xml"); code == 0 || !strings.Contains(errOut, `--format "xml" unknown`) {
		t.Errorf("--format xml: exit %d, %s", code, errOut)
	}
}
