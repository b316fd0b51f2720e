package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/memlimit"
)

// padModel is an MNIST-shaped input padded by pad on each side of H and W,
// then, with conv, a 5×5 stride-2 convolution of the padded image.
// padModel pads MNIST-sized images by padH rows and padW columns on each
// side, then, with conv, applies a 5×5 convolution of strides 2 (rows)
// and 3 (columns).
func padModel(t *testing.T, padH, padW int64, conv bool, budget memlimit.Budget) *graph.Graph {
	t.Helper()
	nodes := []*onnx.Node{{Name: "pad", OpType: "Pad", Inputs: []string{"x", "pads"}, Outputs: []string{"padded"}}}
	inits := []*onnx.Initializer{{Name: "pads", Tensor: tensor.FromInt64([]int64{0, 0, padH, padW, 0, 0, padH, padW}, 8)}}
	out := "padded"
	if conv {
		nodes = append(nodes, &onnx.Node{Name: "conv", OpType: "Conv", Inputs: []string{"padded", "w"}, Outputs: []string{"y"},
			Attrs: []*onnx.Attribute{{Name: "strides", Type: onnx.AttrInts, Ints: []int64{2, 3}}}})
		inits = append(inits, &onnx.Initializer{Name: "w", Tensor: tensor.New(tensor.Float32, 1, 1, 5, 5)})
		out = "y"
	}
	m := &onnx.Model{IRVersion: 7, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Name: "pad", Nodes: nodes, Initializers: inits,
		Inputs:  []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, HasShape: true, Dims: []onnx.Dim{{Param: "N"}, {Value: 1}, {Value: 28}, {Value: 28}}}},
		Outputs: []*onnx.ValueInfo{{Name: out}},
	}}
	g, err := graph.Options{Budget: budget}.FromONNX(m)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// A Pad of 8192 on a batch of 50 MNIST images asks for 50 GiB: Go died
// with "fatal error: out of memory". The plan is refused before anything
// is allocated, naming the node, the tensor and the sizes.
func TestPlanRefusesBuffersOverTheBudget(t *testing.T) {
	g := padModel(t, 8192, 8192, false, memlimit.Budget{Limit: 256 << 20, Hint: "--memory-limit to change"})
	_, err := engine.New(g, engine.Options{}).Plan(map[string][]int{"x": {50, 1, 28, 28}}, false)
	want := `node "pad" (Pad): tensor "padded" float32[50,1,16412,16412] needs 50.2 GiB on top of 64 B already taken; the memory limit is 256.0 MiB (--memory-limit to change)`
	if err == nil || err.Error() != want {
		t.Fatalf("error\n%v\nwant\n%s", err, want)
	}
	var le *memlimit.Error
	if !errors.As(err, &le) {
		t.Errorf("%v is not a *memlimit.Error", err)
	}
}

// A convolution's working memory (its im2col matrix, 25 times the output:
// output rows of 8, too narrow for the strategies that read the input in
// place) is counted too: here it, not any tensor, is what exceeds the
// budget.
func TestPlanCountsWorkingMemory(t *testing.T) {
	g := padModel(t, 128000, 0, true, memlimit.Budget{Limit: 64 << 20})
	_, err := engine.New(g, engine.Options{Workers: 1}).Plan(map[string][]int{"x": {1, 1, 28, 28}}, false)
	if err == nil || !strings.Contains(err.Error(), `node "conv" (Conv): its working memory needs 97.7 MiB`) {
		t.Fatalf("error %v", err)
	}
	// Under a budget that holds it, the same model runs.
	g = padModel(t, 128000, 0, true, memlimit.Budget{Limit: 256 << 20})
	if _, err := engine.New(g, engine.Options{Workers: 1}).Run(map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 1, 1, 28, 28)}); err != nil {
		t.Fatal(err)
	}
}

// The sample's network plans and runs in every precision under a budget
// of a few MiB, and a budget smaller than its plan is an error naming a
// node, not a crash.
func TestLeNetUnderBudget(t *testing.T) {
	plain := load(t, lenetPath)
	scales := map[string]float32{}
	for _, n := range plain.Nodes {
		for _, in := range n.Inputs {
			scales[in] = 0.01
		}
	}
	for _, p := range []precision.Precision{precision.FP32, precision.FP16, precision.INT8} {
		g, err := graph.Options{Budget: memlimit.Budget{Limit: 16 << 20}}.Load(lenetPath)
		if err != nil {
			t.Fatal(err)
		}
		e := engine.New(g, engine.Options{Precision: p, Int8Scales: scales})
		if _, err := e.Run(map[string]*tensor.Tensor{"data": randomInput(8, 1, 28, 28)}); err != nil {
			t.Errorf("%v: %v", p, err)
		}
		g.Budget.Limit = g.ConstantBytes() + 1<<10
		_, err = engine.New(g, engine.Options{Precision: p, Int8Scales: scales}).Plan(map[string][]int{"data": {8, 1, 28, 28}}, false)
		var le *memlimit.Error
		if !errors.As(err, &le) || !strings.HasPrefix(err.Error(), "node ") && !strings.HasPrefix(err.Error(), "the FP16 copy") {
			t.Errorf("%v, budget just above the constants: error %v", p, err)
		}
	}
}
