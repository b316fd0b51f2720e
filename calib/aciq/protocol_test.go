package aciq_test

import (
	"math/rand/v2"
	"testing"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/aciq"
	"github.com/int8cal/int8cal/calib/histogram"
)

// A plugin receives calib.TensorStats (plain counts, range, min, max):
// AmaxFromBins on those gives Amax's result, and the calibrator the same,
// for a two-sided and a one-sided tensor.
func TestAmaxFromProtocolStats(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 14))
	for _, relu := range []bool{false, true} {
		x := make([]float32, 200000)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 0.3)
			if relu {
				x[i] = max(0, x[i])
			}
		}
		for _, h := range []*histogram.Histogram{histogram.New(0), histogram.NewSigned(0)} {
			h.Add(x)
			want, wd, err := aciq.Amax(h, aciq.Options{})
			if err != nil || wd.OneSided != relu {
				t.Fatalf("relu %v: %+v, %v", relu, wd, err)
			}
			s := calib.TensorStats{Name: "x", Count: h.Count(), Min: h.Min(), Max: h.Max(),
				Histogram: &calib.Histogram{Range: h.Range(), Signed: h.Signed(), Counts: h.Bins()}}
			counts := s.Histogram.Counts
			if s.Histogram.Signed {
				counts = histogram.FoldSigned(counts)
			}
			got, _, err := aciq.AmaxFromBins(counts, s.Histogram.BinWidth(), s.MaxAbs(), s.Min >= 0 || s.Max <= 0, aciq.Options{})
			if err != nil || got != want {
				t.Errorf("relu %v, signed %v: AmaxFromBins %v (%v), Amax %v", relu, h.Signed(), got, err, want)
			}
			if s.Histogram.Signed {
				continue
			}
			ranges, err := aciq.NewCalibrator().Calibrate(t.Context(), []calib.TensorStats{s})
			if err != nil || ranges[0].Amax != want {
				t.Errorf("relu %v: Calibrate %v (%v), Amax %v", relu, ranges, err, want)
			}
		}
	}
}
