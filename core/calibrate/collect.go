package calibrate

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/int8cal/int8cal/calib"
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

// collector accumulates one tensor's statistics. They are filled in
// parallel, one part per worker, merged at the end: merging is exact
// (stats.Tensor), so the result does not depend on the split.
type collector struct {
	name  string
	kind  calib.StatisticsKind
	parts []*stats.Tensor // per worker; for Raw, min-max parts
	raw   []float32
	// chunked is set by the first piece of the tensor (ChunkRunner): its
	// statistics come from the pieces, not from the whole tensor.
	chunked atomic.Bool
}

// Progress is told about each batch calibrated.
type Progress func(batch int, took time.Duration)

// Collect runs the network over the calibration batches and returns the
// statistics need asks for, one entry per float tensor in the order the
// network computes them.
func Collect(r ObservedRunner, src session.Source, input string, b Batches, need calib.Info, progress Progress) ([]calib.TensorStats, error) {
	order, err := collect(r, src, input, b, need, progress)
	if err != nil {
		return nil, err
	}
	out := make([]calib.TensorStats, len(order))
	for i, c := range order {
		if out[i], err = c.stats(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CollectTensors is Collect that returns the statistics in the form that
// merges exactly (stats.Tensor), for a statistics file. need is a kind
// such statistics hold: a histogram kind or MinMax, not Raw.
func CollectTensors(r ObservedRunner, src session.Source, input string, b Batches, need calib.Info, progress Progress) ([]*stats.Tensor, error) {
	if _, _, err := stats.KindKey(need); err != nil {
		return nil, err
	}
	order, err := collect(r, src, input, b, need, progress)
	if err != nil {
		return nil, err
	}
	out := make([]*stats.Tensor, len(order))
	for i, c := range order {
		if out[i], err = c.tensor(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// collect runs the network over the batches and returns the collectors of
// the float tensors in the order the network computes them.
func collect(r ObservedRunner, src session.Source, input string, b Batches, need calib.Info, progress Progress) ([]*collector, error) {
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
			err = sr.RunStatistics(inputs, need, func(s stats.Tensor) error {
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
	return order, nil
}

func newCollector(name string, need calib.Info, workers int) *collector {
	c := &collector{name: name, kind: need.Statistics}
	partNeed := need
	if need.Statistics == calib.Raw {
		// Raw keeps the values themselves, and min-max parts for the
		// count, extremes and non-finite values.
		partNeed.Statistics = calib.MinMax
	}
	for range workers {
		t, err := stats.NewTensor(name, partNeed)
		if err != nil {
			panic(err) // calib.Info's bins are checked when the plugin starts
		}
		c.parts = append(c.parts, t)
	}
	return c
}

// minChunk is the fewest values worth handing to another goroutine.
const minChunk = 1 << 15

func (c *collector) add(v []float32) error {
	workers := min(len(c.parts), max(1, len(v)/minChunk))
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
func (c *collector) addPart(w int, v []float32) { c.parts[w].Add(v) }

// addBatch merges statistics gathered by a stats.Runner.
func (c *collector) addBatch(s stats.Tensor) error { return c.parts[0].Merge(&s) }

// tensor merges the workers' parts.
func (c *collector) tensor() (*stats.Tensor, error) {
	t := c.parts[0]
	for _, p := range c.parts[1:] {
		if err := t.Merge(p); err != nil {
			return nil, err
		}
	}
	c.parts = c.parts[:1]
	return t, nil
}

// stats returns what the calibrator receives.
func (c *collector) stats() (calib.TensorStats, error) {
	t, err := c.tensor()
	if err != nil {
		return calib.TensorStats{}, err
	}
	kind := c.kind
	if kind == calib.Raw {
		kind = calib.MinMax
	}
	s, err := t.Calib(kind)
	s.Values = c.raw
	return s, err
}
