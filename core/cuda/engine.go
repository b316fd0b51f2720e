package cuda

import (
	"fmt"

	"github.com/hashicorp/go-hclog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/stats"
	"github.com/int8cal/int8cal/core/tensor"
)

// Engine runs one graph on the backend's GPU in one precision. Options
// are the CPU engine's: Precision, Int8Scales, NoFusion and Log apply,
// Workers does not. An Engine is not safe for concurrent use.
type Engine struct {
	b     *Backend
	g     *graph.Graph
	cpu   *engine.Engine // for its schedule: folding and shapes
	opts  engine.Options
	plans map[string]*plan
	// the plan planFor returned last, for the inputs' shapes: the next
	// batch of a loop finds it without building the map key
	last         *plan
	lastObserved bool
	lastShapes   map[string][]int
}

// NewEngine returns an engine for g.
func (b *Backend) NewEngine(g *graph.Graph, opts engine.Options) *Engine {
	return &Engine{b: b, g: g, cpu: engine.New(g, engine.Options{Workers: 1}), opts: opts, plans: map[string]*plan{}}
}

func (e *Engine) opset() int64 { return e.g.Opset }

func (e *Engine) log() hclog.Logger {
	if e.opts.Log == nil {
		return hclog.NewNullLogger()
	}
	return e.opts.Log
}

// planFor returns the plan for the inputs' shapes, lowering it the first
// time. The caller is inside the context.
func (e *Engine) planFor(inputs map[string]*tensor.Tensor, observed bool) (*plan, error) {
	if e.last != nil && e.lastObserved == observed && len(inputs) == len(e.lastShapes) {
		same := true
		for name, t := range inputs {
			if s, ok := e.lastShapes[name]; !ok || !slices.Equal(s, t.Shape) {
				same = false
				break
			}
		}
		if same {
			return e.last, nil
		}
	}
	shapes := map[string][]int{}
	var keys []string
	for name, t := range inputs {
		shapes[name] = t.Shape
		keys = append(keys, name+tensor.ShapeString(t.Shape))
	}
	sort.Strings(keys)
	key := fmt.Sprint(observed, strings.Join(keys, ","))
	p, ok := e.plans[key]
	if !ok {
		var err error
		if p, err = e.newPlan(shapes, observed); err != nil {
			return nil, err
		}
		e.plans[key] = p
	}
	for name, s := range shapes {
		shapes[name] = slices.Clone(s) // the caller's tensors may be reshaped later
	}
	e.last, e.lastObserved, e.lastShapes = p, observed, shapes
	return p, nil
}

// executed enters the context, plans for the inputs' shapes, uploads the
// inputs and queues the plan, then hands the plan to then.
func (e *Engine) executed(inputs map[string]*tensor.Tensor, observed bool, then func(*plan) error) error {
	leave, err := e.b.enter()
	if err != nil {
		return err
	}
	defer leave()
	p, err := e.planFor(inputs, observed)
	if err != nil {
		return err
	}
	if err := p.execute(inputs); err != nil {
		return err
	}
	return then(p)
}

// MakePlan lowers the graph for the inputs' shapes (tactics timed,
// buffers allocated) ahead of the first Run (session.Planner).
func (e *Engine) MakePlan(inputs map[string]*tensor.Tensor) error {
	leave, err := e.b.enter()
	if err != nil {
		return err
	}
	defer leave()
	_, err = e.planFor(inputs, false)
	return err
}

// InputBuffer returns the page-locked buffer from which Run uploads
// float32 input name for the last plan made (session.Stager): values
// written there before Run need no copy. nil when there is no such input
// or Run does not stage (page-locked memory refused). It stays valid until
// Close.
func (e *Engine) InputBuffer(name string) []float32 {
	leave, err := e.b.enter()
	if err != nil {
		return nil
	}
	defer leave()
	if e.last == nil || e.lastObserved {
		return nil
	}
	return e.last.inputBuffer(name)
}

// Run computes the graph's outputs. They belong to the engine and are
// overwritten by its next run.
func (e *Engine) Run(inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	leave, err := e.b.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	p, err := e.planFor(inputs, false)
	if err != nil {
		return nil, err
	}
	return p.run(inputs)
}

// RunObserved runs without fusion and shows obs every tensor, copied to
// the host (the slow path, for tools that need the values; calibration
// uses RunStatistics).
func (e *Engine) RunObserved(inputs map[string]*tensor.Tensor, obs engine.Observer) (out map[string]*tensor.Tensor, err error) {
	err = e.executed(inputs, true, func(p *plan) error {
		for _, name := range append(append([]string(nil), p.inputs...), p.shown...) {
			t, err := p.fetch(name)
			if err != nil {
				return err
			}
			obs(name, t)
		}
		out, err = p.outputsToHost()
		return err
	})
	return out, err
}

// RunStatistics implements stats.Runner: the statistics of every tensor
// are gathered on the GPU and only they are copied back.
func (e *Engine) RunStatistics(inputs map[string]*tensor.Tensor, need calib.Info, emit func(stats.Tensor) error) error {
	return e.executed(inputs, true, func(p *plan) error { return p.statistics(need, emit) })
}

// Throughput uploads inputs once, then runs the graph iterations times
// on them and returns the time per run: the GPU's compute time without
// the host transfers that Run includes.
func (e *Engine) Throughput(inputs map[string]*tensor.Tensor, iterations int) (per time.Duration, err error) {
	err = e.executed(inputs, false, func(p *plan) error {
		if err := e.b.Driver.Synchronize(); err != nil {
			return err
		}
		per, err = p.timeReplays(iterations)
		return err
	})
	return per, err
}

// Profile runs the plan for inputs operation by operation, each timed
// alone over iterations runs, and returns the time per run of each kind
// of operation (kernel names, "matmul" for cuBLASLt): where a run's time
// goes.
func (e *Engine) Profile(inputs map[string]*tensor.Tensor, iterations int) (times map[string]time.Duration, err error) {
	err = e.executed(inputs, false, func(p *plan) error {
		times, err = p.profile(iterations)
		return err
	})
	return times, err
}

// Close frees the engine's device memory.
func (e *Engine) Close() error {
	leave, err := e.b.enter()
	if err != nil {
		return err
	}
	defer leave()
	for k, p := range e.plans {
		p.free()
		delete(e.plans, k)
	}
	e.last, e.lastShapes = nil, nil
	return nil
}
