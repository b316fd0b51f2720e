package testfixture

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// ZooModel is one exported model of testdata/zoo: small-width variants of
// the networks researchers bring, exported on the GPU machine by
// tools/gpu/export_zoo.py with PyTorch's TorchScript exporter and with
// dynamo=True, and ONNX Runtime's outputs on a seeded input. Paths are
// absolute.
type ZooModel struct {
	Name, Exporter string
	Opset          int
	// Status is "ok", or the export failed with Error.
	Status, Error string
	File          string
	Inputs        []string
	InputFiles    []string
	Outputs       []string
	OutputFiles   []string
}

// Zoo reads dir/manifest.json (dir is the test's relative path to
// testdata/zoo, so that a test binary run elsewhere finds it too). It
// returns the models and the versions of the tools that made them (torch,
// onnxruntime, ...).
func Zoo(t testing.TB, dir string) ([]ZooModel, map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Versions map[string]string `json:"versions"`
		Models   []struct {
			Name        string   `json:"name"`
			Exporter    string   `json:"exporter"`
			Opset       int      `json:"opset"`
			Status      string   `json:"status"`
			Error       string   `json:"error"`
			File        string   `json:"file"`
			Inputs      []string `json:"inputs"`
			InputFiles  []string `json:"input_files"`
			Outputs     []string `json:"outputs"`
			OutputFiles []string `json:"output_files"`
		} `json:"models"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", filepath.Join(dir, "manifest.json"), err)
	}
	abs := func(files []string) []string {
		out := make([]string, len(files))
		for i, f := range files {
			out[i] = filepath.Join(dir, f)
		}
		return out
	}
	models := make([]ZooModel, len(m.Models))
	for i, e := range m.Models {
		models[i] = ZooModel{Name: e.Name, Exporter: e.Exporter, Opset: e.Opset, Status: e.Status, Error: e.Error,
			File: filepath.Join(dir, e.File), Inputs: e.Inputs, InputFiles: abs(e.InputFiles),
			Outputs: e.Outputs, OutputFiles: abs(e.OutputFiles)}
	}
	return models, m.Versions
}
