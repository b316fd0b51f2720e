package cuda_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/int8cal/int8cal/core/cuda"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/internal/npytensor"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/testfixture"
)

// firstImages is a batch of the first n images of x.
func firstImages(x *tensor.Tensor, n int) *tensor.Tensor {
	per := x.Len() / x.Shape[0]
	return tensor.FromFloat32(append([]float32(nil), x.F32[:n*per]...), append([]int{n}, x.Shape[1:]...)...)
}

// int8Run runs g in INT8 on the GPU with every product forced to kernel
// ("": the tactic timing's choice) and returns the output's values.
func int8Run(t *testing.T, b *cuda.Backend, g *graph.Graph, opts engine.Options, in map[string]*tensor.Tensor, out, kernel string) []float32 {
	t.Helper()
	defer cuda.ForceProduct(kernel)()
	e := b.NewEngine(g, opts)
	defer e.Close()
	res, err := e.Run(in)
	if err != nil {
		t.Fatalf("INT8 products by %q: %v", kernel, err)
	}
	return append([]float32(nil), res[out].F32...)
}

// sameBits reports the first index where a and b differ in their bits.
func sameBits(a, b []float32) (int, bool) {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return 0, len(a) == len(b)
}

// TestINT8ProductPaths runs LeNet and ResNet-20 in INT8 with the products
// computed by cuBLASLt (im2col, product, epilogue) and by each of the
// implicit-GEMM conv_s8 kernels, with and without its input tile: the
// int32 sums are exact and the epilogues compute the same expression in
// the same order, so the outputs must be equal bit for bit, at a batch of
// 16 and of 3 (row tiles, channel chunks and Gemm rows with tails:
// LeNet's 500 features are 8 chunks of 64 with 12 left over; ResNet-20's
// shortcuts read in place as residuals against the gather kernel's copy;
// LeNet's softmax in conv_s8's epilogue, from the kernels whose chunk
// covers its 10 outputs, against the softmax kernel). The tactic timing's
// own choice must agree too, and so must an unfused plan (poolings then
// write no quantized copy, Relus, residual Adds and the Softmax run
// alone), and all of them
// with the CPU engine within the rounding of float sums
// (TestPrecisionsMatchCPU's bound).
func TestINT8ProductPaths(t *testing.T) {
	b := backend(t)
	if !b.TensorCoresS8() {
		t.Skipf("%s (sm_%d%d) has no int8 mma.sync: the conv_s8 kernels need sm_80", b.Device.Name, b.Device.Major, b.Device.Minor)
	}
	for _, name := range []string{"lenet", "resnet20"} {
		full, _, inName, outName := golden(t, name)
		g := load(t, name+".onnx")
		opts := engine.Options{Precision: precision.INT8, Int8Scales: scalesFrom(t, g, inName, full)}
		for _, batch := range []int{16, 3} {
			in := map[string]*tensor.Tensor{inName: firstImages(full, batch)}
			cpu, err := engine.New(g, opts).Run(in)
			if err != nil {
				t.Fatal(err)
			}
			ref := int8Run(t, b, g, opts, in, outName, "cublaslt")
			if d := maxRelDiff(ref, cpu[outName].F32); d > 2e-2 {
				t.Errorf("%s b%d: cuBLASLt path differs from the CPU by %.3g", name, batch, d)
			}
			if _, same := sameBits(ref, cpu[outName].F32); same {
				t.Logf("%s b%d: GPU INT8 outputs equal the CPU engine's bit for bit", name, batch)
			} else {
				t.Logf("%s b%d: GPU INT8 outputs within %.3g of the CPU engine's", name, batch, maxRelDiff(ref, cpu[outName].F32))
			}
			for _, k := range append(cuda.ProductKernels(), "") {
				got := int8Run(t, b, g, opts, in, outName, k)
				if i, same := sameBits(got, ref); !same {
					t.Errorf("%s b%d: products by %q differ from cuBLASLt's path: output %d is %g, want %g", name, batch, k, i, got[i], ref[i])
				}
			}
			unfused := opts
			unfused.NoFusion = true
			got := int8Run(t, b, g, unfused, in, outName, "")
			if i, same := sameBits(got, ref); !same {
				t.Errorf("%s b%d: the unfused plan differs: output %d is %g, want %g", name, batch, i, got[i], ref[i])
			}
		}
	}
}

// TestRunStaged: Run (page-locked staging, copies inside the graph) gives
// the outputs of the synchronous path bit for bit in every precision,
// and a second batch's outputs, not the first's, on the next call; so
// does a batch written straight into the staging buffer (InputBuffer).
func TestRunStaged(t *testing.T) {
	b := backend(t)
	for _, name := range []string{"lenet", "resnet20"} {
		full, _, inName, outName := golden(t, name)
		g := load(t, name+".onnx")
		scales := scalesFrom(t, g, inName, full)
		first, second := firstImages(full, 8), tensor.FromFloat32(append([]float32(nil), full.F32[full.Len()/2:]...), append([]int{8}, full.Shape[1:]...)...)
		for _, p := range []precision.Precision{precision.FP32, precision.FP16, precision.INT8} {
			opts := engine.Options{Precision: p, Int8Scales: scales}
			e := b.NewEngine(g, opts)
			for _, x := range []*tensor.Tensor{first, second} {
				in := map[string]*tensor.Tensor{inName: x}
				got, err := e.Run(in)
				if err != nil {
					t.Fatalf("%s %s: %v", name, p, err)
				}
				staged := append([]float32(nil), got[outName].F32...)
				want, err := e.RunUnstaged(in)
				if err != nil {
					t.Fatal(err)
				}
				if i, same := sameBits(staged, want[outName].F32); !same {
					t.Errorf("%s %s: staged Run's output %d is %g, the synchronous path's %g", name, p, i, staged[i], want[outName].F32[i])
				}
				// The input written straight into the staging buffer
				// (session.Stager) gives the same outputs.
				buf := e.InputBuffer(inName)
				if len(buf) != x.Len() {
					t.Fatalf("%s %s: InputBuffer has %d values for an input of %d", name, p, len(buf), x.Len())
				}
				copy(buf, x.F32)
				got, err = e.Run(map[string]*tensor.Tensor{inName: tensor.FromFloat32(buf, x.Shape...)})
				if err != nil {
					t.Fatal(err)
				}
				if i, same := sameBits(got[outName].F32, staged); !same {
					t.Errorf("%s %s: Run from the staging buffer: output %d is %g, from Go memory %g", name, p, i, got[outName].F32[i], staged[i])
				}
			}
			if e.InputBuffer("no such input") != nil {
				t.Errorf("%s %s: a staging buffer for an input the model does not have", name, p)
			}
			e.Close()
		}
	}
}

// TestINT8ProductPathsZoo gives every zoo model the cuda backend runs the
// same check as TestINT8ProductPaths, on the shapes ResNet-20 and LeNet
// lack (7×7 stride-2 stems, 1×1 and strided convolutions, up to 2048
// channels, deep K split between warps, 1000-way Gemms): INT8 through
// cuBLASLt and through conv_s8 kernels of each kind (one row tile, two
// row tiles, K split) and the tactic timing's choice give the same bits.
func TestINT8ProductPathsZoo(t *testing.T) {
	b := backend(t)
	if !b.TensorCoresS8() {
		t.Skipf("%s has no int8 mma.sync", b.Device.Name)
	}
	models, _ := testfixture.Zoo(t, filepath.Join(repoRoot, "testdata", "zoo"))
	checked := 0
	for _, m := range models {
		if m.Status != "ok" {
			continue
		}
		g, err := graph.Load(m.File)
		if err != nil {
			t.Fatal(err)
		}
		inputs := map[string]*tensor.Tensor{}
		for i, name := range m.Inputs {
			inputs[name] = npytensor.ReadTyped(t, m.InputFiles[i])
		}
		if len(m.Inputs) != 1 || inputs[m.Inputs[0]].DType != tensor.Float32 {
			continue
		}
		e := b.NewEngine(g, engine.Options{})
		_, err = e.Run(inputs)
		e.Close()
		if err != nil {
			continue // refused in FP32 (TestZooRunsOrRefuses says why)
		}
		opts := engine.Options{Precision: precision.INT8, Int8Scales: scalesFrom(t, g, m.Inputs[0], inputs[m.Inputs[0]])}
		out := m.Outputs[0]
		ref := int8Run(t, b, g, opts, inputs, out, "cublaslt")
		for _, k := range []string{"conv_s8_m1n8k1", "conv_s8_m2n4k1", "conv_s8_m1n2k4", "conv_s8_m2n4k1_global", ""} {
			got := int8Run(t, b, g, opts, inputs, out, k)
			if i, same := sameBits(got, ref); !same {
				t.Errorf("%s/%s: products by %q differ from cuBLASLt's path: output %d is %g, want %g", m.Name, m.Exporter, k, i, got[i], ref[i])
			}
		}
		checked++
	}
	t.Logf("%d zoo models checked", checked)
}
