package engine

import (
	"slices"
	"strings"

	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/tensor"
)

// channelsLast moves the stretches of a fused FP32 or FP16 plan where it
// pays to
// the channels-last layout (ops.ChannelsLastRole): chains of pointwise
// and depthwise convolutions, as in MobileNets, whose channels-last
// kernels need no packing of their input and no padded copies, with the
// elementwise operators, squeeze-and-excite scales and global poolings
// between them. A stretch is a set of such steps linked by the tensors
// they pass each other channels-last; it is moved when it holds a
// depthwise convolution and the values converted at its edges
// (ops.ToChannelsLast before it, ops.ToChannelsFirst after it) are at
// most a quarter of the values it computes. Measured on MobileNetV2 b32
// (2-core Xeon): see BENCHMARKS.md. The portable build, without the
// vector depthwise kernels the stretches are worth it for, keeps the
// usual layout.
//
// Converted tensors keep their names; a tensor a moved step writes
// channels-last is renamed name+"#nhwc" (read so by its stretch), and a
// conversion back to name is added before the first step that reads it
// otherwise (or at the end, for a graph output). Tensors converted into
// a stretch are name+"#nhwc" too.
//
// It returns the steps whose operators it replaced.
func (p *Plan) channelsLast(metas map[string]ops.Meta) (replaced []*step) {
	if gemm.CurrentImpl() == gemm.ImplGo {
		return nil
	}
	n := len(p.steps)
	roles := make([]*ops.LayoutRole, n)
	producer := map[string]int{}
	for i, s := range p.steps {
		for _, o := range s.outputs {
			producer[o] = i
		}
		if len(s.outputs) != 1 {
			continue
		}
		in := make([]ops.Meta, len(s.inputs))
		consts := make([]*tensor.Tensor, len(s.inputs))
		for j, name := range s.inputs {
			if name != "" {
				in[j], consts[j] = metas[name], p.consts[name]
			}
		}
		if r, ok := ops.ChannelsLastRole(s.op, in, consts); ok {
			roles[i] = &r
		}
	}
	// lastOut reports whether step k, if moved, writes channels-last.
	lastOut := func(k int) bool { return roles[k] != nil && roles[k].Output }
	// Stretches: union-find over the candidates, linked by the tensors
	// one writes and another reads channels-last.
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
	for i, s := range p.steps {
		if roles[i] == nil {
			continue
		}
		for _, j := range roles[i].Inputs {
			if k, ok := producer[s.inputs[j]]; ok && lastOut(k) {
				parent[find(k)] = find(i)
			}
		}
	}
	// What each stretch computes and converts, in values.
	size := func(name string) int { return tensor.NumElements(metas[name].Shape) }
	computed, converted := map[int]int{}, map[int]int{}
	depthwise := map[int]bool{}
	type entry struct {
		stretch int
		name    string
	}
	into := map[entry]bool{} // tensors converted into each stretch
	readsLast := func(i, j int) bool { return roles[i] != nil && slices.Contains(roles[i].Inputs, j) }
	for i, s := range p.steps {
		if roles[i] == nil {
			continue
		}
		r := find(i)
		computed[r] += size(s.outputs[0])
		if s.node.OpType == "Conv" && isDepthwise(s, metas) {
			depthwise[r] = true
		}
		for _, j := range roles[i].Inputs {
			name := s.inputs[j]
			if k, ok := producer[name]; ok && lastOut(k) && find(k) == r {
				continue
			}
			if e := (entry{r, name}); !into[e] {
				into[e] = true
				converted[r] += size(name)
			}
		}
	}
	back := map[string]bool{} // channels-last tensors read otherwise
	convertBack := func(name string, k int) {
		if !back[name] {
			back[name] = true
			converted[find(k)] += size(name)
		}
	}
	for i, s := range p.steps {
		for j, name := range s.inputs {
			if k, ok := producer[name]; ok && lastOut(k) && !(readsLast(i, j) && find(i) == find(k)) {
				convertBack(name, k)
			}
		}
	}
	for _, name := range p.outputs {
		if k, ok := producer[name]; ok && lastOut(k) {
			convertBack(name, k)
		}
	}
	moved := func(i int) bool {
		if roles[i] == nil {
			return false
		}
		r := find(i)
		return depthwise[r] && 4*converted[r] <= computed[r]
	}
	// Rewrite: the moved steps run their channels-last operators on the
	// renamed tensors, with the conversions added where they are read.
	renamed := map[string]bool{} // tensors a moved step writes channels-last
	copies := map[string]bool{}  // tensors that get a channels-last copy
	for i, s := range p.steps {
		if !moved(i) {
			continue
		}
		if roles[i].Output {
			renamed[s.outputs[0]] = true
			copies[s.outputs[0]] = true
		}
		for _, j := range roles[i].Inputs {
			copies[s.inputs[j]] = true
		}
	}
	for name := range copies {
		if _, taken := metas[name+layoutSuffix]; taken {
			return nil // a model's own tensor has the copy's name: keep the usual layout
		}
	}
	var steps []*step
	convertedIn := map[string]bool{}
	convertedBack := map[string]bool{}
	convert := func(op ops.Op, opType, from, to string) {
		m := metas[from]
		metas[to] = m
		node := &graph.Node{Name: to, OpType: opType, Inputs: []string{from}, Outputs: []string{to}}
		steps = append(steps, &step{node: node, op: op, inputs: node.Inputs, outputs: node.Outputs, metas: []ops.Meta{m}})
	}
	toFirst := func(name string) {
		if renamed[name] && !convertedBack[name] {
			convertedBack[name] = true
			convert(ops.ToChannelsFirst(), "ToChannelsFirst", name+layoutSuffix, name)
		}
	}
	for i, s := range p.steps {
		if !moved(i) {
			for _, name := range s.inputs {
				toFirst(name)
			}
			steps = append(steps, s)
			continue
		}
		s.op = roles[i].Op
		replaced = append(replaced, s)
		s.inputs = append([]string(nil), s.inputs...) // the graph's node keeps its own
		for j, name := range s.inputs {
			if !slices.Contains(roles[i].Inputs, j) {
				toFirst(name)
				continue
			}
			if !renamed[name] && !convertedIn[name] {
				convertedIn[name] = true
				convert(ops.ToChannelsLast(), "ToChannelsLast", name, name+layoutSuffix)
			}
			s.inputs[j] = name + layoutSuffix
		}
		if roles[i].Output {
			metas[s.outputs[0]+layoutSuffix] = metas[s.outputs[0]]
			s.outputs[0] += layoutSuffix
		}
		steps = append(steps, s)
	}
	for _, name := range p.outputs {
		toFirst(name)
	}
	p.steps = steps
	return replaced
}

// layoutSuffix ends the names of the channels-last copies of tensors.
const layoutSuffix = "#nhwc"

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
		if len(s.outputs) == 1 && strings.HasSuffix(s.outputs[0], layoutSuffix) {
			most = max(most, s.metas[0].Bytes())
		}
	}
	return most
}
