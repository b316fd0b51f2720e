package entropy_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/calib/entropy"
	"github.com/int8cal/int8cal/calib/entropy2"
	"github.com/int8cal/int8cal/calib/histogram"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 || a == b }

// Hand-computed divergences on tiny histograms (bin width 1, 2 levels,
// first cut 2), P and Q as the talk's pseudocode builds them.
func TestHandComputed(t *testing.T) {
	ln := math.Log
	inf := math.Inf(1)
	for _, tc := range []struct {
		name string
		bins []uint64
		opts entropy.Options
		div  []float64 // i = 2, 3, ..., n
		best int
	}{{
		// i=2: P = [4, 0+2+2], Q = [4, 0]: Q = 0 where P > 0, +Inf.
		// i=3: P = [4, 0, 2+2]/8, bins 0,1 → level 0 (4 over 1 non-empty
		// bin), bin 2 → level 1: Q = [4, 0, 2]/6;
		// D = ½ln(½/⅔) + ½ln(½/⅓) = ½ln(9/8).
		// i=4 (no clipping, only the fallback): Q = P, D = 0, but v1's
		// candidates stop at n-1 = 3.
		"last bin excluded", []uint64{4, 0, 2, 2}, entropy.Options{Start: 2, Levels: 2, KeepZeroBin: true},
		[]float64{inf, ln(9.0/8) / 2, 0}, 3,
	}, {
		// i=2: P = [10, 1+2]/13, Q = [10, 1]/11:
		// D = 10/13·ln(11/13) + 3/13·ln(33/13).
		// i=3: P = [10, 1, 2]/13; level 0 = bins 0,1 (11 over 2), level 1
		// = bin 2: Q = [5.5, 5.5, 1]/12.
		// i=4: bin 3 empty receives the outlier: +Inf.
		// i=5 (fallback only): levels {0,1,2} (12 over 3) and {3,4} (1
		// over 1): Q = [4, 4, 4, 0, 1]/13, D = 10/13·ln(10/4) + 2/13·ln(1/4).
		"zero bin kept", []uint64{10, 1, 1, 0, 1}, entropy.Options{Start: 2, Levels: 2, KeepZeroBin: true},
		[]float64{10.0/13*ln(11.0/13) + 3.0/13*ln(33.0/13),
			10.0/13*ln(10.0/13/(5.5/12)) + 1.0/13*ln(1.0/13/(5.5/12)) + 2.0/13*ln(2.0/13*12), inf, 10.0/13*ln(2.5) + 2.0/13*ln(0.25)}, 2,
	}, {
		// The same with bin 0 replaced by bin 1: bins [1, 1, 1, 0, 1].
		// i=2: P = [1, 3]/4, Q = [1, 1]/2: D = ¼ln(½) + ¾ln(3/2).
		// i=3: P = [1, 1, 2]/4, Q = [1, 1, 1]/3: D = ½ln(¾) + ½ln(3/2).
		// i=5: Q = P, D = 0, not a v1 candidate.
		"zero bin replaced", []uint64{10, 1, 1, 0, 1}, entropy.Options{Start: 2, Levels: 2},
		[]float64{ln(0.5)/4 + 0.75*ln(1.5), ln(0.75)/2 + ln(1.5)/2, inf, 0}, 3,
	}, {
		// Everything in the last bin: no finite cut below n, fallback n.
		"fallback", []uint64{0, 0, 0, 5}, entropy.Options{Start: 2, Levels: 2},
		[]float64{inf, inf, 0}, 4,
	}} {
		amax, d, err := entropy.AmaxFromBins(tc.bins, 1, float32(len(tc.bins)), tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ok := d.Start == 2 && len(d.Divergence) == len(tc.div) && d.Best == tc.best && amax == float32(tc.best)+0.5
		for k := range tc.div {
			ok = ok && k < len(d.Divergence) && near(d.Divergence[k], tc.div[k])
		}
		if !ok {
			t.Errorf("%s: amax %v, %+v; want divergences %v, cut %d", tc.name, amax, d, tc.div, tc.best)
		}
		if (d.Fallback != "") != (tc.name == "fallback") {
			t.Errorf("%s: fallback %q", tc.name, d.Fallback)
		}
	}
	// EntropyCalibration2 on the first histogram takes i = n = 4 (D = 0).
	if amax, d, _ := entropy2.AmaxFromBins([]uint64{4, 0, 2, 2}, 1, 4, entropy2.Options{Start: 2, Levels: 2, KeepZeroBin: true}); d.Best != 4 || amax != 4.5 {
		t.Errorf("entropy2: cut %d, amax %v", d.Best, amax)
	}
}

// A histogram of fewer bins than the first candidate has no cut below n.
func TestFewBins(t *testing.T) {
	amax, d, err := entropy.AmaxFromBins([]uint64{3, 2, 1}, 0.5, 1.4, entropy.Options{})
	if err != nil || amax != 1.75 || d.Best != 3 || !strings.Contains(d.Fallback, "3 bins, no more than the first candidate cut 128") {
		t.Errorf("amax %v, %+v, %v", amax, d, err)
	}
}

func TestOptionsAndDegenerate(t *testing.T) {
	for _, o := range []entropy.Options{{Start: -1}, {Levels: -2}} {
		if _, _, err := entropy.AmaxFromBins([]uint64{1}, 1, 1, o); err == nil || !strings.Contains(err.Error(), "must be at least 1") {
			t.Errorf("%+v: %v", o, err)
		}
	}
	c := entropy.NewCalibrator()
	for opt, want := range map[string]string{
		"start=0": "entropy: option start=0: want a positive integer", "levels=x": "entropy: option levels=x: want a positive integer",
		"keep_zero_bin=maybe": "entropy: option keep_zero_bin=maybe", "bins=4": `entropy: unknown option "bins"`,
	} {
		k, v, _ := strings.Cut(opt, "=")
		if err := c.Configure(map[string]string{k: v}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", opt, err)
		}
	}
	if _, _, err := entropy.AmaxFromBins(make([]uint64, 4), 1, 1, entropy.Options{}); !errors.Is(err, histogram.ErrEmpty) {
		t.Errorf("no counts: %v", err)
	}
	if amax, d, err := entropy.AmaxFromBins([]uint64{5, 0, 0}, 0, 0, entropy.Options{}); amax != 0 || d.Divergence != nil || err != nil {
		t.Errorf("all zero: %v %+v %v", amax, d, err)
	}
	h := histogram.New(0)
	h.Add([]float32{2, float32(math.Inf(1))})
	if _, _, err := entropy.Amax(h, entropy.Options{}); !errors.Is(err, histogram.ErrInf) {
		t.Errorf("infinite values: %v", err)
	}
}

func BenchmarkAmax(b *testing.B) {
	h := histogram.New(0)
	x := make([]float32, 1<<18)
	for i := range x {
		x[i] = float32(math.Sin(float64(i))) * float32(i%97) // a spread-out two-sided tensor
	}
	h.Add(x)
	bins, w, m, _ := h.Magnitudes()
	for b.Loop() {
		entropy.AmaxFromBins(bins, w, m, entropy.Options{})
	}
}
