package session

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ChannelStats are one input channel's values over the samples read.
type ChannelStats struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// InputStats are a data set's input values over its first samples, per
// channel: what a model expecting normalized input can be checked
// against before its scores are trusted.
type InputStats struct {
	Samples  int            `json:"samples"`
	Channels []ChannelStats `json:"channels"`
}

// MaxAbs is the largest |x| over every channel.
func (s *InputStats) MaxAbs() float64 {
	m := 0.0
	for _, c := range s.Channels {
		m = max(m, math.Abs(c.Min), math.Abs(c.Max))
	}
	return m
}

// NonNegative says that no value is below zero (pixels, before
// normalization).
func (s *InputStats) NonNegative() bool {
	for _, c := range s.Channels {
		if c.Min < 0 {
			return false
		}
	}
	return true
}

// String lists each channel's mean, std, min and max to 4 significant
// digits: "c0 mean=0.1307 std=0.3081 min=0 max=1; ...".
func (s *InputStats) String() string {
	parts := make([]string, len(s.Channels))
	for i, c := range s.Channels {
		parts[i] = fmt.Sprintf("c%d mean=%.4g std=%.4g min=%.4g max=%.4g", i, c.Mean, c.Std, c.Min, c.Max)
	}
	return strings.Join(parts, "; ")
}

// ReadInputStats reads n samples of src from first (through ReadFinite,
// so the values are finite) and returns their per-channel statistics.
// The channels are a sample's first dimension when it has three or more
// (C,H,W as the models int8cal runs take images); a sample of lower rank
// is one channel. Sums are in float64.
func ReadInputStats(src Source, first, n int) (*InputStats, error) {
	shape := src.SampleShape()
	size := 1
	for _, d := range shape {
		size *= d
	}
	channels := 1
	if len(shape) >= 3 {
		channels = shape[0]
	}
	if n <= 0 || size == 0 || channels == 0 {
		return nil, fmt.Errorf("no input values to describe (%d samples of shape %v)", n, shape)
	}
	values := make([]float32, n*size)
	if err := ReadFinite(src, first, n, values, make([]int, n)); err != nil {
		return nil, err
	}
	return channelStats(values, n, channels, size/channels), nil
}

// round6 rounds x to 6 significant digits.
func round6(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 6, 64), 64)
	return v
}

// channelStats are the statistics of values, n samples of channels
// planes of plane values each.
func channelStats(values []float32, n, channels, plane int) *InputStats {
	s := &InputStats{Samples: n, Channels: make([]ChannelStats, channels)}
	for c := range s.Channels {
		var sum, sq float64
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := 0; i < n; i++ {
			for _, v := range values[(i*channels+c)*plane : (i*channels+c+1)*plane] {
				x := float64(v)
				sum += x
				sq += x * x
				lo, hi = min(lo, x), max(hi, x)
			}
		}
		count := float64(n * plane)
		mean := sum / count
		// Mean and std to 6 significant digits, what float32 samples
		// carry: logs and JSON show 0.118358, not float64 residue.
		s.Channels[c] = ChannelStats{Mean: round6(mean), Std: round6(math.Sqrt(max(0, sq/count-mean*mean))), Min: lo, Max: hi}
	}
	return s
}
