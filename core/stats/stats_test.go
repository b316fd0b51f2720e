package stats

import (
	"testing"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
)

func TestHistogramConfig(t *testing.T) {
	tests := []struct {
		need calib.Info
		want histogram.Config
	}{
		{calib.Info{Statistics: calib.AbsHistogram, Bins: 2048}, histogram.Config{Bins: 2048}},
		{calib.Info{Statistics: calib.AbsHistogram}, histogram.Config{}}, // histogram's own default
		{calib.Info{Statistics: calib.SignedHistogram, Bins: 4096}, histogram.Config{Bins: 4096, Signed: true}},
		{calib.Info{Statistics: calib.SignedHistogram}, histogram.Config{Bins: 2 * histogram.DefaultBins, Signed: true}},
	}
	for _, tc := range tests {
		if got := HistogramConfig(tc.need); got != tc.want {
			t.Errorf("HistogramConfig(%v, %d bins) = %+v, want %+v", tc.need.Statistics, tc.need.Bins, got, tc.want)
		}
	}
}
