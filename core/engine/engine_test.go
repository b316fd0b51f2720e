package engine_test

import (
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/tensor"
)

func load(t testing.TB, path string) *graph.Graph {
	t.Helper()
	g, err := graph.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func randomInput(shape ...int) *tensor.Tensor {
	x := tensor.New(tensor.Float32, shape...)
	rng := rand.New(rand.NewSource(7))
	for i := range x.F32 {
		x.F32[i] = rng.Float32()
	}
	return x
}

var (
	lenetPath    = filepath.Join(repoRoot, "data", "mnist", "lenet.onnx")
	resnet20Path = filepath.Join(repoRoot, "testdata", "models", "resnet20.onnx")
)

// An observed run exposes every tensor the model names, the sample's
// calibration tensors among them, with the shapes of the network.
func TestObservedRunSeesEveryTensor(t *testing.T) {
	eng := engine.New(load(t, lenetPath), engine.Options{})
	shapes := map[string][]int{}
	_, err := eng.RunObserved(map[string]*tensor.Tensor{"data": randomInput(3, 1, 28, 28)}, func(name string, v *tensor.Tensor) {
		shapes[name] = append([]int(nil), v.Shape...)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{
		"data": {3, 1, 28, 28}, "conv1": {3, 20, 24, 24}, "pool1": {3, 20, 12, 12},
		"conv2": {3, 50, 8, 8}, "pool2": {3, 50, 4, 4}, "flatten": {3, 800},
		"ip1": {3, 500}, "relu1": {3, 500}, "ip2": {3, 10}, "prob": {3, 10},
	}
	for name, s := range want {
		if !tensor.EqualShape(shapes[name], s) {
			t.Errorf("%s: observed shape %v, want %v", name, shapes[name], s)
		}
	}
	if len(shapes) != len(want) {
		t.Errorf("observed %d tensors, want %d: %v", len(shapes), len(want), shapes)
	}
}

// The ViT's GELUs fused into one float64 evaluation (fuseGelu) give what
// the five float32 operators of the export give, to float32 rounding.
func TestGeluFusionMatchesUnfused(t *testing.T) {
	g := load(t, "../../testdata/models/cifar10_vit.onnx")
	in := g.Inputs[0]
	x := randomInput(append([]int{3}, in.Shape[1:]...)...)
	fused, err := engine.New(g, engine.Options{}).Run(map[string]*tensor.Tensor{in.Name: x})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := engine.New(g, engine.Options{NoFusion: true}).Run(map[string]*tensor.Tensor{in.Name: x})
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "cifar10_vit unfused", plain[g.Outputs[0].Name].F32, fused[g.Outputs[0].Name].F32)
}

// Fused (Conv+Relu, Add+Relu, Gemm+Relu) and unfused plans, and any batch
// size, compute the same values: bit for bit without residuals (LeNet);
// a convolution with a fused residual (ResNet-20) starts its sums from the
// residual (res + Σ + bias, no pass over the output afterwards) where the
// unfused plan adds it to the finished convolution ((Σ + bias) + res), so
// the last bits may differ there.
func TestFusionAndBatchSizeInvariance(t *testing.T) {
	for _, path := range []string{lenetPath, resnet20Path} {
		g := load(t, path)
		in := g.Inputs[0]
		shape := append([]int{5}, in.Shape[1:]...)
		x := randomInput(shape...)
		fused, err := engine.New(g, engine.Options{}).Run(map[string]*tensor.Tensor{in.Name: x})
		if err != nil {
			t.Fatal(err)
		}
		want := fused[g.Outputs[0].Name].Clone()
		plain, err := engine.New(g, engine.Options{NoFusion: true, Workers: 1}).Run(map[string]*tensor.Tensor{in.Name: x})
		if err != nil {
			t.Fatal(err)
		}
		if path == lenetPath {
			assertEqual(t, filepath.Base(path)+" unfused", plain[g.Outputs[0].Name].F32, want.F32)
		} else {
			assertClose(t, filepath.Base(path)+" unfused", plain[g.Outputs[0].Name].F32, want.F32)
		}
		// Image by image, batch 1.
		per := x.Len() / 5
		classes := want.Len() / 5
		eng := engine.New(g, engine.Options{})
		for i := 0; i < 5; i++ {
			one := tensor.FromFloat32(x.F32[i*per:(i+1)*per], append([]int{1}, in.Shape[1:]...)...)
			out, err := eng.Run(map[string]*tensor.Tensor{in.Name: one})
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, filepath.Base(path)+" batch 1", out[g.Outputs[0].Name].F32, want.F32[i*classes:(i+1)*classes])
		}
	}
}

func assertEqual(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: value %d = %g, want %g", what, i, got[i], want[i])
		}
	}
}

func assertClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		d := got[i] - want[i]
		if d < 0 {
			d = -d
		}
		m := want[i]
		if m < 0 {
			m = -m
		}
		if d > 1e-5*(1+m) {
			t.Fatalf("%s: value %d = %g, want %g", what, i, got[i], want[i])
		}
	}
}

func TestInputShapeChecked(t *testing.T) {
	eng := engine.New(load(t, resnet20Path), engine.Options{})
	_, err := eng.Run(map[string]*tensor.Tensor{"input": randomInput(2, 1, 28, 28)})
	if err == nil || !strings.Contains(err.Error(), "[N,3,32,32]") || !strings.Contains(err.Error(), "[2,1,28,28]") {
		t.Errorf("error %v should name both shapes", err)
	}
	_, err = eng.Run(map[string]*tensor.Tensor{"data": randomInput(2, 3, 32, 32)})
	if err == nil || !strings.Contains(err.Error(), `"input"`) {
		t.Errorf("error %v should name the missing input", err)
	}
}
