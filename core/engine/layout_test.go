package engine_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// runBothLayouts runs g on inputs with opts, then keeping the usual
// layout, and returns how many steps the first run's plans (the first
// part's, where the batch splits) compute channels-last, how many images
// they take at a time, and both runs' outputs.
func runBothLayouts(t *testing.T, g *graph.Graph, opts engine.Options, inputs map[string]*tensor.Tensor) (steps, chunk int, got, want map[string]*tensor.Tensor) {
	t.Helper()
	last := engine.New(g, opts)
	steps, chunk, err := engine.ChannelsLastSteps(last, inputs)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = last.Run(inputs); err != nil {
		t.Fatal(err)
	}
	if want, err = engine.New(g, engine.WithChannelsFirst(opts)).Run(inputs); err != nil {
		t.Fatal(err)
	}
	return steps, chunk, got, want
}

// Networks of depthwise and pointwise convolutions run their stretches
// channels-last where the CPU has the kernels (AVX-512 or AVX2), and give the
// outputs of the plans that keep the usual layout: within 1e-5 of the
// largest output (the sums run in another order), for a batch of one
// image, and for batches split into parts that run an image at a time. The stretches run through
// squeeze-and-excite blocks, hard-swish and SiLU activations and 5×5
// depthwise convolutions (MobileNetV3, EfficientNet), in FP32 and FP16.
// Networks without depthwise convolutions stay in the usual layout.
func TestChannelsLastMatchesChannelsFirst(t *testing.T) {
	if gemm.CurrentImpl() == gemm.ImplGo {
		t.Skip("the channels-last stretches need the AVX2 or AVX-512 kernels, which this build or CPU does not have")
	}
	type run = struct{ images, workers int }
	any := []run{{1, 1}, {5, 2}, {7, 3}}
	two := []run{{2, 1}, {2, 2}}
	for _, m := range []struct {
		name, path string
		shape      []int
		moved      bool
		runs       []struct{ images, workers int }
	}{
		{"MobileNetV2 (CIFAR-10)", filepath.Join(repoRoot, "testdata", "models", "cifar10_mobilenetv2.onnx"), []int{3, 32, 32}, true, any},
		// The zoo's exports take batches of 2.
		{"MobileNetV2 (zoo, torchscript)", filepath.Join(repoRoot, "testdata", "zoo", "mobilenet_v2.torchscript.onnx"), []int{3, 32, 32}, true, two},
		{"MobileNetV2 (zoo, dynamo)", filepath.Join(repoRoot, "testdata", "zoo", "mobilenet_v2.dynamo.onnx"), []int{3, 32, 32}, true, two},
		{"EfficientNet-B0 (zoo, dynamo)", filepath.Join(repoRoot, "testdata", "zoo", "efficientnet_b0.dynamo.onnx"), []int{3, 32, 32}, true, two},
		{"MobileNetV3-Large (zoo, torchscript)", filepath.Join(repoRoot, "testdata", "zoo", "mobilenet_v3_large.torchscript.onnx"), []int{3, 32, 32}, true, two},
		{"MobileNetV3-Small (zoo, dynamo)", filepath.Join(repoRoot, "testdata", "zoo", "mobilenet_v3_small.dynamo.onnx"), []int{3, 32, 32}, true, two},
		// Its channel shuffles (Reshape, Transpose) are not channels-last
		// operators: the stretches between them are too short to pay.
		{"ShuffleNetV2 (zoo, torchscript)", filepath.Join(repoRoot, "testdata", "zoo", "shufflenet_v2.torchscript.onnx"), []int{3, 32, 32}, false, two},
		{"ResNet-20", resnet20Path, []int{3, 32, 32}, false, any},
	} {
		g := load(t, m.path)
		in := g.Inputs[0].Name
		for i, c := range m.runs {
			x := randomInput(append([]int{c.images}, m.shape...)...)
			inputs := map[string]*tensor.Tensor{in: x}
			opts := engine.Options{Workers: c.workers}
			if i == len(m.runs)-1 {
				opts.Precision = precision.FP16 // rounded after every step: the same in either layout
			}
			steps, chunk, got, want := runBothLayouts(t, g, opts, inputs)
			if (steps > 0) != m.moved {
				t.Fatalf("%s, %d images: %d channels-last steps", m.name, c.images, steps)
			}
			t.Logf("%s %v, %d images on %d workers: %d channels-last steps, %d images at a time", m.name, opts.Precision, c.images, c.workers, steps, chunk)
			for name, w := range want {
				compareToLargest(t, name, got[name], w, 1e-5)
			}
		}
	}
}

// A stretch whose tensors are also read outside it: a graph output in the
// middle (converted back), a reader in the usual layout (Flatten), and a
// global pooling that ends it; the outputs are those of the usual layout,
// with the parts' images one, two or all at a time.
// Where a model's own tensor already has the name of a channels-last copy,
// the plan keeps the usual layout.
func TestChannelsLastEdges(t *testing.T) {
	if gemm.CurrentImpl() == gemm.ImplGo {
		t.Skip("the channels-last stretches need the AVX2 or AVX-512 kernels, which this build or CPU does not have")
	}
	r := rand.New(rand.NewPCG(5, 6))
	weights := func(shape ...int) *tensor.Tensor {
		w := tensor.New(tensor.Float32, shape...)
		for i := range w.F32 {
			w.F32[i] = r.Float32() - 0.5
		}
		return w
	}
	ints := func(name string, v ...int64) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
	}
	for _, c := range []struct {
		clash             bool
		hw, images, chunk int
	}{
		{false, 6, 3, 2}, {true, 6, 3, 2},
		// 64 channels of 34×34 an image: three fit chunkBytes, two divide
		// a part of four.
		{false, 34, 8, 2},
	} {
		clash := c.clash
		nodes := []*onnx.Node{
			{OpType: "Conv", Inputs: []string{"x", "wd", "bd"}, Outputs: []string{"d"},
				Attrs: []*onnx.Attribute{{Name: "group", Type: onnx.AttrInt, I: 8}, ints("pads", 1, 1, 1, 1)}},
			{OpType: "Conv", Inputs: []string{"d", "w1"}, Outputs: []string{"p1"}},
			{OpType: "Relu", Inputs: []string{"p1"}, Outputs: []string{"r1"}},
			{OpType: "Conv", Inputs: []string{"r1", "w2", "b2"}, Outputs: []string{"p2"}},
			{OpType: "GlobalAveragePool", Inputs: []string{"p2"}, Outputs: []string{"y"}},
			{OpType: "Flatten", Inputs: []string{"d"}, Outputs: []string{"f"}},
		}
		outputs := []*onnx.ValueInfo{{Name: "y"}, {Name: "d"}, {Name: "f"}}
		if clash {
			nodes = append(nodes, &onnx.Node{OpType: "Identity", Inputs: []string{"x"}, Outputs: []string{"d#nhwc"}})
			outputs = append(outputs, &onnx.ValueInfo{Name: "d#nhwc"})
		}
		for i, n := range nodes {
			n.Name = fmt.Sprint(n.OpType, i)
		}
		var inits []*onnx.Initializer
		for name, v := range map[string]*tensor.Tensor{"wd": weights(8, 1, 3, 3), "bd": weights(8), "w1": weights(64, 8, 1, 1),
			"w2": weights(64, 64, 1, 1), "b2": weights(64)} {
			inits = append(inits, &onnx.Initializer{Name: name, Tensor: v})
		}
		g, err := graph.FromONNX(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 18}, Graph: &onnx.Graph{
			Name: "stretch", Nodes: nodes, Initializers: inits, Outputs: outputs,
			Inputs: []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, HasShape: true, Dims: []onnx.Dim{{Param: "N"}, {Value: 8}, {Param: "H"}, {Param: "W"}}}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		inputs := map[string]*tensor.Tensor{"x": randomInput(c.images, 8, c.hw, c.hw)}
		opts := engine.Options{Workers: 2}
		steps, chunk, got, want := runBothLayouts(t, g, opts, inputs)
		if clash && steps != 0 || !clash && steps != 3 {
			t.Fatalf("a tensor named d#nhwc: %v; %d channels-last steps", clash, steps)
		}
		if !clash && chunk != c.chunk {
			t.Fatalf("%d images of %d×%d on 2 workers: %d at a time, want %d", c.images, c.hw, c.hw, chunk, c.chunk)
		}
		for name, w := range want {
			if !slices.Equal(got[name].Shape, w.Shape) {
				t.Fatalf("%s: shape %v, want %v", name, got[name].Shape, w.Shape)
			}
			compareToLargest(t, name, got[name], w, 1e-6)
		}
	}
}
