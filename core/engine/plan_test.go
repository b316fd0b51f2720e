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
