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
type chainOp struct {
	plan  *Plan
	add   bool
	names []string // the outputs, for the chunk observer
	// input is the index of the input handed over in pieces too, named
	// inName, or -1.
	input  int
	inName string
}

// Infer is never called: a chainOp is made from steps already inferred.
func (c *chainOp) Infer([]ops.Meta, []*tensor.Tensor) ([]ops.Meta, error) {
	return nil, fmt.Errorf("engine: a chained step is not inferred")
}

func (c *chainOp) Run(ctx *ops.Ctx, in, out []*tensor.Tensor) error {
	chunk := c.plan.chunk
	o := out[len(out)-1].F32
	parallel.Each(len(o), ctx.Workers, func(w, lo, hi int) {
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
	})
	return nil
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
// that input is handed over in pieces too, and observed whole at the
// chainOp, just before the chainOp's outputs: the order of observation
// does not change. The steps stay in the same order and every tensor is
// still computed and observed.
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
				kept = append(kept, s)
				p.chainInput(kept)
				i++
				continue
			}
			r.op = &chainOp{plan: p, names: r.outputs[:1], input: -1}
		}
		kept = append(kept, s)
		p.chainInput(kept)
	}
	p.steps = kept
}

// chainInput makes the last step of kept, when it is a chainOp, take over
// the observation of an input that the step right before computes (one
// float32 output, not itself a chainOp's): that step is deferred, and the
// chainOp hands the input over in pieces and observes it first.
func (p *Plan) chainInput(kept []*step) {
	n := len(kept)
	c, ok := kept[n-1].op.(*chainOp)
	if !ok || n < 2 {
		return
	}
	prev := kept[n-2]
	if _, isChain := prev.op.(*chainOp); isChain || len(prev.outputs) != 1 || prev.metas[0].DType != tensor.Float32 {
		return
	}
	for k, in := range kept[n-1].inputs {
		if in == prev.outputs[0] {
			c.input, c.inName = k, in
			prev.deferred = true
			kept[n-1].observeFirst = []string{in}
			return
		}
	}
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
