package layererr

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name     string
		batches  [][2][]float32 // {ref, x} per batch
		sqnr     float64
		cosine   float64
		maxAbs   float64
		meanAbs  float64
		nonFinit int64
	}{
		{name: "equal", batches: [][2][]float32{{{1, -2, 3}, {1, -2, 3}}},
			sqnr: math.Inf(1), cosine: 1, maxAbs: 0, meanAbs: 0},
		// Σref² = 1+4 = 5, Σerr² = 0.25+0.25 = 0.5: 10·log10(10) = 10 dB.
		// Σref·x = 1.5+3 = 4.5, Σx² = 2.25+2.25 = 4.5.
		{name: "one batch", batches: [][2][]float32{{{1, 2}, {1.5, 1.5}}},
			sqnr: 10, cosine: 4.5 / (math.Sqrt(5) * math.Sqrt(4.5)), maxAbs: 0.5, meanAbs: 0.5},
		// Sums over batches, not an average of per-batch SQNRs: batch 1
		// alone is 10·log10(100/1) = 20 dB, batch 2 alone 10·log10(1/1)
		// = 0 dB; together 10·log10(101/2).
		{name: "two batches", batches: [][2][]float32{{{10}, {9}}, {{1}, {0}}},
			sqnr: 10 * math.Log10(101.0/2), cosine: 90 / (math.Sqrt(101) * 9), maxAbs: 1, meanAbs: 1},
		{name: "both zero", batches: [][2][]float32{{{0, 0}, {0, 0}}},
			sqnr: math.Inf(1), cosine: 1},
		{name: "zero reference", batches: [][2][]float32{{{0, 0}, {0, 2}}},
			sqnr: math.Inf(-1), cosine: 0, maxAbs: 2, meanAbs: 1},
		{name: "zero test", batches: [][2][]float32{{{3, 4}, {0, 0}}},
			sqnr: 0, cosine: 0, maxAbs: 4, meanAbs: 3.5},
		{name: "sign flipped", batches: [][2][]float32{{{1, -1}, {-1, 1}}},
			sqnr: 10 * math.Log10(2.0/8), cosine: -1, maxAbs: 2, meanAbs: 2},
		// A NaN in the tested run shows in every metric, even among
		// good batches.
		{name: "NaN", batches: [][2][]float32{{{1, 2}, {1, 2}}, {{1, 2}, {nan, 2}}},
			sqnr: math.NaN(), cosine: math.NaN(), maxAbs: math.NaN(), meanAbs: math.NaN(), nonFinit: 1},
		{name: "Inf", batches: [][2][]float32{{{1, 2}, {inf, 2}}},
			sqnr: math.NaN(), cosine: math.NaN(), maxAbs: math.Inf(1), meanAbs: math.Inf(1), nonFinit: 1},
		{name: "nothing", sqnr: math.Inf(1), cosine: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Metrics
			for _, b := range tt.batches {
				if err := m.Add("t", b[0], b[1]); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"SQNR", m.SQNR(), tt.sqnr}, {"cosine", m.Cosine(), tt.cosine}, {"max abs", m.MaxAbs(), tt.maxAbs}, {"mean abs", m.MeanAbs(), tt.meanAbs}} {
				if !same(c.got, c.want) {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
			if m.NonFinite != tt.nonFinit {
				t.Errorf("NonFinite = %d, want %d", m.NonFinite, tt.nonFinit)
			}
		})
	}
}

// same compares within rounding, NaN equal to NaN and infinities exactly.
func same(got, want float64) bool {
	if math.IsNaN(want) || math.IsInf(want, 0) {
		return math.IsNaN(got) == math.IsNaN(want) && (math.IsNaN(want) || got == want)
	}
	return math.Abs(got-want) <= 1e-9*max(1, math.Abs(want))
}

func TestMetricsLengthMismatch(t *testing.T) {
	var m Metrics
	err := m.Add("conv1_out", []float32{1, 2}, []float32{1})
	if err == nil || !strings.Contains(err.Error(), "conv1_out") {
		t.Fatalf("err = %v, want one naming the tensor", err)
	}
}

func TestNumberJSON(t *testing.T) {
	tests := []struct {
		n    Number
		want string
	}{
		{Number(math.NaN()), `"nan"`},
		{Number(math.Inf(1)), `"inf"`},
		{Number(math.Inf(-1)), `"-inf"`},
		{-0.0050000000000000044, `-0.005`},
		{35.123456789, `35.1235`},
		{0, `0`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.n)
		if err != nil || string(b) != tt.want {
			t.Errorf("json.Marshal(%v) = %s, %v; want %s", float64(tt.n), b, err, tt.want)
		}
	}
}
