package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/calibrate"
)

func TestParseShard(t *testing.T) {
	slurm := map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4", "SLURM_ARRAY_TASK_COUNT": "4"}
	k8s := map[string]string{"JOB_COMPLETION_INDEX": "2"}
	for _, c := range []struct {
		spec string
		env  map[string]string
		want calibrate.Shard
		err  string
	}{
		{"0/1", nil, calibrate.Shard{Index: 0, Count: 1}, ""},
		{"7/8", nil, calibrate.Shard{Index: 7, Count: 8}, ""},
		{"env", slurm, calibrate.Shard{Index: 2, Count: 4}, ""},
		{"env/4", slurm, calibrate.Shard{Index: 2, Count: 4}, ""},
		{"env/4", k8s, calibrate.Shard{Index: 2, Count: 4}, ""},
		{"8/8", nil, calibrate.Shard{}, `the index "8" is not a number from 0 to 7`},
		{"1/0", nil, calibrate.Shard{}, `the shard count "0" is not a positive number`},
		{"3", nil, calibrate.Shard{}, "give I/N"},
		{"env", nil, calibrate.Shard{}, "SLURM_ARRAY_TASK_ID is not set"},
		{"env", k8s, calibrate.Shard{}, "--shard env/N (Kubernetes Indexed Jobs set JOB_COMPLETION_INDEX)"},
		{"env/4", nil, calibrate.Shard{}, "neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set; give the index: --shard I/4"},
		{"env/2", k8s, calibrate.Shard{}, `JOB_COMPLETION_INDEX "2" is not a number from 0 to 1`},
		{"env/3", slurm, calibrate.Shard{}, "the Slurm array has 4 tasks (SLURM_ARRAY_TASK_COUNT), not 3"},
		{"env", map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "6", "SLURM_ARRAY_TASK_COUNT": "4"}, calibrate.Shard{},
			"not 4 consecutive numbers (a step or a list in --array?)"},
	} {
		got, err := parseShard(c.spec, func(k string) string { return c.env[k] })
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%s %v: %v, %v; want %v", c.spec, c.env, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s %v: %v, want an error with %q", c.spec, c.env, err, c.err)
		}
	}
}

// shardRun runs command (calibrate or merge) on LeNet, calibrated in 8
// batches, with the real plugins.
func shardRun(command string, args ...string) (int, string, string) {
	common := []string{command, "--datadir", dataDir, "--plugin-dir", pluginDir, "--log-level", "warn"}
	if command == "calibrate" {
		common = append(common, "--cal-batches", "8")
	}
	return run(append(common, args...)...)
}

// TestShardsAndMergeWriteTheSingleRunTable: three shards (3, 3 and 2
// batches), merged in two steps through --stats-out, write the table and
// sidecar of one calibrate run; the merged statistics are the histogram
// cache that run writes; and --format json says what was done.
func TestShardsAndMergeWriteTheSingleRunTable(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	single, hist := filepath.Join(dir, "single"), filepath.Join(dir, "single.stats")
	if code, _, errOut := shardRun("calibrate", "--cache", single, "--histogram-cache", hist); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	table := filepath.Join(dir, "table")
	var files []string
	for i := range 3 {
		code, out, errOut := run("calibrate", "--shard", fmt.Sprintf("%d/3", i), "--cache", table, "--format", "json",
			"--datadir", dataDir, "--plugin-dir", pluginDir, "--cal-batches", "8", "--log-level", "warn")
		if code != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, code, errOut)
		}
		var got shardJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		want := fmt.Sprintf("%s.shard-%d-of-3.stats", table, i)
		if got.Statistics != want || got.Index != i || got.Count != 3 || got.Kind != "abs-histogram" || got.Bins != 2048 || got.Batches != 8 {
			t.Errorf("shard %d: %+v", i, got)
		}
		files = append(files, want)
	}
	part := filepath.Join(dir, "part.stats")
	code, out, errOut := shardRun("merge", "--stats-out", part, files[2], files[1])
	if code != 0 || !strings.Contains(out, "no table yet") {
		t.Fatalf("partial merge: exit %d:\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(table); err == nil {
		t.Error("a partial merge wrote a table")
	}
	whole := filepath.Join(dir, "whole.stats")
	code, out, errOut = shardRun("merge", "--cache", table, files[0], "--stats-out", whole, part, "--format", "json")
	if code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errOut)
	}
	var got mergeJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Table != table || !got.Complete || got.Header != "TRT-8601-EntropyCalibration2" {
		t.Errorf("merge JSON %+v (%v):\n%s", got, err, out)
	}
	for _, pair := range [][2]string{{table, single}, {table + ".int8cal.json", single + ".int8cal.json"}, {whole, hist}} {
		a, _ := os.ReadFile(pair[0])
		b, _ := os.ReadFile(pair[1])
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s", pair[0], pair[1])
		}
	}
	// The merged statistics serve minmax as a histogram cache: the network
	// is not run, and the table is the one minmax makes on its own.
	code, _, errOut = run("calibrate", "--calibrator", "minmax", "--cache", filepath.Join(dir, "minmax"), "--histogram-cache", whole,
		"--datadir", dataDir, "--plugin-dir", pluginDir, "--cal-batches", "8", "--log-level", "info")
	if code != 0 || !strings.Contains(errOut, "using histogram cache") {
		t.Errorf("minmax from the merged statistics: exit %d: %s", code, errOut)
	}
}

// TestMergeRefuses: statistics of another model, other data options, a
// missing or repeated shard, a damaged file; and flags that do not go
// together.
func TestMergeRefuses(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	shard := func(spec string, extra ...string) string {
		t.Helper()
		path := filepath.Join(dir, strings.ReplaceAll(spec, "/", "of")+strings.Join(extra, "")+".stats")
		if code, _, errOut := shardRun("calibrate", append([]string{"--shard", spec, "--stats-out", path}, extra...)...); code != 0 {
			t.Fatalf("shard %s: exit %d: %s", spec, code, errOut)
		}
		return path
	}
	a, b, c := shard("0/3"), shard("1/3"), shard("2/3")
	other := shard("1/3", "--cal-first", "50")
	plugin := shard("1/3", "--cal-data", "mnist")
	// A shard run again writes the same bytes (a failed or lost shard is
	// simply rerun).
	before, _ := os.ReadFile(b)
	if again, _ := os.ReadFile(shard("1/3")); !bytes.Equal(before, again) {
		t.Error("a shard run twice wrote other bytes")
	}
	damaged := filepath.Join(dir, "damaged.stats")
	data, _ := os.ReadFile(c)
	data[len(data)/2] ^= 0x40
	if err := os.WriteFile(damaged, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "table")
	for _, tc := range []struct {
		what string
		args []string
		want string
	}{
		{"missing", []string{a, c}, "batches 2-4 of 8 are in none of the files: a shard is missing"},
		{"repeated", []string{a, b, b, c}, "overlap: a shard given twice"},
		{"other batches", []string{a, other, c}, "are not statistics of one calibration: other calibration batches"},
		{"other data", []string{a, plugin, c}, "are not statistics of one calibration: other data or data options"},
		{"damaged", []string{a, b, damaged}, "statistics file " + damaged + ": not a valid int8cal statistics file: its checksum does not match"},
		{"other model", []string{"--model", "../../testdata/models/resnet20.onnx", a, b, c}, "give the model the shards ran"},
		{"no files", nil, "no statistics files"},
		{"table flags", []string{"--cal-batch", "10", a}, "flag provided but not defined: -cal-batch"},
	} {
		code, _, errOut := shardRun("merge", append([]string{"--cache", cache}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, %q; want %q", tc.what, code, errOut, tc.want)
		}
	}
	if _, err := os.Stat(cache); err == nil {
		t.Error("a refused merge wrote a table")
	}
	for _, tc := range []struct {
		what string
		args []string
		want string
	}{
		{"stats-out alone", []string{"--stats-out", filepath.Join(dir, "x")}, "give --shard too"},
		{"report", []string{"--shard", "0/2", "--report", filepath.Join(dir, "r.html")}, "--shard writes statistics, not a table"},
		{"json table", []string{"--shard", "0/2", "--json", filepath.Join(dir, "t.json")}, "--json and --histogram-cache belong to int8cal merge"},
		{"too many shards", []string{"--shard", "3/9"}, "9 shards of 8 calibration batches"},
		{"onto the model", []string{"--shard", "0/2", "--stats-out", dataDir + "/lenet.onnx"}, "is the model, which it would overwrite"},
	} {
		code, _, errOut := shardRun("calibrate", tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("calibrate %s: exit %d, %q; want %q", tc.what, code, errOut, tc.want)
		}
	}
}
