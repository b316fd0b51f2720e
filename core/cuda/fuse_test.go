package cuda

import (
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
)

// TestFuseSteps checks the lowering's fusion on ResNet-20 without a GPU:
// every Relu and every residual Add disappears into a Conv (19 Conv
// groups), and the Conv of each block's second layer runs where its Add
// was, after the shortcut's Slice and Pad.
func TestFuseSteps(t *testing.T) {
	g, err := graph.Load("../../testdata/models/resnet20.onnx")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := engine.New(g, engine.Options{}).Schedule(map[string][]int{"input": {2, 3, 32, 32}}, false)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	residual := 0
	for _, gr := range fuseSteps(sc, true) {
		count[gr.step.Node.OpType]++
		if gr.residual != "" {
			residual++
			if !gr.relu {
				t.Errorf("%s: residual Add fused without its Relu", gr.step.Node.Name)
			}
		}
	}
	if count["Conv"] != 19 || count["Add"] != 0 || count["Relu"] != 0 || residual != 9 {
		t.Fatalf("fused groups %v with %d residual Adds; want 19 Conv, no Add or Relu, 9 residuals", count, residual)
	}
	unfused := fuseSteps(sc, false)
	if len(unfused) != len(sc.Steps) {
		t.Fatalf("%d groups unfused, want the %d steps", len(unfused), len(sc.Steps))
	}
	for i, gr := range unfused {
		if gr.step.Node != sc.Steps[i].Node || gr.relu || gr.residual != "" {
			t.Fatalf("unfused group %d is not step %d alone", i, i)
		}
	}
}
