package stats

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
)

// Tensor is one tensor's statistics over one batch or more, in the form
// that merges exactly: the statistics of two parts of the data merged
// (Merge) are those of the whole, bit for bit, in any order. That is what
// lets calibration fill partial statistics per worker, per GPU batch and
// per shard of the calibration data (File) and still give one table.
//
// A Tensor of a histogram kind keeps everything in its Histogram (count,
// non-finite values, extremes); one of kind MinMax has no histogram and
// keeps the fields below.
type Tensor struct {
	Name string
	// Histogram is set for the histogram kinds.
	Histogram *histogram.Histogram
	// Count is the number of values (finite or not), NaN and Inf the
	// non-finite ones among them; Min and Max are the finite extremes,
	// ordered with -0 below +0 so that neither depends on the order of
	// the values. MinMax only.
	Count, NaN, Inf uint64
	Min, Max        float32
}

// NewTensor returns empty statistics of the kind need asks for (not Raw,
// whose values are not statistics that merge).
func NewTensor(name string, need calib.Info) (*Tensor, error) {
	switch need.Statistics {
	case calib.AbsHistogram, calib.SignedHistogram:
		h, err := histogram.NewConfig(HistogramConfig(need))
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		return &Tensor{Name: name, Histogram: h}, nil
	case calib.MinMax:
		return &Tensor{Name: name}, nil
	}
	return nil, fmt.Errorf("tensor %q: %s statistics do not merge; only the histogram kinds and min-max do", name, need.Statistics)
}

// Add adds values.
func (t *Tensor) Add(v []float32) {
	if t.Histogram != nil {
		t.Histogram.Add(v)
		return
	}
	had := t.finite() > 0
	lo, hi, ok := histogram.Bounds(v)
	if !ok {
		// Empty, or some value is not finite (rare): count those and take
		// the bounds of the finite ones.
		lo, hi, ok = t.nonFiniteBounds(v)
	}
	t.Count += uint64(len(v))
	if ok {
		t.widen(had, lo, hi)
	}
}

// finite is the number of finite values of a MinMax Tensor.
func (t *Tensor) finite() uint64 { return t.Count - t.NaN - t.Inf }

// widen takes finite extremes lo and hi into Min and Max, which hold
// those of earlier values when had is set.
func (t *Tensor) widen(had bool, lo, hi float32) {
	if !had {
		t.Min, t.Max = lo, hi
		return
	}
	// min and max order -0 below +0, as Bounds does.
	t.Min, t.Max = min(t.Min, lo), max(t.Max, hi)
}

// nonFiniteBounds counts the NaN and infinite values of v and returns the
// extremes of the finite ones (ok false when there are none).
func (t *Tensor) nonFiniteBounds(v []float32) (lo, hi float32, ok bool) {
	for _, x := range v {
		switch {
		case x != x:
			t.NaN++
		case math.IsInf(float64(x), 0):
			t.Inf++
		case !ok:
			lo, hi, ok = x, x, true
		default:
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	return lo, hi, ok
}

// Merge adds o's statistics to t's. Both must be of one kind and layout.
func (t *Tensor) Merge(o *Tensor) error {
	switch {
	case (t.Histogram == nil) != (o.Histogram == nil):
		return fmt.Errorf("tensor %q: a histogram and min-max statistics do not merge", t.Name)
	case t.Histogram != nil:
		if err := t.Histogram.Merge(o.Histogram); err != nil {
			return fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		return nil
	}
	if o.finite() > 0 {
		t.widen(t.finite() > 0, o.Min, o.Max)
	}
	t.Count += o.Count
	t.NaN += o.NaN
	t.Inf += o.Inf
	return nil
}

// Kind is the kind of statistics t holds.
func (t *Tensor) Kind() calib.StatisticsKind {
	switch {
	case t.Histogram == nil:
		return calib.MinMax
	case t.Histogram.Signed():
		return calib.SignedHistogram
	}
	return calib.AbsHistogram
}

// Calib returns the statistics a calibrator asking for kind receives:
// those of t, or for MinMax the count and extremes of t's histogram,
// which are the ones min-max statistics of the same values have. A tensor
// with non-finite values is an error: calibration data are checked finite
// when read, so the network made them.
func (t *Tensor) Calib(kind calib.StatisticsKind) (calib.TensorStats, error) {
	if kind != calib.MinMax && kind != t.Kind() {
		return calib.TensorStats{}, fmt.Errorf("tensor %q: %s statistics, not the %s the calibrator asks for", t.Name, t.Kind(), kind)
	}
	h := t.Histogram
	if h == nil {
		if err := nonFinite(t.Name, t.NaN, t.Inf); err != nil {
			return calib.TensorStats{}, err
		}
		return calib.TensorStats{Name: t.Name, Count: t.finite(), Min: t.Min, Max: t.Max}, nil
	}
	pos, neg := h.Infs()
	if err := nonFinite(t.Name, h.NaNs(), pos+neg); err != nil {
		return calib.TensorStats{}, err
	}
	s := calib.TensorStats{Name: t.Name, Count: h.Count(), Min: h.Min(), Max: h.Max()}
	if kind == calib.MinMax {
		return s, nil
	}
	s.Histogram = &calib.Histogram{Range: h.Range(), Signed: h.Signed(), Counts: h.Bins()}
	var sum, carry uint64
	for _, c := range s.Histogram.Counts {
		var k uint64
		sum, k = bits.Add64(sum, c, 0)
		carry |= k
	}
	if carry != 0 || sum != s.Count {
		// Only merged statistics read from files can get here.
		return calib.TensorStats{}, fmt.Errorf("tensor %q: histogram bins add up to %d (overflow %v), not the count %d", t.Name, sum, carry != 0, s.Count)
	}
	return s, nil
}

// ErrNonFinite is wrapped by Calib for a tensor with NaN or infinite
// values.
var ErrNonFinite = errors.New("non-finite values")

func nonFinite(name string, nan, inf uint64) error {
	switch {
	// The samples were checked to be finite when read
	// (session.ReadFinite), so the network made these values.
	case inf > 0:
		return fmt.Errorf("tensor %q: %d infinite values on the calibration data, which is finite: the network overflows float32 or has infinite weights (%w)", name, inf, ErrNonFinite)
	case nan > 0:
		return fmt.Errorf("tensor %q: %d NaN values on the calibration data, which is finite: the network has NaN weights or computes NaN, e.g. 0/0, Inf-Inf (%w)", name, nan, ErrNonFinite)
	}
	return nil
}
