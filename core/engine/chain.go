package engine

import (
	"fmt"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/tensor"
)

// ChunkObserver receives, during an observed run, the values of the
// tensors that a chained step computes (see RunObservedChunks) piece by
// piece, while they are still in the cache of the core that computed
// them: worker is the goroutine's index in [0, Workers()), and calls with
// one worker index never overlap, so the receiver can keep one partial
// result per worker without locks. The pieces of one tensor in one run
// partition its values.
type ChunkObserver = func(worker int, name string, values []float32)

// chainPiece is how many values of each tensor a chained step computes
// before handing them to the chunk observer: small enough to stay in the
// core's first-level cache between computing and observing them.
const chainPiece = 4096

// chainOp computes, for a chunk-observed plan, an Add followed by a Relu
// of its result (add) or a Relu alone, in one pass over the values that
// hands every piece of its outputs to the plan's chunk observer, and of
// one input when the step right before computed it (input >= 0). It
// computes what the two unfused operators compute (core/ops's same-shape
// Add, a[i] = x[i] + y[i]; Relu, Go's max(v, 0)) bit for bit (chainGo,
// and vector kernels that follow it), so statistics and tables do not
// change; the observer still sees every tensor whole after the step.
//
// When that step's operator can report its output as it computes it
// (ops.ProgressRunner: a Conv), the chainOp runs it too (producer), and
// the pass runs on each part of the input as soon as the producer
// reports it, while it is still in the cache of the core that computed
// it: no separate pass reads the tensors back. The step's inputs are
// then the producer's nIn inputs followed by the chainOp's, its outputs
// the producer's one followed by the chainOp's.
type chainOp struct {
	plan  *Plan
	add   bool
	names []string // the outputs, for the chunk observer
	// input is the index of the input handed over in pieces too, named
	// inName, or -1.
	input  int
	inName string
	// producer computes that input, or is nil (a chainOp of its own).
	producer ops.ProgressRunner
	nIn      int
}

// Infer is never called: a chainOp is made from steps already inferred.
func (c *chainOp) Infer([]ops.Meta, []*tensor.Tensor) ([]ops.Meta, error) {
	return nil, fmt.Errorf("engine: a chained step is not inferred")
}

func (c *chainOp) Run(ctx *ops.Ctx, in, out []*tensor.Tensor) error {
	if c.producer == nil {
		parallel.Each(len(out[len(out)-1].F32), ctx.Workers, func(w, lo, hi int) { c.pass(w, lo, hi, in, out) })
		return nil
	}
	own, ownOut := in[c.nIn:], out[1:]
	return c.producer.RunProgress(ctx, in[:c.nIn], out[:1], func(w, lo, hi int) { c.pass(w, lo, hi, own, ownOut) })
}

// Memory is the producer's (ops.MemoryUser), for the plan's budget: the
// pass itself keeps nothing.
func (c *chainOp) Memory(in []ops.Meta, workers int) (prepared, working int64, err error) {
	if mu, ok := c.producer.(ops.MemoryUser); ok {
		return mu.Memory(in[:c.nIn], workers)
	}
	return 0, 0, nil
}

// pass computes values [lo, hi) of the outputs from the inputs (the
// chainOp's own) as worker w, piece by piece, handing each piece to the
// chunk observer.
func (c *chainOp) pass(w, lo, hi int, in, out []*tensor.Tensor) {
	chunk := c.plan.chunk
	o := out[len(out)-1].F32
	for ; lo < hi; lo += chainPiece {
		end := min(hi, lo+chainPiece)
		var a, y []float32
		if c.add {
			a, y = out[0].F32[lo:end], in[1].F32[lo:end]
		}
		chainValues(a, o[lo:end], in[0].F32[lo:end], y)
		if chunk == nil {
			continue
		}
		if c.input >= 0 {
			chunk(w, c.inName, in[c.input].F32[lo:end])
		}
		if c.add {
			chunk(w, c.names[0], a)
		}
		chunk(w, c.names[len(c.names)-1], o[lo:end])
	}
}

// chainGo computes o[i] = max(v, 0) for v = x[i] when a is nil, else
// for v = x[i] + y[i], also stored in a[i]: core/ops's Relu and same-shape
// Add. The vector kernels (chainValues) follow it bit for bit, but for
// the NaN an addition of two NaNs returns, which IEEE leaves open (the
// first operand's here, either one in compiled Go).
func chainGo(a, o, x, y []float32) {
	if a == nil {
		x = x[:len(o)]
		for i, v := range x {
			o[i] = max(v, 0)
		}
		return
	}
	a, x, y = a[:len(o)], x[:len(o)], y[:len(o)]
	for i := range o {
		v := x[i] + y[i]
		a[i] = v
		o[i] = max(v, 0)
	}
}

// chain merges, in a plan that observes every tensor, each Relu with the
// step right before it when that step produces its input: an Add of two
// float tensors of its output's shape becomes one chainOp computing both
// tensors, any other producer keeps its step and the Relu becomes a
// chainOp alone. When the step before a chainOp computes one of its
// inputs (a Conv before its Relu, or before the Add of a residual block),
// that input is handed over in pieces too (chainInput). The steps stay
// in the same order, every tensor is still computed, and observed in the
// same order.
func (p *Plan) chain(metas map[string]ops.Meta) {
	var kept []*step
	for i := 0; i < len(p.steps); i++ {
		s := p.steps[i]
		if i+1 < len(p.steps) && isRelu(p.steps[i+1], metas) && len(s.outputs) == 1 && p.steps[i+1].inputs[0] == s.outputs[0] {
			r := p.steps[i+1]
			if p.sameShapeAdd(s, metas) {
				s.op = &chainOp{plan: p, add: true, names: []string{s.outputs[0], r.outputs[0]}, input: -1}
				s.outputs = append(s.outputs, r.outputs[0])
				s.metas = append(s.metas[:1:1], r.metas[0])
				s.fused = r.node.Name
				kept = p.chainInput(append(kept, s))
				i++
				continue
			}
			r.op = &chainOp{plan: p, names: r.outputs[:1], input: -1}
		}
		kept = p.chainInput(append(kept, s))
	}
	p.steps = kept
}

// chainInput makes the last step of kept, when it is a chainOp, take over
// the observation of an input that the step right before computes (one
// float32 output, not itself a chainOp's), and returns kept. When that
// step's operator is an ops.ProgressRunner, the chainOp runs it (see
// chainOp) and the two steps become one, which observes that input
// first; otherwise that step is deferred, and the chainOp observes the
// input first, before its own outputs.
func (p *Plan) chainInput(kept []*step) []*step {
	n := len(kept)
	if n < 2 {
		return kept
	}
	s, prev := kept[n-1], kept[n-2]
	c, ok := s.op.(*chainOp)
	if !ok {
		return kept
	}
	if _, isChain := prev.op.(*chainOp); isChain || len(prev.outputs) != 1 || prev.metas[0].DType != tensor.Float32 {
		return kept
	}
	for k, in := range s.inputs {
		if in != prev.outputs[0] {
			continue
		}
		c.input, c.inName = k, in
		if pr, ok := prev.op.(ops.ProgressRunner); ok {
			c.producer, c.nIn = pr, len(prev.inputs)
			prev.op = c
			prev.inputs = append(prev.inputs[:len(prev.inputs):len(prev.inputs)], s.inputs...)
			prev.outputs = append(prev.outputs, s.outputs...)
			prev.metas = append(prev.metas[:1:1], s.metas...)
			prev.fused = s.node.Name
			if s.fused != "" {
				prev.fused = s.fused
			}
			return kept[:n-1]
		}
		prev.deferred = true
		s.observeFirst = []string{in}
		return kept
	}
	return kept
}

// isRelu reports whether s is a Relu of one float32 tensor.
func isRelu(s *step, metas map[string]ops.Meta) bool {
	act, ok := activationOf(s)
	return ok && act.Kind == ops.ReluActivation && s.node.OpType == "Relu" && len(s.inputs) == 1 &&
		metas[s.inputs[0]].DType == tensor.Float32 && s.metas[0].DType == tensor.Float32
}

// sameShapeAdd reports whether s adds two float32 tensors of its output's
// shape (no broadcasting), computed or constant.
func (p *Plan) sameShapeAdd(s *step, metas map[string]ops.Meta) bool {
	if s.node.OpType != "Add" || len(s.inputs) != 2 || len(s.outputs) != 1 || s.metas[0].DType != tensor.Float32 {
		return false
	}
	for _, in := range s.inputs {
		m, ok := metas[in]
		if in == "" || !ok || m.DType != tensor.Float32 || !tensor.EqualShape(m.Shape, s.metas[0].Shape) {
			return false
		}
	}
	return true
}
