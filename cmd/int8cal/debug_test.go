package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type debugJSON struct {
	Metadata  *metadata
	Model     string
	Table     string
	Quantized int `json:"quantized_layers"`
	Layers    []struct {
		Node        string
		Accumulated struct {
			SQNR any `json:"sqnr_db"`
		}
	}
}

// debug runs int8cal debug on LeNet with table and returns its JSON.
func debug(t *testing.T, table string, args ...string) debugJSON {
	t.Helper()
	code, out, errOut := run(append([]string{"debug", "--datadir", dataDir, "--table", table, "--batches", "2", "--format", "json", "--log-level", "warn"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r debugJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	return r
}

func TestDebugLeNet(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	cache, before := calibratedCache(t, dir)
	r := debug(t, cache)
	// conv1, conv2, ip1, ip2: every Conv and Gemm once.
	if r.Quantized != 4 || len(r.Layers) != 4 || r.Table != cache || !strings.HasSuffix(r.Model, "lenet.onnx") {
		t.Errorf("want the model, the table and 4 layers: %+v", r)
	}
	checkMetadata(t, r.Metadata, cache)
	for _, l := range r.Layers {
		if q, ok := l.Accumulated.SQNR.(float64); !ok || q <= 0 {
			t.Errorf("node %q: accumulated SQNR %v, want a positive number", l.Node, l.Accumulated.SQNR)
		}
	}
	if after, _ := os.ReadFile(cache); !bytes.Equal(before, after) {
		t.Error("debug changed the table")
	}

	// conv2's input quantized with amax 127 (scale 1.0), about 28 times the calibrated one.
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, withLine(t, before, "pool1", "pool1: 3f800000"), 0o644)
	if r := debug(t, bad, "--top", "1"); len(r.Layers) != 1 || r.Layers[0].Node != "conv2" {
		t.Errorf("with pool1's scale 28× too large, the worst layer alone is %+v, want conv2", r.Layers)
	}

	if r := debug(t, cache, "--exclude-nodes", "conv2", "--exclude-op-types", "Gemm"); r.Quantized != 1 || r.Layers[0].Node != "conv1" {
		t.Errorf("with conv2 and the Gemms kept in FP32, the layers are %+v, want conv1 alone", r.Layers)
	}

	code, out, errOut := run("debug", "--datadir", dataDir, "--cache", cache, "--batches", "1", "--sort", "accumulated", "--log-level", "warn")
	if code != 0 || !strings.Contains(out, "worst first by accumulated SQNR") || !strings.Contains(out, "SQNR acc dB") || !strings.Contains(out, "model output prob") {
		t.Errorf("text report: exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestDebugErrors(t *testing.T) {
	needMNIST(t)
	cache, _ := calibratedCache(t, t.TempDir())
	missing := filepath.Join(t.TempDir(), "nothing")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "--table is required"},
		{[]string{"--table", cache, "--format", "xml"}, `--format "xml" unknown`},
		{[]string{"--table", cache, "--sort", "depth"}, `--sort "depth" unknown`},
		{[]string{"--table", cache, "--batches", "0"}, "--batches 0"},
		{[]string{"--table", cache, "--top", "-1"}, "--top -1"},
		{[]string{"--table", cache, "--batch-size", "3"}, "flag provided but not defined"},
		{[]string{"--table", missing}, missing},
		{[]string{"--table", cache, "--batches", "100000"}, "batch"},
	}
	for _, tt := range tests {
		code, _, errOut := run(append([]string{"debug", "--datadir", dataDir, "--log-level", "warn"}, tt.args...)...)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("debug %v: exit %d, stderr %q; want an error with %q", tt.args, code, errOut, tt.want)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("debug wrote %s", missing)
	}
}
