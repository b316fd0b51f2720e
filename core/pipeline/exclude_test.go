package pipeline

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
)

// Options.Exclude reaches the INT8 engine (the plan log names what stays
// in FP32), and one that names nothing of the model fails at Prepare,
// before any work, naming the entry.
func TestExclude(t *testing.T) {
	needMNIST(t)
	for _, tc := range []struct {
		exclude precision.Exclusions
		logged  string // in the log of an INT8 evaluation
		err     string // of Prepare
	}{
		{exclude: precision.Exclusions{OpTypes: []string{"Conv"}},
			logged: `fp32_excluded="conv1 (Conv, by op type Conv), conv2 (Conv, by op type Conv)"`},
		{exclude: precision.Exclusions{Nodes: []string{"ip?"}},
			logged: `fp32_excluded="ip1 (Gemm, by pattern \"ip?\"), ip2 (Gemm, by pattern \"ip?\")"`},
		{exclude: precision.Exclusions{Nodes: []string{"conv9"}}, err: `--exclude-nodes "conv9" matches no node of the model`},
		{exclude: precision.Exclusions{OpTypes: []string{"Convolution"}}, err: `--exclude-op-types "Convolution" is not an operator type`},
	} {
		var logged bytes.Buffer
		p, err := New(Options{Model: filepath.Join(dataDir, "lenet.onnx"), DataDir: dataDir, PluginDir: pluginDir, Exclude: tc.exclude,
			Log: hclog.New(&hclog.LoggerOptions{Output: &logged, Level: hclog.Info})})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		data, err := p.OpenData(Data{Role: EvaluationRole, Split: Train})
		if err != nil {
			t.Fatal(err)
		}
		defer data.Close()
		cfg := session.ScoreConfig{Batch: 32, Batches: 2}
		if _, err := p.Prepare(data, cfg); tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: Prepare: %v, want %q", tc.exclude, err, tc.err)
			}
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		cal, err := p.Calibrate(calibration(t.TempDir()), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Evaluate(data, Evaluation{Precision: precision.INT8, Calibration: cal, ScoreConfig: cfg}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logged.String(), tc.logged) {
			t.Errorf("%+v: the log lacks %s:\n%s", tc.exclude, tc.logged, logged.String())
		}
	}
}

// TensorRT keeps layers in FP32 only through a Q/DQ model: with
// exclusions, the default route is Q/DQ, and the implicit routes are
// refused with the way out.
func TestExcludeTensorRTRoute(t *testing.T) {
	exclude := precision.Exclusions{OpTypes: []string{"Conv"}}
	for _, tc := range []struct {
		route, want, err string
	}{
		{"", INT8FromQDQ, ""},
		{INT8FromQDQ, INT8FromQDQ, ""},
		{INT8FromCache, "", "--tensorrt-int8=cache cannot keep layers in FP32"},
		{INT8ByTensorRT, "", "use --tensorrt-int8=qdq"},
	} {
		p := &Pipeline{opts: Options{Exclude: exclude, Backend: Backend{Name: TensorRT, TensorRT: TensorRTOptions{INT8: tc.route}}}}
		err := p.checkTensorRTINT8(10, "10.9.0")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("route %q: %v, want %q", tc.route, err, tc.err)
			}
			continue
		}
		if err != nil || p.opts.Backend.TensorRT.INT8 != tc.want {
			t.Errorf("route %q: %v, route %q; want %q", tc.route, err, p.opts.Backend.TensorRT.INT8, tc.want)
		}
	}
}
