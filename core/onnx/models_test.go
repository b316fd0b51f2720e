package onnx

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/tensor"
)

// checkTensor verifies that a decoded tensor is internally consistent: its
// data length equals the product of its dims, and only the backing slice
// its type calls for is used.
func checkTensor(t *tensor.Tensor) error {
	if t == nil {
		return fmt.Errorf("nil tensor")
	}
	if !t.DType.Supported() {
		return fmt.Errorf("unsupported dtype %v", t.DType)
	}
	n := 1
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("negative dim in %v", t.Shape)
		}
		n *= d
	}
	if t.DType.IsFloat() {
		if len(t.F32) != n || t.F32 == nil || t.I64 != nil {
			return fmt.Errorf("%v %v: len(F32)=%d (nil %v), len(I64)=%d, want %d floats", t.DType, t.Shape, len(t.F32), t.F32 == nil, len(t.I64), n)
		}
	} else if len(t.I64) != n || t.I64 == nil || t.F32 != nil {
		return fmt.Errorf("%v %v: len(I64)=%d (nil %v), len(F32)=%d, want %d ints", t.DType, t.Shape, len(t.I64), t.I64 == nil, len(t.F32), n)
	}
	return nil
}

// checkModel verifies the invariants of a successfully decoded model.
func checkModel(m *Model) error {
	if m.Graph == nil {
		return fmt.Errorf("nil graph")
	}
	if m.Opsets == nil {
		return fmt.Errorf("nil Opsets")
	}
	if _, ok := m.Opsets["ai.onnx"]; ok {
		return fmt.Errorf("opset domain ai.onnx not normalised")
	}
	for i, in := range m.Graph.Initializers {
		if err := checkTensor(in.Tensor); err != nil {
			return fmt.Errorf("initializer[%d] %q: %v", i, in.Name, err)
		}
	}
	for i, n := range m.Graph.Nodes {
		if n == nil {
			return fmt.Errorf("node[%d] is nil", i)
		}
		for _, a := range n.Attrs {
			if a.T != nil {
				if err := checkTensor(a.T); err != nil {
					return fmt.Errorf("node[%d] attribute %q: %v", i, a.Name, err)
				}
			}
			if a.Type == AttrTensor && a.T == nil {
				return fmt.Errorf("node[%d] attribute %q: TENSOR without tensor", i, a.Name)
			}
		}
	}
	for _, list := range [][]*ValueInfo{m.Graph.Inputs, m.Graph.Outputs, m.Graph.ValueInfo} {
		for _, v := range list {
			if v.HasShape != (v.Dims != nil) {
				return fmt.Errorf("value %q: HasShape %v but Dims %v", v.Name, v.HasShape, v.Dims)
			}
		}
	}
	return nil
}

func dimsString(v *ValueInfo) string {
	if !v.HasShape {
		return "<no shape>"
	}
	parts := make([]string, len(v.Dims))
	for i, d := range v.Dims {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// opTypes returns the sorted set of operator types in a graph.
func opTypes(g *Graph) []string {
	set := map[string]bool{}
	for _, n := range g.Nodes {
		set[n.OpType] = true
	}
	var ops []string
	for op := range set {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

func TestRealModels(t *testing.T) {
	tests := []struct {
		path          string
		ir            int64
		opset         int64
		producer      string
		input         string
		inputDims     string // as printed by dimsString
		output        string
		outputDims    string
		ops           []string // must all be present
		anyOf         []string // at least one present
		nodes         int
		inits         int
		initsInInputs bool // old IR style: initializers also listed as inputs
		firstInit     string
		firstShape    []int
	}{
		{
			path: "../../data/mnist/lenet.onnx", ir: 7, opset: 13, producer: "pytorch",
			input: "data", inputDims: "[N,1,28,28]", output: "prob", outputDims: "[N,10]",
			ops:   []string{"Conv", "MaxPool", "Relu", "Softmax", "Flatten"},
			anyOf: []string{"Gemm", "MatMul"},
			nodes: 9, inits: 8, firstInit: "m.conv1.weight", firstShape: []int{20, 1, 5, 5},
		},
		{
			path: "../../testdata/models/resnet20.onnx", ir: 7, opset: 13, producer: "pytorch",
			input: "input", inputDims: "[N,3,32,32]", output: "logits", outputDims: "[N,10]",
			ops: []string{"Conv", "Relu", "Add", "Pad", "Slice", "Gemm", "GlobalAveragePool",
				"Flatten", "Constant", "ConstantOfShape", "Concat", "Reshape", "Transpose", "Cast"},
			nodes: 102, inits: 40, firstInit: "linear.weight", firstShape: []int{10, 64},
		},
		{
			path: "../../testdata/models/mnist_zoo.onnx", ir: 3, opset: 7, producer: "CNTK",
			input: "Input3", inputDims: "[1,1,28,28]", output: "Plus214_Output_0", outputDims: "[1,10]",
			ops:   []string{"Conv", "Add", "Relu", "MaxPool", "Reshape", "MatMul"},
			nodes: 12, inits: 8, initsInInputs: true, firstInit: "Parameter193", firstShape: []int{16, 4, 4, 10},
		},
	}
	for _, tc := range tests {
		t.Run(tc.path[strings.LastIndex(tc.path, "/")+1:], func(t *testing.T) {
			if _, err := os.Stat(tc.path); os.IsNotExist(err) {
				t.Skipf("%s is not present (it is produced by another part of the project)", tc.path)
			}
			m, err := ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkModel(m); err != nil {
				t.Fatal(err)
			}
			g := m.Graph
			t.Logf("IR %d, producer %s %s, opsets %v, graph %q: %d nodes, %d initializers, %d inputs, %d outputs, %d value_info",
				m.IRVersion, m.ProducerName, m.ProducerVersion, m.Opsets, g.Name, len(g.Nodes), len(g.Initializers),
				len(g.Inputs), len(g.Outputs), len(g.ValueInfo))
			for _, v := range g.Inputs {
				t.Logf("input %s %v %s", v.Name, v.DType, dimsString(v))
			}
			for _, v := range g.Outputs {
				t.Logf("output %s %v %s", v.Name, v.DType, dimsString(v))
			}
			t.Logf("ops %v", opTypes(g))

			if m.IRVersion != tc.ir {
				t.Errorf("IR version %d, want %d", m.IRVersion, tc.ir)
			}
			if m.Opsets[""] != tc.opset || len(m.Opsets) != 1 {
				t.Errorf("opsets %v, want only ai.onnx %d", m.Opsets, tc.opset)
			}
			if m.ProducerName != tc.producer {
				t.Errorf("producer %q, want %q", m.ProducerName, tc.producer)
			}
			if len(g.Inputs) == 0 || g.Inputs[0].Name != tc.input {
				t.Fatalf("first input is not %q", tc.input)
			}
			in := g.Inputs[0]
			if in.DType != tensor.Float32 || dimsString(in) != tc.inputDims {
				t.Errorf("input %s: %v %s, want float32 %s", in.Name, in.DType, dimsString(in), tc.inputDims)
			}
			if len(g.Outputs) != 1 || g.Outputs[0].Name != tc.output {
				t.Fatalf("outputs %v, want just %q", g.Outputs, tc.output)
			}
			if out := g.Outputs[0]; out.DType != tensor.Float32 || dimsString(out) != tc.outputDims {
				t.Errorf("output %s: %v %s, want float32 %s", out.Name, out.DType, dimsString(out), tc.outputDims)
			}
			ops := map[string]bool{}
			for _, op := range opTypes(g) {
				ops[op] = true
			}
			for _, op := range tc.ops {
				if !ops[op] {
					t.Errorf("no %s node; ops are %v", op, opTypes(g))
				}
			}
			if len(tc.anyOf) > 0 {
				found := false
				for _, op := range tc.anyOf {
					found = found || ops[op]
				}
				if !found {
					t.Errorf("none of %v among ops %v", tc.anyOf, opTypes(g))
				}
			}
			if len(g.Nodes) != tc.nodes || len(g.Initializers) != tc.inits {
				t.Errorf("%d nodes, %d initializers; want %d, %d", len(g.Nodes), len(g.Initializers), tc.nodes, tc.inits)
			}
			if first := g.Initializers[0]; first.Name != tc.firstInit || !tensor.EqualShape(first.Tensor.Shape, tc.firstShape) {
				t.Errorf("first initializer %s %v, want %s %v", first.Name, first.Tensor.Shape, tc.firstInit, tc.firstShape)
			}

			// Every node input is produced by a graph input, an initializer
			// or an earlier node, or is "" (omitted optional input), and
			// every initializer is used.
			known := map[string]bool{"": true}
			inputs := map[string]bool{}
			for _, v := range g.Inputs {
				known[v.Name] = true
				inputs[v.Name] = true
			}
			used := map[string]bool{}
			for _, in := range g.Initializers {
				known[in.Name] = true
				if inputs[in.Name] != tc.initsInInputs {
					t.Errorf("initializer %s listed among inputs: %v, want %v", in.Name, inputs[in.Name], tc.initsInInputs)
				}
			}
			for i, n := range g.Nodes {
				for _, s := range n.Inputs {
					if !known[s] {
						t.Errorf("node[%d] %s (%s) reads %q before it is produced", i, n.Name, n.OpType, s)
					}
					used[s] = true
				}
				for _, s := range n.Outputs {
					known[s] = true
				}
			}
			for _, in := range g.Initializers {
				if !used[in.Name] {
					t.Errorf("initializer %s unused", in.Name)
				}
			}
			if !known[tc.output] {
				t.Errorf("output %s never produced", tc.output)
			}
		})
	}
}

// TestRealModelDetails checks a few values decoded from the files that a
// wrong decoding of attributes or tensors would get wrong.
func TestRealModelDetails(t *testing.T) {
	lenet, err := ReadFile("../../data/mnist/lenet.onnx")
	if err != nil {
		t.Fatal(err)
	}
	conv := lenet.Graph.Nodes[0]
	if conv.OpType != "Conv" || conv.Name != "conv1" {
		t.Fatalf("lenet node[0] is %s %q", conv.OpType, conv.Name)
	}
	if a := conv.Attr("kernel_shape"); a == nil || a.Type != AttrInts || fmt.Sprint(a.Ints) != "[5 5]" {
		t.Errorf("conv1 kernel_shape = %+v", a)
	}
	if a := conv.Attr("group"); a == nil || a.Type != AttrInt || a.I != 1 {
		t.Errorf("conv1 group = %+v", a)
	}
	if conv.Attr("no_such") != nil {
		t.Error("Attr of an absent name is not nil")
	}
	gemm := lenet.Graph.Nodes[5]
	if a := gemm.Attr("alpha"); gemm.OpType != "Gemm" || a == nil || a.Type != AttrFloat || a.F != 1 {
		t.Errorf("node[5] %s alpha = %+v", gemm.OpType, a)
	}
	// Weights are trained values: finite, not all zero, small.
	for _, in := range lenet.Graph.Initializers {
		nonzero := 0
		for _, v := range in.Tensor.F32 {
			if v != v || v > 100 || v < -100 {
				t.Fatalf("%s holds %v", in.Name, v)
			}
			if v != 0 {
				nonzero++
			}
		}
		if nonzero == 0 {
			t.Errorf("%s is all zeros", in.Name)
		}
	}

	resnet, err := ReadFile("../../testdata/models/resnet20.onnx")
	if err != nil {
		t.Fatal(err)
	}
	var pad *Node
	consts := map[string]*tensor.Tensor{}
	for _, n := range resnet.Graph.Nodes {
		if n.OpType == "Pad" && pad == nil {
			pad = n
		}
		if n.OpType == "Constant" {
			a := n.Attr("value")
			if a == nil || a.Type != AttrTensor || a.T == nil {
				t.Fatalf("Constant %s has no tensor value: %+v", n.Name, a)
			}
			consts[n.Outputs[0]] = a.T
		}
	}
	// The option-A shortcut pads with Pad(x, pads, "") : the omitted
	// constant_value input is kept as an empty name.
	if pad == nil || len(pad.Inputs) != 3 || pad.Inputs[2] != "" {
		t.Fatalf("first Pad node: %+v", pad)
	}
	if a := pad.Attr("mode"); a == nil || a.Type != AttrString || a.S != "constant" {
		t.Errorf("Pad mode = %+v", a)
	}
	// Slice ends of INT64_MAX survive the int64 round trip.
	foundMax := false
	for _, c := range consts {
		if c.DType == tensor.Int64 && len(c.I64) == 1 && c.I64[0] == 1<<63-1 {
			foundMax = true
		}
	}
	if !foundMax {
		t.Error("no Constant holding INT64_MAX (Slice end) found")
	}
}

// TestMnistZoo checks the ONNX model zoo's MNIST model (IR 3, CNTK), whose
// weights are in packed float_data and int64_data rather than raw_data and
// whose initializers are also listed among the graph inputs.
func TestMnistZoo(t *testing.T) {
	const path = "../../testdata/models/mnist_zoo.onnx"
	if _, err := os.Stat(path); os.IsNotExist(err) {
		t.Skipf("%s is not present (it is fetched by another part of the project)", path)
	}
	m, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g := m.Graph
	inputs := map[string]*ValueInfo{}
	for _, v := range g.Inputs {
		inputs[v.Name] = v
	}
	for _, in := range g.Initializers {
		v := inputs[in.Name]
		if v == nil {
			t.Errorf("initializer %s is not among the inputs", in.Name)
			continue
		}
		var dims []int
		for _, d := range v.Dims {
			dims = append(dims, int(d.Value))
		}
		if v.DType != in.Tensor.DType || !tensor.EqualShape(dims, in.Tensor.Shape) {
			t.Errorf("input %s is %v %v, initializer %v %v", in.Name, v.DType, dims, in.Tensor.DType, in.Tensor.Shape)
		}
	}
	shapes := map[string]string{}
	for _, in := range g.Initializers {
		if in.Tensor.DType == tensor.Int64 {
			shapes[in.Name] = fmt.Sprint(in.Tensor.I64)
		}
	}
	if shapes["Pooling160_Output_0_reshape0_shape"] != "[1 256]" || shapes["Parameter193_reshape1_shape"] != "[256 10]" {
		t.Errorf("reshape targets %v, want [1 256] and [256 10]", shapes)
	}
	conv := g.Nodes[1]
	if a := conv.Attr("auto_pad"); conv.OpType != "Conv" || a == nil || a.S != "SAME_UPPER" {
		t.Errorf("node[1] %s auto_pad %+v, want Conv SAME_UPPER", conv.OpType, a)
	}
	if len(conv.Inputs) != 2 {
		t.Errorf("Conv inputs %q, want no bias", conv.Inputs)
	}
}
