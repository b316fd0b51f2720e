package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/session"
)

// LeNet's minmax table with the given entries' scales set to 1e-4 (amax
// 0.0127, hundreds of times below the calibrated ones: nearly every value
// clips): the layers reading them must stay in FP32 for INT8 to keep its
// accuracy.
func badLeNetTable(t *testing.T, bad ...string) string {
	t.Helper()
	lines := strings.Split(lenetTable, "\n")
	for i, l := range lines {
		for _, name := range bad {
			if strings.HasPrefix(l, name+": ") {
				lines[i] = name + ": 38d1b717"
			}
		}
	}
	path := filepath.Join(t.TempDir(), "table")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFallback(t *testing.T) {
	tests := []struct {
		name      string
		bad       []string // table entries spoiled
		maxDrop   float64
		maxLayers int
		met       bool
		chosen    []string // in the chosen set, whatever else is
		err       string
	}{
		{name: "good table", maxDrop: 0.01, met: true},
		{name: "conv2's input spoiled", bad: []string{"pool1"}, maxDrop: 0.005, met: true, chosen: []string{"conv2"}},
		{name: "two spoiled, one layer allowed", bad: []string{"pool1", "relu1"}, maxDrop: 0.005, maxLayers: 1},
		{name: "two spoiled", bad: []string{"pool1", "relu1"}, maxDrop: 0.005, met: true, chosen: []string{"conv2", "ip2"}},
		{name: "bad target", maxDrop: -0.1, err: "--max-drop -0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := lenet(t, Backend{})
			data, err := p.OpenData(Data{Role: EvaluationRole, Split: Test})
			if err != nil {
				t.Fatal(err)
			}
			defer data.Close()
			table := badLeNetTable(t, tt.bad...)
			before, _ := os.ReadFile(table)
			r, err := p.Fallback(data, FallbackSearch{Table: table, MaxDrop: tt.maxDrop, MaxLayers: tt.maxLayers,
				Sensitivity: session.ScoreConfig{Batch: 32, Batches: 2}, ScoreConfig: session.ScoreConfig{Batch: 100, Batches: 10}})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("FP32 %.4f, INT8 %.4f with %v; steps %+v; INT8 MACs %d of %d", r.FP32Top1, r.Top1, r.Exclude.Nodes, r.Steps, r.INT8MACs, r.TotalMACs)
			if r.Met != tt.met || (r.Met && r.Drop > tt.maxDrop) || r.Images != 1000 || len(r.Ranked) != 4 {
				t.Errorf("met %v (drop %g of %d images, %d layers ranked), want met %v within %g of 1000, 4 layers", r.Met, r.Drop, r.Images, len(r.Ranked), tt.met, tt.maxDrop)
			}
			if tt.maxLayers > 0 && len(r.Chosen) > tt.maxLayers {
				t.Errorf("%d layers chosen, more than %d", len(r.Chosen), tt.maxLayers)
			}
			for _, want := range tt.chosen {
				if !strings.Contains(strings.Join(r.Exclude.Nodes, ","), want) {
					t.Errorf("%s not kept in FP32: %v", want, r.Exclude.Nodes)
				}
			}
			var int8MACs int64
			for _, l := range r.Ranked[len(r.Chosen):] {
				int8MACs += map[string]int64{"conv1": 288000, "conv2": 1600000, "ip1": 400000, "ip2": 5000}[l.Node]
			}
			if r.TotalMACs != 2293000 || r.INT8MACs != int8MACs {
				t.Errorf("INT8 MACs %d of %d, want %d of 2293000", r.INT8MACs, r.TotalMACs, int8MACs)
			}
			if !p.opts.Exclude.Empty() {
				t.Errorf("the pipeline's exclusions changed: %+v", p.opts.Exclude)
			}
			if after, _ := os.ReadFile(table); string(after) != string(before) {
				t.Error("the table was written")
			}
		})
	}
}
