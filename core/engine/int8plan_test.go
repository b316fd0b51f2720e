package engine_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// TestINT8PlanLogSeparatesRangeFromKernel: a Conv or Gemm whose input has
// no range, or one no table reader would use (infinite, zero), stays in
// FP32 and the plan log says so by tensor; it is not counted among the
// operators without an INT8 kernel.
func TestINT8PlanLogSeparatesRangeFromKernel(t *testing.T) {
	var logged bytes.Buffer
	scales := map[string]float32{
		"data":  1.0 / 127,             // conv1: INT8
		"pool1": float32(math.Inf(1)),  // conv2: FP32
		"relu1": 0,                     // ip2: FP32
		"prob":  math.MaxFloat32 / 127, // read by no Conv or Gemm
	}
	g := load(t, lenetPath)
	eng := engine.New(g, engine.Options{Precision: precision.INT8, Int8Scales: scales,
		Log: hclog.New(&hclog.LoggerOptions{Output: &logged, Level: hclog.Info})})
	if _, err := eng.Run(map[string]*tensor.Tensor{g.Inputs[0].Name: randomInput(1, 1, 28, 28)}); err != nil {
		t.Fatal(err)
	}
	log := logged.String()
	for _, want := range []string{
		"INT8 plan: int8_layers=1 int8_tensors_between=0 ",
		`fp32_no_int8_kernel="Flatten×1, MaxPool×2, Softmax×1"`,
		`fp32_no_calibrated_range="flatten, pool1 (scale 7f800000 is infinite;`,
		`relu1 (scale 00000000 is zero;`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
