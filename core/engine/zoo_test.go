package engine_test

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/internal/npytensor"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/testfixture"
)

// TestZooMatchesONNXRuntime runs every exported model of the zoo
// (testfixture.Zoo) in FP32
// and compares its outputs with ONNX Runtime's: the largest difference
// must be within 1e-4 of the output's largest magnitude. A model with
// operators the engine does not have yet is skipped, naming them (the
// import refuses it cleanly: that is checked too).
func TestZooMatchesONNXRuntime(t *testing.T) {
	models, versions := testfixture.Zoo(t, filepath.Join(repoRoot, "testdata", "zoo"))
	for _, model := range models {
		t.Run(model.Name+"/"+model.Exporter, func(t *testing.T) {
			if model.Status != "ok" {
				t.Skipf("PyTorch %s could not export it: %s", versions["torch"], model.Error)
			}
			g, err := graph.Load(model.File)
			var unsupported *graph.UnsupportedError
			if errors.As(err, &unsupported) {
				t.Skipf("operators not supported yet: %s", unsupportedOps(unsupported))
			}
			if err != nil {
				t.Fatal(err)
			}
			inputs := map[string]*tensor.Tensor{}
			for i, name := range model.Inputs {
				inputs[name] = npytensor.ReadTyped(t, model.InputFiles[i])
			}
			out, err := engine.New(g, engine.Options{}).Run(inputs)
			if err != nil {
				t.Fatal(err)
			}
			for i, name := range model.Outputs {
				want := npytensor.ReadTyped(t, model.OutputFiles[i])
				if constant(want) {
					t.Fatalf("ONNX Runtime's %s is one value repeated: a comparison with it would prove nothing (re-export with weights that reach the output)", name)
				}
				compareToLargest(t, name, out[name], want, 1e-4)
			}
		})
	}
}

// unsupportedOps lists the operator types of the refused nodes, once each.
func unsupportedOps(e *graph.UnsupportedError) string {
	seen := map[string]bool{}
	var ops []string
	for _, n := range e.Nodes {
		if !seen[n.Op] {
			seen[n.Op] = true
			ops = append(ops, n.Op)
		}
	}
	return strings.Join(ops, ", ")
}

// constant reports whether every value of t is the same.
func constant(t *tensor.Tensor) bool {
	for i := 1; i < t.Len(); i++ {
		if (t.DType.IsFloat() && t.F32[i] != t.F32[0]) || (!t.DType.IsFloat() && t.I64[i] != t.I64[0]) {
			return false
		}
	}
	return true
}

// compareToLargest checks that every value of got is within tol times the
// largest magnitude of want (integers exactly).
func compareToLargest(t *testing.T, name string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: not produced", name)
		return
	}
	if !tensor.EqualShape(got.Shape, want.Shape) {
		t.Errorf("%s: shape %v, ONNX Runtime %v", name, got.Shape, want.Shape)
		return
	}
	if !want.DType.IsFloat() {
		for i := range want.I64 {
			if got.I64[i] != want.I64[i] {
				t.Errorf("%s[%d] = %d, ONNX Runtime %d", name, i, got.I64[i], want.I64[i])
				return
			}
		}
		return
	}
	largest, worst, at := 0.0, 0.0, 0
	for _, v := range want.F32 {
		largest = math.Max(largest, math.Abs(float64(v)))
	}
	for i := range want.F32 {
		if d := math.Abs(float64(got.F32[i]) - float64(want.F32[i])); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if !(worst <= tol*largest) {
		t.Errorf("%s[%d] = %g, ONNX Runtime %g: difference %.3g exceeds %g of the largest magnitude %.3g", name, at, got.F32[at], want.F32[at], worst, tol, largest)
		return
	}
	t.Logf("%s: %d values; largest difference %.2e of the largest magnitude", name, len(want.F32), worst/math.Max(largest, math.SmallestNonzeroFloat64))
}
