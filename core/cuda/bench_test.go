package cuda_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/cuda"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// BenchmarkThroughput measures images/s with the input on the GPU (the
// transfers Run adds are left out, as PyTorch's numbers leave them out):
// LeNet at the sample's batch of 32, ResNet-20 at 256, in each precision;
// INT8-cublaslt is INT8 with every product computed by im2col, cuBLASLt
// and an epilogue (the path before the conv_s8 kernels), for a ratio in
// the same run. INT8 uses scales from a CPU pass (speed does not depend
// on them).
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
		for _, c := range []struct {
			p     precision.Precision
			force string
		}{{precision.FP32, ""}, {precision.FP16, ""}, {precision.INT8, ""}, {precision.INT8, "cublaslt"}} {
			label := c.p.String()
			if c.force != "" {
				label += "-" + c.force
			}
			b.Run(fmt.Sprintf("%s/b%d/%s", m.name, m.shape[0], label), func(b *testing.B) {
				restore := cuda.ForceProduct(c.force)
				e := gpu.NewEngine(g, engine.Options{Precision: c.p, Int8Scales: scales, Log: hclog.New(&hclog.LoggerOptions{Level: hclog.Warn})})
				defer restore()
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
				if testing.Verbose() {
					logProfile(b, e, in)
				}
			})
		}
	}
}

// logProfile logs where a run's time goes, by kind of operation.
func logProfile(b *testing.B, e *cuda.Engine, in map[string]*tensor.Tensor) {
	prof, err := e.Profile(in, 20)
	if err != nil {
		b.Fatal(err)
	}
	var labels []string
	var total time.Duration
	for l, d := range prof {
		labels = append(labels, l)
		total += d
	}
	sort.Slice(labels, func(i, j int) bool { return prof[labels[i]] > prof[labels[j]] })
	var parts []string
	for _, l := range labels {
		parts = append(parts, fmt.Sprintf("%s %.1fµs", l, float64(prof[l].Nanoseconds())/1e3))
	}
	b.Logf("profile (each operation alone, synchronized): total %.1fµs: %s", float64(total.Nanoseconds())/1e3, strings.Join(parts, ", "))
}

// BenchmarkRun measures Run on LeNet at the sample's batch of 32, host
// transfers included, as the sample's ms/image does: staged is Run
// (page-locked buffers, the copies inside the graph), unstaged the
// synchronous copies from Go memory it replaced, in the same run.
// first-ms is the first call, which makes the plan (tactic timing
// included): the sample's average includes it once.
func BenchmarkRun(b *testing.B) {
	gpu := backend(b)
	g := load(b, "lenet.onnx")
	x := tensor.New(tensor.Float32, 32, 1, 28, 28)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range x.F32 {
		x.F32[i] = r.Float32()
	}
	in := map[string]*tensor.Tensor{"data": x}
	scales := scalesFrom(b, g, "data", x)
	for _, p := range []precision.Precision{precision.FP32, precision.INT8} {
		for _, staged := range []bool{true, false} {
			name := "staged"
			if !staged {
				name = "unstaged"
			}
			b.Run(fmt.Sprintf("lenet/b32/%s/%s", p, name), func(b *testing.B) {
				e := gpu.NewEngine(g, engine.Options{Precision: p, Int8Scales: scales})
				defer e.Close()
				run := e.Run
				if !staged {
					run = e.RunUnstaged
				}
				began := time.Now()
				if _, err := run(in); err != nil {
					b.Fatal(err)
				}
				first := time.Since(began)
				for i := 0; i < 10; i++ { // warm up
					if _, err := run(in); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := run(in); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(32*b.N), "ms/image")
				b.ReportMetric(float64(first.Microseconds())/1e3, "first-ms")
			})
		}
	}
}
