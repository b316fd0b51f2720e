package cuda_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// INT8 with exclusions on the GPU matches the CPU engine under the same
// exclusions, and both plan logs agree on what stays FP32.
func TestINT8ExcludeMatchesCPU(t *testing.T) {
	b := backend(t)
	in, _, inName, outName := golden(t, "resnet20")
	g := load(t, "resnet20.onnx")
	opts := engine.Options{Precision: precision.INT8, Int8Scales: scalesFrom(t, g, inName, in),
		Exclude: precision.Exclusions{Nodes: []string{"/layer1/layer1.1/*", "/conv1/Conv"}, OpTypes: []string{"Gemm"}}}
	var cpuLog, gpuLog bytes.Buffer
	opts.Log = hclog.New(&hclog.LoggerOptions{Output: &cpuLog, Level: hclog.Info})
	want, err := engine.New(g, opts).Run(map[string]*tensor.Tensor{inName: in})
	if err != nil {
		t.Fatal(err)
	}
	opts.Log = hclog.New(&hclog.LoggerOptions{Output: &gpuLog, Level: hclog.Info})
	e := b.NewEngine(g, opts)
	defer e.Close()
	got, err := e.Run(map[string]*tensor.Tensor{inName: in})
	if err != nil {
		t.Fatal(err)
	}
	if d, agree := maxRelDiff(got[outName].F32, want[outName].F32), argmaxAgreement(got[outName], want[outName]); d > 2e-2 || agree < 1 {
		t.Errorf("GPU differs from CPU by %.3g (limit 2e-2), top-1 agreement %.3f", d, agree)
	}
	re := regexp.MustCompile(`int8_layers=(\d+) `)
	cpuN, gpuN := re.FindStringSubmatch(cpuLog.String()), re.FindStringSubmatch(gpuLog.String())
	if cpuN == nil || gpuN == nil || cpuN[1] != gpuN[1] || cpuN[1] != "16" {
		t.Errorf("int8_layers: CPU %v, GPU %v; want 16 (20 less 4 excluded)\n%s%s", cpuN, gpuN, cpuLog.String(), gpuLog.String())
	}
	for _, log := range []string{cpuLog.String(), gpuLog.String()} {
		if !strings.Contains(log, `fp32_excluded="/conv1/Conv (Conv, by name \"/conv1/Conv\"), `) ||
			!strings.Contains(log, `/layer1/layer1.1/conv2/Conv (Conv, by pattern \"/layer1/layer1.1/*\")`) {
			t.Errorf("the plan log does not list what stays FP32:\n%s", log)
		}
	}
}
