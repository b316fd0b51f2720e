package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/layererr"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
)

// lenetTable is LeNet's minmax table (int8cal calibrate --calibrator
// minmax --cal-batches 2).
const lenetTable = `TRT-8601-MinMaxCalibration
data: 3c010204
conv1: 3d133973
pool1: 3d133973
conv2: 3dc4d4f1
pool2: 3d9a714a
flatten: 3d9a714a
ip1: 3dc03c72
relu1: 3da161ed
ip2: 3e58f41f
prob: 3c010204
`

func TestDebug(t *testing.T) {
	needMNIST(t)
	table := filepath.Join(t.TempDir(), "table")
	if err := os.WriteFile(table, []byte(lenetTable), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		exclude precision.Exclusions
		sort    string
		layers  int
		err     string
	}{
		{name: "every layer", sort: layererr.SortAlone, layers: 4},
		{name: "conv2 excluded", sort: layererr.SortAccumulated, exclude: precision.Exclusions{Nodes: []string{"conv2"}}, layers: 3},
		{name: "bad sort", sort: "depth", err: `--sort "depth" unknown`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(Options{Model: filepath.Join(dataDir, "lenet.onnx"), DataDir: dataDir, Exclude: tt.exclude, Log: hclog.NewNullLogger()})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			data, err := p.OpenData(Data{Role: EvaluationRole, Split: Test})
			if err != nil {
				t.Fatal(err)
			}
			defer data.Close()
			r, err := p.Debug(data, Debugging{Table: table, Sort: tt.sort, ScoreConfig: session.ScoreConfig{Batch: 16, Batches: 2}})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Quantized != tt.layers || r.Samples != 32 || r.Sort != tt.sort {
				t.Errorf("%d layers, %d samples, sorted by %s; want %d, 32, %s", r.Quantized, r.Samples, r.Sort, tt.layers, tt.sort)
			}
			for _, l := range r.Layers {
				if tt.exclude.Nodes != nil && l.Node == tt.exclude.Nodes[0] {
					t.Errorf("excluded node %s compared", l.Node)
				}
			}
		})
	}
	if got, _ := os.ReadFile(table); !bytes.Equal(got, []byte(lenetTable)) {
		t.Error("Debug changed the table")
	}
}
