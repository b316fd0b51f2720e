package session

import (
	"math"
	"testing"
)

// memSource is samples in memory.
type memSource struct {
	shape  []int
	values []float32
}

func (m memSource) Len() int {
	size := 1
	for _, d := range m.shape {
		size *= d
	}
	return len(m.values) / size
}
func (m memSource) SampleShape() []int { return m.shape }
func (m memSource) Read(first, n int, images []float32, labels []int) error {
	size := len(images) / n
	copy(images, m.values[first*size:(first+n)*size])
	return nil
}

func TestReadInputStats(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    memSource
		first  int
		n      int
		want   []ChannelStats
		maxAbs float64
		nonNeg bool
	}{
		// Two samples of 2 channels of 2 values: channel 0 holds 0,2 | 4,6, channel 1 -1,-1 | -1,-1.
		{"channels", memSource{[]int{2, 1, 2}, []float32{0, 2, -1, -1, 4, 6, -1, -1}}, 0, 2,
			[]ChannelStats{{Mean: 3, Std: math.Sqrt(5), Min: 0, Max: 6}, {Mean: -1, Std: 0, Min: -1, Max: -1}}, 6, false},
		{"rank 1 is one channel, from the sample first", memSource{[]int{3}, []float32{9, 9, 9, 0, 127.5, 255}}, 1, 1,
			[]ChannelStats{{Mean: 127.5, Std: math.Sqrt(2 * 127.5 * 127.5 / 3), Min: 0, Max: 255}}, 255, true},
	} {
		s, err := ReadInputStats(tc.src, tc.first, tc.n)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(s.Channels) != len(tc.want) || s.Samples != tc.n {
			t.Fatalf("%s: %+v", tc.name, s)
		}
		for i, c := range s.Channels {
			w := tc.want[i]
			if math.Abs(c.Mean-w.Mean) > 1e-6*math.Abs(w.Mean) || math.Abs(c.Std-w.Std) > 1e-5*w.Std || c.Min != w.Min || c.Max != w.Max {
				t.Errorf("%s: channel %d %+v, want %+v", tc.name, i, c, w)
			}
		}
		if s.MaxAbs() != tc.maxAbs || s.NonNegative() != tc.nonNeg {
			t.Errorf("%s: max|x| %v, non-negative %v", tc.name, s.MaxAbs(), s.NonNegative())
		}
	}
	if _, err := ReadInputStats(memSource{[]int{1}, []float32{float32(math.NaN())}}, 0, 1); err == nil {
		t.Error("a NaN sample was described")
	}
	if s, _ := ReadInputStats(memSource{[]int{1, 1, 1}, []float32{0.5}}, 0, 1); s.String() != "c0 mean=0.5 std=0 min=0.5 max=0.5" {
		t.Errorf("String: %q", s.String())
	}
}
