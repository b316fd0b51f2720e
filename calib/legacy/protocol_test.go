package legacy_test

import (
	"math/rand/v2"
	"testing"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/calib/legacy"
)

// AmaxFromBins on the calibrator protocol's statistics gives Amax's result.
func TestAmaxFromProtocolStats(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	x := make([]float32, 100000)
	for i := range x {
		x[i] = float32(r.ExpFloat64()) * float32(1-2*r.IntN(2))
	}
	for _, opts := range []legacy.Options{legacy.Polygraphy, legacy.BERTDemo} {
		for _, h := range []*histogram.Histogram{histogram.New(0), histogram.NewSigned(0)} {
			h.Add(x)
			want, _, err := legacy.Amax(h, opts)
			if err != nil {
				t.Fatal(err)
			}
			s := calib.TensorStats{Count: h.Count(), Min: h.Min(), Max: h.Max(),
				Histogram: &calib.Histogram{Range: h.Range(), Signed: h.Signed(), Counts: h.Bins()}}
			counts := s.Histogram.Counts
			if s.Histogram.Signed {
				counts = histogram.FoldSigned(counts)
			}
			got, _, err := legacy.AmaxFromBins(counts, s.Histogram.BinWidth(), s.MaxAbs(), opts)
			if err != nil || got != want {
				t.Errorf("%+v signed %v: AmaxFromBins %v (%v), Amax %v", opts, h.Signed(), got, err, want)
			}
		}
	}
	if _, _, err := legacy.AmaxFromBins(make([]uint64, 4), 1, 1, legacy.Polygraphy); err == nil {
		t.Error("no counts: no error")
	}
}
