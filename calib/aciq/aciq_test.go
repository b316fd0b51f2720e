package aciq_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/calib/aciq"
	"github.com/int8cal/int8cal/calib/histogram"
)

// minimize returns the minimizer of f over [a, b] (unimodal), by golden
// section.
func minimize(f func(float64) float64, a, b float64) float64 {
	g := (math.Sqrt(5) - 1) / 2
	for range 200 {
		c, d := b-g*(b-a), a+g*(b-a)
		if f(c) < f(d) {
			b = d
		} else {
			a = c
		}
	}
	return (a + b) / 2
}

// The published constants for M = 2..8 bits are the minimizers of the
// paper's MSE expressions (b = σ = 1) to two decimals (truncated, except
// 5.03 for 5.0286), and the 8-bit ones are those the package uses.
func TestPublishedConstants(t *testing.T) {
	laplace := []float64{2.83, 3.89, 5.03, 6.2, 7.41, 8.64, 9.89}
	gauss := []float64{1.71, 2.15, 2.55, 2.93, 3.28, 3.61, 3.92}
	for m := 2; m <= 8; m++ {
		noise := 3 * math.Pow(4, float64(m))
		l := minimize(func(a float64) float64 { return 2*math.Exp(-a) + a*a/noise }, 0.1, 30)
		g := minimize(func(a float64) float64 {
			return (a*a+1)*math.Erfc(a/math.Sqrt2) - math.Sqrt(2/math.Pi)*a*math.Exp(-a*a/2) + a*a/noise
		}, 0.1, 10)
		if math.Abs(l-laplace[m-2]) >= 0.01 || math.Abs(g-gauss[m-2]) >= 0.01 {
			t.Errorf("M=%d: minimizers %.5f, %.5f; published %v, %v", m, l, g, laplace[m-2], gauss[m-2])
		}
	}
	if aciq.LaplaceAlpha != laplace[6] || aciq.GaussAlpha != gauss[6] {
		t.Errorf("8-bit constants %v, %v", aciq.LaplaceAlpha, aciq.GaussAlpha)
	}
}

// Hand-computed fits, bin width 0.1: 90 values in bin 0 (center 0.05), 9
// in bin 10 (1.05), one in bin 99 (9.95; max|x| 9.97).
func TestHandComputed(t *testing.T) {
	bins := make([]uint64, 100)
	bins[0], bins[10], bins[99] = 90, 9, 1
	for _, tc := range []struct {
		prior        aciq.Prior
		oneSided     bool
		scale, alpha float64
		amax         float32
	}{
		// b = (90·0.05 + 9·1.05 + 9.95)/100 = 0.239, α = 9.89·b.
		{aciq.Laplace, false, 0.239, 2.36371, 2.36371},
		// One-sided: bin 0 skipped, b = (9·1.05 + 9.95)/10 = 1.94,
		// α = 19.1866 is beyond max|x|: amax 9.97.
		{aciq.Laplace, true, 1.94, 19.1866, 9.97},
		// σ² = (90·0.0025 + 9·1.1025 + 99.0025)/100 = 1.0915.
		{aciq.Gauss, false, math.Sqrt(1.0915), 3.92 * math.Sqrt(1.0915), float32(3.92 * math.Sqrt(1.0915))},
	} {
		amax, d, err := aciq.AmaxFromBins(bins, 0.1, 9.97, tc.oneSided, aciq.Options{Prior: tc.prior})
		if err != nil || math.Abs(d.Scale-tc.scale) > 1e-9 || math.Abs(d.Alpha-tc.alpha) > 1e-9 || math.Abs(float64(amax-tc.amax)) > 1e-6 || d.OneSided != tc.oneSided {
			t.Errorf("%s one-sided %v: amax %v, %+v, %v; want scale %v, alpha %v, amax %v", tc.prior, tc.oneSided, amax, d, err, tc.scale, tc.alpha, tc.amax)
		}
	}
	// A one-sided tensor with nothing beyond bin 0 is fitted on bin 0.
	amax, d, _ := aciq.AmaxFromBins([]uint64{8, 0}, 1, 0.7, true, aciq.Options{})
	if d.OneSided || amax != 0.7 {
		t.Errorf("all in bin 0: amax %v, %+v", amax, d)
	}
}

// Amax tells one-sided tensors from the histogram's min and max.
func TestOneSidedFromHistogram(t *testing.T) {
	x := []float32{0, 0, 0, 0, 0, 0, 1, 2, 3, 100}
	h := histogram.New(0)
	h.Add(x)
	_, d, err := aciq.Amax(h, aciq.Options{})
	if err != nil || !d.OneSided {
		t.Errorf("ReLU-like: %+v, %v", d, err)
	}
	h.Add([]float32{-0.5})
	if _, d, _ = aciq.Amax(h, aciq.Options{}); d.OneSided {
		t.Errorf("with a negative value: %+v", d)
	}
}

func TestOptionsAndDegenerate(t *testing.T) {
	if _, _, err := aciq.AmaxFromBins([]uint64{1}, 1, 1, false, aciq.Options{Prior: "cauchy"}); err == nil || !strings.Contains(err.Error(), `aciq: option prior must be laplace or gauss, got "cauchy"`) {
		t.Errorf("prior cauchy: %v", err)
	}
	c := aciq.NewCalibrator()
	if err := c.Configure(map[string]string{"prior": "Laplace"}); err == nil || !strings.Contains(err.Error(), "aciq: option prior=Laplace: want laplace or gauss") {
		t.Errorf("prior=Laplace: %v", err)
	}
	if _, _, err := aciq.AmaxFromBins(make([]uint64, 3), 1, 1, false, aciq.Options{}); !errors.Is(err, histogram.ErrEmpty) {
		t.Errorf("no counts: %v", err)
	}
	if amax, _, err := aciq.AmaxFromBins([]uint64{4}, 0, 0, true, aciq.Options{}); amax != 0 || err != nil {
		t.Errorf("all zero: %v, %v", amax, err)
	}
	if _, _, err := aciq.AmaxFromBins([]uint64{1, 1}, 1, float32(math.NaN()), false, aciq.Options{}); err == nil {
		t.Error("NaN max: no error")
	}
	h := histogram.New(0)
	h.Add([]float32{1, float32(math.Inf(-1))})
	if _, _, err := aciq.Amax(h, aciq.Options{}); !errors.Is(err, histogram.ErrInf) {
		t.Errorf("infinite values: %v", err)
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
		aciq.AmaxFromBins(bins, w, m, false, aciq.Options{})
	}
}
