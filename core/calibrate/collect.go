package calibrate

import (
	"fmt"
	"time"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/histogram"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/core/tensor"
)

// ObservedRunner runs the network and shows every tensor it computes;
// *engine.Engine is one.
type ObservedRunner interface {
	RunObserved(inputs map[string]*tensor.Tensor, obs func(name string, t *tensor.Tensor)) (map[string]*tensor.Tensor, error)
}

// Batches chooses the calibration data: Batches batches of Batch samples
// from sample First on. The sample's defaults are 10 batches of 50 from 0.
type Batches struct {
	Batch, Batches, First int
}

// maxRawValues bounds what a raw-statistics calibrator may ask the host to
// keep (1 GiB of float32).
const maxRawValues = 1 << 28

// collector accumulates one tensor's statistics.
type collector struct {
	name  string
	hist  *histogram.Histogram // histogram kinds and min/max (its exact statistics)
	raw   []float32
	kind  calib.StatisticsKind
	count uint64
}

// Progress is told about each batch calibrated.
type Progress func(batch int, took time.Duration)

// Collect runs the network over the calibration batches and returns the
// statistics need asks for, one entry per float tensor in the order the
// network computes them.
func Collect(r ObservedRunner, src session.Source, input string, b Batches, need calib.Info, progress Progress) ([]calib.TensorStats, error) {
	if b.Batch <= 0 || b.Batches <= 0 || b.First < 0 {
		return nil, fmt.Errorf("calibration batch size (%d) and batch count (%d) must be positive", b.Batch, b.Batches)
	}
	if end := b.First + b.Batch*b.Batches; end > src.Len() {
		return nil, fmt.Errorf("calibrating on %d batches of %d from sample %d needs %d samples; the data set has %d", b.Batches, b.Batch, b.First, end, src.Len())
	}
	shape := append([]int{b.Batch}, src.SampleShape()...)
	images := make([]float32, tensor.NumElements(shape))
	labels := make([]int, b.Batch)
	x := tensor.FromFloat32(images, shape...)
	var order []*collector
	byName := map[string]*collector{}
	var obsErr error
	for i := 0; i < b.Batches; i++ {
		if err := src.Read(b.First+i*b.Batch, b.Batch, images, labels); err != nil {
			return nil, err
		}
		began := time.Now()
		_, err := r.RunObserved(map[string]*tensor.Tensor{input: x}, func(name string, t *tensor.Tensor) {
			if !t.DType.IsFloat() || obsErr != nil {
				return
			}
			c := byName[name]
			if c == nil {
				c = newCollector(name, need)
				byName[name] = c
				order = append(order, c)
			}
			obsErr = c.add(t.F32)
		})
		if err != nil {
			return nil, err
		}
		if obsErr != nil {
			return nil, obsErr
		}
		if progress != nil {
			progress(i, time.Since(began))
		}
	}
	out := make([]calib.TensorStats, len(order))
	for i, c := range order {
		s, err := c.stats()
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func newCollector(name string, need calib.Info) *collector {
	c := &collector{name: name, kind: need.Statistics}
	switch need.Statistics {
	case calib.AbsHistogram:
		c.hist = histogram.New(need.Bins)
	case calib.SignedHistogram:
		c.hist = histogram.NewSigned(need.Bins)
	default:
		// Min/max come from a histogram's exact statistics; its bins are
		// unused, so keep them few.
		c.hist = histogram.New(1)
	}
	return c
}

func (c *collector) add(v []float32) error {
	c.hist.Add(v)
	if c.kind == calib.Raw {
		if len(c.raw)+len(v) > maxRawValues {
			return fmt.Errorf("tensor %q: the calibrator asks for raw values and they exceed %d; use fewer calibration batches or a histogram calibrator", c.name, maxRawValues)
		}
		c.raw = append(c.raw, v...)
	}
	return nil
}

func (c *collector) stats() (calib.TensorStats, error) {
	h := c.hist
	if err := h.Err(); err != nil {
		return calib.TensorStats{}, fmt.Errorf("tensor %q: %w; the network overflows float32 on the calibration data", c.name, err)
	}
	if h.NaNs() > 0 {
		return calib.TensorStats{}, fmt.Errorf("tensor %q: %d NaN values on the calibration data", c.name, h.NaNs())
	}
	s := calib.TensorStats{Name: c.name, Count: h.Count(), Min: h.Min(), Max: h.Max()}
	switch c.kind {
	case calib.AbsHistogram, calib.SignedHistogram:
		s.Histogram = &calib.Histogram{Range: h.Range(), Signed: h.Signed(), Counts: h.Bins()}
	case calib.Raw:
		s.Values = c.raw
	}
	return s, nil
}
