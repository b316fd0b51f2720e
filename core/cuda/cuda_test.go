package cuda_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/core/calibrate"
	"github.com/int8cal/int8cal/core/cuda"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/internal/npytensor"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/stats"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/gpulibs"
	"github.com/int8cal/int8cal/loader"
)

const repoRoot = "../.."

// backend opens the GPU, or skips the test saying why (CI has none).
func backend(t testing.TB) *cuda.Backend {
	t.Helper()
	b, err := cuda.Open(testLibraries(), 0, nil)
	if err != nil {
		if loader.IsNotFound(err) || errors.Is(err, cuda.ErrNoGPU) {
			t.Skipf("no usable GPU, GPU tests skipped: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// testLibraries uses the NVRTC `make gpulibs` installs when there is one.
func testLibraries() cuda.Libraries { return cuda.Libraries{NVRTC: gpulibs.NVRTC(repoRoot)} }

func load(t testing.TB, name string) *graph.Graph {
	t.Helper()
	path := filepath.Join(repoRoot, "testdata", "models", name)
	if name == "lenet.onnx" {
		path = filepath.Join(repoRoot, "data", "mnist", name)
	}
	g, err := graph.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// golden returns a model's stored input and ONNX Runtime's final output.
func golden(t testing.TB, model string) (input, want *tensor.Tensor, inName, outName string) {
	t.Helper()
	dir := filepath.Join(repoRoot, "testdata", "golden")
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Models map[string]struct {
			Input   struct{ Name, File string }
			Outputs []struct{ Tensor, File string }
		}
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	mm := m.Models[model]
	last := mm.Outputs[len(mm.Outputs)-1]
	for _, o := range mm.Outputs {
		if o.Tensor == "prob" || o.Tensor == "logits" {
			last = o
		}
	}
	return npytensor.Read(t, filepath.Join(dir, mm.Input.File)), npytensor.Read(t, filepath.Join(dir, last.File)), mm.Input.Name, last.Tensor
}

// maxRelDiff is max |got-want| over max |want|.
func maxRelDiff(got, want []float32) float64 {
	var d, m float64
	for i := range want {
		d = max(d, math.Abs(float64(got[i]-want[i])))
		m = max(m, math.Abs(float64(want[i])))
	}
	return d / max(m, 1e-30)
}

func argmaxAgreement(a, b *tensor.Tensor) float64 {
	n, classes := a.Shape[0], a.Len()/a.Shape[0]
	same := 0
	for i := 0; i < n; i++ {
		if argmax(a.F32[i*classes:(i+1)*classes]) == argmax(b.F32[i*classes:(i+1)*classes]) {
			same++
		}
	}
	return float64(same) / float64(n)
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// TestGoldenONNXRuntime checks the GPU's FP32 outputs against ONNX
// Runtime's stored ones.
func TestGoldenONNXRuntime(t *testing.T) {
	b := backend(t)
	for _, name := range []string{"lenet", "resnet20"} {
		in, want, inName, outName := golden(t, name)
		e := b.NewEngine(load(t, name+".onnx"), engine.Options{})
		out, err := e.Run(map[string]*tensor.Tensor{inName: in})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := maxRelDiff(out[outName].F32, want.F32); d > 1e-4 {
			t.Errorf("%s: %s differs from ONNX Runtime by %.3g of its largest magnitude", name, outName, d)
		} else {
			t.Logf("%s: %s within %.2g of ONNX Runtime", name, outName, d)
		}
		e.Close()
	}
}

// scalesFrom calibrates crudely (max |x|/127 per tensor on the CPU) to
// give INT8 plans scales.
func scalesFrom(t testing.TB, g *graph.Graph, inName string, in *tensor.Tensor) map[string]float32 {
	scales := map[string]float32{}
	_, err := engine.New(g, engine.Options{}).RunObserved(map[string]*tensor.Tensor{inName: in}, func(name string, x *tensor.Tensor) {
		var m float32
		for _, v := range x.F32 {
			m = max(m, float32(math.Abs(float64(v))))
		}
		scales[name] = m / 127
	})
	if err != nil {
		t.Fatal(err)
	}
	return scales
}

// TestPrecisionsMatchCPU runs both models in every precision on the GPU
// and on the CPU engine: FP32 agrees to float rounding, FP16 and INT8 to
// their own rounding (the same quantized operands, summed in another
// order), and the predicted classes agree.
func TestPrecisionsMatchCPU(t *testing.T) {
	b := backend(t)
	for _, name := range []string{"lenet", "resnet20"} {
		in, _, inName, outName := golden(t, name)
		g := load(t, name+".onnx")
		scales := scalesFrom(t, g, inName, in)
		for _, tc := range []struct {
			p       precision.Precision
			maxDiff float64
		}{{precision.FP32, 1e-4}, {precision.FP16, 2e-2}, {precision.INT8, 2e-2}} {
			opts := engine.Options{Precision: tc.p, Int8Scales: scales}
			want, err := engine.New(g, opts).Run(map[string]*tensor.Tensor{inName: in})
			if err != nil {
				t.Fatal(err)
			}
			e := b.NewEngine(g, opts)
			got, err := e.Run(map[string]*tensor.Tensor{inName: in})
			if err != nil {
				t.Fatalf("%s %s: %v", name, tc.p, err)
			}
			d := maxRelDiff(got[outName].F32, want[outName].F32)
			agree := argmaxAgreement(got[outName], want[outName])
			t.Logf("%s %s: GPU vs CPU max difference %.3g of the largest magnitude, top-1 agreement %.3f", name, tc.p, d, agree)
			if d > tc.maxDiff || agree < 1 {
				t.Errorf("%s %s: GPU differs from CPU by %.3g (limit %.3g), top-1 agreement %.3f", name, tc.p, d, tc.maxDiff, agree)
			}
			e.Close()
		}
	}
}

// TestBatchesAndFusion: fused and unfused plans, and a batch split in
// two, give the same outputs.
func TestBatchesAndFusion(t *testing.T) {
	b := backend(t)
	in, _, inName, outName := golden(t, "resnet20")
	g := load(t, "resnet20.onnx")
	whole, err := b.NewEngine(g, engine.Options{}).Run(map[string]*tensor.Tensor{inName: in})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), whole[outName].F32...)
	unfused, err := b.NewEngine(g, engine.Options{NoFusion: true}).Run(map[string]*tensor.Tensor{inName: in})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxRelDiff(unfused[outName].F32, want); d > 1e-6 {
		t.Errorf("unfused plan differs by %.3g", d)
	}
	half := in.Shape[0] / 2
	per := in.Len() / in.Shape[0]
	e := b.NewEngine(g, engine.Options{})
	first, err := e.Run(map[string]*tensor.Tensor{inName: tensor.FromFloat32(in.F32[:half*per], append([]int{half}, in.Shape[1:]...)...)})
	if err != nil {
		t.Fatal(err)
	}
	classes := len(want) / in.Shape[0]
	if d := maxRelDiff(first[outName].F32, want[:half*classes]); d > 1e-5 {
		t.Errorf("half batch differs by %.3g", d)
	}
}

// TestStatisticsOnGPU compares the histograms gathered on the GPU with
// those the CPU gathers from the same network on the same data: same
// tensors in the same order, the same counts, extremes within float
// rounding, and histograms within a few values per bin (activations
// differ in the last bits, which moves values at bin edges).
func TestStatisticsOnGPU(t *testing.T) {
	b := backend(t)
	for _, kind := range []calib.StatisticsKind{calib.AbsHistogram, calib.SignedHistogram, calib.MinMax} {
		in, _, inName, _ := golden(t, "resnet20")
		g := load(t, "resnet20.onnx")
		need := calib.Info{Statistics: kind, Bins: 2048}
		src := &memSource{x: in}
		batches := calibrate.Batches{Batch: in.Shape[0], Batches: 1}
		want, err := calibrate.Collect(engine.New(g, engine.Options{}), src, inName, batches, need, nil)
		if err != nil {
			t.Fatal(err)
		}
		e := b.NewEngine(g, engine.Options{})
		got, err := calibrate.Collect(e, src, inName, batches, need, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d tensors on the GPU, %d on the CPU", kind, len(got), len(want))
		}
		var worstBin uint64
		for i := range want {
			w, gt := want[i], got[i]
			if gt.Name != w.Name || gt.Count != w.Count {
				t.Fatalf("%s: tensor %d is %q (%d values) on the GPU, %q (%d) on the CPU", kind, i, gt.Name, gt.Count, w.Name, w.Count)
			}
			if math.Abs(float64(gt.Max-w.Max)) > 1e-4*float64(w.MaxAbs()) || math.Abs(float64(gt.Min-w.Min)) > 1e-4*float64(w.MaxAbs()) {
				t.Errorf("%s %q: range [%g, %g] on the GPU, [%g, %g] on the CPU", kind, w.Name, gt.Min, gt.Max, w.Min, w.Max)
			}
			if w.Histogram == nil {
				continue
			}
			if gt.Histogram.Range != w.Histogram.Range {
				t.Errorf("%s %q: range %g on the GPU, %g on the CPU", kind, w.Name, gt.Histogram.Range, w.Histogram.Range)
				continue
			}
			for j := range w.Histogram.Counts {
				a, c := gt.Histogram.Counts[j], w.Histogram.Counts[j]
				worstBin = max(worstBin, max(a, c)-min(a, c))
			}
		}
		t.Logf("%s: %d tensors; largest per-bin difference %d", kind, len(want), worstBin)
		if worstBin > 8 {
			t.Errorf("%s: a bin differs by %d values between GPU and CPU", kind, worstBin)
		}
		e.Close()
	}
}

// TestHistogramKernelExact feeds the statistics kernels known values
// through a one-node graph (Relu of the input) and checks the histogram
// against calib/histogram byte for byte.
func TestHistogramKernelExact(t *testing.T) {
	b := backend(t)
	g := load(t, "resnet20.onnx")
	r := rand.New(rand.NewPCG(3, 4))
	x := tensor.New(tensor.Float32, 2, 3, 32, 32)
	for i := range x.F32 {
		x.F32[i] = float32(r.NormFloat64() * 2)
	}
	x.F32[5] = 4 // exactly the range's top: the extra slot
	x.F32[6] = float32(math.Copysign(0, -1))
	need := calib.Info{Statistics: calib.SignedHistogram, Bins: 4096}
	e := b.NewEngine(g, engine.Options{})
	var first *histogram.Histogram
	err := e.RunStatistics(map[string]*tensor.Tensor{"input": x}, need, func(s stats.Tensor) error {
		if first == nil {
			first = s.Histogram
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := histogram.NewSigned(4096)
	want.Add(x.F32)
	if !first.Equal(want) {
		t.Fatalf("GPU histogram of the input %v, want %v", first, want)
	}
}

type memSource struct{ x *tensor.Tensor }

func (m *memSource) Len() int           { return m.x.Shape[0] }
func (m *memSource) SampleShape() []int { return m.x.Shape[1:] }
func (m *memSource) Read(first, n int, images []float32, labels []int) error {
	per := m.x.Len() / m.x.Shape[0]
	copy(images, m.x.F32[first*per:(first+n)*per])
	return nil
}

// TestOpenReportsMissingLibrary runs everywhere: an explicit driver path
// that does not exist is an error naming it, never a panic.
func TestOpenReportsMissingLibrary(t *testing.T) {
	_, err := cuda.Open(cuda.Libraries{Driver: "/nonexistent/libcuda.so.1"}, 0, nil)
	if !loader.IsNotFound(err) || !strings.Contains(err.Error(), "/nonexistent/libcuda.so.1") {
		t.Fatalf("want a not-found error naming the path, got %v", err)
	}
}
