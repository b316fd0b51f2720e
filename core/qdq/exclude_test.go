package qdq

import (
	"bytes"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/datasets/mnist"
)

// Excluded nodes get no Q/DQ on their inputs and keep float weights; the
// report lists them with the entry that matched; the export quantizes
// exactly the layers the engine runs in INT8 under the same exclusions,
// and ONNX Runtime (where .venv has it) runs the export as the engine does.
func TestExportExclude(t *testing.T) {
	m := readModel(t, filepath.Join(repoRoot, "testdata", "zoo", "transformer_encoder.torchscript.onnx"))
	const input, output = "x", "output"
	calib, eval := zooBatches(readZooShape(t, m, input), 4, 1), zooBatches(readZooShape(t, m, input), 4, 2)
	var calibBatches []*tensor.Tensor
	for b := range calib.Shape[0] {
		calibBatches = append(calibBatches, batch(calib, b))
	}
	tbl := minMaxTable(t, m, input, calibBatches...)
	exclude := precision.Exclusions{Nodes: []string{"/enc/layers.0/*"}, OpTypes: []string{"Gemm"}}
	out, rep, err := Export(m, tbl, Options{Exclude: exclude})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", rep)
	// layers.0: five MatMuls and the Gemm; layers.1: the Gemm.
	if len(rep.Excluded) != 7 {
		t.Errorf("%d nodes excluded, want 7: %v", len(rep.Excluded), rep.Excluded)
	}
	if !strings.Contains(rep.String(), `node "/enc/layers.1/self_attn/Gemm" (Gemm) kept in FP32: excluded by op type Gemm`) ||
		!strings.Contains(rep.String(), `node "/enc/layers.0/linear1/MatMul" (MatMul) kept in FP32: excluded by pattern "/enc/layers.0/*"`) {
		t.Errorf("the report does not say why nodes were kept in FP32:\n%s", rep)
	}
	dq := map[string]bool{}
	for _, n := range out.Graph.Nodes {
		if n.OpType == "DequantizeLinear" {
			dq[n.Outputs[0]] = true
		}
	}
	for _, x := range rep.Excluded {
		n := findNode(out.Graph, x.Node)
		if i := slices.IndexFunc(n.Inputs, func(s string) bool { return dq[s] }); i >= 0 {
			t.Errorf("excluded node %s reads a DequantizeLinear's output (input %d)", x.Node, i)
		}
	}

	scales := map[string]float32{}
	for _, e := range tbl.Entries {
		scales[e.Name] = e.Scale
	}
	var logged bytes.Buffer
	e8 := engine.New(load(t, m), engine.Options{Precision: precision.INT8, Int8Scales: scales, Exclude: exclude,
		Log: hclog.New(&hclog.LoggerOptions{Output: &logged, Level: hclog.Info})})
	e32 := engine.New(load(t, m), engine.Options{})
	var ours8, ours32 []float32
	for b := range eval.Shape[0] {
		for _, r := range []struct {
			e   *engine.Engine
			out *[]float32
		}{{e8, &ours8}, {e32, &ours32}} {
			o, err := r.e.Run(map[string]*tensor.Tensor{input: batch(eval, b)})
			if err != nil {
				t.Fatal(err)
			}
			*r.out = append(*r.out, o[output].F32...)
		}
	}
	if n8, nq := int8Layers(t, logged.String()), quantizedNodes(out.Graph); n8 != nq || nq != 5 {
		t.Errorf("the engine runs %d layers in INT8, the export quantizes %d nodes; want 5 of 12\n%s", n8, nq, logged.String())
	}
	py := venvPython(t)
	ort8 := ortRun(t, py, out, input, eval, "disable", "--runs")
	vsORT, vsFP32 := compareOutputs(ours8, ort8.F32, 0), compareOutputs(ours8, ours32, 0)
	t.Logf("ours vs ORT: RMS %.2e; INT8 vs FP32: RMS %.2e (relative)", vsORT.rmsRel, vsFP32.rmsRel)
	if vsORT.rmsRel > vsFP32.rmsRel/4 {
		t.Errorf("ours and ONNX Runtime differ by RMS %.3g, more than a quarter of the quantization error %.3g", vsORT.rmsRel, vsFP32.rmsRel)
	}
}

// An exclusion naming nothing the model has is an error that names it,
// before any export.
func TestExportExcludeChecked(t *testing.T) {
	m := readModel(t, lenetPath)
	tbl := minMaxTable(t, m, "data", tensor.New(tensor.Float32, 1, 1, 28, 28))
	for _, tc := range []struct {
		exclude precision.Exclusions
		want    string
	}{
		{precision.Exclusions{Nodes: []string{"conv9"}}, `--exclude-nodes "conv9" matches no node`},
		{precision.Exclusions{OpTypes: []string{"conv"}}, `--exclude-op-types "conv" is not an operator type`},
	} {
		if _, _, err := Export(m, tbl, Options{Exclude: tc.exclude}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.exclude, err, tc.want)
		}
	}
}

// The bar for mixed precision: with layers excluded, the CPU
// engine's INT8 plan and ONNX Runtime running the exported Q/DQ model give
// the same Top-1 on 2000 MNIST test images, within 0.05%.
func TestExcludeTop1MatchesONNXRuntime(t *testing.T) {
	py := venvPython(t)
	m := readModel(t, lenetPath)
	calib, _ := mnistImages(t, mnist.Train, 0, 256)
	tbl := minMaxTable(t, m, "data", calib)
	exclude := precision.Exclusions{Nodes: []string{"conv1"}, OpTypes: []string{"Gemm"}}
	out, _, err := Export(m, tbl, Options{Exclude: exclude})
	if err != nil {
		t.Fatal(err)
	}
	scales := map[string]float32{}
	for _, e := range tbl.Entries {
		scales[e.Name] = e.Scale
	}
	x, labels := mnistImages(t, mnist.Test, 0, 2000)
	ours, err := engine.New(load(t, m), engine.Options{Precision: precision.INT8, Int8Scales: scales, Exclude: exclude}).Run(map[string]*tensor.Tensor{"data": x})
	if err != nil {
		t.Fatal(err)
	}
	ort := ortRun(t, py, out, "data", x, "disable")
	a, b := top1(ours["prob"], labels), top1(ort, labels)
	t.Logf("top-1 with conv1 and the Gemms in FP32: engine %.2f%%, ONNX Runtime %.2f%%", 100*a, 100*b)
	if math.Abs(a-b) > 0.0005 {
		t.Errorf("top-1 %.4f on the engine, %.4f in ONNX Runtime: more than 0.05%% apart", a, b)
	}
}
