package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// One plugin with two settings is two rows and two caches; --start and
// --score choose the evaluated batches.
func TestCompareCalibratorOptions(t *testing.T) {
	needMNIST(t)
	cache := filepath.Join(t.TempDir(), "cmp")
	code, out, errOut := run("compare", "--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrators", "minmax,legacy:quantile=0.999,legacy:quantile=0.9999",
		"--cache", cache, "--cal-batches", "2", "--batch", "100", "--start", "2", "score=3", "--format", "json", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []compareRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	noFloatNoise(t, out)
	var names []string
	for _, r := range rows {
		names = append(names, r.Name)
	}
	if got, want := strings.Join(names, ","), "FP32,minmax,legacy:quantile=0.999,legacy:quantile=0.9999"; got != want {
		t.Errorf("rows %s, want %s", got, want)
	}
	for _, suffix := range []string{".minmax", ".legacy-quantile=0.999", ".legacy-quantile=0.9999"} {
		if _, err := os.Stat(cache + suffix); err != nil {
			t.Errorf("no cache per calibrator: %v", err)
		}
	}
}

// Every spec is checked before anything is evaluated or written.
func TestCompareErrors(t *testing.T) {
	needMNIST(t)
	cache := filepath.Join(t.TempDir(), "cmp")
	for _, tc := range []struct{ calibrators, want string }{
		{"minmax,legacy:quantle=0.999", `--calibrators legacy:quantle=0.999: calibrator plugin "legacy"`},
		{"minmax,legacy:quantle=0.999", `unknown option "quantle" (options: quantile, regression_cutoff)`},
		{"minmax,legacy:quantile=abc", "option quantile=abc: want a number"},
		{"minmax,nosuch", `calibrator plugin "nosuch" not found`},
		{"minmax,legacy:quantile", `"quantile" in "legacy:quantile" is not KEY=VALUE`},
	} {
		code, out, errOut := run("compare", "--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrators", tc.calibrators, "--cache", cache, "--log-level", "warn")
		if code == 0 || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want an error with %q before any output", tc.calibrators, code, out, errOut, tc.want)
		}
	}
	if m, _ := filepath.Glob(cache + "*"); len(m) > 0 {
		t.Errorf("a refused comparison wrote %q", m)
	}
}
