package pipeline

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/calibrate"
	"github.com/int8cal/int8cal/core/cuda"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
	trt "github.com/int8cal/int8cal/core/tensorrt"
	"github.com/int8cal/int8cal/internal/memlimit"
)

// The backends.
const (
	CPU      = "cpu"      // the pure-Go engine, anywhere
	CUDA     = "cuda"     // an NVIDIA GPU through the CUDA driver, NVRTC and cuBLASLt
	TensorRT = "tensorrt" // an engine built by TensorRT 8.6, 10.x or 11.x
)

// Options say what a pipeline runs and where.
type Options struct {
	// Model is the ONNX file (--model).
	Model string
	// DataDir is the MNIST directory (--datadir): the data read in process
	// without a plugin, and the mnist plugin's dir unless its options say
	// otherwise.
	DataDir string
	// Workers is the CPU engine's threads (--workers; 0: all cores).
	Workers int
	// Budget bounds what the model makes the process allocate
	// (--memory-limit; the zero Budget is no limit).
	Budget memlimit.Budget
	// PluginDir is searched first for plugins (--plugin-dir), then
	// $INT8CAL_PLUGIN_PATH, then the directory of the executable.
	PluginDir string
	// PluginLock is the plugin lock file in force (--plugin-lock; "": the
	// default beside the executable, if there).
	PluginLock string
	// Backend is where the model runs.
	Backend Backend
	// Exclude keeps the nodes it matches in FP32 when INT8 runs
	// (--exclude-nodes, --exclude-op-types) on every backend: the CPU and
	// CUDA engines, and TensorRT through the Q/DQ model (the route chosen
	// by default then). Load checks it against the model. Calibration
	// ignores it: statistics are collected for every tensor, so that one
	// table serves every choice of exclusions.
	Exclude precision.Exclusions
	// Log receives the pipeline's log (nil: none).
	Log hclog.Logger
}

// Backend chooses where models run and how.
type Backend struct {
	// Name is CPU (the default, ""), CUDA or TensorRT (--backend).
	Name string
	// Device is the CUDA device ordinal (--device).
	Device int
	// Libs locate the CUDA libraries (--cuda-lib, --nvrtc-lib,
	// --cublaslt-lib; "": the environment, then the sonames).
	Libs cuda.Libraries
	// TensorRT are the TensorRT backend's settings.
	TensorRT TensorRTOptions
}

// TensorRTOptions are the settings of the TensorRT backend.
type TensorRTOptions struct {
	// Lib is libnvinfer's path (--tensorrt-lib; "": the environment,
	// then the sonames).
	Lib string
	// INT8 is how INT8 is built (--tensorrt-int8): INT8FromCache,
	// INT8FromQDQ or INT8ByTensorRT; "" is the default for the version
	// found (the cache; Q/DQ on 11.x or with Options.Exclude).
	INT8 string
	// UseDLA builds for the DLA core DLACore, with GPU fallback
	// (--useDLACore); FP32 engines stay on the GPU.
	UseDLA  bool
	DLACore int
	// WorkspaceMiB and AvgTimingIterations are the builder's workspace
	// limit (--tensorrt-workspace) and timing iterations
	// (--tensorrt-avg-timing); 0 is TensorRT's default.
	WorkspaceMiB, AvgTimingIterations int
}

// Pipeline is one model on one backend. Its methods are not safe for
// concurrent use.
type Pipeline struct {
	opts  Options
	log   hclog.Logger
	graph *graph.Graph // loaded by Load
	// modelHash is the model file's SHA-256 once read (ModelSHA256).
	modelHash string
	gpu       *cuda.Backend
	trt       *trt.Backend
	// said holds what was logged once per run (once).
	said map[string]bool
}

// New checks the backend (for TensorRT: the library is found, its version
// supported, it can build engines, and the INT8 route suits it) and
// returns a pipeline; nothing is loaded or opened yet.
func New(opts Options) (*Pipeline, error) {
	if opts.Log == nil {
		opts.Log = hclog.NewNullLogger()
	}
	if opts.Backend.Name == "" {
		opts.Backend.Name = CPU
	}
	p := &Pipeline{opts: opts, log: opts.Log}
	b := &p.opts.Backend
	if t := b.TensorRT; t.WorkspaceMiB < 0 || t.AvgTimingIterations < 0 {
		return nil, fmt.Errorf("--tensorrt-workspace=%d, --tensorrt-avg-timing=%d: want 0 (TensorRT's default) or more", t.WorkspaceMiB, t.AvgTimingIterations)
	}
	switch b.Name {
	case CPU, CUDA:
		return p, nil
	case TensorRT:
		found := trt.Probe(b.TensorRT.Lib)
		if err := found.Usable(); err != nil {
			return nil, fmt.Errorf("--backend tensorrt: %s; usable here: %s (see int8cal doctor)", oneLine(err.Error()), p.Usable())
		}
		if !found.Builder {
			return nil, fmt.Errorf("--backend tensorrt: %s exports no createInferBuilder_INTERNAL (a lean or dispatch runtime cannot build engines); give the full libnvinfer with --tensorrt-lib; usable here: %s (see int8cal doctor)", found.File, p.Usable())
		}
		if err := p.checkTensorRTINT8(found.Major, found.Version); err != nil {
			return nil, err
		}
		return p, nil
	}
	return nil, fmt.Errorf("--backend %q unknown; backends: cpu, cuda, tensorrt (usable here: %s)", b.Name, p.Usable())
}

// Usable lists the backends this machine can run: cpu always, cuda where
// the driver finds a GPU and NVRTC and cuBLASLt load.
func (p *Pipeline) Usable() string {
	if cuda.Probe(p.opts.Backend.Libs).Why != "" {
		return "cpu"
	}
	return "cpu, cuda"
}

// Close releases the GPU and TensorRT, where they were opened.
func (p *Pipeline) Close() error {
	if p.trt != nil {
		p.trt.Close()
		p.trt = nil
	}
	if p.gpu != nil {
		p.gpu.Close()
		p.gpu = nil
	}
	return nil
}

// Load loads the ONNX file (once) and checks, before any work, that
// batches of batch samples of data fit its inputs (session.NewFeed: float32
// samples its only input; named inputs its inputs of the same names, types
// and shapes); it opens the GPU or TensorRT, so that a backend that cannot
// run fails before any work too. The model needs at least one output; the
// first output is scored.
func (p *Pipeline) Load(batch int, data *Dataset) error {
	if err := p.load(batch, data); err != nil {
		return err
	}
	return p.open()
}

// load is Load without opening the backend: calibration, which runs on
// the CPU for TensorRT, needs no TensorRT.
func (p *Pipeline) load(batch int, data *Dataset) error {
	if err := p.loadGraph(); err != nil {
		return err
	}
	if _, err := session.NewFeed(data, p.graph.Inputs, batch); err != nil {
		return fmt.Errorf("%s: %w", p.opts.Model, data.errorf(err))
	}
	return nil
}

// loadGraph loads the model once.
func (p *Pipeline) loadGraph() error {
	if p.graph != nil {
		return nil
	}
	path := p.opts.Model
	g, err := graph.Options{Budget: p.opts.Budget}.Load(path)
	if err != nil {
		return err
	}
	if len(g.Inputs) < 1 || len(g.Outputs) < 1 {
		return fmt.Errorf("%s: the model has %d inputs and %d outputs; at least one of each is needed", path, len(g.Inputs), len(g.Outputs))
	}
	p.log.Debug("model loaded", "path", path, "opset", g.Opset, "nodes", len(g.Nodes), "inputs", len(g.Inputs), "output", g.Outputs[0].Name)
	nodes := make([]precision.Node, len(g.Nodes))
	for i, n := range g.Nodes {
		nodes[i] = precision.Node{Name: n.Name, OpType: n.OpType}
	}
	if err := p.opts.Exclude.Check(nodes, ops.Supported()); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	p.graph = g
	return nil
}

// open opens the GPU or TensorRT the first time a command needs it, so
// that a backend that cannot run fails before any work.
func (p *Pipeline) open() error {
	b := p.opts.Backend
	switch {
	case b.Name == CUDA && p.gpu == nil:
		gpu, err := cuda.Open(b.Libs, b.Device, p.log)
		if err != nil {
			return fmt.Errorf("--backend cuda: %w (the cpu backend is available: --backend cpu; int8cal doctor says what was found)", err)
		}
		p.log.Info("cuda backend", "device", gpu.Device.Name, "compute_capability", fmt.Sprintf("%d.%d", gpu.Device.Major, gpu.Device.Minor))
		p.gpu = gpu
	case b.Name == TensorRT && p.trt == nil:
		t, err := trt.Open(trt.Options{Lib: b.TensorRT.Lib, CUDALib: b.Libs.Driver, Device: b.Device, Log: p.log})
		if err != nil {
			return fmt.Errorf("--backend tensorrt: %s; usable here: %s (see int8cal doctor)", oneLine(err.Error()), p.Usable())
		}
		p.log.Info("tensorrt backend", "version", t.Version(), "lib", t.TRT.Lib.File())
		p.trt = t
	}
	return nil
}

// runner is what the pipeline needs of an engine, whichever the backend.
type runner interface {
	session.Runner
	calibrate.ObservedRunner
}

// runSpec is what a runner is made for, besides its precision.
type runSpec struct {
	precision precision.Precision
	// batch is the batch size: TensorRT fixes a dynamic batch dimension
	// to it (min = opt = max).
	batch int
	// observe asks for a runner that shows every tensor (calibration);
	// TensorRT engines cannot, so the CPU engine stands in for them.
	observe bool
	// cal is the calibration INT8 is built from.
	cal *Calibrated
}

// newRunner makes an engine of the loaded model on the backend.
func (p *Pipeline) newRunner(spec runSpec) (runner, error) {
	opts := engine.Options{Workers: p.opts.Workers, Precision: spec.precision, Exclude: p.opts.Exclude}
	if !spec.observe {
		opts.Log = p.log // the operators INT8 leaves in float
	}
	if spec.cal != nil {
		opts.Int8Scales = spec.cal.Scales()
	}
	switch name := p.opts.Backend.Name; {
	case name == TensorRT && !spec.observe:
		return p.newTensorRT(spec)
	case name == CUDA:
		if err := p.open(); err != nil {
			return nil, err
		}
		return p.gpu.NewEngine(p.graph, opts), nil
	}
	return engine.New(p.graph, opts), nil
}

// release frees an engine's device memory (nothing for the CPU engine).
func release(r runner) {
	if c, ok := r.(interface{ Close() error }); ok {
		c.Close()
	}
}

// findPlugin looks up a plugin in the search directories, pinned by the
// lock file in force.
func (p *Pipeline) findPlugin(kind pluginhost.Kind, name string) (pluginhost.Found, error) {
	lock, err := pluginhost.LoadLock(p.opts.PluginLock)
	if err != nil {
		return pluginhost.Found{}, err
	}
	f, err := pluginhost.Lookup(kind, name, pluginhost.SearchDirs(p.opts.PluginDir))
	if err != nil {
		return f, err
	}
	return lock.Pin(f)
}

// modelName is the model file's name without directory and extension, the
// "network name" of the sample's CalibrationTable<network>.
func modelName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// oneLine keeps multi-line errors readable in a one-line message by
// indenting continuation lines.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }
