package npy

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var goldenDir = filepath.Join("..", "..", "testdata", "golden")

type goldenTensor struct {
	Name   string `json:"name"`
	Tensor string `json:"tensor"`
	File   string `json:"file"`
	Shape  []int  `json:"shape"`
}

type goldenManifest struct {
	ONNXRuntime string `json:"onnxruntime"`
	Models      map[string]struct {
		Model   string         `json:"model"`
		Input   goldenTensor   `json:"input"`
		Outputs []goldenTensor `json:"outputs"`
		Labels  []int          `json:"labels"`
	} `json:"models"`
}

func readManifest(t *testing.T) goldenManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, "manifest.json"))
	if err != nil {
		t.Skipf("skipping: no golden files (run tools/ort/golden.py): %v", err)
	}
	var m goldenManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGoldenFiles reads every file tools/ort/golden.py wrote and checks it
// against the manifest.
func TestGoldenFiles(t *testing.T) {
	m := readManifest(t)
	if len(m.Models) == 0 {
		t.Fatal("manifest lists no models")
	}
	for name, model := range m.Models {
		for _, gt := range append([]goldenTensor{model.Input}, model.Outputs...) {
			a, err := ReadFile(filepath.Join(goldenDir, gt.File))
			if err != nil {
				t.Fatal(err)
			}
			if a.Descr != "<f4" || !reflect.DeepEqual(a.Shape, gt.Shape) {
				t.Errorf("%s: %s %v, manifest says float32 %v", gt.File, a.Descr, a.Shape, gt.Shape)
			}
			v, err := a.Float32()
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("%s: element %d is %v", gt.File, i, x)
				}
			}
			if len(gt.Shape) == 0 || gt.Shape[0] != len(model.Labels) {
				t.Errorf("%s: %s batch %v, %d labels", name, gt.File, gt.Shape, len(model.Labels))
			}
		}
	}
}

// TestGoldenCIFARInput recomputes resnet20's golden input from the CIFAR-10
// arrays with float32 arithmetic and expects the very same bits:
// (float32(p)/255 - mean[c]) / std[c], NHWC -> NCHW.
func TestGoldenCIFARInput(t *testing.T) {
	m := readManifest(t)
	model, ok := m.Models["resnet20"]
	if !ok {
		t.Skip("skipping: no resnet20 in the manifest")
	}
	xPath := filepath.Join(cifarDir, "cifar10_test_x.npy")
	if _, err := os.Stat(xPath); err != nil {
		t.Skipf("skipping: CIFAR-10 arrays not present: %v", err)
	}
	x, err := ReadFile(xPath)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ReadFile(filepath.Join(goldenDir, model.Input.File))
	if err != nil {
		t.Fatal(err)
	}
	want, err := in.Float32()
	if err != nil {
		t.Fatal(err)
	}
	mean := [3]float32{0.485, 0.456, 0.406}
	std := [3]float32{0.229, 0.224, 0.225}
	n := in.Shape[0]
	for i := range n {
		for c := range 3 {
			for y := range 32 {
				for xx := range 32 {
					p := x.Data[((i*32+y)*32+xx)*3+c]
					got := (float32(p)/255 - mean[c]) / std[c]
					w := want[((i*3+c)*32+y)*32+xx]
					if got != w {
						t.Fatalf("image %d c%d (%d,%d): pixel %d -> %v, golden %v", i, c, y, xx, p, got, w)
					}
				}
			}
		}
	}
}
