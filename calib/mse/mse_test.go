package mse_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/calib/mse"
)

// reference is the published definition transcribed directly, one bin at
// a time: MSE(i) = Σ h[j]·(c_j − q(c_j))² / N with c_j = (j+0.5)·w,
// amax = c_i, q(c) = min(127, round(c·127/amax))·amax/127.
func reference(bins []uint64, w float64, lo, hi int) []float64 {
	var total float64
	for _, c := range bins {
		total += float64(c)
	}
	var out []float64
	for i := lo; i <= hi; i++ {
		amax := (float64(i) + 0.5) * w
		var sum float64
		for j, c := range bins {
			x := (float64(j) + 0.5) * w
			q := min(127, math.Round(x*127/amax)) * amax / 127
			sum += float64(c) * (x - q) * (x - q)
		}
		out = append(out, sum/total)
	}
	return out
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(math.Abs(a), math.Abs(b), 1e-300) }

// Hand-computed cases, bin width 1.
func TestHandComputed(t *testing.T) {
	// 10 values in bin 2 (center 2.5), one in bin 7 (center 7.5).
	// i = 2: amax 2.5 = 127 steps of 2.5/127, the bulk is exact and the
	// outlier is clipped by 5: MSE 25/11.
	// i = 7: amax 7.5, 2.5·127/7.5 = 42.33 → 42, q = 42·7.5/127 =
	// 2.48031..., error (2.5−q)² = (0.0196850...)² per value, outlier
	// exact: MSE = 10·0.000387501/11 = 0.000352273.
	bins := []uint64{0, 0, 10, 0, 0, 0, 0, 1}
	amax, d, err := mse.AmaxFromBins(bins, 1, 7.9, mse.Options{Start: 2})
	if err != nil {
		t.Fatal(err)
	}
	e7 := 2.5 - 42*7.5/127
	if d.Start != 2 || len(d.MSE) != 6 || !close(d.MSE[0], 25.0/11) || !close(d.MSE[5], 10*e7*e7/11) || d.Best != 7 || amax != 7.5 {
		t.Errorf("case A: amax %v, %+v", amax, d)
	}

	// 100,000 values at 2.5 and one at 319.5 (n = 320, max|x| 319.9),
	// start 63. 2.5 is exactly on a level when 127·5/(2i+1) is an integer:
	// i = 63 (level 5) and i = 317 (level 1). At i = 317 the outlier is
	// clipped by 2: MSE 4/100001, the smallest: i = 316 clips by 3 (9),
	// i = 318 by 1 but 2.5 → level round(0.99686) = 1, q = 318.5/127,
	// error 100000·(2.5−q)² = 6.2 more; i = 319 keeps the outlier and
	// costs 100000·(2.5−319.5/127)² = 24.8.
	bins = make([]uint64, 320)
	bins[2], bins[319] = 100000, 1
	amax, d, err = mse.AmaxFromBins(bins, 1, 319.9, mse.Options{Start: 63})
	if err != nil {
		t.Fatal(err)
	}
	n := 100001.0
	q318, q319 := 2.5-318.5/127, 2.5-319.5/127
	for _, c := range []struct {
		i    int
		want float64
	}{{63, 256 * 256 / n}, {317, 4 / n}, {318, (1 + 1e5*q318*q318) / n}, {319, 1e5 * q319 * q319 / n}} {
		if got := d.MSE[c.i-63]; !close(got, c.want) {
			t.Errorf("case B, i=%d: MSE %v, want %v", c.i, got, c.want)
		}
	}
	if d.Best != 317 || amax != 317.5 {
		t.Errorf("case B: amax %v, best %d", amax, d.Best)
	}
}

// Every candidate's MSE equals the direct per-bin sum, over histograms of
// several shapes, widths and starts.
func TestAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 20 {
		n := []int{8, 200, 2048}[trial%3]
		bins := make([]uint64, n)
		last := n/2 + r.IntN(n/2)
		for j := 0; j <= last; j++ {
			switch trial % 4 {
			case 0: // dense decaying
				bins[j] = uint64(1e6 * math.Exp(-8*float64(j)/float64(n)))
			case 1: // sparse
				if r.IntN(5) == 0 {
					bins[j] = uint64(r.IntN(1000))
				}
			case 2: // ReLU-like: a spike at zero
				bins[j] = uint64(r.IntN(50))
				bins[0] = 1e7
			default: // huge counts
				bins[j] = uint64(r.IntN(1 << 40))
			}
		}
		bins[last]++
		w := math.Ldexp(1, -r.IntN(20)) * 3
		start := 1 + r.IntN(n)
		_, d, err := mse.AmaxFromBins(bins, w, float32((float64(last)+0.9)*w), mse.Options{Start: start})
		if err != nil {
			t.Fatal(err)
		}
		want := reference(bins, w, d.Start, last)
		if len(d.MSE) != len(want) {
			t.Fatalf("trial %d: %d candidates, want %d", trial, len(d.MSE), len(want))
		}
		for k := range want {
			if !close(d.MSE[k], want[k]) && math.Abs(d.MSE[k]-want[k]) > 1e-9*want[0] {
				t.Errorf("trial %d, i=%d: MSE %v, reference %v", trial, d.Start+k, d.MSE[k], want[k])
				break
			}
		}
	}
}

// Candidates stop at max|x|'s bin; below start, that bin is the only one.
func TestCandidates(t *testing.T) {
	bins := make([]uint64, 2048)
	bins[10], bins[700] = 5, 1
	_, d, _ := mse.AmaxFromBins(bins, 1, 700.2, mse.Options{})
	if d.Start != 128 || len(d.MSE) != 700-128+1 {
		t.Errorf("start %d, %d candidates", d.Start, len(d.MSE))
	}
	amax, d, _ := mse.AmaxFromBins(bins[:100], 1, 10.5, mse.Options{})
	if d.Start != 10 || len(d.MSE) != 1 || d.Best != 10 || amax != 10.5 {
		t.Errorf("all data below start: amax %v, %+v", amax, d)
	}
}

func TestOptionsAndDegenerate(t *testing.T) {
	if _, _, err := mse.AmaxFromBins([]uint64{1}, 1, 1, mse.Options{Start: -1}); err == nil || !strings.Contains(err.Error(), "mse: option start must be at least 1, got -1") {
		t.Errorf("start -1: %v", err)
	}
	c := mse.NewCalibrator()
	for _, v := range []string{"0", "-2", "x", "1.5"} {
		if err := c.Configure(map[string]string{"start": v}); err == nil || !strings.Contains(err.Error(), "mse: option start="+v+": want a positive integer") {
			t.Errorf("start=%s: %v", v, err)
		}
	}
	if _, _, err := mse.AmaxFromBins(make([]uint64, 4), 1, 1, mse.Options{}); !errors.Is(err, histogram.ErrEmpty) {
		t.Errorf("no counts: %v", err)
	}
	if amax, d, err := mse.AmaxFromBins([]uint64{9, 0}, 0, 0, mse.Options{}); amax != 0 || d.MSE != nil || err != nil {
		t.Errorf("all zero: %v %+v %v", amax, d, err)
	}
	if _, _, err := mse.AmaxFromBins([]uint64{1, 1}, math.NaN(), 1, mse.Options{}); err == nil {
		t.Error("NaN width: no error")
	}
	h := histogram.New(0)
	h.Add([]float32{1, float32(math.Inf(1))})
	if _, _, err := mse.Amax(h, mse.Options{}); !errors.Is(err, histogram.ErrInf) {
		t.Errorf("infinite values: %v", err)
	}
}

func BenchmarkAmax(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	h := histogram.New(0)
	x := make([]float32, 1<<18)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	h.Add(x)
	bins, w, m, _ := h.Magnitudes()
	for b.Loop() {
		mse.AmaxFromBins(bins, w, m, mse.Options{})
	}
}
