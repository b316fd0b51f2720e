package engine_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/internal/npytensor"
	"github.com/int8cal/int8cal/core/tensor"
)

// repoRoot is where the test files of the whole module live, relative to
// this package.
const repoRoot = "../.."

// goldenManifest mirrors testdata/golden/manifest.json, written by
// tools/ort/golden.py from ONNX Runtime outputs.
type goldenManifest struct {
	ONNXRuntime string `json:"onnxruntime"`
	Models      map[string]struct {
		Model string `json:"model"`
		Input struct {
			Name string `json:"name"`
			File string `json:"file"`
		} `json:"input"`
		Outputs []struct {
			Tensor string `json:"tensor"`
			File   string `json:"file"`
		} `json:"outputs"`
	} `json:"models"`
}

// TestGoldenONNXRuntime runs each model on the stored inputs and compares
// the outputs, and every intermediate tensor ONNX Runtime exposed, with
// ONNX Runtime's values: within 1e-4 relative, with an absolute floor of
// 1e-5 of the tensor's largest magnitude for values near zero.
func TestGoldenONNXRuntime(t *testing.T) {
	dir := filepath.Join(repoRoot, "testdata", "golden")
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m goldenManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Models) < 3 {
		t.Fatalf("manifest lists %d models, want lenet, mnist_zoo and resnet20", len(m.Models))
	}
	for name, model := range m.Models {
		t.Run(name, func(t *testing.T) {
			g, err := graph.Load(filepath.Join(repoRoot, model.Model))
			if err != nil {
				t.Fatal(err)
			}
			eng := engine.New(g, engine.Options{})
			input := npytensor.Read(t, filepath.Join(dir, model.Input.File))
			want := map[string]*tensor.Tensor{}
			for _, o := range model.Outputs {
				want[o.Tensor] = npytensor.Read(t, filepath.Join(dir, o.File))
			}
			got := runCollect(t, eng, model.Input.Name, input, want)
			for tensorName, w := range want {
				compareClose(t, tensorName, got[tensorName], w, 1e-4)
			}
		})
	}
}

// runCollect runs input through eng, observing every tensor named in want.
// A model whose batch is fixed at 1 is run one image at a time and the
// results stacked.
func runCollect(t *testing.T, eng *engine.Engine, inputName string, input *tensor.Tensor, want map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	t.Helper()
	batch := input.Shape[0]
	step := batch
	if in := eng.Graph().Inputs[0]; len(in.Shape) > 0 && in.Shape[0] == 1 {
		step = 1
	}
	got := map[string]*tensor.Tensor{}
	per := input.Len() / batch
	for first := 0; first < batch; first += step {
		shape := append([]int{step}, input.Shape[1:]...)
		chunk := tensor.FromFloat32(input.F32[first*per:(first+step)*per], shape...)
		_, err := eng.RunObserved(map[string]*tensor.Tensor{inputName: chunk}, func(name string, v *tensor.Tensor) {
			if _, ok := want[name]; !ok {
				return
			}
			if got[name] == nil {
				got[name] = &tensor.Tensor{DType: tensor.Float32}
			}
			got[name].F32 = append(got[name].F32, v.F32...)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return got
}

func compareClose(t *testing.T, name string, got, want *tensor.Tensor, rel float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: never produced", name)
		return
	}
	if len(got.F32) != len(want.F32) {
		t.Errorf("%s: %d values, want %d", name, len(got.F32), len(want.F32))
		return
	}
	maxAbs := 0.0
	for _, v := range want.F32 {
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
	}
	worst := 0.0
	for i := range want.F32 {
		g, w := float64(got.F32[i]), float64(want.F32[i])
		diff := math.Abs(g - w)
		tol := rel*math.Abs(w) + 1e-5*maxAbs
		if diff > tol {
			t.Errorf("%s[%d] = %g, ONNX Runtime %g (diff %.3g > tolerance %.3g)", name, i, g, w, diff, tol)
			return
		}
		if w != 0 {
			worst = math.Max(worst, diff/math.Abs(w))
		}
	}
	t.Logf("%s: %d values agree; largest relative difference %.2e", name, len(want.F32), worst)
}
