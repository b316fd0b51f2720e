package cuda_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/tensor"
)

// BenchmarkThroughput measures images/s with the input on the GPU (the
// transfers Run adds are left out, as PyTorch's numbers leave them out):
// LeNet at the sample's batch of 32, ResNet-20 at 256, in each precision.
// INT8 uses scales from a CPU pass (speed does not depend on them).
func BenchmarkThroughput(b *testing.B) {
	gpu := backend(b)
	for _, m := range []struct {
		name, file, input string
		shape             []int
	}{
		{"lenet", "lenet.onnx", "data", []int{32, 1, 28, 28}},
		{"resnet20", "resnet20.onnx", "input", []int{256, 3, 32, 32}},
	} {
		g := load(b, m.file)
		x := tensor.New(tensor.Float32, m.shape...)
		r := rand.New(rand.NewPCG(1, 1))
		for i := range x.F32 {
			x.F32[i] = r.Float32()
		}
		in := map[string]*tensor.Tensor{m.input: x}
		scales := scalesFrom(b, g, m.input, tensor.FromFloat32(x.F32[:x.Len()/m.shape[0]*2], append([]int{2}, m.shape[1:]...)...))
		for _, p := range []engine.Precision{engine.FP32, engine.FP16, engine.INT8} {
			b.Run(fmt.Sprintf("%s/b%d/%s", m.name, m.shape[0], p), func(b *testing.B) {
				e := gpu.NewEngine(g, engine.Options{Precision: p, Int8Scales: scales})
				defer e.Close()
				if _, err := e.Throughput(in, 10); err != nil { // plan and warm up
					b.Fatal(err)
				}
				b.ResetTimer()
				per, err := e.Throughput(in, b.N)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(m.shape[0])/per.Seconds(), "images/s")
				b.ReportMetric(per.Seconds()*1e3/float64(m.shape[0]), "ms/image")
			})
		}
	}
}
