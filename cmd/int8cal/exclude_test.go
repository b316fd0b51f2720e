package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// --exclude-nodes and --exclude-op-types (comma-separated, repeatable)
// reach the pipeline of run and compare and the Q/DQ export; an entry
// naming nothing of the model fails before any work, naming it. The cases
// run in order: the first writes the table the others read.
func TestExcludeFlags(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	cache := filepath.Join(dir, "table")
	lenet := filepath.Join(dataDir, "lenet.onnx")
	common := []string{"--datadir", dataDir, "--plugin-dir", pluginDir, "--cache", cache, "--calibrator", "minmax"}
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
		want []string // in stdout and stderr together
	}{
		{"run", append([]string{"run", "--precision", "fp32,int8", "score=5", "--exclude-nodes", "conv1", "--exclude-op-types", "Gemm"}, common...), true,
			[]string{`fp32_excluded="conv1 (Conv, by name \"conv1\"), ip1 (Gemm, by op type Gemm), ip2 (Gemm, by op type Gemm)"`, "int8_layers=1 ", "&&&& PASSED"}},
		{"compare", append([]string{"compare", "--calibrators", "minmax", "--batch", "100", "--exclude-nodes", "conv*"}, common[:len(common)-2]...), true,
			[]string{`fp32_excluded="conv1 (Conv, by pattern \"conv*\"), conv2 (Conv, by pattern \"conv*\")"`}},
		{"export", []string{"export", "--model", lenet, "--cache", cache, "--out", filepath.Join(dir, "q.onnx"), "--exclude-nodes", "conv1", "--exclude-nodes", "ip1,ip2"}, true,
			[]string{"1 activation(s) and 1 weight(s) quantized", "3 node(s) excluded", `node "conv1" (Conv) kept in FP32: excluded by name "conv1"`}},
		{"run: unknown op type", append([]string{"run", "--precision", "fp32,int8", "score=5", "--exclude-op-types", "Conv,conv2d"}, common...), false,
			[]string{`--exclude-op-types "conv2d" is not an operator type`}},
		{"compare: pattern matching nothing", append([]string{"compare", "--calibrators", "minmax", "--exclude-nodes", "/layer9/*"}, common[:len(common)-2]...), false,
			[]string{`--exclude-nodes "/layer9/*" matches no node of the model`}},
		{"export: pattern matching nothing", []string{"export", "--model", lenet, "--cache", cache, "--out", filepath.Join(dir, "q2.onnx"), "--exclude-nodes", "conv3"}, false,
			[]string{`--exclude-nodes "conv3" matches no node of the model`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(tc.args...)
			out := stdout + stderr
			if (code == 0) != tc.ok {
				t.Errorf("exit %d, want success %v:\n%s", code, tc.ok, out)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %s:\n%s", want, out)
				}
			}
		})
	}
}
