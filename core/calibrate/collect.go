package calibrate

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/core/stats"
	"github.com/int8cal/int8cal/core/tensor"
)

// ObservedRunner runs the network and shows every tensor it computes;
// *engine.Engine is one. A runner that is also a stats.Runner (the GPU
// backend) gathers the statistics itself, for every kind but Raw.
type ObservedRunner interface {
	RunObserved(inputs map[string]*tensor.Tensor, obs func(name string, t *tensor.Tensor)) (map[string]*tensor.Tensor, error)
}

// ChunkRunner is an ObservedRunner that can also hand over the values of
// some tensors in pieces while it computes them (*engine.Engine's
// RunObservedChunks): chunk receives them from up to Workers() goroutines
// at once, each with its own worker index, before obs sees the tensor
// whole. Collect fills the statistics of those tensors from the pieces,
// while they are in cache, and ignores their whole view.
type ChunkRunner interface {
	ObservedRunner
	RunObservedChunks(inputs map[string]*tensor.Tensor, obs func(name string, t *tensor.Tensor), chunk func(worker int, name string, values []float32)) (map[string]*tensor.Tensor, error)
	Workers() int
}

// Batches chooses the calibration data: Batches batches of Batch samples
// from sample First on. The sample's defaults are 10 batches of 50 from 0.
type Batches struct {
	Batch, Batches, First int
}

// maxRawValues bounds what a raw-statistics calibrator may ask the host to
// keep (1 GiB of float32).
const maxRawValues = 1 << 28

// collector accumulates one tensor's statistics. Histograms are filled in
// parallel, one partial histogram per worker, merged at the end: merging
// is exact (power-of-two bins), so the result does not depend on the split.
type collector struct {
	name    string
	kind    calib.StatisticsKind
	parts   []*histogram.Histogram // per worker, for the histogram kinds
	minmax  []minMax               // per worker, for MinMax and Raw
	raw     []float32
	workers int
	// chunked is set by the first piece of the tensor (ChunkRunner): its
	// statistics come from the pieces, not from the whole tensor.
	chunked atomic.Bool
}

// minMax tracks count, min, max and non-finite values of a stream.
type minMax struct {
	count    uint64
	min, max float32
	nan, inf uint64
}

func (m *minMax) add(v []float32) {
	lo, hi, ok := histogram.Bounds(v)
	switch {
	case !ok:
		// Empty, or some value is not finite (rare): count them and take
		// the bounds of the finite ones.
		m.min, m.max = m.finiteBounds(v)
	case m.count == m.nan+m.inf:
		m.min, m.max = lo, hi
	default:
		// min and max order -0 below +0, as Bounds does, so that the
		// bounds do not depend on the order of the values.
		m.min, m.max = min(m.min, lo), max(m.max, hi)
	}
}

// merge adds o's values to m.
func (m *minMax) merge(o minMax) {
	if o.count > o.nan+o.inf {
		if m.count == m.nan+m.inf {
			m.min, m.max = o.min, o.max
		} else {
			m.min, m.max = min(m.min, o.min), max(m.max, o.max)
		}
	}
	m.count += o.count
	m.nan += o.nan
	m.inf += o.inf
}

func (m *minMax) finiteBounds(v []float32) (float32, float32) {
	lo, hi := m.min, m.max
	first := m.count == 0
	for _, x := range v {
		switch {
		case x != x:
			m.nan++
			continue
		case math.IsInf(float64(x), 0):
			m.inf++
			continue
		}
		if first {
			lo, hi, first = x, x, false
			continue
		}
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
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
	workers := parallel.Workers()
	cr, chunked := r.(ChunkRunner)
	// Raw values are kept in the order observed: whole tensors only.
	chunked = chunked && need.Statistics != calib.Raw
	if chunked {
		workers = max(workers, cr.Workers())
	}
	// order lists the collectors in the order the network computes their
	// tensors (obs's order); chunk may make one first, from any worker,
	// hence the lock.
	var order []*collector
	var mu sync.Mutex
	byName := map[string]*collector{}
	collectorOf := func(name string) *collector {
		mu.Lock()
		defer mu.Unlock()
		c := byName[name]
		if c == nil {
			c = newCollector(name, need, workers)
			byName[name] = c
		}
		return c
	}
	seen := map[*collector]bool{}
	observe := func(name string, t *tensor.Tensor) error {
		c := collectorOf(name)
		if !seen[c] {
			seen[c] = true
			order = append(order, c)
		}
		if c.chunked.Load() {
			return nil
		}
		return c.add(t.F32)
	}
	// Each worker looks its tensors up in a map of its own, so that the
	// pieces do not contend for the lock.
	perWorker := make([]map[string]*collector, workers)
	chunk := func(worker int, name string, v []float32) {
		c := perWorker[worker][name]
		if c == nil {
			c = collectorOf(name)
			if perWorker[worker] == nil {
				perWorker[worker] = map[string]*collector{}
			}
			perWorker[worker][name] = c
			c.chunked.Store(true)
		}
		c.addPart(worker, v)
	}
	sr, onDevice := r.(stats.Runner)
	onDevice = onDevice && need.Statistics != calib.Raw
	var obsErr error
	for i := 0; i < b.Batches; i++ {
		if err := session.ReadFinite(src, b.First+i*b.Batch, b.Batch, images, labels); err != nil {
			return nil, err
		}
		began := time.Now()
		inputs := map[string]*tensor.Tensor{input: x}
		var err error
		obs := func(name string, t *tensor.Tensor) {
			if t.DType.IsFloat() && obsErr == nil {
				obsErr = observe(name, t)
			}
		}
		switch {
		case onDevice:
			err = sr.RunStatistics(inputs, need, func(s stats.Batch) error {
				c := collectorOf(s.Name)
				if !seen[c] {
					seen[c] = true
					order = append(order, c)
				}
				return c.addBatch(s)
			})
		case chunked:
			_, err = cr.RunObservedChunks(inputs, obs, chunk)
		default:
			_, err = r.RunObserved(inputs, obs)
		}
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

func newCollector(name string, need calib.Info, workers int) *collector {
	c := &collector{name: name, kind: need.Statistics, workers: workers}
	for w := 0; w < workers; w++ {
		switch need.Statistics {
		case calib.AbsHistogram, calib.SignedHistogram:
			h, err := histogram.NewConfig(stats.HistogramConfig(need))
			if err != nil {
				panic(err) // calib.Info's bins are checked when the plugin starts
			}
			c.parts = append(c.parts, h)
		default:
			c.minmax = append(c.minmax, minMax{})
		}
	}
	return c
}

// minChunk is the fewest values worth handing to another goroutine.
const minChunk = 1 << 15

func (c *collector) add(v []float32) error {
	workers := min(c.workers, max(1, len(v)/minChunk))
	parallel.Each(len(v), workers, func(w, lo, hi int) { c.addPart(w, v[lo:hi]) })
	if c.kind == calib.Raw {
		if len(c.raw)+len(v) > maxRawValues {
			return fmt.Errorf("tensor %q: the calibrator asks for raw values and they exceed %d; use fewer calibration batches or a histogram calibrator", c.name, maxRawValues)
		}
		c.raw = append(c.raw, v...)
	}
	return nil
}

// addPart adds values to worker w's partial statistics (not Raw's list).
func (c *collector) addPart(w int, v []float32) {
	if c.parts != nil {
		c.parts[w].Add(v)
		return
	}
	m := &c.minmax[w]
	m.add(v)
	m.count += uint64(len(v))
}

// addBatch merges statistics gathered by a stats.Runner.
func (c *collector) addBatch(s stats.Batch) error {
	if c.parts != nil {
		if s.Histogram == nil {
			return fmt.Errorf("tensor %q: the runner gathered no histogram", c.name)
		}
		if err := c.parts[0].Merge(s.Histogram); err != nil {
			return fmt.Errorf("tensor %q: %w", c.name, err)
		}
		return nil
	}
	c.minmax[0].merge(minMax{count: s.Count, min: s.Min, max: s.Max, nan: s.NaN, inf: s.Inf})
	return nil
}

func (c *collector) stats() (calib.TensorStats, error) {
	if c.parts == nil {
		m := c.minmax[0]
		for _, o := range c.minmax[1:] {
			m.merge(o)
		}
		if err := c.nonFinite(m.nan, m.inf); err != nil {
			return calib.TensorStats{}, err
		}
		return calib.TensorStats{Name: c.name, Count: m.count - m.nan - m.inf, Min: m.min, Max: m.max, Values: c.raw}, nil
	}
	h := c.parts[0]
	for _, p := range c.parts[1:] {
		if err := h.Merge(p); err != nil {
			return calib.TensorStats{}, fmt.Errorf("tensor %q: %w", c.name, err)
		}
	}
	pos, neg := h.Infs()
	if err := c.nonFinite(h.NaNs(), pos+neg); err != nil {
		return calib.TensorStats{}, err
	}
	return calib.TensorStats{
		Name: c.name, Count: h.Count(), Min: h.Min(), Max: h.Max(),
		Histogram: &calib.Histogram{Range: h.Range(), Signed: h.Signed(), Counts: h.Bins()},
	}, nil
}

func (c *collector) nonFinite(nan, inf uint64) error {
	switch {
	// The samples were checked to be finite when read
	// (session.ReadFinite), so the network made these values.
	case inf > 0:
		return fmt.Errorf("tensor %q: %d infinite values on the calibration data, which is finite: the network overflows float32 or has infinite weights", c.name, inf)
	case nan > 0:
		return fmt.Errorf("tensor %q: %d NaN values on the calibration data, which is finite: the network has NaN weights or computes NaN (e.g. 0/0, Inf-Inf)", c.name, nan)
	}
	return nil
}
