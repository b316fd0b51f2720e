package engine

import (
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/tensor"
)

// WithoutInt8Links returns o for a plan that keeps every tensor in
// float32 (the reference the linked plans are compared against).
func WithoutInt8Links(o Options) Options {
	o.noInt8Links = true
	return o
}

// Int8Linked returns how many tensors the plan keeps in int8.
func Int8Linked(p *Plan) int { return len(p.linked) }

// Int8Blocked returns how many of them it interleaves in blocks of four
// channels.
func Int8Blocked(p *Plan) int { return p.blocked }

// ChainedProducers returns, for the chunk-observed plan of these inputs,
// how many chained steps run their input's producer themselves (chainOp's
// producer) and how many steps leave the observation of their output to
// the next one (deferred).
func ChainedProducers(e *Engine, inputs map[string]*tensor.Tensor) (merged, deferred int, err error) {
	p, err := e.planFor(inputs, planChained)
	if err != nil {
		return 0, 0, err
	}
	for _, s := range p.steps {
		if c, ok := s.op.(*chainOp); ok && c.producer != nil {
			merged++
		}
		if s.deferred {
			deferred++
		}
	}
	return merged, deferred, nil
}

// SplitParts returns into how many parts Run splits a batch of these
// inputs (split.go), or 0 and why it runs the batch whole.
func SplitParts(e *Engine, inputs map[string]*tensor.Tensor) (int, error) {
	s, why := e.newSplit(shapesOf(inputs))
	if s == nil {
		return 0, why
	}
	return len(s.parts), nil
}

// WithChannelsFirst returns o for a plan that keeps every tensor in the
// usual layout (the reference the channels-last stretches are compared
// against).
func WithChannelsFirst(o Options) Options {
	o.channelsFirst = true
	return o
}

// ChannelsLastSteps returns how many steps of the plans Run runs for
// these inputs (the first part's, where it splits) compute channels-last,
// and how many images those plans run at a time.
func ChannelsLastSteps(e *Engine, inputs map[string]*tensor.Tensor) (steps, chunk int, err error) {
	s, p, err := e.fusedFor(inputs)
	if err != nil {
		return 0, 0, err
	}
	chunk = inputs[e.g.Inputs[0].Name].Shape[0]
	if s != nil {
		p, chunk = s.parts[0].plan, s.parts[0].chunk
	}
	for _, st := range p.steps {
		if ops.IsChannelsLast(st.op) {
			steps++
		}
	}
	return steps, chunk, nil
}
