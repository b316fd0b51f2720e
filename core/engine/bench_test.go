package engine_test

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// benchModel measures FP32 inference throughput on random inputs with all
// cores, reporting images/s (the figure `make bench` sets beside ONNX
// Runtime's).
func benchModel(b *testing.B, path string, batch int) {
	g, err := loadBench(b, path)
	if err != nil {
		b.Fatal(err)
	}
	eng := engine.New(g, engine.Options{})
	in := g.Inputs[0]
	shape := append([]int{batch}, in.Shape[1:]...)
	x := tensor.New(tensor.Float32, shape...)
	rng := rand.New(rand.NewSource(1))
	for i := range x.F32 {
		x.F32[i] = rng.Float32()
	}
	inputs := map[string]*tensor.Tensor{in.Name: x}
	if _, err := eng.Run(inputs); err != nil { // plan and warm up
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := eng.Run(inputs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkLeNetFP32Batch32(b *testing.B) {
	benchModel(b, filepath.Join(repoRoot, "data", "mnist", "lenet.onnx"), 32)
}

func BenchmarkResNet20FP32Batch64(b *testing.B) {
	benchModel(b, filepath.Join(repoRoot, "testdata", "models", "resnet20.onnx"), 64)
}

// benchINT8 measures INT8 throughput with activation scales taken from an
// observed FP32 run on the benchmark input (max |x|/127 per tensor).
func benchINT8(b *testing.B, path string, batch int) {
	g, err := loadBench(b, path)
	if err != nil {
		b.Fatal(err)
	}
	in := g.Inputs[0]
	x := tensor.New(tensor.Float32, append([]int{batch}, in.Shape[1:]...)...)
	rng := rand.New(rand.NewSource(1))
	for i := range x.F32 {
		x.F32[i] = rng.Float32()
	}
	inputs := map[string]*tensor.Tensor{in.Name: x}
	scales := observedScales(b, path, in.Name, x)
	eng := engine.New(g, engine.Options{Precision: precision.INT8, Int8Scales: scales})
	if _, err := eng.Run(inputs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := eng.Run(inputs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkLeNetINT8Batch32(b *testing.B) {
	benchINT8(b, filepath.Join(repoRoot, "data", "mnist", "lenet.onnx"), 32)
}

func BenchmarkResNet20INT8Batch64(b *testing.B) {
	benchINT8(b, filepath.Join(repoRoot, "testdata", "models", "resnet20.onnx"), 64)
}

// benchModels is where `make bench-models` writes the full-size networks
// regenerated from the weight skeletons in testdata/bench.
var benchModels = filepath.Join(repoRoot, ".bench-models")

// loadBench loads a benchmark model, skipping (with how to make it) when a
// regenerated one is absent.
func loadBench(b *testing.B, path string) (*graph.Graph, error) {
	if _, err := os.Stat(path); err != nil && filepath.Dir(path) == benchModels {
		b.Skipf("%s is not there: `make bench-models` regenerates it from testdata/bench", path)
	}
	return graph.Load(path)
}

// The full-size networks of issue 15 (torchvision's, 224×224, 1000
// classes): a mobile CNN (depthwise convolutions), a deep residual CNN and
// a vision transformer. ViT-B/16 costs 17.6 GFLOP an image, hence its
// smaller batch.
func BenchmarkMobileNetV2FP32Batch32(b *testing.B) {
	benchModel(b, filepath.Join(benchModels, "mobilenet_v2.onnx"), 32)
}

func BenchmarkMobileNetV2INT8Batch32(b *testing.B) {
	benchINT8(b, filepath.Join(benchModels, "mobilenet_v2.onnx"), 32)
}

func BenchmarkResNet50FP32Batch32(b *testing.B) {
	benchModel(b, filepath.Join(benchModels, "resnet50.onnx"), 32)
}

func BenchmarkResNet50INT8Batch32(b *testing.B) {
	benchINT8(b, filepath.Join(benchModels, "resnet50.onnx"), 32)
}

func BenchmarkViTB16FP32Batch8(b *testing.B) {
	benchModel(b, filepath.Join(benchModels, "vit_b_16.onnx"), 8)
}

func BenchmarkViTB16INT8Batch8(b *testing.B) {
	benchINT8(b, filepath.Join(benchModels, "vit_b_16.onnx"), 8)
}

// ResNet-20 at calibration's batch of 50 (core/calibrate's
// BenchmarkCalibrateResNet20), the engine's share of a calibration: the
// fused plan (inference's, the floor), the observed plan, and the
// chunk-observed plan that calibration runs (chained Relus, producers
// reporting their output as they compute it), with observers that do
// nothing.
func BenchmarkResNet20ObservedBatch50(b *testing.B) {
	g, err := loadBench(b, filepath.Join(repoRoot, "testdata", "models", "resnet20.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	x := tensor.New(tensor.Float32, 50, 3, 32, 32)
	rng := rand.New(rand.NewSource(1))
	for i := range x.F32 {
		x.F32[i] = 2*rng.Float32() - 1
	}
	inputs := map[string]*tensor.Tensor{g.Inputs[0].Name: x}
	obs := func(string, *tensor.Tensor) {}
	for _, run := range []struct {
		name string
		run  func(e *engine.Engine) error
	}{
		{"fused", func(e *engine.Engine) error { _, err := e.Run(inputs); return err }},
		{"observed", func(e *engine.Engine) error { _, err := e.RunObserved(inputs, obs); return err }},
		{"chunks", func(e *engine.Engine) error {
			_, err := e.RunObservedChunks(inputs, obs, func(int, string, []float32) {})
			return err
		}},
	} {
		b.Run(run.name, func(b *testing.B) {
			eng := engine.New(g, engine.Options{})
			if err := run.run(eng); err != nil { // plan and warm up
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := run.run(eng); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*50)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
