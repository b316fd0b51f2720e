package engine

import (
	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/tensor"
)

// channelsLast moves the stretches of a fused FP32 plan where it pays to
// the channels-last layout (ops.ChannelsLast): chains of pointwise and
// depthwise convolutions, as in MobileNets, whose channels-last kernels
// need no per-call packing of their input and no padded copies. Each
// stretch is a set of convolutions linked by the tensors they pass each
// other (input or fused residual); it is moved when it holds a depthwise
// convolution and the values converted at its edges (ops.ToChannelsLast
// before it, ops.ToChannelsFirst after it) are at most a quarter of the
// values it computes. Measured on MobileNetV2 b32 (2-core Xeon): see
// BENCHMARKS.md. The portable build, without the vector depthwise
// kernels the stretches are worth it for, keeps the usual layout.
//
// Converted tensors keep their names; a stretch's own outputs are
// renamed name+"#nhwc" (read so by the stretch), and a conversion back
// to name is added before the first step outside the stretch that reads
// it (or at the end, for a graph output). Tensors converted into a
// stretch are name+"#nhwc" too.
//
// It returns the steps whose operators it replaced.
func (p *Plan) channelsLast(metas map[string]ops.Meta) (replaced []*step) {
	if gemm.CurrentImpl() == gemm.ImplGo {
		return nil
	}
	n := len(p.steps)
	last := make([]ops.Op, n)
	producer := map[string]int{}
	for i, s := range p.steps {
		for _, o := range s.outputs {
			producer[o] = i
		}
		in := make([]ops.Meta, len(s.inputs))
		consts := make([]*tensor.Tensor, len(s.inputs))
		for j, name := range s.inputs {
			if name != "" {
				in[j], consts[j] = metas[name], p.consts[name]
			}
		}
		last[i] = ops.ChannelsLast(s.op, in, consts)
	}
	// Stretches: union-find over the candidates, linked by the tensors
	// they read channels-last (input 0, the fused residual 3).
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	layoutInputs := func(s *step) []int {
		if len(s.inputs) > 3 {
			return []int{0, 3}
		}
		return []int{0}
	}
	for i, s := range p.steps {
		if last[i] == nil {
			continue
		}
		for _, j := range layoutInputs(s) {
			if k, ok := producer[s.inputs[j]]; ok && last[k] != nil {
				parent[find(k)] = find(i)
			}
		}
	}
	// What each stretch computes and converts, in values.
	computed, converted := map[int]int{}, map[int]int{}
	depthwise := map[int]bool{}
	type entry struct {
		stretch int
		name    string
	}
	into := map[entry]bool{} // tensors converted into each stretch
	outputs := map[string]bool{}
	for _, o := range p.outputs {
		outputs[o] = true
	}
	for i, s := range p.steps {
		size := func(name string) int { return tensor.NumElements(metas[name].Shape) }
		if last[i] != nil {
			r := find(i)
			computed[r] += size(s.outputs[0])
			if s.node.OpType == "Conv" && len(s.metas) > 0 && isDepthwise(s, metas) {
				depthwise[r] = true
			}
			for _, j := range layoutInputs(s) {
				name := s.inputs[j]
				if k, ok := producer[name]; ok && last[k] != nil && find(k) == r {
					continue
				}
				if e := (entry{r, name}); !into[e] {
					into[e] = true
					converted[r] += size(name)
				}
			}
		}
	}
	back := map[string]bool{} // stretch outputs read outside it
	for i, s := range p.steps {
		for j, name := range s.inputs {
			k, ok := producer[name]
			if !ok || last[k] == nil {
				continue
			}
			inside := last[i] != nil && find(i) == find(k) && (j == 0 || j == 3)
			if !inside && !back[name] {
				back[name] = true
				converted[find(k)] += tensor.NumElements(metas[name].Shape)
			}
		}
	}
	for name := range outputs {
		if k, ok := producer[name]; ok && last[k] != nil && !back[name] {
			back[name] = true
			converted[find(k)] += tensor.NumElements(metas[name].Shape)
		}
	}
	moved := func(i int) bool {
		if last[i] == nil {
			return false
		}
		r := find(i)
		return depthwise[r] && 4*converted[r] <= computed[r]
	}
	// Rewrite: the moved steps run their channels-last operators on the
	// renamed tensors, with the conversions added where they are read.
	const suffix = "#nhwc"
	renamed := map[string]bool{} // tensors computed channels-last by a moved step
	for i, s := range p.steps {
		if moved(i) {
			renamed[s.outputs[0]] = true
		}
	}
	var steps []*step
	lastIn := map[string]bool{}  // tensors already converted in
	firstIn := map[string]bool{} // renamed tensors already converted back
	convert := func(op ops.Op, opType, from, to string) {
		m := metas[from]
		metas[to] = m
		node := &graph.Node{Name: to, OpType: opType, Inputs: []string{from}, Outputs: []string{to}}
		steps = append(steps, &step{node: node, op: op, inputs: node.Inputs, outputs: node.Outputs, metas: []ops.Meta{m}})
	}
	for i, s := range p.steps {
		if moved(i) {
			s.op = last[i]
			replaced = append(replaced, s)
			s.inputs = append([]string(nil), s.inputs...) // the graph's node keeps its own
			for _, j := range layoutInputs(s) {
				name := s.inputs[j]
				if !renamed[name] && !lastIn[name] {
					lastIn[name] = true
					convert(ops.ToChannelsLast(), "ToChannelsLast", name, name+suffix)
				}
				s.inputs[j] = name + suffix
			}
			metas[s.outputs[0]+suffix] = metas[s.outputs[0]]
			s.outputs[0] += suffix
		} else {
			for _, name := range s.inputs {
				if renamed[name] && !firstIn[name] {
					firstIn[name] = true
					convert(ops.ToChannelsFirst(), "ToChannelsFirst", name+suffix, name)
				}
			}
		}
		steps = append(steps, s)
	}
	for name := range outputs {
		if renamed[name] && !firstIn[name] {
			firstIn[name] = true
			convert(ops.ToChannelsFirst(), "ToChannelsFirst", name+suffix, name)
		}
	}
	p.steps = steps
	return replaced
}

// isDepthwise reports whether Conv step s has one input channel a group
// (its weights [M, 1, KH, KW] on an input of M channels).
func isDepthwise(s *step, metas map[string]ops.Meta) bool {
	if len(s.inputs) < 2 {
		return false
	}
	x, w := metas[s.inputs[0]].Shape, metas[s.inputs[1]].Shape
	return len(x) == 4 && len(w) == 4 && w[1] == 1 && w[0] == x[1] && x[1] > 1
}

// channelsLastBytes returns the bytes of the largest tensor a
// channels-last step of the plan writes, or 0 where it has none.
func (p *Plan) channelsLastBytes() int64 {
	var most int64
	for _, s := range p.steps {
		switch s.node.OpType {
		case "ToChannelsFirst":
			continue
		case "ToChannelsLast":
		default:
			if !ops.IsChannelsLast(s.op) {
				continue
			}
		}
		most = max(most, s.metas[0].Bytes())
	}
	return most
}
