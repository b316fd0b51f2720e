package engine_test

import (
	"path/filepath"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/datasets/mnist"
)

// In FP16 every tensor the run produces holds half-precision values, and
// the caller's input is not modified.
func TestFP16TensorsAreHalfPrecision(t *testing.T) {
	eng := engine.New(load(t, lenetPath), engine.Options{Precision: precision.FP16})
	x := randomInput(2, 1, 28, 28)
	orig := x.Clone()
	_, err := eng.RunObserved(map[string]*tensor.Tensor{"data": x}, func(name string, v *tensor.Tensor) {
		for i, f := range v.F32 {
			h := []float32{f}
			tensor.RoundToFloat16(h)
			if h[0] != f {
				t.Fatalf("%s[%d] = %v is not a half-precision value", name, i, f)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "input", x.F32, orig.F32)
}

// LeNet in FP16 scores within 1% of FP32 on t10k (the sample's criterion).
func TestFP16LeNetAccuracy(t *testing.T) {
	dir := mnistDir(t)
	src, err := mnist.Open(dir, mnist.Test)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Load(filepath.Join(dir, "lenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := session.ScoreConfig{Batch: 100, Batches: 100, Input: "data", Output: "prob"}
	var top1 [2]float64
	for i, p := range []precision.Precision{precision.FP32, precision.FP16} {
		s, err := session.Evaluate(engine.New(g, engine.Options{Precision: p}), src, cfg)
		if err != nil {
			t.Fatal(err)
		}
		top1[i] = s.Top1
	}
	t.Logf("LeNet t10k Top-1: FP32 %.4f, FP16 %.4f", top1[0], top1[1])
	if d := top1[0] - top1[1]; d > 0.01 || d < -0.01 {
		t.Errorf("FP16 Top-1 %.4f is not within 1%% of FP32 %.4f", top1[1], top1[0])
	}
}
