package qdq

import (
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/internal/npytensor"
	"github.com/int8cal/int8cal/core/layererr"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/datasets/mnist"
	"github.com/int8cal/int8cal/datasets/npy"
)

// TestLayerErrorMatchesONNXRuntime checks the per-layer numbers of
// `int8cal debug` (core/layererr, "accumulated": every layer INT8) against
// an independent computation: ONNX Runtime runs the FP32 LeNet and the Q/DQ
// model exported from the same table, each with the quantized layer's
// output exposed, and the SQNR of the Q/DQ tensor against the FP32 one,
// computed here from ONNX Runtime's arrays, must be within 0.1 dB of ours
// on 500 MNIST test images. Our INT8 sums integers exactly where ONNX
// Runtime sums dequantized floats, so values differ by float rounding
// (about 1e-7 relative), now and then by one int8 step where a value sits
// on a rounding boundary; at SQNRs of 30-50 dB that moves the figure by
// hundredths of a dB, far inside 0.1 dB, while a wrong scale or a wrong
// tensor moves it by decibels.
func TestLayerErrorMatchesONNXRuntime(t *testing.T) {
	py := venvPython(t)
	m := readModel(t, lenetPath)
	xcal, _ := mnistImages(t, mnist.Train, 0, 256)
	tbl := minMaxTable(t, m, "data", xcal)
	exported, _, err := Export(m, tbl, Options{})
	if err != nil {
		t.Fatal(err)
	}
	scales := map[string]float32{}
	for _, e := range tbl.Entries {
		scales[e.Name] = e.Scale
	}
	x, _ := mnistImages(t, mnist.Test, 0, 500)
	c := layererr.New(load(t, m), layererr.Options{Scales: scales})
	if err := c.Add(map[string]*tensor.Tensor{"data": x}); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Report(layererr.SortAccumulated)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 4 {
		t.Fatalf("%d quantized layers, want LeNet's 4 (conv1, conv2, ip1, ip2)", len(rep.Layers))
	}
	for _, l := range rep.Layers {
		ref := ortTensor(t, py, m, l.Output, x)
		q := ortTensor(t, py, exported, l.Output, x)
		theirs := sqnr(ref.F32, q.F32)
		ours := float64(l.Accumulated.SQNR)
		t.Logf("%s (%s): SQNR ours %.3f dB, from ONNX Runtime %.3f dB", l.Node, l.Output, ours, theirs)
		if !(math.Abs(ours-theirs) <= 0.1) {
			t.Errorf("%s: SQNR %.3f dB, ONNX Runtime's tensors give %.3f dB (more than 0.1 dB apart)", l.Node, ours, theirs)
		}
	}
}

// ortTensor runs m in ONNX Runtime (graph optimizations off) on x and
// returns the tensor name, exposed as a graph output.
func ortTensor(t *testing.T, py string, m *onnx.Model, name string, x *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	m = cloneModel(m)
	exposed := false
	for _, o := range m.Graph.Outputs {
		exposed = exposed || o.Name == name
	}
	if !exposed {
		m.Graph.Outputs = append(m.Graph.Outputs, &onnx.ValueInfo{Name: name, DType: tensor.Float32})
	}
	dir := t.TempDir()
	model, in, out := filepath.Join(dir, "m.onnx"), filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if err := onnx.WriteFile(model, m); err != nil {
		t.Fatal(err)
	}
	if err := npy.Write(in, npy.NewFloat32(x.Shape, x.F32)); err != nil {
		t.Fatal(err)
	}
	res, err := exec.Command(py, filepath.Join(repoRoot, "tools", "ort", "qdq_check.py"),
		"--model", model, "--input", "data", "--npy", in, "--out", out, "--output", name, "--opt", "disable").CombinedOutput()
	if err != nil {
		t.Fatalf("qdq_check.py --output %s: %v\n%s", name, err, strings.TrimSpace(string(res)))
	}
	return npytensor.Read(t, out)
}

// sqnr is 10·log10(Σref² / Σ(ref−x)²) in float64.
func sqnr(ref, x []float32) float64 {
	var signal, noise float64
	for i := range ref {
		d := float64(ref[i]) - float64(x[i])
		signal += float64(ref[i]) * float64(ref[i])
		noise += d * d
	}
	return 10 * math.Log10(signal/noise)
}
