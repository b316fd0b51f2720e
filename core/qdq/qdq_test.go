package qdq

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/internal/npytensor"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/datasets/mnist"
	"github.com/int8cal/int8cal/datasets/npy"
)

const repoRoot = "../.."

var (
	lenetPath    = filepath.Join(repoRoot, "data", "mnist", "lenet.onnx")
	mnistZooPath = filepath.Join(repoRoot, "testdata", "models", "mnist_zoo.onnx")
	resnetPath   = filepath.Join(repoRoot, "testdata", "models", "resnet20.onnx")
	mnistDir     = filepath.Join(repoRoot, "data", "mnist")
)

func readModel(t testing.TB, path string) *onnx.Model {
	t.Helper()
	m, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// mnistImages returns n images of a split as [n,1,28,28] pixel/255 and
// their labels, skipping the test when the files are absent.
func mnistImages(t testing.TB, split string, first, n int) (*tensor.Tensor, []int) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(mnistDir, split+"-images-idx3-ubyte")); err != nil {
		t.Skipf("MNIST not placed in %s: run `make data` (%v)", mnistDir, err)
	}
	src, err := mnist.Open(mnistDir, split)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.Float32, n, 1, 28, 28)
	labels := make([]int, n)
	if err := src.Read(first, n, x.F32, labels); err != nil {
		t.Fatal(err)
	}
	return x, labels
}

// minMaxTable runs m in our engine on each batch xs and records max|v| of
// every float tensor as a calibration table (a MinMax calibration).
func minMaxTable(t testing.TB, m *onnx.Model, input string, xs ...*tensor.Tensor) *calibtable.Table {
	t.Helper()
	eng := engine.New(load(t, m), engine.Options{})
	amax := map[string]float32{}
	for _, x := range xs {
		_, err := eng.RunObserved(map[string]*tensor.Tensor{input: x}, func(name string, v *tensor.Tensor) {
			if !v.DType.IsFloat() {
				return
			}
			for _, f := range v.F32 {
				amax[name] = max(amax[name], float32(math.Abs(float64(f))))
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	names := make([]string, 0, len(amax))
	for n := range amax {
		names = append(names, n)
	}
	sort.Strings(names)
	tbl := calibtable.New(calibtable.TRTVersion{Major: 10, Minor: 3}, calibtable.MinMaxCalibration)
	for _, n := range names {
		tbl.Set(n, amax[n])
	}
	return tbl
}

func load(t testing.TB, m *onnx.Model) *graph.Graph {
	t.Helper()
	// FromONNX names unnamed nodes in place; load a re-decoded copy so the
	// model under test stays as it is.
	data, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := onnx.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.FromONNX(cp)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func run(t testing.TB, m *onnx.Model, input, output string, x *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	out, err := engine.New(load(t, m), engine.Options{}).Run(map[string]*tensor.Tensor{input: x})
	if err != nil {
		t.Fatal(err)
	}
	return out[output]
}

func argmax(row []float32) int {
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return best
}

// compareRows returns the largest |a-b| and the fraction of rows whose
// argmax agrees.
func compareRows(a, b *tensor.Tensor) (maxDiff float64, agree float64) {
	rows, cols := a.Shape[0], a.Len()/a.Shape[0]
	same := 0
	for r := 0; r < rows; r++ {
		ra, rb := a.F32[r*cols:(r+1)*cols], b.F32[r*cols:(r+1)*cols]
		for i := range ra {
			maxDiff = max(maxDiff, math.Abs(float64(ra[i]-rb[i])))
		}
		if argmax(ra) == argmax(rb) {
			same++
		}
	}
	return maxDiff, float64(same) / float64(rows)
}

func top1(out *tensor.Tensor, labels []int) float64 {
	cols := out.Len() / out.Shape[0]
	ok := 0
	for r, l := range labels {
		if argmax(out.F32[r*cols:(r+1)*cols]) == l {
			ok++
		}
	}
	return float64(ok) / float64(len(labels))
}

func findNode(g *onnx.Graph, name string) *onnx.Node {
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func findInit(g *onnx.Graph, name string) *tensor.Tensor {
	for _, in := range g.Initializers {
		if in.Name == name {
			return in.Tensor
		}
	}
	return nil
}

// lenetExport exports lenet.onnx with a MinMax table from 256 training
// images.
func lenetExport(t *testing.T, opts Options) (*onnx.Model, *onnx.Model, *Report) {
	t.Helper()
	m := readModel(t, lenetPath)
	x, _ := mnistImages(t, mnist.Train, 0, 256)
	tbl := minMaxTable(t, m, "data", x)
	out, rep, err := Export(m, tbl, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, out, rep
}

func TestExportLeNetStructure(t *testing.T) {
	m := readModel(t, lenetPath)
	before, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := mnistImages(t, mnist.Train, 0, 256)
	tbl := minMaxTable(t, m, "data", x)
	out, rep, err := Export(m, tbl, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", rep)
	if after, _ := onnx.Encode(m); !bytes.Equal(before, after) {
		t.Error("Export modified its input model")
	}
	if rep.FromOpset != 13 || rep.Opset != 13 || out.Opsets[""] != 13 {
		t.Errorf("opset %d -> %d (model %d), want 13 kept", rep.FromOpset, rep.Opset, out.Opsets[""])
	}
	var acts []string
	for _, a := range rep.Activations {
		acts = append(acts, a.Tensor)
		e, _ := tbl.Lookup(a.Tensor)
		if a.Scale != e.Scale {
			t.Errorf("activation %s: scale %g, table %g", a.Tensor, a.Scale, e.Scale)
		}
	}
	if got, want := strings.Join(acts, ","), "data,pool1,flatten,relu1"; got != want {
		t.Errorf("activations %s, want %s", got, want)
	}
	if len(rep.Skipped) != 0 {
		t.Errorf("skipped: %v", rep.Warnings())
	}
	wantWeights := map[string]struct {
		axis, channels int
	}{
		"m.conv1.weight": {0, 20}, "m.conv2.weight": {0, 50}, "m.ip1.weight": {0, 500}, "m.ip2.weight": {0, 10},
	}
	if len(rep.Weights) != len(wantWeights) {
		t.Errorf("%d weights quantized, want %d", len(rep.Weights), len(wantWeights))
	}
	orig := map[string]*tensor.Tensor{}
	for _, in := range m.Graph.Initializers {
		orig[in.Name] = in.Tensor
	}
	for _, w := range rep.Weights {
		want, ok := wantWeights[w.Tensor]
		if !ok || w.Axis != want.axis || len(w.Scales) != want.channels {
			t.Errorf("weight %s: axis %d, %d scales; want %+v", w.Tensor, w.Axis, len(w.Scales), want)
			continue
		}
		q := findInit(out.Graph, w.Tensor+"_quantized")
		s := findInit(out.Graph, w.Tensor+"_scale")
		if q == nil || q.DType != tensor.Int8 || !tensor.EqualShape(q.Shape, orig[w.Tensor].Shape) || s == nil || s.Len() != want.channels {
			t.Fatalf("weight %s: quantized %v, scale %v", w.Tensor, q, s)
		}
		// Every channel uses the full range: its largest |q| is 127, and
		// q*scale is within half a step of w.
		inner := q.Len() / want.channels
		for c := 0; c < want.channels; c++ {
			var qmax int64
			for i := c * inner; i < (c+1)*inner; i++ {
				v := q.I64[i]
				if v < -127 || v > 127 {
					t.Fatalf("%s[%d] = %d out of [-127,127]", w.Tensor, i, v)
				}
				qmax = max(qmax, v, -v)
				if d := math.Abs(float64(orig[w.Tensor].F32[i] - float32(v)*s.F32[c])); d > float64(s.F32[c])*0.5001 {
					t.Fatalf("%s[%d]: |w - q*scale| = %g > scale/2 (%g)", w.Tensor, i, d, s.F32[c]/2)
				}
			}
			if qmax != 127 {
				t.Fatalf("%s channel %d: max |q| = %d, want 127", w.Tensor, c, qmax)
			}
		}
		if w.MaxAbsError <= 0 || w.MaxAbsError > slicesMax(s.F32)/2*1.0001 {
			t.Errorf("%s: MaxAbsError %g", w.Tensor, w.MaxAbsError)
		}
		if findInit(out.Graph, w.Tensor) != nil {
			t.Errorf("float weight %s still in the model", w.Tensor)
		}
	}
	// The wiring: conv1 reads the dequantized input and weight and the
	// float bias; the Q/DQ pairs come right before their first reader.
	conv1 := findNode(out.Graph, "conv1")
	if got := strings.Join(conv1.Inputs, ","); got != "data_DequantizeLinear_Output,m.conv1.weight_DequantizeLinear_Output,m.conv1.bias" {
		t.Errorf("conv1 inputs %s", got)
	}
	var order []string
	for _, n := range out.Graph.Nodes {
		order = append(order, n.OpType)
	}
	want := "QuantizeLinear,DequantizeLinear,DequantizeLinear,Conv,MaxPool," +
		"QuantizeLinear,DequantizeLinear,DequantizeLinear,Conv,MaxPool,Flatten," +
		"QuantizeLinear,DequantizeLinear,DequantizeLinear,Gemm,Relu," +
		"QuantizeLinear,DequantizeLinear,DequantizeLinear,Gemm,Softmax"
	if got := strings.Join(order, ","); got != want {
		t.Errorf("node order\n %s\nwant\n %s", got, want)
	}
	dq := findNode(out.Graph, "m.ip1.weight_DequantizeLinear")
	if dq == nil || dq.Attr("axis") == nil || dq.Attr("axis").I != 0 {
		t.Errorf("ip1 weight DequantizeLinear %+v, want axis 0", dq)
	}
	qd := findNode(out.Graph, "data_QuantizeLinear")
	if qd == nil || findInit(out.Graph, qd.Inputs[2]).DType != tensor.Int8 || findInit(out.Graph, qd.Inputs[2]).I64[0] != 0 {
		t.Errorf("data QuantizeLinear %+v: want an int8 zero point 0", qd)
	}

	// The exported model encodes and decodes to itself.
	data, err := onnx.Encode(out)
	if err != nil {
		t.Fatal(err)
	}
	back, err := onnx.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := onnx.Encode(back)
	if !bytes.Equal(data, again) {
		t.Error("exported model does not survive Decode/Encode")
	}
}

func slicesMax(v []float32) float32 {
	var m float32
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// TestExportLeNetAccuracy runs the exported model in our engine: its
// activations go through QuantizeLinear/DequantizeLinear at run time (fake
// quantization) and its weights are the dequantized int8 ones. Top-1 on
// the first 2000 test images stays within 0.5% of FP32.
func TestExportLeNetAccuracy(t *testing.T) {
	for _, opts := range []Options{{}, {PerTensorWeights: true}} {
		m, out, _ := lenetExport(t, opts)
		x, labels := mnistImages(t, mnist.Test, 0, 2000)
		fp32 := run(t, m, "data", "prob", x)
		int8 := run(t, out, "data", "prob", x)
		a32, a8 := top1(fp32, labels), top1(int8, labels)
		diff, agree := compareRows(fp32, int8)
		t.Logf("per-tensor weights %v: top-1 FP32 %.2f%%, QDQ %.2f%%; argmax agreement %.2f%%, max |prob diff| %.3g",
			opts.PerTensorWeights, 100*a32, 100*a8, 100*agree, diff)
		if math.Abs(a32-a8) > 0.005 || agree < 0.99 {
			t.Errorf("QDQ top-1 %.4f vs FP32 %.4f, agreement %.4f", a8, a32, agree)
		}
		if diff == 0 {
			t.Error("QDQ output identical to FP32: quantization did not happen")
		}
	}
}

// TestExportFakeQuantSemantics checks the engine's execution of the
// exported LeNet against fake quantization computed here: the FP32 model
// with its weights replaced by their dequantized values and its input
// rounded to the data scale gives the same first convolution.
func TestExportFakeQuantSemantics(t *testing.T) {
	m, out, rep := lenetExport(t, Options{})
	x, _ := mnistImages(t, mnist.Test, 0, 16)
	// Reference: FP32 model with conv1's weight dequantized and the input
	// quantized by hand.
	ref := cloneModel(m)
	var scale float32
	for _, a := range rep.Activations {
		if a.Tensor == "data" {
			scale = a.Scale
		}
	}
	xq := x.Clone()
	for i, v := range xq.F32 {
		q := math.RoundToEven(float64(v / scale))
		q = math.Max(-128, math.Min(127, q))
		xq.F32[i] = float32(q) * scale
	}
	q := findInit(out.Graph, "m.conv1.weight_quantized")
	s := findInit(out.Graph, "m.conv1.weight_scale")
	w := findInit(ref.Graph, "m.conv1.weight")
	inner := w.Len() / 20
	for i := range w.F32 {
		w.F32[i] = float32(q.I64[i]) * s.F32[i/inner]
	}
	ref.Graph.Outputs = []*onnx.ValueInfo{{Name: "conv1", DType: tensor.Float32}}
	got := cloneModel(out)
	got.Graph.Outputs = []*onnx.ValueInfo{{Name: "conv1", DType: tensor.Float32}}
	a := run(t, ref, "data", "conv1", xq)
	b := run(t, got, "data", "conv1", x)
	if d, _ := compareRows(a, b); d > 1e-5 {
		t.Errorf("conv1 of the QDQ model differs from hand-made fake quantization by %g", d)
	}
}

// The TensorRT 7 sampleINT8 table names Caffe blobs: data and pool1 are
// tensors of our LeNet, flatten and relu1 (in place in Caffe) are not, so
// those inputs stay in float and are reported.
func TestExportMissingTensors(t *testing.T) {
	m := readModel(t, lenetPath)
	tbl, err := calibtable.ReadFile(filepath.Join(repoRoot, "core", "calibtable", "testdata", "CalibrationTablemnist"))
	if err != nil {
		t.Fatal(err)
	}
	out, rep, err := Export(m, tbl, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, a := range rep.Activations {
		acts = append(acts, a.Tensor)
	}
	if got := strings.Join(acts, ","); got != "data,pool1" {
		t.Errorf("activations %s, want data,pool1", got)
	}
	w := rep.Warnings()
	if len(w) != 2 || !strings.Contains(w[0], `tensor "flatten" (input 0 of node "ip1") left in float: not in the calibration table`) ||
		!strings.Contains(w[1], `"relu1"`) {
		t.Errorf("warnings %q", w)
	}
	if ip2 := findNode(out.Graph, "ip2"); ip2.Inputs[0] != "relu1" || ip2.Inputs[1] != "m.ip2.weight_DequantizeLinear_Output" {
		t.Errorf("ip2 inputs %v: want the float relu1 and the dequantized weight", ip2.Inputs)
	}
	if len(rep.Weights) != 4 {
		t.Errorf("%d weights, want 4 (weights do not need the table)", len(rep.Weights))
	}
	// A zero or negative scale is refused the same way.
	tbl.SetScale("pool1", 0)
	_, rep, err = Export(m, tbl, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 3 || !strings.Contains(rep.Skipped[0].Reason, "not a positive finite number") {
		t.Errorf("skipped %v", rep.Warnings())
	}
}

func TestExportPerTensorWeights(t *testing.T) {
	_, out, rep := lenetExport(t, Options{PerTensorWeights: true})
	for _, w := range rep.Weights {
		if w.Axis != -1 || len(w.Scales) != 1 {
			t.Errorf("weight %s: axis %d, %d scales", w.Tensor, w.Axis, len(w.Scales))
		}
		dq := findNode(out.Graph, w.Tensor+"_DequantizeLinear")
		if dq.Attr("axis") != nil {
			t.Errorf("%s: per-tensor DequantizeLinear has an axis", dq.Name)
		}
		if s := findInit(out.Graph, w.Tensor+"_scale"); len(s.Shape) != 0 {
			t.Errorf("%s scale shape %v, want a scalar", w.Tensor, s.Shape)
		}
	}
}

// gemmModel builds y = Gemm(x, B) or MatMul(x, B) with B [K,N] or [N,K].
func gemmModel(op string, transB int64, b *tensor.Tensor) *onnx.Model {
	n := &onnx.Node{Name: "fc", OpType: op, Inputs: []string{"x", "B"}, Outputs: []string{"y"}}
	if op == "Gemm" {
		n.Attrs = []*onnx.Attribute{{Name: "transB", Type: onnx.AttrInt, I: transB}}
	}
	k := b.Shape[0]
	if transB == 1 {
		k = b.Shape[1]
	}
	return &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 17}, Graph: &onnx.Graph{
		Name: "g", Nodes: []*onnx.Node{n},
		Initializers: []*onnx.Initializer{{Name: "B", Tensor: b}},
		Inputs:       []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, HasShape: true, Dims: []onnx.Dim{{Param: "N"}, {Value: int64(k)}}}},
		Outputs:      []*onnx.ValueInfo{{Name: "y", DType: tensor.Float32}},
	}}
}

// Hand-computed per-channel weights for Gemm (transB 0 and 1) and MatMul.
func TestExportGemmAxes(t *testing.T) {
	// B as [K=2, N=3]: output channels are columns.
	kn := tensor.FromFloat32([]float32{
		1, -0.5, 0,
		-2, 0.25, 0,
	}, 2, 3)
	// Column amax 2, 0.5, 0 -> scales 2/127, 0.5/127, 1 (all-zero channel).
	wantQ := []int64{64, -127, 0, -127, 64, 0} // 1/(2/127) = 63.5 -> 64 (even); 0.25/(0.5/127) = 63.5 -> 64
	wantS := []float32{float32(2) / 127, float32(0.5) / 127, 1}
	nk := tensor.FromFloat32([]float32{1, -2, -0.5, 0.25, 0, 0}, 3, 2) // the transpose
	wantQT := []int64{64, -127, -127, 64, 0, 0}
	tbl := calibtable.New(calibtable.TRTVersion{Major: 10}, calibtable.MinMaxCalibration)
	tbl.Set("x", 4)
	for _, tc := range []struct {
		op     string
		transB int64
		b      *tensor.Tensor
		axis   int
		q      []int64
	}{
		{"Gemm", 0, kn, 1, wantQ},
		{"Gemm", 1, nk, 0, wantQT},
		{"MatMul", 0, kn, 1, wantQ},
	} {
		m := gemmModel(tc.op, tc.transB, tc.b)
		out, rep, err := Export(m, tbl, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Weights) != 1 || rep.Weights[0].Axis != tc.axis {
			t.Fatalf("%s transB=%d: weights %+v, want axis %d", tc.op, tc.transB, rep.Weights, tc.axis)
		}
		q, s := findInit(out.Graph, "B_quantized"), findInit(out.Graph, "B_scale")
		for i := range tc.q {
			if q.I64[i] != tc.q[i] {
				t.Fatalf("%s transB=%d: quantized %v, want %v", tc.op, tc.transB, q.I64, tc.q)
			}
		}
		for i := range wantS {
			if s.F32[i] != wantS[i] {
				t.Fatalf("%s transB=%d: scales %v, want %v", tc.op, tc.transB, s.F32, wantS)
			}
		}
		// Run it: y = dq(q(x)) · dq(B), x quantized with scale 4/127.
		x := tensor.FromFloat32([]float32{1, 3, -4, 0.5}, 2, 2)
		y := run(t, out, "x", "y", x)
		sx := float32(4) / 127
		for r := 0; r < 2; r++ {
			for c := 0; c < 3; c++ {
				var want float32
				for k := 0; k < 2; k++ {
					xv := float32(math.RoundToEven(float64(x.F32[r*2+k]/sx))) * sx
					want += xv * float32(wantQ[k*3+c]) * wantS[c]
				}
				if got := y.F32[r*3+c]; math.Abs(float64(got-want)) > 1e-6 {
					t.Fatalf("%s: y[%d,%d] = %g, want %g", tc.op, r, c, got, want)
				}
			}
		}
	}
}

// ConvTranspose weights [C, M/group, kh, kw] are quantized per output
// channel, axis 1; the bias stays in float.
func TestExportConvTransposeAxis(t *testing.T) {
	// C = 2, M = 3, 1×1 kernel: output channel j's weights are w[:, j].
	w := tensor.FromFloat32([]float32{
		1, -0.5, 0,
		-2, 0.25, 0,
	}, 2, 3, 1, 1)
	n := &onnx.Node{Name: "up", OpType: "ConvTranspose", Inputs: []string{"x", "W", "b"}, Outputs: []string{"y"}}
	m := &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 17}, Graph: &onnx.Graph{
		Name: "g", Nodes: []*onnx.Node{n},
		Initializers: []*onnx.Initializer{{Name: "W", Tensor: w}, {Name: "b", Tensor: tensor.FromFloat32([]float32{1, 2, 3}, 3)}},
		Inputs:       []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, HasShape: true, Dims: []onnx.Dim{{Value: 1}, {Value: 2}, {Value: 2}, {Value: 2}}}},
		Outputs:      []*onnx.ValueInfo{{Name: "y", DType: tensor.Float32}},
	}}
	tbl := calibtable.New(calibtable.TRTVersion{Major: 10}, calibtable.MinMaxCalibration)
	tbl.Set("x", 4)
	out, rep, err := Export(m, tbl, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Weights) != 1 || rep.Weights[0].Axis != 1 || len(rep.Activations) != 1 || len(rep.Skipped) != 0 {
		t.Fatalf("report:\n%s", rep)
	}
	want := []float32{float32(2) / 127, float32(0.5) / 127, 1}
	if s := findInit(out.Graph, "W_scale"); s == nil || fmt.Sprint(s.F32) != fmt.Sprint(want) {
		t.Errorf("scales %v, want %v", s, want)
	}
	if got := findNode(out.Graph, "up").Inputs; got[2] != "b" {
		t.Errorf("ConvTranspose inputs %v: the bias must stay float", got)
	}
}

// MatMul of two activations quantizes both; a MatMul whose weight is a
// constant computed from an initializer (mnist_zoo) is quantized too.
func TestExportMatMulActivations(t *testing.T) {
	m := &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Nodes: []*onnx.Node{{OpType: "MatMul", Inputs: []string{"a", "b"}, Outputs: []string{"y"}}},
		Inputs: []*onnx.ValueInfo{
			{Name: "a", DType: tensor.Float32, HasShape: true, Dims: []onnx.Dim{{Value: 2}, {Value: 2}}},
			{Name: "b", DType: tensor.Float32, HasShape: true, Dims: []onnx.Dim{{Value: 2}, {Value: 2}}},
		},
		Outputs: []*onnx.ValueInfo{{Name: "y", DType: tensor.Float32}},
	}}
	tbl := calibtable.New(calibtable.TRTVersion{Major: 10}, calibtable.MinMaxCalibration)
	tbl.Set("a", 1)
	tbl.Set("b", 2)
	out, rep, err := Export(m, tbl, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Activations) != 2 || len(rep.Weights) != 0 {
		t.Fatalf("report %s", rep)
	}
	mm := out.Graph.Nodes[len(out.Graph.Nodes)-1]
	if mm.Inputs[0] != "a_DequantizeLinear_Output" || mm.Inputs[1] != "b_DequantizeLinear_Output" {
		t.Errorf("MatMul inputs %v", mm.Inputs)
	}
	// The unnamed node is reported under a made-up name.
	if rep.Activations[0].Readers[0] != "MatMul_0" {
		t.Errorf("readers %v", rep.Activations[0].Readers)
	}
}

// zooTable calibrates mnist_zoo (MinMax) on 64 training images, one at a
// time: the model's batch is fixed at 1.
func zooTable(t *testing.T, m *onnx.Model) *calibtable.Table {
	t.Helper()
	x, _ := mnistImages(t, mnist.Train, 0, 64)
	amax := map[string]float32{}
	eng := engine.New(load(t, m), engine.Options{})
	for i := 0; i < 64; i++ {
		xi := tensor.FromFloat32(x.F32[i*784:(i+1)*784], 1, 1, 28, 28)
		_, err := eng.RunObserved(map[string]*tensor.Tensor{"Input3": xi}, func(name string, v *tensor.Tensor) {
			for _, f := range v.F32 {
				amax[name] = max(amax[name], float32(math.Abs(float64(f))))
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	tbl := calibtable.New(calibtable.TRTVersion{Major: 10}, calibtable.EntropyCalibration2)
	for name, a := range amax {
		tbl.Set(name, a)
	}
	return tbl
}

// mnist_zoo is opset 7, IR 3, initializers listed as inputs, and its
// MatMul weight is a Reshape of an initializer: Export relabels it to
// opset 13 / IR 7, quantizes the folded weight and removes the Reshape.
func TestExportMnistZoo(t *testing.T) {
	m := readModel(t, mnistZooPath)
	tbl := zooTable(t, m)
	out, rep, err := Export(m, tbl, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", rep)
	if rep.FromOpset != 7 || rep.Opset != 13 || out.Opsets[""] != 13 || out.IRVersion != 7 {
		t.Errorf("opset %d -> %d, IR %d", rep.FromOpset, rep.Opset, out.IRVersion)
	}
	if m.Opsets[""] != 7 || m.IRVersion != 3 {
		t.Error("input model modified")
	}
	var ws []string
	for _, w := range rep.Weights {
		ws = append(ws, w.Tensor+":"+tensor.ShapeString(w.Shape))
	}
	if got := strings.Join(ws, " "); got != "Parameter5:[8,1,5,5] Parameter87:[16,8,5,5] Parameter193_reshape1:[256,10]" {
		t.Errorf("weights %s", got)
	}
	if findNode(out.Graph, "Times212_reshape1") != nil || findInit(out.Graph, "Parameter193") != nil ||
		findInit(out.Graph, "Parameter5") != nil {
		t.Error("the unused Reshape and float weights were not removed")
	}
	for _, in := range out.Graph.Inputs {
		if in.Name == "Parameter5" || in.Name == "Parameter193" {
			t.Errorf("removed initializer %s still listed as a graph input", in.Name)
		}
	}
	// Accuracy on test images, one at a time.
	xt, lt := mnistImages(t, mnist.Test, 0, 300)
	e32 := engine.New(load(t, m), engine.Options{})
	e8 := engine.New(load(t, out), engine.Options{})
	ok32, ok8, agree := 0, 0, 0
	for i := range lt {
		xi := tensor.FromFloat32(xt.F32[i*784:(i+1)*784], 1, 1, 28, 28)
		o32, err := e32.Run(map[string]*tensor.Tensor{"Input3": xi})
		if err != nil {
			t.Fatal(err)
		}
		o8, err := e8.Run(map[string]*tensor.Tensor{"Input3": xi})
		if err != nil {
			t.Fatal(err)
		}
		a, b := argmax(o32["Plus214_Output_0"].F32), argmax(o8["Plus214_Output_0"].F32)
		if a == lt[i] {
			ok32++
		}
		if b == lt[i] {
			ok8++
		}
		if a == b {
			agree++
		}
	}
	t.Logf("mnist_zoo on %d test images: FP32 %d correct, QDQ %d, agreement %d", len(lt), ok32, ok8, agree)
	if agree < len(lt)*98/100 || ok8 < ok32-3 {
		t.Errorf("QDQ mnist_zoo: %d correct (FP32 %d), %d agree of %d", ok8, ok32, agree, len(lt))
	}
}

func TestExportOpsetRefused(t *testing.T) {
	m := &onnx.Model{IRVersion: 6, Opsets: map[string]int64{"": 11}, Graph: &onnx.Graph{
		Nodes: []*onnx.Node{
			{Name: "fc", OpType: "MatMul", Inputs: []string{"x", "w"}, Outputs: []string{"h"}},
			{Name: "sm", OpType: "Softmax", Inputs: []string{"h"}, Outputs: []string{"p"}},
			{Name: "sq", OpType: "Squeeze", Inputs: []string{"p"}, Outputs: []string{"y"}},
			{Name: "cl", OpType: "Clip", Inputs: []string{"y"}, Outputs: []string{"z"}},
		},
		Initializers: []*onnx.Initializer{{Name: "w", Tensor: tensor.FromFloat32([]float32{1, 2}, 2, 1)}},
	}}
	_, _, err := Export(m, calibtable.New(calibtable.TRTVersion{Major: 10}, "x"), Options{})
	if err == nil {
		t.Fatal("Export succeeded")
	}
	for _, want := range []string{
		"imports opset 11 and per-axis DequantizeLinear needs opset 13",
		`node "sm" (Softmax): Softmax changed meaning in opset 13`,
		`node "sq" (Squeeze): axes became an input in opset 13`,
		"because of 2 node(s)",
		"convert_version(model, 13)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
	// Clip at opset 11 takes min/max as inputs, as at 13: not a problem;
	// Clip at opset 10 is.
	m.Opsets[""] = 10
	m.Graph.Nodes = append(m.Graph.Nodes[:1], m.Graph.Nodes[3])
	m.Graph.Nodes[1].Inputs = []string{"h"}
	_, _, err = Export(m, calibtable.New(calibtable.TRTVersion{Major: 10}, "x"), Options{})
	if err == nil || !strings.Contains(err.Error(), `node "cl" (Clip): its definition changed between opset 10 and 13`) {
		t.Errorf("Clip at opset 10: %v", err)
	}
	m.Opsets[""] = 11
	out, rep, err := Export(m, calibtable.New(calibtable.TRTVersion{Major: 10}, "x"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Opsets[""] != 13 || out.IRVersion != 7 || rep.Opset != 13 {
		t.Errorf("opset %d IR %d", out.Opsets[""], out.IRVersion)
	}
	// Without a default-domain opset there is nothing to go by.
	delete(m.Opsets, "")
	if _, _, err := Export(m, calibtable.New(calibtable.TRTVersion{Major: 10}, "x"), Options{}); err == nil ||
		!strings.Contains(err.Error(), "imports no default-domain") {
		t.Errorf("no opset: %v", err)
	}
}

// ResNet-20: every Conv and the Gemm get Q/DQ; ExtraOps adds the residual
// Adds. The exported model runs in our engine and agrees with FP32 on
// CIFAR-like inputs (random, normalized: argmax agreement is the check).
func TestExportResNet20(t *testing.T) {
	m := readModel(t, resnetPath)
	r := rand.New(rand.NewPCG(1, 2))
	x := tensor.New(tensor.Float32, 32, 3, 32, 32)
	for i := range x.F32 {
		x.F32[i] = float32(r.NormFloat64())
	}
	tbl := minMaxTable(t, m, "input", x)
	for _, opts := range []Options{{}, {ExtraOps: []string{"Add"}}} {
		out, rep, err := Export(m, tbl, opts)
		if err != nil {
			t.Fatal(err)
		}
		convs := 0
		for _, n := range m.Graph.Nodes {
			if n.OpType == "Conv" || n.OpType == "Gemm" {
				convs++
			}
		}
		if len(rep.Weights) != convs || len(rep.Skipped) != 0 {
			t.Errorf("%d weights for %d Conv/Gemm; skipped %v", len(rep.Weights), convs, rep.Warnings())
		}
		adds := 0
		for _, a := range rep.Activations {
			for _, rd := range a.Readers {
				if n := findNode(m.Graph, rd); n != nil && n.OpType == "Add" {
					adds++
				}
			}
		}
		if (adds > 0) != (opts.ExtraOps != nil) {
			t.Errorf("ExtraOps %v: %d Add inputs quantized", opts.ExtraOps, adds)
		}
		fp32 := run(t, m, "input", "logits", x)
		int8 := run(t, out, "input", "logits", x)
		diff, agree := compareRows(fp32, int8)
		t.Logf("ExtraOps %v: %d activations, %d weights; argmax agreement %.1f%%, max |logit diff| %.3g",
			opts.ExtraOps, len(rep.Activations), len(rep.Weights), 100*agree, diff)
		if agree < 0.9 {
			t.Errorf("argmax agreement %.2f", agree)
		}
	}
}

func TestExportErrors(t *testing.T) {
	tbl := calibtable.New(calibtable.TRTVersion{Major: 10}, "x")
	if _, _, err := Export(nil, tbl, Options{}); err == nil {
		t.Error("nil model accepted")
	}
	m := gemmModel("MatMul", 0, tensor.FromFloat32([]float32{1}, 1, 1))
	if _, _, err := Export(m, nil, Options{}); err == nil {
		t.Error("nil table accepted")
	}
	if _, _, err := Export(m, tbl, Options{ExtraOps: []string{"QuantizeLinear"}}); err == nil {
		t.Error("ExtraOps QuantizeLinear accepted")
	}
	// A model that is already quantized is left alone where it is.
	out, _, err := Export(m, tbl, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tbl.Set("x", 1)
	again, rep, err := Export(out, tbl, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Weights) != 0 || len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Reason, "already produced by a DequantizeLinear") {
		t.Errorf("re-export: %s", rep)
	}
	if len(rep.Activations) != 1 || len(again.Graph.Nodes) != 4 {
		t.Errorf("re-export: %d nodes, report %s", len(again.Graph.Nodes), rep)
	}
}

// venvPython returns the project's Python, or skips.
func venvPython(t *testing.T) string {
	t.Helper()
	py := filepath.Join(repoRoot, ".venv", "bin", "python")
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no %s (make pydeps): %v", py, err)
	}
	abs, err := filepath.Abs(py)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// ortRun runs tools/ort/qdq_check.py on a model and input, with further
// flags of the script (--runs) in flags.
func ortRun(t *testing.T, py string, m *onnx.Model, input string, x *tensor.Tensor, opt string, flags ...string) *tensor.Tensor {
	t.Helper()
	dir := t.TempDir()
	model, in, out := filepath.Join(dir, "m.onnx"), filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if err := onnx.WriteFile(model, m); err != nil {
		t.Fatal(err)
	}
	if err := npy.Write(in, npy.NewFloat32(x.Shape, x.F32)); err != nil {
		t.Fatal(err)
	}
	args := append([]string{filepath.Join(repoRoot, "tools", "ort", "qdq_check.py"),
		"--model", model, "--input", input, "--npy", in, "--out", out, "--check", "--opt", opt}, flags...)
	cmd := exec.Command(py, args...)
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("qdq_check.py: %v\n%s", err, res)
	}
	t.Logf("qdq_check.py: %s", strings.TrimSpace(string(res)))
	return npytensor.Read(t, out)
}

// TestExportONNXRuntime runs the FP32 LeNet as re-encoded by onnx.Encode
// and the exported QDQ LeNet and ResNet-20 in ONNX Runtime and compares
// with our engine. With ONNX Runtime's graph optimizations off, both run
// the same fake quantization; with them on, ONNX Runtime may fuse Q/DQ
// into integer kernels, which only has to agree on the argmax.
func TestExportONNXRuntime(t *testing.T) {
	py := venvPython(t)
	m, out, _ := lenetExport(t, Options{})
	x, labels := mnistImages(t, mnist.Test, 0, 1000)

	ours32, ort32 := run(t, m, "data", "prob", x), ortRun(t, py, m, "data", x, "disable")
	d32, a32 := compareRows(ours32, ort32)
	t.Logf("LeNet FP32 (re-encoded model): max |prob diff| %.3g, argmax agreement %.2f%%", d32, 100*a32)
	if d32 > 1e-5 || a32 != 1 {
		t.Errorf("FP32: our engine and ORT differ by %g, agreement %g", d32, a32)
	}
	ours8 := run(t, out, "data", "prob", x)
	for _, opt := range []string{"disable", "all"} {
		ort8 := ortRun(t, py, out, "data", x, opt)
		d8, a8 := compareRows(ours8, ort8)
		t.Logf("LeNet QDQ, ORT optimizations %s: max |prob diff| %.3g, argmax agreement %.2f%%; top-1 ours %.2f%%, ORT %.2f%%",
			opt, d8, 100*a8, 100*top1(ours8, labels), 100*top1(ort8, labels))
		if (opt == "disable" && d8 > 1e-3) || a8 < 0.995 {
			t.Errorf("QDQ: our engine and ORT differ by %g, agreement %g", d8, a8)
		}
	}

	// mnist_zoo, relabelled from opset 7 / IR 3: ONNX's checker and ORT
	// accept the result.
	zm := readModel(t, mnistZooPath)
	zout, _, err := Export(zm, zooTable(t, zm), Options{})
	if err != nil {
		t.Fatal(err)
	}
	zx := tensor.FromFloat32(x.F32[:784], 1, 1, 28, 28)
	zd, za := compareRows(run(t, zout, "Input3", "Plus214_Output_0", zx), ortRun(t, py, zout, "Input3", zx, "disable"))
	t.Logf("mnist_zoo QDQ (opset 13): max |score diff| %.3g, argmax agreement %.0f%%", zd, 100*za)
	if zd > 1e-3 || za != 1 {
		t.Errorf("mnist_zoo QDQ: our engine and ORT differ by %g, agreement %g", zd, za)
	}

	rm := readModel(t, resnetPath)
	r := rand.New(rand.NewPCG(3, 4))
	rx := tensor.New(tensor.Float32, 32, 3, 32, 32)
	for i := range rx.F32 {
		rx.F32[i] = float32(r.NormFloat64())
	}
	rout, _, err := Export(rm, minMaxTable(t, rm, "input", rx), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Here the two runtimes' float sums differ in the last bits, which now
	// and then moves a value across a rounding boundary of a
	// QuantizeLinear: one int8 step, which the next layers spread (up to
	// 0.6% of the values of the last blocks differ by a step or more).
	// The logits agree to a few tenths, on a range of about ±10.
	ours, ort := run(t, rout, "input", "logits", rx), ortRun(t, py, rout, "input", rx, "disable")
	d, a := compareRows(ours, ort)
	var lmax float64
	for _, v := range ort.F32 {
		lmax = max(lmax, math.Abs(float64(v)))
	}
	t.Logf("ResNet-20 QDQ: max |logit diff| %.3g (max |logit| %.3g), argmax agreement %.2f%%", d, lmax, 100*a)
	if d > 0.1*lmax || a < 0.95 {
		t.Errorf("ResNet-20 QDQ: our engine and ORT differ by %g, agreement %g", d, a)
	}
}
