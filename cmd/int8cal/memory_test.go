package main

import (
	"github.com/int8cal/int8cal/internal/memlimit"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// mnistModel writes, with the ONNX encoder, a model of an MNIST batch
// ("data", [N,1,28,28]) through the given nodes and initializers to "y".
func mnistModel(t *testing.T, nodes []*onnx.Node, inits ...*onnx.Initializer) string {
	t.Helper()
	m := &onnx.Model{IRVersion: 7, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Name: "limits", Nodes: nodes, Initializers: inits,
		Inputs:  []*onnx.ValueInfo{{Name: "data", DType: tensor.Float32, HasShape: true, Dims: []onnx.Dim{{Param: "N"}, {Value: 1}, {Value: 28}, {Value: 28}}}},
		Outputs: []*onnx.ValueInfo{{Name: "y"}},
	}}
	path := filepath.Join(t.TempDir(), "limits.onnx")
	if err := onnx.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	return path
}

// The models, end to end: a 1 kB model whose ConstantOfShape asks
// for 4 GiB at load time (calibrate used 4.2 GB) and a Pad of 8192 that
// asks for 50 GiB of buffers (Go's fatal "out of memory") are refused
// under --memory-limit or $INT8CAL_MEMORY_LIMIT, naming the node, the
// tensor and the sizes; a size that is not one is a usage error.
func TestMemoryLimit(t *testing.T) {
	needMNIST(t)
	constantOfShape := mnistModel(t, []*onnx.Node{
		{Name: "cos", OpType: "ConstantOfShape", Inputs: []string{"dims"}, Outputs: []string{"c"}},
		{Name: "add", OpType: "Add", Inputs: []string{"data", "c"}, Outputs: []string{"y"}},
	}, &onnx.Initializer{Name: "dims", Tensor: tensor.FromInt64([]int64{16384, 16384, 4}, 3)})
	pad := mnistModel(t, []*onnx.Node{{Name: "pad", OpType: "Pad", Inputs: []string{"data", "pads"}, Outputs: []string{"y"}}},
		&onnx.Initializer{Name: "pads", Tensor: tensor.FromInt64([]int64{0, 0, 8192, 8192, 0, 0, 8192, 8192}, 8)})
	cache := filepath.Join(t.TempDir(), "table")
	for _, tc := range []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"calibrate, ConstantOfShape", "", []string{"calibrate", "--plugin-dir", pluginDir, "--cache", cache, "--model", constantOfShape, "--memory-limit", "64MiB"},
			`node "cos" (ConstantOfShape): tensor "c" float32[16384,16384,4] needs 4.0 GiB on top of 24 B already taken; the memory limit is 64.0 MiB (--memory-limit to change)`},
		{"eval, ConstantOfShape, from the environment", "1GB", []string{"eval", "--model", constantOfShape},
			`tensor "c" float32[16384,16384,4] needs 4.0 GiB on top of 24 B already taken; the memory limit is 953.7 MiB`},
		{"eval, Pad 8192", "", []string{"eval", "--model", pad, "--batch", "50", "--memory-limit", "1GiB"},
			`node "pad" (Pad): tensor "y" float32[50,1,16412,16412] needs 50.2 GiB on top of 64 B already taken; the memory limit is 1.0 GiB (--memory-limit to change)`},
		{"not a size", "", []string{"eval", "--model", pad, "--memory-limit", "lots"}, `--memory-limit "lots": not a size`},
		{"not a size in the environment", "8 gigs", []string{"eval", "--model", pad}, `$INT8CAL_MEMORY_LIMIT "8 gigs": not a size`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(memlimit.Env, tc.env)
			code, out, errOut := run(append(tc.args, "--datadir", dataDir, "--log-level", "error")...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant it to contain\n%s\nstdout:\n%s", code, errOut, tc.want, out)
			}
		})
	}
}
