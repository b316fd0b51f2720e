package pipeline

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/int8cal/int8cal/core/calibrate"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/atomicfile"
	"github.com/int8cal/int8cal/internal/filehash"
)

// DefaultTRTVersion is the TensorRT version whose cache header is written
// unless told otherwise: 8.6.1, the last release line with sampleINT8's
// implicit calibration and the most common reader of these caches.
const DefaultTRTVersion = "8.6.1"

// Calibration says how to calibrate.
type Calibration struct {
	// Calibrator is the calibrator plugin's name (--calibrator), and
	// Options its options (--calibrator-opt).
	Calibrator string
	Options    map[string]string
	// Batch, Batches and First choose the calibration samples: Batches
	// batches of Batch from sample First (--cal-batch, --cal-batches,
	// --cal-first).
	Batch, Batches, First int
	// Cache is the calibration table (--cache; "": CachePath's default).
	Cache string
	// TRTVersion is written in the table's header (--trt-version; "":
	// DefaultTRTVersion).
	TRTVersion string
	// JSON, if set, also receives the table as JSON (--json).
	JSON string
	// HistogramCache, if set, keeps the collected statistics for reuse
	// with other calibrator options (--histogram-cache).
	HistogramCache string
	// Data is the calibration data.
	Data Data
}

// CachePath is the calibration's table: c.Cache, or
// CalibrationTable<model name> in the current directory, as the sample
// has it.
func (p *Pipeline) CachePath(c Calibration) string {
	if c.Cache != "" {
		return c.Cache
	}
	return "CalibrationTable" + modelName(p.opts.Model)
}

// Calibrated is a calibration's result and the table it wrote or reused;
// or, when TensorRT calibrates (INT8ByTensorRT), what its INT8 build
// needs for that.
type Calibrated struct {
	// Result is the calibration, nil when TensorRT calibrates.
	Result *calibrate.Result
	// Cache is the table's file.
	Cache    string
	tensorrt *trtCalibration
}

// Scales are the per-tensor activation scales of the table, as INT8
// engines take them (none when TensorRT calibrates).
func (c *Calibrated) Scales() map[string]float32 {
	scales := map[string]float32{}
	if c.Result != nil {
		for _, e := range c.Result.Table.Entries {
			scales[e.Name] = e.Scale
		}
	}
	return scales
}

// Reused says a valid table was reused instead of calibrating.
func (c *Calibrated) Reused() bool { return c.Result != nil && c.Result.Reused }

// ByTensorRT is TensorRT's algorithm when TensorRT calibrates, while it
// builds the INT8 engine ("" otherwise).
func (c *Calibrated) ByTensorRT() string {
	if c.tensorrt == nil {
		return ""
	}
	return c.tensorrt.algorithm
}

// Calibrate calibrates the model (or reuses a valid table; an invalid one
// is recalibrated, the reason logged) and returns the result. The
// sample's calibration lines go to out. The caller has checked the
// outputs with CheckCalibrationOutputs.
//
// When TensorRT calibrates (INT8ByTensorRT), nothing happens yet: TensorRT
// calibrates, and its table is written, when Evaluate builds the INT8
// engine; WriteTable does it without evaluating.
func (p *Pipeline) Calibrate(c Calibration, out io.Writer) (*Calibrated, error) {
	cache := p.CachePath(c)
	if p.tensorrtCalibrates() {
		t, err := p.newTRTCalibration(c, cache)
		if err != nil {
			return nil, err
		}
		return &Calibrated{Cache: cache, tensorrt: t}, nil
	}
	job, done, err := p.calibrationJob(c, out)
	if err != nil {
		return nil, err
	}
	defer done()
	return p.runJob(c, job)
}

// calibrationJob opens c's data, loads the model for c's batch, starts
// its observed FP32 runner and its calibrator and returns the job that
// calibrates with them; done lets them go.
func (p *Pipeline) calibrationJob(c Calibration, out io.Writer) (job *calibrate.Job, done func(), err error) {
	var closers []func()
	closeAll := func() {
		for _, f := range slices.Backward(closers) {
			f()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	// The calibrator first: it says which statistics to gather, and a
	// plugin that is missing or does not start fails before any data is
	// opened.
	job, closeCal, err := p.newJob(c, out)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, closeCal)
	src, err := p.OpenData(c.Data)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() { src.Close() })
	if p.opts.Backend.Name == TensorRT {
		// TensorRT cannot show the intermediate tensors calibration
		// observes: the CPU engine calibrates, TensorRT builds INT8 from
		// the cache or its Q/DQ model.
		p.log.Info("--backend tensorrt: calibrating on the cpu backend")
	}
	if err := p.load(c.Batch, src); err != nil {
		return nil, nil, err
	}
	p.inputStats(src, c.First, c.Batch)
	r, data, release, err := p.observing(src, c.Batch)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, release)
	hash, err := p.ModelSHA256()
	if err != nil {
		return nil, nil, err
	}
	job.Runner, job.Input, job.Source = r, p.graph.Inputs[0].Name, data
	job.Tensors = graphTensors(p.graph)
	job.Provenance = calibtable.Sidecar{ModelSHA256: hash, Dataset: src.Describe()}
	return job, closeAll, nil
}

// newJob starts c's calibrator and returns the job of c without its
// model, network, data and provenance; done stops the calibrator.
func (p *Pipeline) newJob(c Calibration, out io.Writer) (*calibrate.Job, func(), error) {
	if c.TRTVersion == "" {
		c.TRTVersion = DefaultTRTVersion
	}
	version, err := calibtable.ParseTRTVersion(c.TRTVersion)
	if err != nil {
		return nil, nil, fmt.Errorf("--trt-version: %w", err)
	}
	found, err := p.findPlugin(pluginhost.CalibratorKind, c.Calibrator)
	if err != nil {
		return nil, nil, err
	}
	cal, err := pluginhost.StartCalibrator(found, p.log)
	if err != nil {
		return nil, nil, err
	}
	return &calibrate.Job{
		Batches:    calibrate.Batches{Batch: c.Batch, Batches: c.Batches, First: c.First},
		Calibrator: cal, Info: cal.Info, Options: c.Options,
		CachePath: p.CachePath(c), Use: calibrate.Reuse,
		Version: version, StatsCache: c.HistogramCache,
		Out: out, Log: p.log,
	}, func() { cal.Close() }, nil
}

// runJob runs the job and writes c's JSON table.
func (p *Pipeline) runJob(c Calibration, job *calibrate.Job) (*Calibrated, error) {
	res, err := job.Run()
	if err != nil {
		return nil, err
	}
	if c.JSON != "" {
		if err := writeJSONTable(c.JSON, res.Table); err != nil {
			return nil, err
		}
	}
	return &Calibrated{Result: res, Cache: job.CachePath}, nil
}

// TableAsGiven is INT8 from the table at path, used as it is and never
// written (--table): it must parse, hold only usable scales and name at
// least one tensor of the model (calibrate.ReadTable); entries naming
// tensors the model does not have are logged and ignored. The model is
// loaded (Prepare) before. On the TensorRT backend, TensorRT reads this
// table, or the Q/DQ model made from it, whatever --tensorrt-int8 says of
// calibrating.
func (p *Pipeline) TableAsGiven(path string) (*Calibrated, error) {
	if p.graph == nil {
		return nil, fmt.Errorf("calibration table %s: the model is not loaded yet (Prepare first)", path)
	}
	t, unknown, err := calibrate.ReadTable(path, graphTensors(p.graph))
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		p.log.Warn("the calibration table names tensors the model does not have; they are ignored", "table", path, "tensors", unknown)
	}
	p.log.Info("using calibration table as given", "table", path, "header", t.Header())
	return &Calibrated{Result: &calibrate.Result{Table: t, Reused: true}, Cache: path}, nil
}

// WriteTable is Calibrate for a table alone: when TensorRT calibrates,
// it builds an INT8 engine of the calibration batch size for TensorRT's
// table, and lets the engine go.
func (p *Pipeline) WriteTable(c Calibration, out io.Writer) (*Calibrated, error) {
	res, err := p.Calibrate(c, out)
	if err != nil || res.tensorrt == nil {
		return res, err
	}
	r, err := p.newTensorRT(runSpec{precision: precision.INT8, batch: c.Batch, cal: res})
	if err != nil {
		return nil, err
	}
	release(r)
	return res, nil
}

func writeJSONTable(path string, t *calibtable.Table) error {
	var b bytes.Buffer
	if err := calibtable.WriteJSON(&b, t); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.WriteFile(path, b.Bytes())
}

// graphTensors are the names of the model's tensors a calibration table
// may name: its input, every node's outputs and its constants (which
// include the tensors folded when it was loaded).
func graphTensors(g *graph.Graph) []string {
	var names []string
	for _, in := range g.Inputs {
		names = append(names, in.Name)
	}
	for _, n := range g.Nodes {
		names = append(names, n.Outputs...)
	}
	for name := range g.Constants {
		names = append(names, name)
	}
	return names
}

// ModelSHA256 is the model file's SHA-256, as calibration sidecars and
// reports record it, read once per pipeline (Compare calibrates once per
// calibrator).
func (p *Pipeline) ModelSHA256() (string, error) {
	if p.modelHash == "" {
		h, err := filehash.SHA256(p.opts.Model)
		if err != nil {
			return "", err
		}
		p.modelHash = h
	}
	return p.modelHash, nil
}

// observing is an FP32 runner of batch that shows every tensor and the
// source it reads from src: calibrate.Collect's pair, for a calibration
// and for a report's histograms. Data of named inputs go through a feed
// (fed). done releases the runner.
func (p *Pipeline) observing(src *Dataset, batch int) (r runner, data session.Source, done func(), err error) {
	r, err = p.newRunner(runSpec{precision: precision.FP32, batch: batch, observe: true})
	if err != nil {
		return nil, nil, nil, err
	}
	inner := r
	done = func() { release(inner) }
	if len(src.SampleShape()) > 0 {
		return r, src, done, nil
	}
	// Named inputs, not one float32 input.
	fed, err := newFed(src, p.graph, batch)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return fedRunner{runner: r, src: fed}, fed, done, nil
}

// fed adapts data of named inputs to calibrate.Collect, which feeds a
// source's float32 samples to one input: Read reads each batch into the
// model's inputs (session.Feed: every input, converted and checked) and
// leaves Collect's stand-in sample alone, and fedRunner runs the model on
// those inputs instead. Collect gathers statistics of float tensors only,
// so integer ids and masks are never calibrated. A fedRunner is no
// stats.Runner: on the GPU, statistics of such models are gathered from
// copied tensors.
type fed struct {
	feed   *session.Feed
	len    int
	inputs map[string]*tensor.Tensor
}

func newFed(data *Dataset, g *graph.Graph, batch int) (*fed, error) {
	feed, err := session.NewFeed(data, g.Inputs, batch)
	if err != nil {
		return nil, data.errorf(err)
	}
	return &fed{feed: feed, len: data.Len()}, nil
}

func (f *fed) Len() int { return f.len }

// SampleShape is the stand-in's: a scalar per sample.
func (f *fed) SampleShape() []int { return nil }

func (f *fed) Read(first, n int, _ []float32, labels []int) (err error) {
	f.inputs, err = f.feed.Read(first, labels)
	return err
}

// ChecksFinite: the feed checked the samples.
func (f *fed) ChecksFinite() bool { return true }

// fedRunner runs the model on the inputs src read last.
type fedRunner struct {
	runner
	src *fed
}

func (r fedRunner) RunObserved(_ map[string]*tensor.Tensor, obs func(string, *tensor.Tensor)) (map[string]*tensor.Tensor, error) {
	return r.runner.RunObserved(r.src.inputs, obs)
}
