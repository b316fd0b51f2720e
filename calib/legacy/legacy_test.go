package legacy_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/calib/legacy"
)

func hist(x ...[]float32) *histogram.Histogram {
	h := histogram.New(histogram.DefaultBins)
	for _, b := range x {
		h.Add(b)
	}
	return h
}

// uniform returns n values evenly spread over (0, m].
func uniform(n int, m float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(float64(i+1) / float64(n) * m)
	}
	return x
}

func TestOptionValidation(t *testing.T) {
	h := hist([]float32{1, 2})
	for _, tc := range []struct {
		opts legacy.Options
		msg  string
	}{
		{legacy.Options{Quantile: -0.1, RegressionCutoff: 1}, "legacy: quantile must be in [0,1], got -0.1"},
		{legacy.Options{Quantile: 1.5, RegressionCutoff: 1}, "legacy: quantile must be in [0,1], got 1.5"},
		{legacy.Options{Quantile: math.NaN(), RegressionCutoff: 1}, "legacy: quantile must be in [0,1], got NaN"},
		{legacy.Options{Quantile: 0.5, RegressionCutoff: -1}, "legacy: regression_cutoff must be in [0,1], got -1"},
		{legacy.Options{Quantile: 0.5, RegressionCutoff: 1.0001}, "legacy: regression_cutoff must be in [0,1], got 1.0001"},
		{legacy.Options{Quantile: 0.5, RegressionCutoff: math.Inf(1)}, "legacy: regression_cutoff must be in [0,1], got +Inf"},
		{legacy.Options{Quantile: 0, RegressionCutoff: 0}, ""},
		{legacy.Options{Quantile: 1, RegressionCutoff: 1}, ""},
	} {
		_, _, err := legacy.Amax(h, tc.opts)
		if (tc.msg == "" && err != nil) || (tc.msg != "" && (err == nil || err.Error() != tc.msg)) {
			t.Errorf("%+v: error %v, want %q", tc.opts, err, tc.msg)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *histogram.Histogram
		is   error
	}{
		{"empty", hist(), legacy.ErrEmpty},
		{"NaN only", hist([]float32{float32(math.NaN())}), legacy.ErrEmpty},
		{"Inf", hist([]float32{1, float32(math.Inf(-1))}), histogram.ErrInf},
	} {
		if _, _, err := legacy.Amax(tc.h, legacy.BERTDemo); !errors.Is(err, tc.is) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.is)
		}
	}
}

// With regression_cutoff = 1 the result is the quantile of |x|: exact at
// q = 1 (MinMax), within a bin width otherwise.
func TestQuantileMethod(t *testing.T) {
	x := uniform(100000, 4) // range 4, bin width 4/2048
	neg := make([]float32, len(x))
	for i, v := range x {
		neg[i] = -v
	}
	w := 4.0 / 2048
	for _, tc := range []struct {
		q    float64
		want float64
	}{
		{1, 4}, {0.9999, 0.9999 * 4}, {0.999, 0.999 * 4}, {0.5, 2}, {0.25, 1}, {0, 0},
	} {
		for name, h := range map[string]*histogram.Histogram{"positive": hist(x), "negative": hist(neg), "signed": func() *histogram.Histogram {
			s := histogram.NewSigned(0)
			s.Add(neg)
			return s
		}()} {
			a, d, err := legacy.Amax(h, legacy.Options{Quantile: tc.q, RegressionCutoff: 1})
			if err != nil {
				t.Fatal(err)
			}
			if d.Method != legacy.Quantile || d.Fallback != "" || math.Abs(float64(a)-tc.want) > w {
				t.Errorf("%s q=%v: amax %v (%s), want %v ± %v", name, tc.q, a, d.Method, tc.want, w)
			}
			if tc.q == 1 && a != h.MaxAbs() {
				t.Errorf("%s q=1: amax %v, want max|x| %v exactly", name, a, h.MaxAbs())
			}
		}
	}
}

// The quantile counts exact zeros (dead ReLU outputs are part of |x|).
func TestQuantileCountsZeros(t *testing.T) {
	zeros := make([]float32, 100000)
	a, _, err := legacy.Amax(hist(zeros, uniform(100000, 1)), legacy.Options{Quantile: 0.75, RegressionCutoff: 1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(a)-0.5) > 1.0/2048 {
		t.Errorf("amax %v, want 0.5: the 75%% quantile of half zeros, half uniform(0,1]", a)
	}
}

func TestMonotoneInQuantile(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 50000)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	h := hist(x)
	prev := float32(-1)
	for q := 0.0; q <= 1; q += 0.01 {
		a, _, err := legacy.Amax(h, legacy.Options{Quantile: min(q, 1), RegressionCutoff: 1})
		if err != nil {
			t.Fatal(err)
		}
		if a < prev {
			t.Fatalf("q=%v: amax %v below %v at the previous quantile", q, a, prev)
		}
		prev = a
	}
}

// The regression method looks past isolated outliers above the cutoff: an
// exponential bulk (ln S linear, so the fit is exact in expectation) plus a
// few values at 1000 gets the bulk's expected maximum ln N ≈ 13.8, where
// MinMax would give 1000 and the median 0.69.
func TestRegressionClipsOutliers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 1000000)
	for i := range x {
		x[i] = float32(r.ExpFloat64())
	}
	h := hist(x, []float32{1000, -1000, 999})
	a, d, err := legacy.Amax(h, legacy.Polygraphy)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v -> %v", d, a)
	if d.Method != legacy.Regression || a < 12 || a > 16 || math.Abs(d.Slope+1) > 0.1 {
		t.Errorf("amax %v by %s (slope %v), want ≈ ln(1e6) = 13.8 by regression with slope ≈ -1", a, d.Method, d.Slope)
	}
	// BERT demo's 99.99% percentile-max on the same tensor: ln(1e4) ≈ 9.2.
	b, bd, err := legacy.Amax(h, legacy.BERTDemo)
	if err != nil {
		t.Fatal(err)
	}
	if bd.Method != legacy.Quantile || math.Abs(float64(b)-math.Log(1e4)) > 0.3 {
		t.Errorf("BERT demo: amax %v by %s, want ≈ 9.2 by quantile", b, bd.Method)
	}
}

// The regression result stays in [quantile, max|x|]: a light (Gaussian)
// tail extrapolates beyond the max and is clamped to it.
func TestRegressionClamped(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, 200000)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	h := hist(x)
	a, d, err := legacy.Amax(h, legacy.Polygraphy)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v -> %v", d, a)
	if d.Method != legacy.Regression || a != h.MaxAbs() || d.Extrapolated <= float64(h.MaxAbs()) {
		t.Errorf("amax %v by %s (extrapolated %v), want max|x| %v", a, d.Method, d.Extrapolated, h.MaxAbs())
	}
}

func TestFallbacks(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *histogram.Histogram
		opts legacy.Options
		want float32
		why  string
	}{
		{"cutoff 0: no window", hist(uniform(1000, 1)), legacy.Options{Quantile: 0.5, RegressionCutoff: 0}, 0.5, "edges with a tail"},
		{"cutoff below the quantile", hist(uniform(1000, 1)), legacy.Options{Quantile: 0.9, RegressionCutoff: 0.5}, 0.9, "edges with a tail"},
		{"spike: no tail to fit", hist(make([]float32, 10), []float32{0.75, 0.75, 0.75}), legacy.Options{Quantile: 0.5, RegressionCutoff: 0.9}, 0, "edges with a tail"},
		{"all zero", hist(make([]float32, 10)), legacy.Polygraphy, 0, "all values are zero"},
	} {
		a, d, err := legacy.Amax(tc.h, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if d.Method != legacy.Quantile || !strings.Contains(d.Fallback, tc.why) || math.Abs(float64(a-tc.want)) > 1.0/1024 {
			t.Errorf("%s: amax %v by %s (%q), want %v by quantile (%q)", tc.name, a, d.Method, d.Fallback, tc.want, tc.why)
		}
	}
}

func BenchmarkAmax(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, 1<<20)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	h := hist(x)
	for b.Loop() {
		if _, _, err := legacy.Amax(h, legacy.Polygraphy); err != nil {
			b.Fatal(err)
		}
	}
}
