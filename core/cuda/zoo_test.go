package cuda_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/cuda"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/internal/npytensor"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/testfixture"
)

// TestZooRunsOrRefuses gives the cuda backend every model of the zoo
// (testfixture.Zoo): it either runs one in FP32 within 1e-3 of ONNX
// Runtime's outputs (cuBLASLt may sum in another order and in TF32-free
// FP32; 1e-3 of the largest magnitude covers that) or refuses it with a
// *cuda.UnsupportedError naming every input type it does not take and
// every node it has no kernel for. Nothing else — no other error, no
// crash — is acceptable.
func TestZooRunsOrRefuses(t *testing.T) {
	b := backend(t)
	models, _ := testfixture.Zoo(t, filepath.Join(repoRoot, "testdata", "zoo"))
	var ran, refused []string
	for _, m := range models {
		if m.Status != "ok" {
			continue
		}
		label := m.Name + "/" + m.Exporter
		g, err := graph.Load(m.File)
		if err != nil {
			t.Errorf("%s: %v", label, err)
			continue
		}
		inputs := map[string]*tensor.Tensor{}
		for i, name := range m.Inputs {
			inputs[name] = npytensor.ReadTyped(t, m.InputFiles[i])
		}
		e := b.NewEngine(g, engine.Options{})
		out, err := e.Run(inputs)
		e.Close()
		var unsupported *cuda.UnsupportedError
		if errors.As(err, &unsupported) {
			if len(unsupported.Inputs)+len(unsupported.Nodes) == 0 {
				t.Errorf("%s: refused without naming an input or a node: %v", label, err)
			}
			refused = append(refused, label+": "+strings.Join(append(unsupported.Inputs, opTypes(unsupported.Nodes)...), "; "))
			continue
		}
		if err != nil {
			t.Errorf("%s: neither ran nor refused by node: %v", label, err)
			continue
		}
		for i, name := range m.Outputs {
			want := npytensor.ReadTyped(t, m.OutputFiles[i])
			if d := maxRelDiff(out[name].F32, want.F32); !(d <= 1e-3) {
				t.Errorf("%s: %s differs from ONNX Runtime by %.3g of its largest magnitude", label, name, d)
			}
		}
		ran = append(ran, label)
	}
	t.Logf("ran within 1e-3 of ONNX Runtime (%d): %s", len(ran), strings.Join(ran, ", "))
	t.Logf("refused, naming the operators (%d):\n  %s", len(refused), strings.Join(refused, "\n  "))
}

// opTypes lists the operator types in UnsupportedError's node lines
// (`node "name" (Op): why`), once each.
func opTypes(nodes []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range nodes {
		var name, op string
		if _, err := fmt.Sscanf(n, "node %q (%s", &name, &op); err != nil {
			op = n
		}
		op = strings.TrimSuffix(op, "):")
		if !seen[op] {
			seen[op] = true
			out = append(out, op)
		}
	}
	return out
}
