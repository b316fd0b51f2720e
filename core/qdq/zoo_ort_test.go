package qdq

import (
	"bytes"
	"math"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/testfixture"
)

// zooBatches returns n seeded batches shaped like x (the zoo's fixed batch
// size), standard normal as the zoo's own inputs, stacked along a new
// first axis.
func zooBatches(x *tensor.Tensor, n int, seed uint64) *tensor.Tensor {
	r := rand.New(rand.NewPCG(seed, 1))
	t := tensor.New(tensor.Float32, append([]int{n}, x.Shape...)...)
	for i := range t.F32 {
		t.F32[i] = float32(r.NormFloat64())
	}
	return t
}

// batch returns batch i of a stack made by zooBatches.
func batch(stack *tensor.Tensor, i int) *tensor.Tensor {
	size := stack.Len() / stack.Shape[0]
	return tensor.FromFloat32(stack.F32[i*size:(i+1)*size], stack.Shape[1:]...)
}

// agreement compares two outputs of the same shape: the largest
// difference and the root mean square of the differences, both relative
// to ref's largest magnitude and RMS, and, for [batch, classes] outputs
// (classes > 0), the fraction of rows whose argmax agrees (-1 otherwise).
type agreement struct{ maxRel, rmsRel, top1 float64 }

func compareOutputs(got, ref []float32, classes int) agreement {
	var maxDiff, maxRef, sumDiff, sumRef float64
	for i := range ref {
		d := float64(got[i] - ref[i])
		maxDiff, maxRef = max(maxDiff, math.Abs(d)), max(maxRef, math.Abs(float64(ref[i])))
		sumDiff += d * d
		sumRef += float64(ref[i]) * float64(ref[i])
	}
	a := agreement{maxRel: maxDiff / maxRef, rmsRel: math.Sqrt(sumDiff / sumRef), top1: -1}
	if classes > 0 {
		same := 0
		for r := 0; r < len(ref)/classes; r++ {
			if argmax(got[r*classes:(r+1)*classes]) == argmax(ref[r*classes:(r+1)*classes]) {
				same++
			}
		}
		a.top1 = float64(same) / float64(len(ref)/classes)
	}
	return a
}

// int8Layers reads the INT8 layer count from the engine's "INT8 plan" log
// line.
func int8Layers(t *testing.T, log string) int {
	t.Helper()
	m := regexp.MustCompile(`INT8 plan: int8_layers=(\d+)`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no INT8 plan line in the log:\n%s", log)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// quantizedNodes counts the nodes of the exported graph that read a
// DequantizeLinear's output.
func quantizedNodes(g *onnx.Graph) int {
	dq := map[string]bool{}
	for _, n := range g.Nodes {
		if n.OpType == "DequantizeLinear" {
			dq[n.Outputs[0]] = true
		}
	}
	count := 0
	for _, n := range g.Nodes {
		if n.OpType != "DequantizeLinear" && slices.ContainsFunc(n.Inputs, func(s string) bool { return dq[s] }) {
			count++
		}
	}
	return count
}

// TestZooINT8MatchesONNXRuntime calibrates zoo models (MinMax over four
// seeded batches), runs our engine in INT8 with the table's scales and
// ONNX Runtime (optimizations off: Q/DQ run as written) on the Q/DQ model
// exported from the same table, on eight other batches, and compares.
// The models, from both exporters, cover the operators the engine runs in
// INT8: depthwise convolutions (mobilenet_v2), grouped ones
// (shufflenet_v2, resnext), ConvTranspose (unet), MatMul with constant
// weights and of two activations (transformer_encoder, swin_t); without
// -short, every other zoo model with a float input too.
//
// The two compute the same quantized model with different float
// arithmetic: ONNX Runtime sums float products of dequantized values, we
// sum integers exactly and scale once, and the bias, residual and ReLU are
// added in another order. The float results differ in their last bits,
// which now and then moves a value across a rounding boundary of the next
// QuantizeLinear: one int8 step there, which the later layers carry on.
// So the outputs are not equal, but they must agree far better than
// either agrees with the float model; the test asks that the RMS of the
// difference between the two INT8 runs be at most a quarter of the RMS of
// our INT8 error against FP32 (a real disagreement in what is quantized,
// a wrong scale or axis, is as large as the quantization error or larger),
// and that classifiers pick the same class on at least 15 of the 16
// images.
func TestZooINT8MatchesONNXRuntime(t *testing.T) {
	py := venvPython(t)
	models, _ := testfixture.Zoo(t, filepath.Join(repoRoot, "testdata", "zoo"))
	// Every zoo model with a float input; -short keeps one of each kind.
	names := []string{"mobilenet_v2", "shufflenet_v2", "resnext", "unet", "transformer_encoder", "swin_t"}
	if !testing.Short() {
		names = append(names, "regnet", "efficientnet_b0", "mobilenet_v3_small", "mobilenet_v3_large", "resnet50",
			"squeezenet", "densenet", "convnext_tiny", "deeplabv3", "yolo")
	}
	for _, zm := range models {
		if !slices.Contains(names, zm.Name) {
			continue
		}
		name := zm.Name + "/" + zm.Exporter
		t.Run(name, func(t *testing.T) {
			if zm.Status != "ok" {
				t.Skipf("not exported: %s", zm.Error)
			}
			m := readModel(t, zm.File)
			input, output := zm.Inputs[0], zm.Outputs[0]
			shape := readZooShape(t, m, input)
			calib, eval := zooBatches(shape, 4, 1), zooBatches(shape, 8, 2)
			var calibBatches []*tensor.Tensor
			for b := 0; b < calib.Shape[0]; b++ {
				calibBatches = append(calibBatches, batch(calib, b))
			}
			tbl := minMaxTable(t, m, input, calibBatches...)

			exported, rep, err := Export(m, tbl, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var logged bytes.Buffer
			scales := map[string]float32{}
			for _, e := range tbl.Entries {
				scales[e.Name] = e.Scale
			}
			g := load(t, m)
			e8 := engine.New(g, engine.Options{Precision: precision.INT8, Int8Scales: scales,
				Log: hclog.New(&hclog.LoggerOptions{Output: &logged, Level: hclog.Info})})
			e32 := engine.New(load(t, m), engine.Options{})
			var ours8, ours32 []float32
			for b := 0; b < eval.Shape[0]; b++ {
				o8, err := e8.Run(map[string]*tensor.Tensor{input: batch(eval, b)})
				if err != nil {
					t.Fatal(err)
				}
				o32, err := e32.Run(map[string]*tensor.Tensor{input: batch(eval, b)})
				if err != nil {
					t.Fatal(err)
				}
				ours8, ours32 = append(ours8, o8[output].F32...), append(ours32, o32[output].F32...)
			}
			// Every layer the engine runs in INT8 has Q/DQ in the export,
			// and nothing else.
			if n8, nq := int8Layers(t, logged.String()), quantizedNodes(exported.Graph); n8 != nq {
				t.Errorf("the engine runs %d layers in INT8, the export quantizes %d nodes\n%s\n%s", n8, nq, logged.String(), rep)
			}
			ort8 := ortRun(t, py, exported, input, eval, "disable", "--runs")
			classes := 0
			if out := exported.Graph.Outputs[0]; len(out.Dims) == 2 {
				classes = int(out.Dims[1].Value)
			}
			vsORT := compareOutputs(ours8, ort8.F32, classes)
			vsFP32 := compareOutputs(ours8, ours32, classes)
			ortVsFP32 := compareOutputs(ort8.F32, ours32, classes)
			t.Logf("%s: %d INT8 layers; ours vs ORT: max %.2e, RMS %.2e (relative), top-1 %.3f; "+
				"INT8 vs FP32: ours max %.2e RMS %.2e top-1 %.3f, ORT max %.2e RMS %.2e top-1 %.3f",
				name, int8Layers(t, logged.String()), vsORT.maxRel, vsORT.rmsRel, vsORT.top1,
				vsFP32.maxRel, vsFP32.rmsRel, vsFP32.top1, ortVsFP32.maxRel, ortVsFP32.rmsRel, ortVsFP32.top1)
			if vsORT.rmsRel > vsFP32.rmsRel/4 {
				t.Errorf("ours and ONNX Runtime differ by RMS %.3g, more than a quarter of the quantization error %.3g", vsORT.rmsRel, vsFP32.rmsRel)
			}
			if classes > 0 && vsORT.top1 < 15.0/16 {
				t.Errorf("ours and ONNX Runtime agree on the top-1 class of %.3f of the images", vsORT.top1)
			}
		})
	}
}

// readZooShape returns a zero tensor of the fixed shape of the model's
// input.
func readZooShape(t *testing.T, m *onnx.Model, input string) *tensor.Tensor {
	t.Helper()
	for _, in := range m.Graph.Inputs {
		if in.Name != input {
			continue
		}
		shape := make([]int, len(in.Dims))
		for i, d := range in.Dims {
			if d.Value <= 0 {
				t.Fatalf("input %s has no fixed dimension %d", input, i)
			}
			shape[i] = int(d.Value)
		}
		return tensor.New(tensor.Float32, shape...)
	}
	t.Fatalf("no input %s", input)
	return nil
}

// ExtraOps puts Q/DQ on the inputs of residual Adds and Concats (here
// densenet's concatenations) for runtimes that run them in INT8; the
// exported model passes ONNX's checker, and ONNX Runtime and our engine
// run its fake quantization alike (float sums in another order may move a
// value across a rounding boundary now and then, hence a tolerance). Its
// outputs differ from the engine's INT8 plan, which keeps Add and Concat
// in FP32, by that extra rounding; see the package documentation.
func TestExportExtraOpsConcat(t *testing.T) {
	m := readModel(t, filepath.Join(repoRoot, "testdata", "zoo", "densenet.torchscript.onnx"))
	x := zooBatches(readZooShape(t, m, "input"), 1, 3)
	tbl := minMaxTable(t, m, "input", batch(x, 0))
	out, _, err := Export(m, tbl, Options{ExtraOps: []string{"Add", "Concat"}})
	if err != nil {
		t.Fatal(err)
	}
	dq := map[string]bool{}
	for _, n := range out.Graph.Nodes {
		if n.OpType == "DequantizeLinear" {
			dq[n.Outputs[0]] = true
		}
	}
	concats, quantized := 0, 0
	for _, n := range out.Graph.Nodes {
		if n.OpType != "Concat" {
			continue
		}
		concats++
		if slices.ContainsFunc(n.Inputs, func(s string) bool { return dq[s] }) {
			quantized++
		}
	}
	if concats == 0 || quantized != concats {
		t.Errorf("%d of %d Concat nodes read dequantized inputs", quantized, concats)
	}
	py := venvPython(t)
	ours, ort := run(t, out, "input", "output", batch(x, 0)), ortRun(t, py, out, "input", batch(x, 0), "disable")
	d := compareOutputs(ours.F32, ort.F32, 0)
	t.Logf("densenet with Concat and Add quantized, our engine vs ONNX Runtime on the Q/DQ model: max %.2e, RMS %.2e (relative)", d.maxRel, d.rmsRel)
	if d.rmsRel > 1e-3 {
		t.Errorf("the Q/DQ model with Concat quantized: our engine and ONNX Runtime differ by RMS %.3g", d.rmsRel)
	}
}
