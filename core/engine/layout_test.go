package engine_test

import (
	"fmt"
	"math"
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

// Random networks of the operators channels-last stretches take and of
// some they do not, wired at random: depthwise (3×3, 5×5, strides 1 and
// 2) and pointwise convolutions with and without bias, activations,
// residual and same-shape adds, squeeze-and-excite scales through
// GlobalAveragePool or ReduceMean, per-channel constants, and readers in
// the usual layout (Transpose, MaxPool, a grouped convolution); some
// intermediate tensors graph outputs too. Whatever the pass moves, every
// output is the usual layout's, whole and in parts.
func TestChannelsLastRandomNetworks(t *testing.T) {
	if gemm.CurrentImpl() == gemm.ImplGo {
		t.Skip("the channels-last stretches need the AVX2 or AVX-512 kernels, which this build or CPU does not have")
	}
	r := rand.New(rand.NewPCG(11, 12))
	moved := 0
	for net := range 60 {
		b := newNetBuilder(r)
		for range 10 + r.IntN(16) {
			b.step()
		}
		g, err := graph.FromONNX(b.model(net))
		if err != nil {
			t.Fatalf("network %d: %v", net, err)
		}
		x := tensor.New(tensor.Float32, 3, 8, b.hw0, b.hw0)
		for i := range x.F32 {
			x.F32[i] = r.Float32()*2 - 1
		}
		steps, _, got, want := runBothLayouts(t, g, engine.Options{Workers: 2}, map[string]*tensor.Tensor{"x": x})
		if steps > 0 {
			moved++
		}
		for name, w := range want {
			if !slices.Equal(got[name].Shape, w.Shape) {
				t.Fatalf("network %d, %s: shape %v, want %v", net, name, got[name].Shape, w.Shape)
			}
			for i := range w.F32 {
				if d := math.Abs(float64(got[name].F32[i] - w.F32[i])); !(d <= 1e-5*(1+math.Abs(float64(w.F32[i])))) {
					t.Fatalf("network %d (%s), %s[%d] = %v, the usual layout %v", net, b.describe(), name, i, got[name].F32[i], w.F32[i])
				}
			}
		}
	}
	if moved < 10 {
		t.Fatalf("only %d of 60 random networks ran channels-last steps", moved)
	}
}

// netBuilder wires a random network from input x [N, 8, hw0, hw0].
type netBuilder struct {
	r       *rand.Rand
	hw0     int
	nodes   []*onnx.Node
	inits   []*onnx.Initializer
	tensors []netTensor // the 4-D tensors so far
	outputs []string
	ops     []string
}

type netTensor struct {
	name  string
	c, hw int
}

func newNetBuilder(r *rand.Rand) *netBuilder {
	hw := 5 + r.IntN(14)
	return &netBuilder{r: r, hw0: hw, tensors: []netTensor{{name: "x", c: 8, hw: hw}}}
}

func (b *netBuilder) name(kind string) string { return fmt.Sprintf("%s%d", kind, len(b.nodes)) }

func (b *netBuilder) weights(shape ...int) string {
	w := tensor.New(tensor.Float32, shape...)
	for i := range w.F32 {
		w.F32[i] = b.r.Float32() - 0.5
	}
	name := fmt.Sprintf("w%d", len(b.inits))
	b.inits = append(b.inits, &onnx.Initializer{Name: name, Tensor: w})
	return name
}

func (b *netBuilder) add(op string, in []string, attrs []*onnx.Attribute, out netTensor) {
	b.nodes = append(b.nodes, &onnx.Node{Name: out.name, OpType: op, Inputs: in, Outputs: []string{out.name}, Attrs: attrs})
	b.tensors = append(b.tensors, out)
	b.ops = append(b.ops, op)
	if b.r.IntN(10) == 0 {
		b.outputs = append(b.outputs, out.name)
	}
}

// step adds one operator reading a recent tensor.
func (b *netBuilder) step() {
	x := b.tensors[max(0, len(b.tensors)-1-b.r.IntN(3))]
	ints := func(name string, v ...int64) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
	}
	conv := func(w string, bias bool, attrs []*onnx.Attribute, out netTensor) {
		in := []string{x.name, w}
		if bias {
			in = append(in, b.weights(out.c))
		}
		b.add("Conv", in, attrs, out)
	}
	switch b.r.IntN(20) {
	case 0, 1, 2, 3, 4: // depthwise
		size := []int{3, 3, 5}[b.r.IntN(3)]
		s := 1 + b.r.IntN(2)
		p := b.r.IntN(size/2 + 1)
		if x.hw+2*p < size {
			return
		}
		hw := (x.hw+2*p-size)/s + 1
		conv(b.weights(x.c, 1, size, size), b.r.IntN(2) == 0, []*onnx.Attribute{{Name: "group", Type: onnx.AttrInt, I: int64(x.c)},
			ints("pads", int64(p), int64(p), int64(p), int64(p)), ints("strides", int64(s), int64(s))}, netTensor{b.name("dw"), x.c, hw})
	case 5, 6, 7, 8, 9, 10: // pointwise
		c := []int{8, 16, 24, 40}[b.r.IntN(4)]
		conv(b.weights(c, x.c, 1, 1), b.r.IntN(2) == 0, nil, netTensor{b.name("pw"), c, x.hw})
	case 11, 12: // an activation
		op := []string{"Relu", "HardSwish", "Sigmoid", "Clip"}[b.r.IntN(4)]
		in := []string{x.name}
		if op == "Clip" {
			in = append(in, b.scalar(0), b.scalar(6))
		}
		b.add(op, in, nil, netTensor{b.name("act"), x.c, x.hw})
	case 13, 14: // an add of two tensors of one shape, or a per-channel constant
		for _, y := range b.tensors {
			if y.name != x.name && y.c == x.c && y.hw == x.hw {
				b.add("Add", []string{x.name, y.name}, nil, netTensor{b.name("add"), x.c, x.hw})
				return
			}
		}
		b.add("Mul", []string{b.weights(x.c, 1, 1), x.name}, nil, netTensor{b.name("scale"), x.c, x.hw})
	case 15, 16: // squeeze and excite
		pool := b.name("pool")
		if b.r.IntN(2) == 0 {
			b.nodes = append(b.nodes, &onnx.Node{Name: pool, OpType: "GlobalAveragePool", Inputs: []string{x.name}, Outputs: []string{pool}})
		} else {
			b.nodes = append(b.nodes, &onnx.Node{Name: pool, OpType: "ReduceMean", Inputs: []string{x.name, b.axes()}, Outputs: []string{pool}})
		}
		fc := b.name("fc")
		b.nodes = append(b.nodes, &onnx.Node{Name: fc, OpType: "Conv", Inputs: []string{pool, b.weights(x.c, x.c, 1, 1)}, Outputs: []string{fc}})
		gate := b.name("gate")
		b.nodes = append(b.nodes, &onnx.Node{Name: gate, OpType: "Sigmoid", Inputs: []string{fc}, Outputs: []string{gate}})
		b.add("Mul", []string{x.name, gate}, nil, netTensor{b.name("se"), x.c, x.hw})
	case 17: // a reader in the usual layout
		if x.hw >= 2 {
			b.add("MaxPool", []string{x.name}, []*onnx.Attribute{ints("kernel_shape", 2, 2), ints("strides", 1, 1)}, netTensor{b.name("max"), x.c, x.hw - 1})
		}
	case 18:
		conv(b.weights(x.c, 2, 3, 3), false, []*onnx.Attribute{{Name: "group", Type: onnx.AttrInt, I: int64(x.c / 2)}, ints("pads", 1, 1, 1, 1)},
			netTensor{b.name("grouped"), x.c, x.hw})
	default:
		b.add("Transpose", []string{x.name}, []*onnx.Attribute{ints("perm", 0, 1, 3, 2)}, netTensor{b.name("t"), x.c, x.hw})
	}
}

func (b *netBuilder) scalar(v float32) string {
	name := fmt.Sprintf("s%d", len(b.inits))
	b.inits = append(b.inits, &onnx.Initializer{Name: name, Tensor: &tensor.Tensor{DType: tensor.Float32, Shape: []int{}, F32: []float32{v}}})
	return name
}

func (b *netBuilder) axes() string {
	name := fmt.Sprintf("a%d", len(b.inits))
	b.inits = append(b.inits, &onnx.Initializer{Name: name, Tensor: &tensor.Tensor{DType: tensor.Int64, Shape: []int{2}, I64: []int64{2, 3}}})
	return name
}

func (b *netBuilder) model(net int) *onnx.Model {
	outs := []*onnx.ValueInfo{{Name: b.tensors[len(b.tensors)-1].name}}
	for _, o := range b.outputs {
		if o != outs[0].Name && !slices.ContainsFunc(outs, func(v *onnx.ValueInfo) bool { return v.Name == o }) {
			outs = append(outs, &onnx.ValueInfo{Name: o})
		}
	}
	return &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 18}, Graph: &onnx.Graph{
		Name: fmt.Sprint("random", net), Nodes: b.nodes, Initializers: b.inits, Outputs: outs,
		Inputs: []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, HasShape: true,
			Dims: []onnx.Dim{{Param: "N"}, {Value: 8}, {Value: int64(b.hw0)}, {Value: int64(b.hw0)}}}},
	}}
}

func (b *netBuilder) describe() string { return fmt.Sprint(b.ops) }
