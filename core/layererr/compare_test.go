package layererr

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// resnet20 returns ResNet-20, two batches of random images and crude
// minmax scales (max |x|/127 of every tensor of an FP32 run on them).
func resnet20(t *testing.T) (*graph.Graph, []map[string]*tensor.Tensor, map[string]float32) {
	t.Helper()
	g, err := graph.Load(filepath.Join("..", "..", "testdata", "models", "resnet20.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	in := g.Inputs[0]
	rng := rand.New(rand.NewSource(1))
	var batches []map[string]*tensor.Tensor
	scales := map[string]float32{}
	for range 2 {
		x := tensor.New(tensor.Float32, append([]int{4}, in.Shape[1:]...)...)
		for i := range x.F32 {
			x.F32[i] = rng.Float32()*2 - 1
		}
		b := map[string]*tensor.Tensor{in.Name: x}
		batches = append(batches, b)
		if _, err := engine.New(g, engine.Options{}).RunObserved(b, func(name string, t *tensor.Tensor) {
			for _, v := range t.F32 {
				scales[name] = max(scales[name], v/127, -v/127)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	return g, batches, scales
}

func compare(t *testing.T, g *graph.Graph, batches []map[string]*tensor.Tensor, scales map[string]float32, sort string) *Report {
	t.Helper()
	c := New(g, Options{Scales: scales})
	for _, b := range batches {
		if err := c.Add(b); err != nil {
			t.Fatal(err)
		}
	}
	r, err := c.Report(sort)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCompareResNet20(t *testing.T) {
	g, batches, scales := resnet20(t)
	r := compare(t, g, batches, scales, SortAccumulated)
	var convs int
	for _, n := range g.Nodes {
		if n.OpType == "Conv" || n.OpType == "Gemm" {
			convs++
		}
	}
	if r.Quantized != convs || len(r.Layers) != convs {
		t.Errorf("%d layers quantized, %d listed; the model has %d Conv and Gemm nodes", r.Quantized, len(r.Layers), convs)
	}
	if r.Batches != 2 || r.Samples != 8 {
		t.Errorf("%d batches, %d samples; want 2, 8", r.Batches, r.Samples)
	}
	seen := map[string]bool{}
	prev := math.Inf(-1)
	for _, l := range r.Layers {
		if seen[l.Node] {
			t.Errorf("node %q listed twice", l.Node)
		}
		seen[l.Node] = true
		for _, s := range []Summary{l.Accumulated, l.Alone, l.AloneOutputs[0]} {
			if q := float64(s.SQNR); math.IsInf(q, 0) || math.IsNaN(q) || q <= 0 {
				t.Errorf("node %q, tensor %s: SQNR %v dB, want a finite positive number with minmax scales", l.Node, s.Tensor, q)
			}
		}
		// A layer alone errs less at its output than with every error
		// before it.
		if l.Alone.SQNR < l.Accumulated.SQNR-1 {
			t.Errorf("node %q: SQNR alone %v dB < accumulated %v dB", l.Node, l.Alone.SQNR, l.Accumulated.SQNR)
		}
		if q := float64(l.Accumulated.SQNR); q < prev {
			t.Errorf("node %q out of order: %v dB after %v dB", l.Node, q, prev)
		}
		prev = float64(l.Accumulated.SQNR)
	}
	if len(r.Outputs) != 1 || float64(r.Outputs[0].SQNR) <= 0 {
		t.Fatalf("model outputs %+v, want one with a positive SQNR", r.Outputs)
	}

	// The model output's SQNR computed apart: plain (fused) runs of both
	// precisions and the formula written out.
	var signal, noise float64
	for _, b := range batches {
		ref, err := engine.New(g, engine.Options{}).Run(b)
		if err != nil {
			t.Fatal(err)
		}
		x, err := engine.New(g, engine.Options{Precision: precision.INT8, Int8Scales: scales}).Run(b)
		if err != nil {
			t.Fatal(err)
		}
		name := g.Outputs[0].Name
		for i, v := range ref[name].F32 {
			d := float64(v) - float64(x[name].F32[i])
			signal += float64(v) * float64(v)
			noise += d * d
		}
	}
	if want := 10 * math.Log10(signal/noise); math.Abs(float64(r.Outputs[0].SQNR)-want) > 0.01 {
		t.Errorf("model output SQNR %v dB, computed apart %v dB", r.Outputs[0].SQNR, want)
	}
}

// A scale 30 times too large for one layer's input leaves it a few
// levels: that layer must come first in the "alone" order.
func TestCompareFindsTheBadLayer(t *testing.T) {
	g, batches, scales := resnet20(t)
	layers, err := Layers(g, map[string][]int{g.Inputs[0].Name: batches[0][g.Inputs[0].Name].Shape}, Options{Scales: scales})
	if err != nil {
		t.Fatal(err)
	}
	bad := layers[len(layers)/2]
	scales[bad.Inputs[0]] *= 30
	r := compare(t, g, batches, scales, SortAlone)
	if r.Layers[0].Node != bad.Node {
		t.Errorf("worst layer alone is %q (%v dB at the output), want %q whose input scale is 30× too large; order:\n%s", r.Layers[0].Node, r.Layers[0].AloneOutputs[0].SQNR, bad.Node, text(t, r))
	}
}

func text(t *testing.T, r *Report) string {
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReportFormats(t *testing.T) {
	g, batches, scales := resnet20(t)
	r := compare(t, g, batches[:1], scales, SortAlone)
	r.Truncate(3)
	out := text(t, r)
	if !strings.Contains(out, "layer") || !strings.Contains(out, "SQNR acc dB") || strings.Count(out, "\n") != 3+3+1 {
		t.Errorf("text report: want a title, a legend, a header, 3 layers and the model output:\n%s", out)
	}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Quantized int `json:"quantized_layers"`
		Layers    []struct {
			Node        string
			Accumulated struct {
				SQNR float64 `json:"sqnr_db"`
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("%v:\n%s", err, b.String())
	}
	if len(back.Layers) != 3 || back.Quantized != r.Quantized || back.Layers[0].Node != r.Layers[0].Node {
		t.Errorf("JSON read back as %+v:\n%s", back, b.String())
	}
	if _, err := (&Comparer{batches: 1}).Report("depth"); err == nil {
		t.Error("an unknown sort order was accepted")
	}
}

func TestCompareNoLayer(t *testing.T) {
	g, batches, _ := resnet20(t)
	err := New(g, Options{Scales: map[string]float32{"nothing": 0.1}}).Add(batches[0])
	if err == nil || !strings.Contains(err.Error(), "no node") {
		t.Errorf("err = %v, want one saying no node is quantized", err)
	}
}

// Excluded nodes stay FP32: they are not listed, and the accumulated run
// keeps them in float (the first layer's accumulated error is then its
// error alone, since it is the only one left quantized before it).
func TestCompareExclude(t *testing.T) {
	g, batches, scales := resnet20(t)
	c := New(g, Options{Scales: scales, Exclude: precision.Exclusions{Nodes: []string{"/layer*"}, OpTypes: []string{"Gemm"}}})
	if err := c.Add(batches[0]); err != nil {
		t.Fatal(err)
	}
	r, err := c.Report(SortAlone)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Layers) != 1 || r.Layers[0].Node != "/conv1/Conv" {
		t.Fatalf("layers %+v, want /conv1/Conv alone", r.Layers)
	}
	if l := r.Layers[0]; l.Accumulated.SQNR != l.Alone.SQNR || r.Outputs[0].SQNR != l.AloneOutputs[0].SQNR {
		t.Errorf("with one layer quantized, accumulated %+v and %+v differ from alone %+v and %+v", l.Accumulated, r.Outputs[0], l.Alone, l.AloneOutputs[0])
	}
}
