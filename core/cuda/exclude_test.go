package cuda

import (
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/precision"
)

// TestInt8ScaleExclude checks the lowering's INT8 decision on ResNet-20
// without a GPU: every Conv and Gemm with a range runs INT8 except those
// the exclusions name, a product without a range stays FP32, and other
// precisions never quantize.
func TestInt8ScaleExclude(t *testing.T) {
	sc := resnet20Schedule(t)
	scales := map[string]float32{}
	for _, st := range sc.Steps {
		scales[st.Node.Inputs[0]] = 0.01
	}
	delete(scales, "/layer3/layer3.2/Relu_output_0") // conv2 of layer3.2 reads it
	exclude := precision.Exclusions{Nodes: []string{"/layer1/*", "/conv1/Conv"}, OpTypes: []string{"Gemm"}}
	for _, tc := range []struct {
		precision precision.Precision
		exclude   precision.Exclusions
		int8      int // products lowered in INT8
	}{
		{precision.INT8, precision.Exclusions{}, 20 - 1}, // 19 Conv and the Gemm, less the one without a range
		{precision.INT8, exclude, 20 - 1 - 1 - 6 - 1},    // less /conv1, layer1's six and the Gemm
		{precision.FP32, exclude, 0},
		{precision.FP16, precision.Exclusions{}, 0},
	} {
		p := &plan{e: &Engine{opts: engine.Options{Exclude: tc.exclude}}, precision: tc.precision, scales: scales}
		n := 0
		for _, gr := range fuseSteps(sc, true) {
			node := gr.step.Node
			if node.OpType != "Conv" && node.OpType != "Gemm" {
				continue
			}
			s, ok := p.int8Scale(node)
			if ok {
				n++
				if s != 0.01 {
					t.Errorf("%s: scale %g, want the table's 0.01", node.Name, s)
				}
			}
			if _, excluded := tc.exclude.Match(node.Name, node.OpType); excluded && ok {
				t.Errorf("%s %+v: excluded %s lowered in INT8", tc.precision, tc.exclude, node.Name)
			}
		}
		if n != tc.int8 {
			t.Errorf("%s %+v: %d products in INT8, want %d", tc.precision, tc.exclude, n, tc.int8)
		}
	}
}
