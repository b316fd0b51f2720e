package ops

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
)

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		node   *onnx.Node
		opset  int64
		reason string // fragment of the reason
	}{
		{"unknown-operator", &onnx.Node{Name: "n1", OpType: "FancyOp"}, 13, "not supported"},
		{"unknown-operator-lists-supported", &onnx.Node{Name: "n1b", OpType: "LSTM"}, 13, "Conv"},
		{"unknown-attribute", &onnx.Node{Name: "n2", OpType: "Relu", Attrs: []*onnx.Attribute{aFloat("alpha", 0.1)}}, 13, "alpha"},
		{"unknown-attribute-among-known", &onnx.Node{Name: "n3", OpType: "Conv", Attrs: []*onnx.Attribute{aInts("strides", 1, 1), aString("padding_mode", "zeros")}}, 13, "padding_mode"},
		{"opset-too-old/Reshape@4", &onnx.Node{Name: "n4", OpType: "Reshape"}, 4, "opset 5"},
		{"opset-too-old/ConstantOfShape@8", &onnx.Node{Name: "n5", OpType: "ConstantOfShape"}, 8, "opset 9"},
		{"opset-too-old/Add@6", &onnx.Node{Name: "n6", OpType: "Add"}, 6, "opset 7"},
		{"opset-too-old/BatchNormalization@6", &onnx.Node{Name: "n7", OpType: "BatchNormalization"}, 6, "opset 7"},
		{"non-default-domain", &onnx.Node{Name: "n8", OpType: "FusedConv", Domain: "com.microsoft"}, 13, "com.microsoft"},
		{"non-default-domain-known-op", &onnx.Node{Name: "n9", OpType: "Relu", Domain: "ai.onnx.ml"}, 13, "domain"},
		{"builder-error-wrapped", &onnx.Node{Name: "n10", OpType: "Cast"}, 13, "to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op, err := Build(tc.node, tc.opset)
			if err == nil {
				t.Fatalf("Build returned %T and no error", op)
			}
			var ue *UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("error %T (%v) is not *UnsupportedError", err, err)
			}
			if ue.Node != tc.node.Name || ue.Op != tc.node.OpType || ue.Opset != tc.opset {
				t.Errorf("UnsupportedError{Node: %q, Op: %q, Opset: %d}, want {%q, %q, %d}", ue.Node, ue.Op, ue.Opset, tc.node.Name, tc.node.OpType, tc.opset)
			}
			msg := err.Error()
			for _, want := range []string{fmt.Sprintf("%q", tc.node.Name), tc.node.OpType, fmt.Sprintf("opset %d", tc.opset), tc.reason} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
}

func TestBuildAccepts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		node  *onnx.Node
		opset int64
	}{
		{"ai.onnx-domain-spelled-out", &onnx.Node{Name: "a", OpType: "Relu", Domain: "ai.onnx"}, 13},
		{"Reshape@5", &onnx.Node{Name: "b", OpType: "Reshape"}, 5},
		{"Add@7", &onnx.Node{Name: "c", OpType: "Add"}, 7},
		{"Conv-all-attrs", &onnx.Node{Name: "d", OpType: "Conv", Attrs: []*onnx.Attribute{
			aString("auto_pad", "NOTSET"), aInts("dilations", 1, 1), aInt("group", 1), aInts("kernel_shape", 3, 3), aInts("pads", 1, 1, 1, 1), aInts("strides", 1, 1)}}, 13},
		{"Gemm-all-attrs", &onnx.Node{Name: "e", OpType: "Gemm", Attrs: []*onnx.Attribute{aFloat("alpha", 1), aFloat("beta", 1), aInt("transA", 0), aInt("transB", 1)}}, 13},
		{"MaxPool-storage_order-0", &onnx.Node{Name: "f", OpType: "MaxPool", Attrs: []*onnx.Attribute{aInts("kernel_shape", 2, 2), aInt("storage_order", 0)}}, 13},
		{"BatchNormalization-momentum", &onnx.Node{Name: "g", OpType: "BatchNormalization", Attrs: []*onnx.Attribute{aFloat("epsilon", 1e-3), aFloat("momentum", 0.9)}}, 13},
		{"Cast-saturate", &onnx.Node{Name: "h", OpType: "Cast", Attrs: []*onnx.Attribute{aInt("to", 1), aInt("saturate", 1)}}, 19},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Build(tc.node, tc.opset); err != nil {
				t.Errorf("Build: %v", err)
			}
		})
	}
}

func TestSupportedList(t *testing.T) {
	got := Supported()
	for i := 1; i < len(got); i++ {
		if got[i-1] >= got[i] {
			t.Fatalf("Supported() not sorted: %q before %q", got[i-1], got[i])
		}
	}
	want := []string{
		"Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape",
		"Conv", "Div", "Dropout", "Flatten", "Gather", "GlobalAveragePool", "Gemm", "Identity", "MatMul",
		"MaxPool", "Mul", "Pad", "Relu", "Reshape", "Shape", "Sigmoid", "Slice", "Softmax", "Squeeze",
		"Sub", "Transpose", "Unsqueeze",
	}
	have := map[string]bool{}
	for _, n := range got {
		have[n] = true
	}
	for _, n := range want {
		if !have[n] {
			t.Errorf("Supported() lacks %s", n)
		}
	}
}
