package engine

import (
	"math"

	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/tensor"
)

// fuseGelu replaces the GELU that exporters write for opsets before 20,
// five operators over the whole tensor (PyTorch's exporter for
// nn.GELU: Div by √2, Erf, Add 1, Mul by the input, Mul by 0.5, either
// operand order of each), by one Gelu step that reads the input once and
// computes 0.5·x·(1 + erf(x/√2)) in float64, rounding once (ONNX
// Runtime's graph optimizer fuses the same pattern). The intermediate
// tensors must have no other reader and not be graph outputs; they
// disappear from the plan, so plans that observe tensors do not fuse.
func (p *Plan) fuseGelu(metas map[string]ops.Meta) {
	readers := map[string][]int{}
	for i, s := range p.steps {
		for _, in := range s.inputs {
			readers[in] = append(readers[in], i)
		}
	}
	for _, o := range p.outputs {
		readers[o] = append(readers[o], -1)
	}
	producer := map[string]int{}
	for i, s := range p.steps {
		for _, o := range s.outputs {
			producer[o] = i
		}
	}
	// only returns the step that alone reads tensor name, if it is an
	// opType with one output.
	only := func(name, opType string) (int, bool) {
		r := readers[name]
		if len(r) != 1 || r[0] < 0 {
			return 0, false
		}
		s := p.steps[r[0]]
		return r[0], s.node.OpType == opType && len(s.inputs) == 2 && len(s.outputs) == 1
	}
	// other returns the input of the two-input step s that is not name.
	other := func(s *step, name string) string {
		if s.inputs[0] == name {
			return s.inputs[1]
		}
		return s.inputs[0]
	}
	remove := map[int]bool{}
	for ie, e := range p.steps {
		if e.node.OpType != "Erf" || len(e.inputs) != 1 || len(e.outputs) != 1 {
			continue
		}
		id, ok := producer[e.inputs[0]]
		div := p.steps[id]
		if !ok || div.node.OpType != "Div" || len(div.inputs) != 2 || len(readers[e.inputs[0]]) != 1 ||
			!p.scalarNear(div.inputs[1], math.Sqrt2) {
			continue
		}
		x := div.inputs[0]
		ia, ok := only(e.outputs[0], "Add")
		if !ok || !p.scalarNear(other(p.steps[ia], e.outputs[0]), 1) {
			continue
		}
		im, ok := only(p.steps[ia].outputs[0], "Mul")
		if !ok || other(p.steps[im], p.steps[ia].outputs[0]) != x {
			continue
		}
		ih, ok := only(p.steps[im].outputs[0], "Mul")
		half := p.steps[ih]
		if !ok || !p.scalarNear(other(half, p.steps[im].outputs[0]), 0.5) {
			continue
		}
		if in, out := metas[x], metas[half.outputs[0]]; in.DType != tensor.Float32 || !tensor.EqualShape(in.Shape, out.Shape) {
			continue
		}
		node := &graph.Node{Name: half.node.Name, OpType: "Gelu", Inputs: []string{x}, Outputs: half.outputs}
		op, err := ops.Build(&onnx.Node{Name: node.Name, OpType: "Gelu"}, 20)
		if err != nil { // Gelu is always registered: nothing to fuse into otherwise
			continue
		}
		p.steps[ih] = &step{node: node, op: op, inputs: node.Inputs, outputs: half.outputs, metas: half.metas, fused: e.node.Name}
		for _, i := range []int{id, ie, ia, im} {
			remove[i] = true
		}
	}
	if len(remove) == 0 {
		return
	}
	kept := p.steps[:0]
	for i, s := range p.steps {
		if !remove[i] {
			kept = append(kept, s)
		}
	}
	p.steps = kept
}

// scalarNear reports whether name is a constant of one float32 element
// within 1e-6 relative of v.
func (p *Plan) scalarNear(name string, v float64) bool {
	c := p.consts[name]
	if c == nil || c.DType != tensor.Float32 || len(c.F32) != 1 {
		return false
	}
	return math.Abs(float64(c.F32[0])-v) <= 1e-6*v
}
