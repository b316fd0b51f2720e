package engine

import (
	"fmt"

	"github.com/hashicorp/go-hclog"
	"sort"
	"strings"
	"sync"

	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// Options tune an Engine.
type Options struct {
	// Workers is the number of goroutines kernels use; 0 means one per CPU.
	Workers int
	// NoFusion keeps every operator separate even when nothing observes
	// the intermediate tensors (for debugging and for tests).
	NoFusion bool
	// WholeBatch makes Run compute a batch in one plan, every operator
	// spread over the workers, instead of splitting it into parts that
	// run side by side (see split.go).
	WholeBatch bool
	// Precision is the arithmetic of the run (FP32 by default). FP16
	// rounds weights to half precision when the plan is made, and the
	// input and every tensor an executed step produces (after fusion) as
	// they are written; kernels compute and accumulate in float32 on those
	// values. INT8 runs every Conv and fully connected Gemm whose input
	// has a calibrated scale with int8 operands and int32 accumulation
	// (core/qgemm): activations quantized per tensor, weights per output
	// channel, as TensorRT's implicit INT8; everything else stays FP32 and
	// is listed in the log.
	Precision precision.Precision
	// Int8Scales are the per-tensor activation scales (amax/127, as a
	// calibration table stores them) INT8 plans quantize with: the inputs
	// of Conv, ConvTranspose, Gemm and MatMul (both inputs of a MatMul of
	// two activations).
	Int8Scales map[string]float32
	// Exclude keeps the nodes it matches in FP32 in INT8 plans (mixed
	// precision); the caller has checked it against the graph
	// (precision.Exclusions.Check).
	Exclude precision.Exclusions
	// Log receives, for INT8 plans, the operators left in FP32 and why.
	Log hclog.Logger

	// noInt8Links keeps every tensor of an INT8 plan in float32 (tests
	// compare the linked plans against it).
	noInt8Links bool
	// channelsFirst keeps every tensor of an FP32 plan in the usual
	// layout (tests compare the channels-last stretches against it).
	channelsFirst bool
}

// Engine runs one graph. It is safe for concurrent use; each Plan is not.
type Engine struct {
	g    *graph.Graph
	opts Options

	mu     sync.Mutex
	plans  map[string]*Plan
	splits map[string]*batchSplit // by input shapes; nil: run whole (see split.go)
}

// New returns an engine for g.
func New(g *graph.Graph, opts Options) *Engine {
	if opts.Workers <= 0 {
		opts.Workers = parallel.Workers()
	}
	return &Engine{g: g, opts: opts, plans: map[string]*Plan{}, splits: map[string]*batchSplit{}}
}

// Graph returns the graph the engine runs.
func (e *Engine) Graph() *graph.Graph { return e.g }

// Observer receives every tensor of an observed run as soon as it is
// computed. The tensor's storage is reused later in the run: copy what
// must outlive the call.
type Observer = func(name string, t *tensor.Tensor)

// Run plans for the inputs' shapes (reusing a cached plan) and runs. The
// returned outputs belong to the plan and are overwritten by its next run.
// A batch the network computes image by image runs as parts side by side
// (split.go) unless Options.WholeBatch is set.
func (e *Engine) Run(inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	s, p, err := e.fusedFor(inputs)
	if err != nil {
		return nil, err
	}
	if s != nil {
		return s.run(inputs)
	}
	return p.Run(inputs, nil)
}

// RunObserved is Run with an observer called for every tensor.
func (e *Engine) RunObserved(inputs map[string]*tensor.Tensor, obs Observer) (map[string]*tensor.Tensor, error) {
	p, err := e.planFor(inputs, planObserved)
	if err != nil {
		return nil, err
	}
	return p.Run(inputs, obs)
}

// RunObservedChunks is RunObserved for a caller that can also take values
// in pieces: in an FP32 plan, each Relu runs together with the step that
// computes its input when that is the step right before it (an Add of
// two tensors of one shape then computes both tensors in one pass), and
// hands the values it computes to chunk, piece by piece, as it makes them,
// before obs sees the tensor whole; a Conv computing its input runs with
// it, the pass following the Conv's output as it is computed. Which tensors come through chunk does
// not change from run to run. Every tensor, and its values, are those
// RunObserved gives, observed by obs in the same order.
func (e *Engine) RunObservedChunks(inputs map[string]*tensor.Tensor, obs Observer, chunk ChunkObserver) (map[string]*tensor.Tensor, error) {
	p, err := e.planFor(inputs, planChained)
	if err != nil {
		return nil, err
	}
	p.chunk = chunk
	defer func() { p.chunk = nil }()
	return p.Run(inputs, obs)
}

// Workers returns the number of goroutines the kernels use (the bound on
// a chunk observer's worker index).
func (e *Engine) Workers() int { return e.opts.Workers }

func (e *Engine) planFor(inputs map[string]*tensor.Tensor, mode planMode) (*Plan, error) {
	shapes := shapesOf(inputs)
	key := shapeKey(shapes, mode)
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cachedPlan(shapes, key, mode)
}

// cachedPlan returns the plan cached under key, making it first if need
// be; e.mu is held.
func (e *Engine) cachedPlan(shapes map[string][]int, key string, mode planMode) (*Plan, error) {
	if p, ok := e.plans[key]; ok {
		return p, nil
	}
	p, err := e.plan(shapes, mode, e.opts.Workers)
	if err != nil {
		return nil, err
	}
	e.plans[key] = p
	return p, nil
}

// shapesOf returns the inputs' shapes by name.
func shapesOf(inputs map[string]*tensor.Tensor) map[string][]int {
	shapes := make(map[string][]int, len(inputs))
	for name, t := range inputs {
		shapes[name] = t.Shape
	}
	return shapes
}

func shapeKey(shapes map[string][]int, mode planMode) string {
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s%v;", n, shapes[n])
	}
	fmt.Fprint(&b, mode)
	return b.String()
}

// CheckInput reports whether a tensor of the given shape fits the model
// input name, naming both shapes when not.
func (e *Engine) CheckInput(name string, shape []int) error {
	for _, in := range e.g.Inputs {
		if in.Name != name {
			continue
		}
		if in.Shape == nil {
			return nil
		}
		ok := len(in.Shape) == len(shape)
		for i := 0; ok && i < len(shape); i++ {
			ok = in.Shape[i] < 0 || in.Shape[i] == shape[i]
		}
		if !ok {
			return fmt.Errorf("input %q of the model has shape %s, the data has %s", name, tensor.InputShapeString(in.Shape), tensor.InputShapeString(shape))
		}
		return nil
	}
	return fmt.Errorf("the model has no input %q (inputs: %s)", name, e.inputNames())
}

func (e *Engine) inputNames() string {
	var names []string
	for _, in := range e.g.Inputs {
		names = append(names, in.Name)
	}
	return strings.Join(names, ", ")
}
