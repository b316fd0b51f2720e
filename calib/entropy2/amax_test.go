package entropy2_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/calib/entropy2"
	"github.com/int8cal/int8cal/calib/histogram"
)

func fill(v float32, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = v
	}
	return x
}

func fixed(t *testing.T, r float32, x ...[]float32) *histogram.Histogram {
	t.Helper()
	h, err := histogram.NewFixed(histogram.DefaultBins, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range x {
		h.Add(b)
	}
	return h
}

func streaming(x ...[]float32) *histogram.Histogram {
	h := histogram.New(histogram.DefaultBins)
	for _, b := range x {
		h.Add(b)
	}
	return h
}

// The degenerate cases of the package doc.
func TestDegenerate(t *testing.T) {
	w := 1.0 / 2048
	for _, tc := range []struct {
		name       string
		h          *histogram.Histogram
		opts       entropy2.Options
		amax       float64 // exact expected threshold, before rounding to float32
		best       int     // expected cut (0: no search)
		degenerate string
	}{
		{name: "all zero", h: streaming(fill(0, 1000), fill(float32(math.Copysign(0, -1)), 10)),
			amax: 0, degenerate: "all values are zero"},
		{name: "only bin 0 (fixed range far above the data)", h: fixed(t, 1024, fill(0.25, 100), fill(0, 50)),
			amax: 0.25, degenerate: "no counts outside bin 0"},
		{name: "only bin 0, KeepZeroBin searches: D=0 from the first candidate", h: fixed(t, 1024, fill(0.25, 100)),
			opts: entropy2.Options{KeepZeroBin: true}, amax: 128.5 * 0.5, best: 128},
		{name: "max in the first 128 bins: the first candidate keeps everything", h: fixed(t, 1024, fill(3, 10), fill(40, 5), fill(50.2, 1)),
			amax: 128.5 * 0.5, best: 128},
		{name: "spike, streaming: range 1, bin 1536", h: streaming(fill(0.75, 1000)),
			amax: 1537.5 * w, best: 1537},
		{name: "spike and zeros (dead ReLU): zeros dropped by the zero-bin rule", h: streaming(fill(0.75, 1000), fill(0, 5000)),
			amax: 1537.5 * w, best: 1537},
		{name: "spike, fixed range at the max: top bin", h: fixed(t, 0.75, fill(0.75, 1000)),
			amax: 2048.5 * 0.75 / 2048, best: 2048},
		{name: "spike with LastMinimum: every cut from the spike on ties at D=0", h: streaming(fill(0.75, 1000)),
			opts: entropy2.Options{LastMinimum: true}, amax: 2048.5 * w, best: 2048},
		{name: "fewer bins than Start: the only candidate keeps all bins", h: func() *histogram.Histogram {
			h := histogram.New(64)
			h.Add([]float32{0.1, 0.2, 0.9})
			return h
		}(), amax: 64.5 / 64, best: 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, d, err := entropy2.Amax(tc.h, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if a != float32(tc.amax) || d.Degenerate != tc.degenerate || d.Best != tc.best {
				t.Errorf("amax %v, best %d, degenerate %q; want %v, %d, %q", a, d.Best, d.Degenerate, float32(tc.amax), tc.best, tc.degenerate)
			}
			if tc.degenerate != "" {
				if d.Divergence != nil {
					t.Errorf("divergence curve %d long for a degenerate histogram", len(d.Divergence))
				}
				return
			}
			if a < tc.h.MaxAbs() { // every case here keeps all values
				t.Errorf("amax %v below max|x| %v", a, tc.h.MaxAbs())
			}
			if got := d.Divergence[d.Best-d.Start]; got != 0 {
				t.Errorf("D at the chosen cut = %v, want 0", got)
			}
		})
	}
}

// The single spike's curve: +Inf while the spike is folded into an empty
// last bin, exactly 0 from the cut that keeps it.
func TestSpikeCurve(t *testing.T) {
	_, d, err := entropy2.Amax(streaming(fill(0.75, 1000)), entropy2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range d.Divergence {
		i := d.Start + k
		if (i <= 1536 && !math.IsInf(v, 1)) || (i > 1536 && v != 0) {
			t.Fatalf("D(i=%d) = %v", i, v)
		}
	}
	if d.Start != 128 || len(d.Divergence) != 2048-128+1 {
		t.Errorf("candidates %d..%d", d.Start, d.Start+len(d.Divergence)-1)
	}
}

func TestErrors(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		h    *histogram.Histogram
		opts entropy2.Options
		is   error
		msg  string
	}{
		{name: "empty", h: streaming(), is: entropy2.ErrEmpty},
		{name: "only NaN", h: streaming([]float32{nan, nan}), is: entropy2.ErrEmpty},
		{name: "Inf", h: streaming([]float32{1, inf, 2}), is: histogram.ErrInf},
		{name: "start", h: streaming([]float32{1}), opts: entropy2.Options{Start: -1}, msg: "start -1: must be at least 1"},
		{name: "levels", h: streaming([]float32{1}), opts: entropy2.Options{Levels: -5}, msg: "levels -5: must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := entropy2.Amax(tc.h, tc.opts)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want %v %q", err, tc.is, tc.msg)
			}
		})
	}
}

// NaNs do not change the result; a signed histogram gives the result of
// the |x| histogram it folds to; batching does not matter.
func TestInvariances(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 100000)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	ref, rd, err := entropy2.Amax(streaming(x), entropy2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("normal(0,1), 1e5 values: max|x| %v, i=%d, amax %v", streaming(x).MaxAbs(), rd.Best, ref)

	withNaN := streaming(x, []float32{float32(math.NaN())})
	s := histogram.NewSigned(2 * histogram.DefaultBins)
	s.Add(x)
	perValue := histogram.New(histogram.DefaultBins)
	for i := len(x) - 1; i >= 0; i-- {
		perValue.Add(x[i : i+1])
	}
	for name, h := range map[string]*histogram.Histogram{"NaN": withNaN, "signed": s, "one value per Add, reversed": perValue} {
		a, d, err := entropy2.Amax(h, entropy2.Options{})
		if err != nil || a != ref || d.Best != rd.Best {
			t.Errorf("%s: amax %v (i=%d, err %v), want %v (i=%d)", name, a, d.Best, err, ref, rd.Best)
		}
	}
}

func BenchmarkAmax(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		name string
		gen  func() float32
	}{
		{"normal", func() float32 { return float32(r.NormFloat64()) }},
		{"relu", func() float32 { return float32(max(0, r.NormFloat64())) }},
		{"pixels", func() float32 { return float32(r.IntN(256)) / 255 }},
	} {
		x := make([]float32, 1<<20)
		for i := range x {
			x[i] = tc.gen()
		}
		h := streaming(x)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := entropy2.Amax(h, entropy2.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
