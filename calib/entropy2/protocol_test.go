package entropy2_test

import (
	"math/rand/v2"
	"testing"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/entropy2"
	"github.com/int8cal/int8cal/calib/histogram"
)

// A plugin receives calib.TensorStats (plain counts, range, min, max), not
// a histogram.Histogram: AmaxFromBins on those gives Amax's result.
func TestAmaxFromProtocolStats(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	x := make([]float32, 200000)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 0.3)
	}
	for _, h := range []*histogram.Histogram{histogram.New(0), histogram.NewSigned(0)} {
		h.Add(x)
		want, wd, err := entropy2.Amax(h, entropy2.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// What the host sends (core/calibrate's collector).
		s := calib.TensorStats{Count: h.Count(), Min: h.Min(), Max: h.Max(),
			Histogram: &calib.Histogram{Range: h.Range(), Signed: h.Signed(), Counts: h.Bins()}}
		counts := s.Histogram.Counts
		if s.Histogram.Signed {
			counts = histogram.FoldSigned(counts)
		}
		before := append([]uint64(nil), counts...)
		got, gd, err := entropy2.AmaxFromBins(counts, s.Histogram.BinWidth(), s.MaxAbs(), entropy2.Options{})
		if err != nil || got != want || gd.Best != wd.Best {
			t.Errorf("signed %v: AmaxFromBins %v (i=%d, %v), Amax %v (i=%d)", h.Signed(), got, gd.Best, err, want, wd.Best)
		}
		for j := range counts {
			if counts[j] != before[j] {
				t.Fatal("AmaxFromBins modified its bins")
			}
		}
	}
}

func TestAmaxFromBinsErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bins   []uint64
		width  float64
		maxAbs float32
	}{
		{"no counts", make([]uint64, 8), 1, 1},
		{"no bins", nil, 1, 1},
		{"zero width", []uint64{1, 2}, 0, 1},
		{"negative max", []uint64{1, 2}, 1, -1},
	} {
		if _, _, err := entropy2.AmaxFromBins(tc.bins, tc.width, tc.maxAbs, entropy2.Options{}); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
