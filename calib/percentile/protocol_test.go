package percentile_test

import (
	"math/rand/v2"
	"testing"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/calib/percentile"
)

// A plugin receives calib.TensorStats (plain counts, range, min, max):
// AmaxFromBins on those gives Amax's result, and the calibrator the same.
func TestAmaxFromProtocolStats(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	x := make([]float32, 200000)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 0.3)
	}
	for _, h := range []*histogram.Histogram{histogram.New(0), histogram.NewSigned(0)} {
		h.Add(x)
		want, err := percentile.Amax(h, percentile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s := calib.TensorStats{Name: "x", Count: h.Count(), Min: h.Min(), Max: h.Max(),
			Histogram: &calib.Histogram{Range: h.Range(), Signed: h.Signed(), Counts: h.Bins()}}
		counts := s.Histogram.Counts
		if s.Histogram.Signed {
			counts = histogram.FoldSigned(counts)
		}
		got, err := percentile.AmaxFromBins(counts, s.Histogram.BinWidth(), s.MaxAbs(), percentile.Options{})
		if err != nil || got != want {
			t.Errorf("signed %v: AmaxFromBins %v (%v), Amax %v", h.Signed(), got, err, want)
		}
		if s.Histogram.Signed {
			continue
		}
		ranges, err := percentile.NewCalibrator().Calibrate(t.Context(), []calib.TensorStats{s})
		if err != nil || ranges[0].Amax != want {
			t.Errorf("Calibrate %v (%v), Amax %v", ranges, err, want)
		}
	}
}
