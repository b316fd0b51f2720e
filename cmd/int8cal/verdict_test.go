package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/datasets/npy"
)

// poisonedLeNet writes LeNet with every weight of its last initializer set
// to v, so that every output is v or NaN.
func poisonedLeNet(t *testing.T, v float32) string {
	t.Helper()
	m, err := onnx.ReadFile(filepath.Join(dataDir, "lenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	inits := m.Graph.Initializers
	w := inits[len(inits)-1].Tensor.F32
	for i := range w {
		w[i] = v
	}
	path := filepath.Join(t.TempDir(), "poisoned.onnx")
	if err := onnx.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	return path
}

// Regression (issue 13, finding 1): a model whose outputs are NaN or Inf
// scored Top1 1 in eval, and run --precision fp32,fp16 printed PASSED.
func TestNonFiniteScoresNeverPass(t *testing.T) {
	needMNIST(t)
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		model := poisonedLeNet(t, v)
		code, out, errOut := run("run", "--log-level", "error", "--datadir", dataDir, "--model", model, "batch=32", "start=0", "score=2", "--precision", "fp32,fp16")
		if code == 0 || !strings.Contains(out, "&&&& FAILED") || strings.Contains(out, "PASSED") {
			t.Errorf("%v weights: run exit %d, want FAILED:\n%s", v, code, out)
		}
		if !strings.Contains(out, "Top1: 0, Top5: 0") || !strings.Contains(out, `Warning: output "prob" held 640 NaN or infinite values in 64 of the 64 images scored (first in batch 0)`) {
			t.Errorf("%v weights: the report should count no image correct and say why:\n%s", v, out)
		}
		if !strings.Contains(errOut, "FAILED: FP32 output") || !strings.Contains(errOut, "FAILED: FP16 output") {
			t.Errorf("%v weights: stderr should give each failing precision:\n%s", v, errOut)
		}
		code, out, errOut = run("eval", "--log-level", "error", "--datadir", dataDir, "--model", model, "--batch", "100", "--score", "2")
		if code == 0 || !strings.Contains(out, "Top1: 0, Top5: 0") || !strings.Contains(errOut, "not all finite") {
			t.Errorf("%v weights: eval exit %d, want Top1 0 and an error:\n%s\n%s", v, code, out, errOut)
		}
	}
}

// Regression (issue 13, findings 1 and 7): all-NaN data through the npy
// plugin scored Top1 1; now the data set and the sample are named.
func TestNonFiniteDataNamesTheDataSet(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	x, y := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	images := make([]float32, 4*28*28)
	images[2*28*28+30] = float32(math.Inf(1))
	for i := 3 * 28 * 28; i < len(images); i++ {
		images[i] = float32(math.NaN())
	}
	if err := npy.Write(x, npy.NewFloat32([]int{4, 1, 28, 28}, images)); err != nil {
		t.Fatal(err)
	}
	labels := &npy.Array{Descr: "|u1", Shape: []int{4}, Data: []byte{1, 2, 3, 4}}
	if err := npy.Write(y, labels); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run("eval", "--log-level", "error", "--datadir", dataDir, "--plugin-dir", pluginDir, "--batch", "2",
		"--eval-data", "npy", "--eval-opt", "x="+x, "--eval-opt", "y="+y)
	if code == 0 || strings.Contains(out, "Top1") {
		t.Errorf("exit %d, want no score:\n%s", code, out)
	}
	for _, want := range []string{"evaluation data (plugin npy", x, "sample 2 holds +Inf at [0 1 2]"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("error %q lacks %q", errOut, want)
		}
	}
	// Calibration reads through the same check: the data, not the
	// network, is blamed.
	code, _, errOut = run("calibrate", "--log-level", "error", "--datadir", dataDir, "--plugin-dir", pluginDir, "--cache", filepath.Join(dir, "table"),
		"--cal-data", "npy", "--cal-opt", "x="+x, "--cal-opt", "y="+y, "--cal-batch", "2", "--cal-batches", "2")
	if code == 0 || !strings.Contains(errOut, "calibration data (plugin npy") || !strings.Contains(errOut, "sample 2 holds +Inf") || strings.Contains(errOut, "overflows") {
		t.Errorf("calibrate: exit %d, %q", code, errOut)
	}
}

// run --format json writes the report as one JSON object on stdout: the
// metadata, each precision's score and the verdict; the text goes to
// stderr.
func TestRunJSON(t *testing.T) {
	needMNIST(t)
	table := filepath.Join(t.TempDir(), "table")
	code, out, errOut := run("run", "--format", "json", "--datadir", dataDir, "--plugin-dir", pluginDir, "--cache", table, "score=4", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var r runJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	noFloatNoise(t, out)
	m := r.Metadata
	if m == nil || len(m.ModelSHA256) != 64 || m.Calibrator != "entropy2" || m.Table != table || m.Backend != "cpu" ||
		m.Data["evaluation"].Split != "train" || m.Data["calibration"].Split != "train" || m.GoVersion == "" || m.Platform == "" {
		t.Errorf("metadata: %+v", m)
	}
	if r.Status != "PASSED" || r.Batches != 4 || r.Start != 16 || len(r.Scores) != 3 || r.Scores[2].Precision != "INT8" || r.Scores[0].Images != 128 || r.Scores[0].Top1 < 0.9 {
		t.Errorf("report: %+v", r)
	}
	if !strings.Contains(errOut, "&&&& PASSED int8cal.run") {
		t.Errorf("stderr:\n%s", errOut)
	}
}
