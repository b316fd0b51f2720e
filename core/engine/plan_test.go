package engine

import (
	"testing"

	"github.com/int8cal/int8cal/core/graph"
)

func opCounts(t *testing.T, path, input string, shape []int, observed bool) map[string]int {
	t.Helper()
	g, err := graph.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(g, Options{}).Plan(map[string][]int{input: shape}, observed)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, s := range p.steps {
		counts[s.node.OpType]++
	}
	return counts
}

// In a plain run every ResNet block's Add and every Relu are fused into the
// convolutions (19 Conv, nothing else but the shortcuts and the head); an
// observed run keeps them all.
func TestResNet20Fusion(t *testing.T) {
	path := "../../testdata/models/resnet20.onnx"
	fused := opCounts(t, path, "input", []int{2, 3, 32, 32}, false)
	if fused["Add"] != 0 || fused["Relu"] != 0 || fused["Conv"] != 19 {
		t.Errorf("fused plan ops %v: want every Add and Relu merged into the 19 Conv", fused)
	}
	observed := opCounts(t, path, "input", []int{2, 3, 32, 32}, true)
	if observed["Add"] != 9 || observed["Relu"] != 19 {
		t.Errorf("observed plan ops %v: want the 9 Add and 19 Relu kept", observed)
	}
}

// In a plain run the ViT's six GELUs, exported as Div, Erf, Add, Mul and
// Mul, are one Gelu step each, and the biases its Linear layers add after
// their MatMuls (three a block) are fused into them: 13 Adds remain, the
// 12 residual connections and the position embedding. An observed run
// keeps every operator.
func TestViTFusion(t *testing.T) {
	path := "../../testdata/models/cifar10_vit.onnx"
	fused := opCounts(t, path, "input", []int{2, 3, 32, 32}, false)
	if fused["Gelu"] != 6 || fused["Erf"] != 0 || fused["Add"] != 13 {
		t.Errorf("fused plan ops %v: want 6 Gelu, no Erf, 13 Add", fused)
	}
	observed := opCounts(t, path, "input", []int{2, 3, 32, 32}, true)
	if observed["Gelu"] != 0 || observed["Erf"] != 6 || observed["Add"] != 37 {
		t.Errorf("observed plan ops %v: want the 6 Erf and 37 Add kept, no Gelu", observed)
	}
}

// Reshapes, Squeezes and the like of computed tensors take their input's
// storage instead of a copy (allocate's aliases), in FP32 and in INT8
// plans; the golden and accuracy tests check the values.
func TestValueMoversAlias(t *testing.T) {
	for _, c := range []struct {
		path, input string
		shape       []int
		opts        Options
	}{
		{"../../testdata/models/cifar10_vit.onnx", "input", []int{2, 3, 32, 32}, Options{}},
		{"../../testdata/models/cifar10_vit.onnx", "input", []int{2, 3, 32, 32}, Options{NoFusion: true}},
	} {
		g, err := graph.Load(c.path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := New(g, c.opts).Plan(map[string][]int{c.input: c.shape}, false)
		if err != nil {
			t.Fatal(err)
		}
		aliased := 0
		for _, s := range p.steps {
			if !s.alias {
				continue
			}
			aliased++
			in, out := p.values[s.inputs[0]], p.values[s.outputs[0]]
			if len(in.F32) == 0 || &in.F32[0] != &out.F32[0] {
				t.Errorf("%s (%s) is marked aliased but its output has storage of its own", s.node.Name, s.node.OpType)
			}
		}
		if aliased == 0 {
			t.Errorf("%s: no step aliases its input", c.path)
		}
	}
}
