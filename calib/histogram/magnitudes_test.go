package histogram

import (
	"errors"
	"math"
	"testing"
)

func TestCheckMagnitudes(t *testing.T) {
	if total, err := CheckMagnitudes([]uint64{1, 2, 3}, 0.5, 1.2); total != 6 || err != nil {
		t.Errorf("valid: %d, %v", total, err)
	}
	if total, err := CheckMagnitudes([]uint64{4}, 0, 0); total != 4 || err != nil {
		t.Errorf("all zero, no width: %d, %v", total, err)
	}
	if _, err := CheckMagnitudes(make([]uint64, 3), 1, 1); !errors.Is(err, ErrEmpty) {
		t.Errorf("no counts: %v", err)
	}
	if _, err := CheckMagnitudes(nil, 1, 1); !errors.Is(err, ErrEmpty) {
		t.Errorf("no bins: %v", err)
	}
	for _, tc := range []struct {
		width  float64
		maxAbs float32
		msg    string
	}{
		{1, -1, "max|x| -1: must be finite and non-negative"},
		{1, float32(math.Inf(1)), "max|x| +Inf: must be finite and non-negative"},
		{1, float32(math.NaN()), "max|x| NaN: must be finite and non-negative"},
		{0, 1, "bin width 0: must be finite and positive"},
		{math.Inf(1), 1, "bin width +Inf: must be finite and positive"},
	} {
		if _, err := CheckMagnitudes([]uint64{1}, tc.width, tc.maxAbs); err == nil || err.Error() != tc.msg {
			t.Errorf("width %v, max %v: %v, want %q", tc.width, tc.maxAbs, err, tc.msg)
		}
	}
}

// Quantile on bins [0, 2, 0, 6, 2] of width 1 (cumulative 0, 2, 2, 8, 10
// at the edges 1..5), max|x| 4.7.
func TestQuantile(t *testing.T) {
	bins := []uint64{0, 2, 0, 6, 2}
	for _, tc := range []struct{ q, want float64 }{
		{0, 1},      // the first value's bin, at its lower edge
		{0.2, 2},    // the top of bin 1; empty bin 2 holds no quantile
		{0.5, 3.5},  // 3 + (5-2)/6
		{0.9, 4.5},  // 4 + (9-8)/2
		{0.99, 4.7}, // 4.95 clamped to max|x|
		{1, 4.7},    // max|x| exactly
		{0.0001, 1.0005},
	} {
		if got := Quantile(bins, 1, 4.7, 10, tc.q); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("q=%v: %v, want %v", tc.q, got, tc.want)
		}
	}
}
