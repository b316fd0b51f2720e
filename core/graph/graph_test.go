package graph

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func node(op, name string, in, out []string, attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{Name: name, OpType: op, Inputs: in, Outputs: out, Attrs: attrs}
}

func model(opset int64, nodes []*onnx.Node, inits ...*onnx.Initializer) *onnx.Model {
	return &onnx.Model{
		IRVersion: 7,
		Opsets:    map[string]int64{"": opset},
		Graph: &onnx.Graph{
			Name:         "g",
			Nodes:        nodes,
			Initializers: inits,
			Inputs:       []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, HasShape: true, Dims: []onnx.Dim{{Param: "N"}, {Value: 4}}}},
			Outputs:      []*onnx.ValueInfo{{Name: "y"}},
		},
	}
}

func TestUnsupportedNodesListedTogether(t *testing.T) {
	m := model(13, []*onnx.Node{
		node("LSTM", "lstm_1", []string{"x"}, []string{"a"}),
		node("Relu", "relu_1", []string{"a"}, []string{"b"}),
		node("Conv", "conv_1", []string{"b", "w"}, []string{"c"}, &onnx.Attribute{Name: "weird", Type: onnx.AttrInt}),
		node("Relu", "relu_2", []string{"c"}, []string{"y"}),
	})
	_, err := FromONNX(m)
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	for _, want := range []string{"2 unsupported node(s)", `"lstm_1" (LSTM, opset 13)`, `"conv_1" (Conv, opset 13)`, "attribute weird"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

func TestStructuralErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model *onnx.Model
		want  string
	}{
		{"dangling input", model(13, []*onnx.Node{node("Relu", "r", []string{"nowhere"}, []string{"y"})}), `node "r" (Relu) reads "nowhere"`},
		{"cycle", model(13, []*onnx.Node{
			node("Relu", "a", []string{"q"}, []string{"p"}),
			node("Relu", "b", []string{"p"}, []string{"q"}),
			node("Relu", "c", []string{"x"}, []string{"y"}),
		}), "cycle"},
		{"duplicate producer", model(13, []*onnx.Node{
			node("Relu", "a", []string{"x"}, []string{"y"}),
			node("Relu", "b", []string{"x"}, []string{"y"}),
		}), `produced by both node "a" and node "b"`},
		{"opset too new", model(99, nil), "opset 99 not supported"},
		{"opset too old", model(5, nil), "opset 5 not supported"},
		{"missing output", model(13, []*onnx.Node{node("Relu", "a", []string{"x"}, []string{"z"})}), `graph output "y" is produced by no node`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromONNX(tc.model)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// Initializers listed among the graph inputs (IR 3 style) are constants,
// and nodes computing only from constants are folded at load time.
func TestInitializersAsInputsAndFolding(t *testing.T) {
	w := &onnx.Initializer{Name: "w", Tensor: tensor.FromFloat32([]float32{1, 2, 3, 4}, 4)}
	m := model(7, []*onnx.Node{
		node("Mul", "double", []string{"w", "two"}, []string{"w2"}),
		node("Add", "add", []string{"x", "w2"}, []string{"y"}),
	}, w, &onnx.Initializer{Name: "two", Tensor: tensor.FromFloat32([]float32{2}, 1)})
	m.Graph.Inputs = append(m.Graph.Inputs, &onnx.ValueInfo{Name: "w"}, &onnx.ValueInfo{Name: "two"})
	g, err := FromONNX(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "x" {
		t.Errorf("inputs %+v, want only x", g.Inputs)
	}
	if got := g.Inputs[0].Shape; len(got) != 2 || got[0] != -1 || got[1] != 4 {
		t.Errorf("input shape %v, want [-1 4]", got)
	}
	if len(g.Nodes) != 1 || g.Nodes[0].Name != "add" {
		t.Fatalf("nodes after folding: %d, want only add", len(g.Nodes))
	}
	if got := g.Constants["w2"].F32; got[3] != 8 {
		t.Errorf("folded w2 = %v, want [2 4 6 8]", got)
	}
}

// ResNet-20's shortcut padding is computed by a constant subgraph
// (Constant, ConstantOfShape, Concat, Reshape, Slice, Transpose, Cast);
// after loading only the real layers remain.
func TestResNet20ShapeSubgraphsFold(t *testing.T) {
	g, err := Load(filepath.Join("..", "..", "testdata", "models", "resnet20.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, n := range g.Nodes {
		counts[n.OpType]++
	}
	for _, op := range []string{"Constant", "ConstantOfShape", "Concat", "Reshape", "Transpose", "Cast"} {
		if counts[op] != 0 {
			t.Errorf("%d %s nodes survived folding", counts[op], op)
		}
	}
	if counts["Conv"] != 19 || counts["Gemm"] != 1 {
		t.Errorf("op counts %v, want 19 Conv and 1 Gemm", counts)
	}
	t.Logf("ResNet-20 after folding: %v", counts)
}

func TestLoadNamesFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.onnx"))
	if err == nil || !strings.Contains(err.Error(), "absent.onnx") {
		t.Errorf("error %v should name the file", err)
	}
}
