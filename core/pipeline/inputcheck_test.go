package pipeline

import (
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/session"
)

func TestInputRangeMismatch(t *testing.T) {
	stats := func(lo, hi float64) *session.InputStats {
		return &session.InputStats{Samples: 1, Channels: []session.ChannelStats{{Min: lo, Max: hi}, {Min: lo / 2, Max: hi / 2}}}
	}
	for _, tc := range []struct {
		name  string
		stats *session.InputStats
		amax  float64
		want  string // "" for no warning
	}{
		{"MNIST as calibrated", stats(0, 1), 1, ""},
		{"normalized as calibrated", stats(-2.1, 2.6), 2.5, ""},
		{"clipped by the calibrator, within 4×", stats(-2.6, 2.6), 0.7, ""},
		{"raw pixels on a normalized model", stats(0, 255), 2.5, "look like raw pixels (values in [0,255])"},
		{"raw pixels on a [0,1] model", stats(0, 250), 1, "look like raw pixels"},
		{"normalized data on a raw-pixel calibration", stats(-2, 2.5), 255, "look normalized (max|x| 2.5)"},
		{"4× beyond the range", stats(-50, 50), 10, "more than 4× the input's calibrated range ±10"},
		{"under a quarter of the range", stats(-1, 1), 8, "under 1/4 of the input's calibrated range ±8"},
		{"negative values are no pixels", stats(-255, 255), 2, "more than 4×"},
	} {
		got := inputRangeMismatch(tc.stats, tc.amax)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
