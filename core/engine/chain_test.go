package engine_test

import (
	"math"
	"math/rand"
	"sync"
	"testing"
	"unsafe"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

type observedTensor struct {
	name string
	bits []uint32
}

func observe(t *tensor.Tensor) []uint32 {
	b := make([]uint32, len(t.F32))
	for i, v := range t.F32 {
		b[i] = math.Float32bits(v)
	}
	return b
}

// RunObservedChunks shows the tensors RunObserved shows, bit for bit and
// in the same order, and hands over the values of each Relu (and of an
// Add right before one, and of the step right before either) in pieces
// that partition the tensor, each piece unchanged after it was handed
// over and before the tensor is observed, with worker indices below
// Workers(). The Convs among those steps run in the chained step, the
// other steps stay apart (deferred). ResNet-20 at batch 5 with 2 workers
// (the default here) has Winograd blocks ending inside an image, at
// batch 2 with 3 workers fewer blocks and images than workers;
// depthwiseModel chains a depthwise and a pointwise Conv.
func TestObservedChunksMatchObservedRun(t *testing.T) {
	for _, tc := range []struct {
		path    string // or, when "", depthwiseModel
		input   string
		shape   []int
		workers int
		chunked int // tensors whose values come in pieces
		// steps chained with their producer, and producers deferred
		merged, deferred int
	}{
		// LeNet: ip1 (a Gemm, deferred) and relu1. ResNet-20: the 19
		// Relus, the 9 Adds before a Relu, and the step right before
		// either: 17 Convs (merged; the other 2 come before a
		// downsampling shortcut's Slice and Pad) and those 2 Pads
		// (deferred).
		{lenetPath, "data", []int{3, 1, 28, 28}, 0, 2, 0, 1},
		{resnet20Path, "input", []int{5, 3, 32, 32}, 0, 19 + 9 + 17 + 2, 17, 2},
		{resnet20Path, "input", []int{2, 3, 32, 32}, 3, 19 + 9 + 17 + 2, 17, 2},
		// depthwiseModel: both Convs merged, all five tensors in pieces.
		{"", "x", []int{3, 8, 12, 12}, 2, 5, 2, 0},
	} {
		var g *graph.Graph
		if tc.path == "" {
			g = depthwiseModel(t)
		} else {
			g = load(t, tc.path)
		}
		eng := engine.New(g, engine.Options{Workers: tc.workers})
		x := randomInput(tc.shape...)
		for i := range x.F32 {
			x.F32[i] = 2*x.F32[i] - 1
		}
		in := map[string]*tensor.Tensor{tc.input: x}
		var want []observedTensor
		if _, err := eng.RunObserved(in, func(name string, v *tensor.Tensor) {
			if v.DType.IsFloat() {
				want = append(want, observedTensor{name, observe(v)})
			}
		}); err != nil {
			t.Fatal(err)
		}
		type piece struct {
			at     unsafe.Pointer
			values []uint32
		}
		var mu sync.Mutex
		pieces := map[string][]piece{}
		var got []observedTensor
		chunked := 0
		_, err := eng.RunObservedChunks(in, func(name string, v *tensor.Tensor) {
			if !v.DType.IsFloat() {
				return
			}
			got = append(got, observedTensor{name, observe(v)})
			ps := pieces[name]
			if len(ps) == 0 {
				return
			}
			chunked++
			covered := make([]int, len(v.F32))
			base := uintptr(unsafe.Pointer(unsafe.SliceData(v.F32)))
			for _, p := range ps {
				off := int(uintptr(p.at)-base) / 4
				if uintptr(p.at) < base || off+len(p.values) > len(v.F32) {
					t.Fatalf("%s: a piece lies outside the tensor", name)
				}
				for i, b := range p.values {
					covered[off+i]++
					if math.Float32bits(v.F32[off+i]) != b {
						t.Fatalf("%s[%d]: changed after it was handed over", name, off+i)
					}
				}
			}
			for i, c := range covered {
				if c != 1 {
					t.Fatalf("%s[%d]: in %d pieces, want 1", name, i, c)
				}
			}
		}, func(worker int, name string, values []float32) {
			if worker < 0 || worker >= eng.Workers() {
				t.Errorf("worker %d of %d", worker, eng.Workers())
			}
			bits := make([]uint32, len(values))
			for i, v := range values {
				bits[i] = math.Float32bits(v)
			}
			mu.Lock()
			pieces[name] = append(pieces[name], piece{unsafe.Pointer(unsafe.SliceData(values)), bits})
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d tensors observed, RunObserved shows %d", tc.path, len(got), len(want))
		}
		for i := range want {
			if got[i].name != want[i].name {
				t.Fatalf("%s: tensor %d is %s, RunObserved shows %s", tc.path, i, got[i].name, want[i].name)
			}
			for j := range want[i].bits {
				if got[i].bits[j] != want[i].bits[j] {
					t.Fatalf("%s: %s[%d] = %#x, RunObserved gives %#x", tc.path, want[i].name, j, got[i].bits[j], want[i].bits[j])
				}
			}
		}
		if chunked != tc.chunked {
			t.Errorf("%s: %d tensors came in pieces, want %d", tc.path, chunked, tc.chunked)
		}
		merged, deferred, err := engine.ChainedProducers(eng, in)
		if err != nil {
			t.Fatal(err)
		}
		if merged != tc.merged || deferred != tc.deferred {
			t.Errorf("%s: %d producers chained, %d deferred; want %d and %d", tc.path, merged, deferred, tc.merged, tc.deferred)
		}
	}
}

// depthwiseModel is x → depthwise 3×3 Conv → Relu → 1×1 Conv → Add x →
// Relu, on inputs of 8 channels, random weights and biases: a depthwise
// Conv and a pointwise one chained with their Relu (and Add).
func depthwiseModel(t *testing.T) *graph.Graph {
	t.Helper()
	rng := rand.New(rand.NewSource(3))
	random := func(shape ...int) *tensor.Tensor {
		v := tensor.New(tensor.Float32, shape...)
		for i := range v.F32 {
			v.F32[i] = 2*rng.Float32() - 1
		}
		return v
	}
	nodes := []*onnx.Node{
		{Name: "dw", OpType: "Conv", Inputs: []string{"x", "wd", "bd"}, Outputs: []string{"d"}, Attrs: []*onnx.Attribute{
			{Name: "group", Type: onnx.AttrInt, I: 8}, {Name: "pads", Type: onnx.AttrInts, Ints: []int64{1, 1, 1, 1}}}},
		{Name: "relu1", OpType: "Relu", Inputs: []string{"d"}, Outputs: []string{"r"}},
		{Name: "pw", OpType: "Conv", Inputs: []string{"r", "wp", "bp"}, Outputs: []string{"c"}},
		{Name: "add", OpType: "Add", Inputs: []string{"c", "x"}, Outputs: []string{"a"}},
		{Name: "relu2", OpType: "Relu", Inputs: []string{"a"}, Outputs: []string{"o"}},
	}
	inits := []*onnx.Initializer{
		{Name: "wd", Tensor: random(8, 1, 3, 3)}, {Name: "bd", Tensor: random(8)},
		{Name: "wp", Tensor: random(8, 8, 1, 1)}, {Name: "bp", Tensor: random(8)},
	}
	m := &onnx.Model{IRVersion: 7, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Name: "depthwise", Nodes: nodes, Initializers: inits,
		Inputs:  []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, HasShape: true, Dims: []onnx.Dim{{Param: "N"}, {Value: 8}, {Value: 12}, {Value: 12}}}},
		Outputs: []*onnx.ValueInfo{{Name: "o"}},
	}}
	g, err := graph.Options{}.FromONNX(m)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
