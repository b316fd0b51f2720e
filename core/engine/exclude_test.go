package engine_test

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// Excluded nodes keep their FP32 kernel in an INT8 plan: int8_layers drops
// by the number excluded, the plan log names each with the entry that
// matched, and an excluded layer fed the same input computes exactly what
// the FP32 engine does.
func TestINT8PlanExclude(t *testing.T) {
	resnetX := randomInput(2, 3, 32, 32)
	resnetScales := observedScales(t, resnet20Path, "input", resnetX)
	encoderPath := zooModelPath("transformer_encoder")
	encoderX := randomInput(2, 16, 32)
	encoderScales := observedScales(t, encoderPath, "x", encoderX)
	for _, tc := range []struct {
		name    string
		path    string
		input   string
		x       *tensor.Tensor
		scales  map[string]float32
		exclude precision.Exclusions
		drop    int
		logged  []string
		// fp32 is a node whose output must equal the FP32 engine's: its
		// input is the model's, so identical in both runs.
		fp32 string
	}{
		{
			name: "resnet20 by name", path: resnet20Path, input: "input", x: resnetX, scales: resnetScales,
			exclude: precision.Exclusions{Nodes: []string{"/conv1/Conv"}}, drop: 1,
			logged: []string{`fp32_excluded="/conv1/Conv (Conv, by name \"/conv1/Conv\")"`},
			fp32:   "/conv1/Conv",
		},
		{
			name: "resnet20 by pattern", path: resnet20Path, input: "input", x: resnetX, scales: resnetScales,
			exclude: precision.Exclusions{Nodes: []string{"/layer1/*"}}, drop: 6, // three blocks of two convolutions
			logged: []string{`/layer1/layer1.2/conv2/Conv (Conv, by pattern \"/layer1/*\")`},
		},
		{
			name: "transformer_encoder by op type", path: encoderPath, input: "x", x: encoderX, scales: encoderScales,
			exclude: precision.Exclusions{OpTypes: []string{"MatMul"}}, drop: 10, // the two Gemms stay INT8
			logged: []string{`/enc/layers.1/linear2/MatMul (MatMul, by op type MatMul)"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(opts engine.Options) (string, map[string][]float32) {
				var logged bytes.Buffer
				opts.Log = hclog.New(&hclog.LoggerOptions{Output: &logged, Level: hclog.Info})
				outputs := map[string][]float32{}
				_, err := engine.New(load(t, tc.path), opts).RunObserved(map[string]*tensor.Tensor{tc.input: tc.x}, func(name string, v *tensor.Tensor) {
					if v.DType.IsFloat() {
						outputs[name] = slices.Clone(v.F32)
					}
				})
				if err != nil {
					t.Fatal(err)
				}
				return logged.String(), outputs
			}
			allLog, all := run(engine.Options{Precision: precision.INT8, Int8Scales: tc.scales})
			exLog, ex := run(engine.Options{Precision: precision.INT8, Int8Scales: tc.scales, Exclude: tc.exclude})
			if n, m := int8Layers(t, allLog), int8Layers(t, exLog); m != n-tc.drop {
				t.Errorf("int8_layers %d with the exclusion, %d without; want %d fewer:\n%s", m, n, tc.drop, exLog)
			}
			if strings.Contains(allLog, "fp32_excluded") {
				t.Errorf("a plan without exclusions logs fp32_excluded:\n%s", allLog)
			}
			for _, want := range tc.logged {
				if !strings.Contains(exLog, want) {
					t.Errorf("log lacks %s:\n%s", want, exLog)
				}
			}
			if tc.fp32 == "" {
				return
			}
			_, fp32 := run(engine.Options{})
			out := tc.fp32 + "_output_0"
			if !slices.Equal(ex[out], fp32[out]) {
				t.Errorf("%s: the excluded layer's output differs from FP32's", out)
			}
			if slices.Equal(all[out], fp32[out]) {
				t.Errorf("%s: the INT8 layer's output equals FP32's; the test shows nothing", out)
			}
		})
	}
}

// int8Layers reads int8_layers from a plan log.
func int8Layers(t *testing.T, log string) int {
	t.Helper()
	m := regexp.MustCompile(`int8_layers=(\d+)`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no int8_layers in the log:\n%s", log)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
