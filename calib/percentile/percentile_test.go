package percentile_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/calib/percentile"
)

// Hand-computed cases on bins [0, 2, 0, 6, 2] of width 1 (N = 10, max|x|
// 4.7): the cumulative counts at the bin edges 1..5 are 0, 2, 2, 8, 10.
func TestHandComputed(t *testing.T) {
	bins := []uint64{0, 2, 0, 6, 2}
	for _, tc := range []struct {
		p, want float64
		why     string
	}{
		{50, 3.5, "t = 5 falls in bin 3 (counts 2..8): 3 + (5-2)/6"},
		{20, 2, "t = 2 is reached at the top of bin 1; bin 2 is empty and never holds a quantile"},
		{90, 4.5, "t = 9 in bin 4 (counts 8..10): 4 + (9-8)/2"},
		{99, 4.7, "t = 9.9 gives 4.95, above max|x|: clamped to 4.7"},
		{100, 4.7, "p = 100 is max|x| exactly"},
		{0.01, 1.0005, "t = 0.001 in bin 1: 1 + 0.001/2"},
		{percentile.DefaultPercentile, 4.7, "t = 9.999 gives 4.9995, clamped"},
	} {
		got, err := percentile.AmaxFromBins(bins, 1, 4.7, percentile.Options{Percentile: tc.p})
		if err != nil || math.Abs(float64(got)-tc.want) > 1e-6 {
			t.Errorf("p=%v: amax %v (%v), want %v: %s", tc.p, got, err, tc.want, tc.why)
		}
	}
	// The zero value is the default, 99.99.
	if got, _ := percentile.AmaxFromBins(bins, 1, 4.7, percentile.Options{}); got != 4.7 {
		t.Errorf("default options: %v", got)
	}
}

// The published rule answers the crossing bin's lower edge; ours lies in
// [that edge, that edge + w] on the same grid.
func TestWithinOneBinOfPublishedRule(t *testing.T) {
	bins := []uint64{5, 40, 30, 15, 6, 3, 1, 0, 0, 1}
	total := 101.0
	for _, p := range []float64{10, 50, 90, 95, 99, 99.9} {
		// ONNX Runtime / pytorch-quantization: idx = searchsorted(cdf, p/100).
		cum, idx := 0.0, 0
		for idx = range bins {
			cum += float64(bins[idx]) / total
			if cum >= p/100 {
				break
			}
		}
		lower := float64(idx) * 0.5
		got, err := percentile.AmaxFromBins(bins, 0.5, 4.9, percentile.Options{Percentile: p})
		if err != nil || float64(got) < lower || float64(got) > lower+0.5 {
			t.Errorf("p=%v: amax %v (%v), published rule %v", p, got, err, lower)
		}
	}
}

func TestOptionValidation(t *testing.T) {
	for _, p := range []float64{-1, 100.5, math.NaN(), math.Inf(1)} {
		_, err := percentile.AmaxFromBins([]uint64{1}, 1, 1, percentile.Options{Percentile: p})
		if err == nil || !strings.Contains(err.Error(), "percentile must be in (0,100]") {
			t.Errorf("p=%v: %v", p, err)
		}
	}
	c := percentile.NewCalibrator()
	for _, v := range []string{"0", "-3", "100.01", "abc", "NaN"} {
		err := c.Configure(map[string]string{"percentile": v})
		if err == nil || !strings.Contains(err.Error(), "percentile: option percentile="+v+": want a number in (0,100]") {
			t.Errorf("percentile=%s: %v", v, err)
		}
	}
	if err := c.Configure(map[string]string{"quantile": "0.5"}); err == nil || !strings.Contains(err.Error(), `unknown option "quantile" (options: percentile)`) {
		t.Errorf("unknown option: %v", err)
	}
}

func TestDegenerate(t *testing.T) {
	if _, err := percentile.AmaxFromBins(make([]uint64, 4), 1, 1, percentile.Options{}); !errors.Is(err, histogram.ErrEmpty) {
		t.Errorf("no counts: %v", err)
	}
	if got, err := percentile.AmaxFromBins([]uint64{7, 0}, 0, 0, percentile.Options{}); got != 0 || err != nil {
		t.Errorf("all zero: %v, %v", got, err)
	}
	for _, tc := range []struct {
		width  float64
		maxAbs float32
	}{{0, 1}, {math.Inf(1), 1}, {1, float32(math.Inf(1))}, {1, -1}} {
		if _, err := percentile.AmaxFromBins([]uint64{1, 2}, tc.width, tc.maxAbs, percentile.Options{}); err == nil {
			t.Errorf("width %v, max %v: no error", tc.width, tc.maxAbs)
		}
	}
	h := histogram.New(0)
	h.Add([]float32{1, float32(math.Inf(-1))})
	if _, err := percentile.Amax(h, percentile.Options{}); !errors.Is(err, histogram.ErrInf) {
		t.Errorf("infinite values: %v", err)
	}
	// A quantile inside bin 0 is positive, below the bin width.
	if got, _ := percentile.AmaxFromBins([]uint64{99999, 1}, 1, 1.5, percentile.Options{Percentile: 50}); !(got > 0 && got < 1) {
		t.Errorf("median in bin 0: %v", got)
	}
}

func BenchmarkAmax(b *testing.B) {
	h := histogram.New(0)
	x := make([]float32, 1<<18)
	for i := range x {
		x[i] = float32(math.Sin(float64(i))) * float32(i%97)
	}
	h.Add(x)
	bins, w, m, _ := h.Magnitudes()
	for b.Loop() {
		percentile.AmaxFromBins(bins, w, m, percentile.Options{})
	}
}
