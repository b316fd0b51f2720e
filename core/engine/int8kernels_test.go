package engine_test

import (
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/qgemm"
	"github.com/int8cal/int8cal/core/tensor"
)

// Whole INT8 networks give the same bits on every kernel this machine
// can run (AVX-512 VNNI, AVX2, pure Go, ...): the integer products are
// exact and every float step is rounded the same way, so a table
// calibrated anywhere scores the same everywhere. LeNet (plain and the
// old unfolding path for its single input channel), ResNet-20 (implicit
// GEMM, strides, residuals) and the CIFAR-10 MobileNetV2 (depthwise,
// ReLU6), a batch of random images each, scales from an FP32 run.
func TestINT8SameOnEveryKernel(t *testing.T) {
	pairs := []struct {
		f gemm.Impl
		q qgemm.Impl
	}{{gemm.ImplGo, qgemm.ImplGo}}
	for _, f := range gemm.Available() {
		for _, q := range qgemm.Available() {
			if q != qgemm.ImplGo && f != gemm.ImplGo {
				pairs = append(pairs, struct {
					f gemm.Impl
					q qgemm.Impl
				}{f, q})
			}
		}
	}
	for _, tc := range []struct {
		path  string
		batch int
	}{
		{filepath.Join(repoRoot, "data", "mnist", "lenet.onnx"), 5},
		{filepath.Join(repoRoot, "testdata", "models", "resnet20.onnx"), 3},
		{filepath.Join(repoRoot, "testdata", "models", "cifar10_mobilenetv2.onnx"), 2},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			g, inputs, scales := int8Case(t, tc.path, tc.batch, 3)
			var first []float32
			var firstName string
			for _, p := range pairs {
				name := fmt.Sprintf("%v/%v", p.f, p.q)
				got := runINT8With(t, g, inputs, scales, p.f, p.q)
				if first == nil {
					first, firstName = got, name
					continue
				}
				for i := range first {
					if math.Float32bits(got[i]) != math.Float32bits(first[i]) {
						t.Fatalf("kernels %s: output %d = %v, kernels %s gave %v", name, i, got[i], firstName, first[i])
					}
				}
			}
			t.Logf("%d kernel combinations, %d outputs each, bit-identical", len(pairs), len(first))
		})
	}
}

// Keeping the tensors between INT8 layers in int8 changes no bit: the
// producers requantize in their epilogues exactly as the readers would
// have quantized, and max pooling commutes with quantizing. LeNet links
// every tensor from conv1 to ip2's input (through both pools and the
// Flatten), ResNet-20 each block's inner tensor, MobileNetV2 both
// tensors inside each inverted residual (depthwise input and output) and
// the blocks' outputs that no residual reads; the residual sums stay
// float32. Where RequantizeBlocks has a vector kernel, MobileNetV2's
// plan also interleaves in blocks of four channels the tensors that only
// 1×1 convolutions read (the depthwise outputs, the projections' outputs
// that only the next expansion reads), and that changes no bit either.
func TestInt8LinksChangeNothing(t *testing.T) {
	for _, tc := range []struct {
		path            string
		batch           int
		linked, blocked int
	}{
		{filepath.Join(repoRoot, "data", "mnist", "lenet.onnx"), 5, 6, 0},
		{filepath.Join(repoRoot, "testdata", "models", "resnet20.onnx"), 3, 9, 0},
		{filepath.Join(repoRoot, "testdata", "models", "cifar10_mobilenetv2.onnx"), 2, 41, 19},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			g, inputs, scales := int8Case(t, tc.path, tc.batch, 4)
			in := g.Inputs[0]
			var logged strings.Builder
			opts := engine.Options{Precision: precision.INT8, Int8Scales: scales,
				Log: hclog.New(&hclog.LoggerOptions{Output: &logged, Level: hclog.Info})}
			linked := engine.New(g, opts)
			p, err := linked.Plan(map[string][]int{in.Name: inputs[in.Name].Shape}, false)
			if err != nil {
				t.Fatal(err)
			}
			if n := engine.Int8Linked(p); n != tc.linked {
				t.Errorf("%d tensors kept in int8, want %d", n, tc.linked)
			}
			// Depthwise outputs are blocked where the row kernel runs
			// them (AVX-512 VBMI); without it, only projections' outputs.
			blocked := engine.Int8Blocked(p)
			_, rows := qgemm.NewDepthwiseRows(qgemm.DepthwiseWindow{In: [2]int{8, 8}, Out: [2]int{8, 8}, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}, PadBegin: [2]int{1, 1}})
			switch {
			case !qgemm.BlocksVector() && blocked != 0,
				qgemm.BlocksVector() && rows && blocked != tc.blocked,
				qgemm.BlocksVector() && !rows && (blocked == 0) != (tc.blocked == 0):
				t.Errorf("%d tensors blocked, want %d with the depthwise row kernel (here: %v), some without, none without AVX-512", blocked, tc.blocked, rows)
			}
			if want := fmt.Sprintf(" int8_tensors_between=%d int8_tensors_blocked=%d ", tc.linked, blocked); !strings.Contains(logged.String(), want) {
				t.Errorf("the plan log lacks %q:\n%s", want, logged.String())
			}
			got, err := linked.Run(inputs)
			if err != nil {
				t.Fatal(err)
			}
			want, err := engine.New(g, engine.WithoutInt8Links(opts)).Run(inputs)
			if err != nil {
				t.Fatal(err)
			}
			name := g.Outputs[0].Name
			for i, w := range want[name].F32 {
				if math.Float32bits(got[name].F32[i]) != math.Float32bits(w) {
					t.Fatalf("output %d = %v with int8 links, %v without", i, got[name].F32[i], w)
				}
			}
		})
	}
}

// int8Case loads the model at path and makes a batch of random images
// (values in [-0.5, 1.5), from seed) and the scales an FP32 run of it
// observes.
func int8Case(t *testing.T, path string, batch int, seed int64) (*graph.Graph, map[string]*tensor.Tensor, map[string]float32) {
	t.Helper()
	g, err := graph.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	in := g.Inputs[0]
	x := tensor.New(tensor.Float32, append([]int{batch}, in.Shape[1:]...)...)
	rng := rand.New(rand.NewSource(seed))
	for i := range x.F32 {
		x.F32[i] = rng.Float32()*2 - 0.5
	}
	return g, map[string]*tensor.Tensor{in.Name: x}, observedScales(t, path, in.Name, x)
}

// runINT8With runs a fresh INT8 engine with the float kernels f and the
// integer kernels q and returns a copy of the first output.
func runINT8With(t *testing.T, g *graph.Graph, inputs map[string]*tensor.Tensor, scales map[string]float32, f gemm.Impl, q qgemm.Impl) []float32 {
	t.Helper()
	pf, err := gemm.SetImpl(f)
	if err != nil {
		t.Fatal(err)
	}
	defer gemm.SetImpl(pf)
	pq, err := qgemm.SetImpl(q)
	if err != nil {
		t.Fatal(err)
	}
	defer qgemm.SetImpl(pq)
	out, err := engine.New(g, engine.Options{Precision: precision.INT8, Int8Scales: scales}).Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), out[g.Outputs[0].Name].F32...)
}

// MakePlan makes the plan Run then uses: the first Run after it packs no
// weights and allocates no buffers again (it still grows the operators'
// scratch areas, as any first Run does).
func TestMakePlanIsTheRunPlan(t *testing.T) {
	g, err := graph.Load(filepath.Join(repoRoot, "testdata", "models", "resnet20.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.Float32, 2, 3, 32, 32)
	inputs := map[string]*tensor.Tensor{g.Inputs[0].Name: x}
	e := engine.New(g, engine.Options{})
	allocated := func(f func() error) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := f(); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	planned := allocated(func() error { return e.MakePlan(inputs) })
	run := allocated(func() error { _, err := e.Run(inputs); return err })
	fresh := engine.New(g, engine.Options{})
	unplanned := allocated(func() error { _, err := fresh.Run(inputs); return err })
	if planned < 1<<20 || run > unplanned-planned*9/10 {
		t.Errorf("MakePlan allocated %d bytes and the Run after it %d, a first Run without it %d: Run made a plan of its own", planned, run, unplanned)
	}
}
