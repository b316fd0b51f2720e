package entropy_test

import (
	"math/rand/v2"
	"testing"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/entropy"
	"github.com/int8cal/int8cal/calib/histogram"
)

// A plugin receives calib.TensorStats (plain counts, range, min, max):
// AmaxFromBins on those gives Amax's result, and the calibrator the same
// with the divergence curve and the chosen index as diagnostics.
func TestAmaxFromProtocolStats(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	x := make([]float32, 200000)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 0.3)
	}
	for _, h := range []*histogram.Histogram{histogram.New(0), histogram.NewSigned(0)} {
		h.Add(x)
		want, wd, err := entropy.Amax(h, entropy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s := calib.TensorStats{Name: "x", Count: h.Count(), Min: h.Min(), Max: h.Max(),
			Histogram: &calib.Histogram{Range: h.Range(), Signed: h.Signed(), Counts: h.Bins()}}
		counts := s.Histogram.Counts
		if s.Histogram.Signed {
			counts = histogram.FoldSigned(counts)
		}
		before := append([]uint64(nil), counts...)
		got, gd, err := entropy.AmaxFromBins(counts, s.Histogram.BinWidth(), s.MaxAbs(), entropy.Options{})
		if err != nil || got != want || gd.Best != wd.Best {
			t.Errorf("signed %v: AmaxFromBins %v (%v), Amax %v", h.Signed(), got, err, want)
		}
		for j := range counts {
			if counts[j] != before[j] {
				t.Fatal("AmaxFromBins modified its bins")
			}
		}
		if s.Histogram.Signed {
			continue
		}
		ranges, err := entropy.NewCalibrator().Calibrate(t.Context(), []calib.TensorStats{s})
		if err != nil || ranges[0].Amax != want || ranges[0].Chosen != wd.Best-wd.Start || ranges[0].Curve[ranges[0].Chosen] != wd.Divergence[wd.Best-wd.Start] {
			t.Errorf("Calibrate: amax %v, chosen %d (%v); Amax %v, cut %d", ranges[0].Amax, ranges[0].Chosen, err, want, wd.Best)
		}
	}
}
