package engine_test

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// zooModelPath is a TorchScript export of the zoo.
func zooModelPath(name string) string {
	return filepath.Join(repoRoot, "testdata", "zoo", name+".torchscript.onnx")
}

// observedScales runs the model in FP32 on x and returns max|v|/127 of
// every float tensor: a MinMax calibration of one batch.
func observedScales(tb testing.TB, path, input string, x *tensor.Tensor) map[string]float32 {
	tb.Helper()
	amax := map[string]float32{}
	_, err := engine.New(load(tb, path), engine.Options{}).RunObserved(map[string]*tensor.Tensor{input: x}, func(name string, v *tensor.Tensor) {
		if !v.DType.IsFloat() {
			return
		}
		for _, f := range v.F32 {
			amax[name] = max(amax[name], float32(math.Abs(float64(f))))
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	scales := map[string]float32{}
	for name, a := range amax {
		if a > 0 {
			scales[name] = a / 127
		}
	}
	return scales
}

// In a transformer encoder every MatMul and Gemm runs INT8, the attention
// products included; when one operand of Q·Kᵀ has no range the plan log
// names that tensor, and the product stays FP32. The residual Adds,
// Softmax and LayerNormalization run FP32 and are listed by operator.
func TestINT8PlanTransformerEncoder(t *testing.T) {
	path := zooModelPath("transformer_encoder")
	x := randomInput(2, 16, 32)
	scales := observedScales(t, path, "x", x)
	run := func(scales map[string]float32) string {
		var logged bytes.Buffer
		eng := engine.New(load(t, path), engine.Options{Precision: precision.INT8, Int8Scales: scales,
			Log: hclog.New(&hclog.LoggerOptions{Output: &logged, Level: hclog.Info})})
		if _, err := eng.Run(map[string]*tensor.Tensor{"x": x}); err != nil {
			t.Fatal(err)
		}
		return logged.String()
	}
	log := run(scales)
	t.Logf("plan log: %s", log)
	for _, want := range []string{"INT8 plan: int8_layers=12 ", "Add×", "Softmax×2", "fp32_no_calibrated_range=\"\""} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	// Kᵀ, the right operand of the first attention product.
	const kt = "/enc/layers.0/self_attn/Mul_1_output_0"
	if _, ok := scales[kt]; !ok {
		t.Fatalf("no tensor %s in the model", kt)
	}
	delete(scales, kt)
	log = run(scales)
	for _, want := range []string{"INT8 plan: int8_layers=11 ", "fp32_no_calibrated_range=" + kt + "\n"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// FP32 against INT8 on zoo models at their batch of 2: mobilenet_v2
// (depthwise), unet (ConvTranspose), transformer_encoder (MatMul).
func BenchmarkZooINT8(b *testing.B) {
	for _, m := range []struct {
		name, input string
		shape       []int
	}{
		{"mobilenet_v2", "input", []int{2, 3, 32, 32}},
		{"unet", "input", []int{2, 3, 32, 32}},
		{"transformer_encoder", "x", []int{2, 16, 32}},
	} {
		path := zooModelPath(m.name)
		x := randomInput(m.shape...)
		scales := observedScales(b, path, m.input, x)
		for _, p := range []precision.Precision{precision.FP32, precision.INT8} {
			b.Run(m.name+"/"+p.String(), func(b *testing.B) {
				eng := engine.New(load(b, path), engine.Options{Precision: p, Int8Scales: scales})
				in := map[string]*tensor.Tensor{m.input: x}
				if _, err := eng.Run(in); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := eng.Run(in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
