package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/memlimit"
)

// Plan is an executable schedule for fixed input shapes.
type Plan struct {
	engine  *Engine
	inputs  []graph.Value
	steps   []*step
	consts  map[string]*tensor.Tensor
	slots   []*tensor.Tensor // reusable storage, one per buffer slot
	values  map[string]*tensor.Tensor
	outputs []string
	ctx     ops.Ctx
	// half is set for FP16 plans; input holds the rounded copy of each
	// graph input.
	half  bool
	input map[string]*tensor.Tensor
	// int8 are the steps quantize gave an integer kernel, in plan order.
	int8 []Int8Layer
	// linked are the tensors held in int8 between INT8 layers (linkInt8),
	// blocked how many of them are interleaved in blocks of four channels
	// (blockInt8).
	linked  map[string]bool
	blocked int
	// chunk is the chunk observer of the run in progress (chained plans,
	// see RunObservedChunks), read by their chainOp steps.
	chunk ChunkObserver
}

// Int8Layer is a node an INT8 plan runs with an integer kernel, and the
// activation tensors it quantizes with their calibrated scales.
type Int8Layer struct {
	Node   *graph.Node
	Inputs []string
}

// Int8Layers lists the nodes the plan runs in INT8, in plan order (none
// for other precisions): the one statement of which layers a table and
// exclusions quantize, for tools that compare them (core/layererr).
func (p *Plan) Int8Layers() []Int8Layer { return p.int8 }

type step struct {
	node    *graph.Node
	op      ops.Op
	inputs  []string
	outputs []string // after fusion, the fused activation's output
	metas   []ops.Meta
	fused   string // the fused activation node's name, for messages
	// In chained plans (see chain): deferred steps leave the observation
	// of their output to the next step, which observes the tensors in
	// observeFirst before its own outputs.
	deferred     bool
	observeFirst []string
	// alias: the output is bound to input 0's storage (a valueMover
	// whose input 0 is a computed tensor): Run has nothing to do.
	alias bool
}

// valueMover is an operator whose output is its input's values in their
// order (Reshape, Flatten, Squeeze, Unsqueeze).
type valueMover interface{ MovesValues() bool }

// Plan builds a schedule for the given input shapes. observed plans keep
// every tensor (no fusion).
//
// Everything the plan allocates is counted against the graph's memory
// budget first, on top of the graph's constants: values folded for these
// shapes, FP16 copies, packed weights, operators' working memory and the
// buffers (see countMemory).
func (e *Engine) Plan(shapes map[string][]int, observed bool) (*Plan, error) {
	mode := planFused
	if observed {
		mode = planObserved
	}
	return e.plan(shapes, mode, e.opts.Workers)
}

// planMode says what a plan is for.
type planMode int

const (
	planFused    planMode = iota // Run: fusion, intermediates not observable
	planObserved                 // RunObserved: every tensor, no fusion
	planChained                  // RunObservedChunks: every tensor, Relus chained (see chain)
)

func (e *Engine) plan(shapes map[string][]int, mode planMode, workers int) (*Plan, error) {
	observed := mode != planFused
	half := e.opts.Precision == precision.FP16
	acct := e.g.Budget.Account(e.g.ConstantBytes())
	sc, err := e.schedule(shapes, half, acct)
	if err != nil {
		return nil, err
	}
	p := &Plan{engine: e, inputs: sc.Inputs, consts: sc.Consts, values: map[string]*tensor.Tensor{}, ctx: ops.Ctx{Workers: workers}, half: half, outputs: sc.Outputs}
	metas := sc.Metas
	if half {
		for _, in := range sc.Inputs {
			if m := metas[in.Name]; m.DType.IsFloat() {
				if err := acct.Take(m.Bytes(), "the FP16 copy of input "+m.Named(in.Name)); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, st := range sc.Steps {
		s := &step{node: st.Node, op: st.Op, inputs: st.Node.Inputs, outputs: append([]string(nil), st.Node.Outputs...), metas: st.Metas}
		if pr, ok := st.Op.(ops.Preparer); ok {
			if err := p.countMemory(s, metas, acct, true, false); err != nil {
				return nil, err
			}
			if err := pr.Prepare(st.Consts); err != nil {
				return nil, fmt.Errorf("node %q (%s): %w", st.Node.Name, st.Node.OpType, err)
			}
		}
		p.steps = append(p.steps, s)
	}
	if !observed && !e.opts.NoFusion {
		p.fuseGelu(metas)
		p.fuse(metas)
		if e.opts.Precision != precision.INT8 && !e.opts.channelsFirst {
			// The channels-last operators pack the weights again, in
			// place of the float packing counted above (see quantize).
			for _, s := range p.channelsLast(metas) {
				if err := p.countMemory(s, metas, acct, true, false); err != nil {
					return nil, err
				}
			}
		}
	}
	if mode == planChained && e.opts.Precision == precision.FP32 {
		p.chain(metas)
	}
	if e.opts.Precision == precision.INT8 {
		float := make([]ops.Op, len(p.steps))
		for i, s := range p.steps {
			float[i] = s.op
		}
		link := !observed && !e.opts.NoFusion && !e.opts.noInt8Links
		p.quantize(e.opts.Int8Scales, e.opts.Exclude, link, metas, e.opts.Log)
		// The INT8 operators quantize and pack the weights again in
		// quantize; those copies are smaller than the float packing
		// counted above (int8 in the same panel layout), so counting them
		// now, after the fact, cannot let memory run away.
		for i, s := range p.steps {
			if s.op != float[i] {
				if err := p.countMemory(s, metas, acct, true, false); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, s := range p.steps {
		if err := p.countMemory(s, metas, acct, false, true); err != nil {
			return nil, err
		}
	}
	if err := p.allocate(metas, acct); err != nil {
		return nil, err
	}
	return p, nil
}

// countMemory counts in acct the memory s's operator holds besides its
// outputs (ops.MemoryUser): what Prepare packs and/or the working memory
// Run keeps.
func (p *Plan) countMemory(s *step, metas map[string]ops.Meta, acct *memlimit.Account, prepared, working bool) error {
	mu, ok := s.op.(ops.MemoryUser)
	if !ok {
		return nil
	}
	in := make([]ops.Meta, len(s.inputs))
	for i, name := range s.inputs {
		if name != "" {
			in[i] = metas[name]
		}
	}
	prep, work, err := mu.Memory(in, p.ctx.Workers)
	if err == nil && prepared {
		err = acct.Take(prep, "the packing of its weights")
	}
	if err == nil && working {
		err = acct.Take(work, "its working memory")
	}
	if err != nil {
		return fmt.Errorf("node %q (%s): %w", s.node.Name, s.node.OpType, err)
	}
	return nil
}

func metaList(ms []ops.Meta) string {
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += ", "
		}
		s += m.String()
	}
	return s
}

// fuse merges into the operator that produces a tensor read by nothing
// else (and not a graph output):
//   - a following Relu or Clip (Conv, Gemm, Add);
//   - an Add of that tensor and another of the same shape (Conv: the
//     residual connection of a ResNet block), after which a Relu can be
//     merged too. The Conv then runs where the Add was: nothing else reads
//     its output, and its own inputs were computed before, so moving it
//     later (after the shortcut's Slice and Pad, say) is safe.
func (p *Plan) fuse(metas map[string]ops.Meta) {
	readers := map[string]int{}
	for _, s := range p.steps {
		for _, in := range s.inputs {
			readers[in]++
		}
	}
	for _, o := range p.outputs {
		readers[o]++
	}
	var kept []*step
	producer := map[string]int{} // output name → index in kept
	for _, s := range p.steps {
		if n := len(kept); n > 0 {
			prev := kept[n-1]
			if len(prev.outputs) == 1 && readers[prev.outputs[0]] == 1 && len(s.inputs) >= 1 && s.inputs[0] == prev.outputs[0] {
				if act, ok := activationOf(s); ok {
					if f, ok := prev.op.(ops.Fusable); ok && f.FuseActivation(act) {
						prev.absorb(s)
						producer[s.outputs[0]] = n - 1
						continue
					}
				}
			}
		}
		if j, bias, ok := p.biasProducer(s, kept, producer, readers, metas); ok {
			if f := kept[j].op.(ops.BiasFusable); f.FuseBias(bias) {
				kept[j].absorb(s)
				producer[s.outputs[0]] = j
				continue
			}
		}
		if j, other, ok := residualProducer(s, kept, producer, readers, metas); ok {
			conv := kept[j]
			if f, ok := conv.op.(ops.ResidualFusable); ok && f.FuseResidual() {
				for len(conv.inputs) < 3 {
					conv.inputs = append(conv.inputs, "")
				}
				conv.inputs = append(conv.inputs[:3:3], other)
				conv.absorb(s)
				kept = append(append(kept[:j:j], kept[j+1:]...), conv)
				for k := j; k < len(kept); k++ {
					for _, o := range kept[k].outputs {
						producer[o] = k
					}
				}
				continue
			}
		}
		kept = append(kept, s)
		for _, o := range s.outputs {
			producer[o] = len(kept) - 1
		}
	}
	p.steps = kept
}

// biasProducer finds, for an Add step s of a tensor and a constant vector
// along its last dimension (either order: exporters write a Linear layer
// as MatMul, then Add of the bias), the step in kept that produces the
// tensor, read by s alone, if its operator can take the bias
// (ops.BiasFusable), and returns its index and the vector.
func (p *Plan) biasProducer(s *step, kept []*step, producer map[string]int, readers map[string]int, metas map[string]ops.Meta) (int, []float32, bool) {
	if s.node.OpType != "Add" || len(s.inputs) != 2 || len(s.outputs) != 1 {
		return 0, nil, false
	}
	for k := range 2 {
		t, c := metas[s.inputs[k]], p.consts[s.inputs[1-k]]
		if c == nil || c.DType != tensor.Float32 || len(t.Shape) == 0 || !tensor.EqualShape(t.Shape, metas[s.outputs[0]].Shape) {
			continue
		}
		n := t.Shape[len(t.Shape)-1]
		if len(c.Shape) == 0 || c.Shape[len(c.Shape)-1] != n || len(c.F32) != n || len(c.Shape) > len(t.Shape) {
			continue
		}
		j, ok := producer[s.inputs[k]]
		if !ok || readers[s.inputs[k]] != 1 || len(kept[j].outputs) != 1 {
			continue
		}
		if _, ok := kept[j].op.(ops.BiasFusable); ok {
			return j, c.F32, true
		}
	}
	return 0, nil, false
}

// residualProducer finds, for an Add step s of two tensors of one shape,
// the step in kept that produces one operand, read by s alone, and returns
// its index and the other operand.
func residualProducer(s *step, kept []*step, producer map[string]int, readers map[string]int, metas map[string]ops.Meta) (int, string, bool) {
	if s.node.OpType != "Add" || len(s.inputs) != 2 || len(s.outputs) != 1 || s.inputs[0] == s.inputs[1] {
		return 0, "", false
	}
	a, b := metas[s.inputs[0]], metas[s.inputs[1]]
	if a.DType != b.DType || !tensor.EqualShape(a.Shape, b.Shape) {
		return 0, "", false
	}
	for k := 1; k >= 0; k-- { // prefer the second operand, a block's main path in exporters
		out, other := s.inputs[k], s.inputs[1-k]
		j, ok := producer[out]
		if !ok || readers[out] != 1 || len(kept[j].outputs) != 1 {
			continue
		}
		if _, ok := kept[j].op.(ops.ResidualFusable); ok {
			return j, other, true
		}
	}
	return 0, "", false
}

// absorb makes the step produce the output of the step merged into it.
func (s *step) absorb(merged *step) {
	s.outputs = []string{merged.outputs[0]}
	s.metas = merged.metas[:1]
	s.fused = merged.node.Name
}

func activationOf(s *step) (ops.Activation, bool) {
	a, ok := s.op.(interface{ Activation() (ops.Activation, bool) })
	if !ok || len(s.outputs) != 1 {
		return ops.Activation{}, false
	}
	return a.Activation()
}

// allocate assigns each computed tensor a storage slot, reusing a slot once
// its last reader has run. Graph outputs get slots of their own. Each
// slot is counted in acct before it is allocated.
func (p *Plan) allocate(metas map[string]ops.Meta, acct *memlimit.Account) error {
	// Slots come in three families: float32 values, int64 values, and the
	// bytes of the tensors linkInt8 keeps in int8.
	const (
		floatSlot = iota
		int64Slot
		int8Slot
	)
	familyOf := func(name string, m ops.Meta) int {
		switch {
		case p.linked[name]:
			return int8Slot
		case m.DType.IsFloat():
			return floatSlot
		}
		return int64Slot
	}
	lastUse := map[string]int{}
	for i, s := range p.steps {
		for _, in := range s.inputs {
			lastUse[in] = i
		}
	}
	pinned := map[string]bool{}
	for _, o := range p.outputs {
		pinned[o] = true
	}
	type slot struct {
		size   int
		family int
		// sized is the step and output index of the tensor the slot was
		// last grown for, to name it in a memory error.
		sized struct{ step, output int }
	}
	var slots []slot
	var free []int
	slotOf := map[string]int{}
	// refs: per slot, the tensors bound to it not yet released (more
	// than one where value movers alias their input).
	refs := map[int]int{}
	released := map[string]bool{}
	release := func(name string) {
		if id, ok := slotOf[name]; ok && !pinned[name] && !released[name] {
			released[name] = true
			if refs[id]--; refs[id] == 0 {
				free = append(free, id)
			}
		}
	}
	// aliases reports whether output name (of meta m, in family) of step
	// s can be bound to the storage of the step's input 0: s moves values,
	// and the input is a computed tensor of the same family and size.
	aliases := func(s *step, name string, m ops.Meta, family int) (int, bool) {
		mv, ok := s.op.(valueMover)
		if !ok || !mv.MovesValues() || pinned[name] || len(s.outputs) != 1 || len(s.inputs) == 0 {
			return 0, false
		}
		in := s.inputs[0]
		id, ok := slotOf[in]
		mi := metas[in]
		return id, ok && !released[in] && familyOf(in, mi) == family && tensor.NumElements(mi.Shape) == tensor.NumElements(m.Shape)
	}
	for i, s := range p.steps {
		for j, name := range s.outputs {
			if name == "" {
				continue
			}
			m := s.metas[j]
			need := tensor.NumElements(m.Shape)
			family := familyOf(name, m)
			if id, ok := aliases(s, name, m, family); ok {
				slotOf[name] = id
				refs[id]++
				s.alias = true
				continue
			}
			pick := -1
			if !pinned[name] {
				// The smallest free slot of the right family that fits, else
				// the largest one, grown.
				for k, id := range free {
					if slots[id].family == family && (pick < 0 || better(slots[id].size, slots[free[pick]].size, need)) {
						pick = k
					}
				}
			}
			if pick < 0 {
				pick = len(free)
				free = append(free, len(slots))
				slots = append(slots, slot{family: family})
			}
			id := free[pick]
			free = append(free[:pick], free[pick+1:]...)
			if need > slots[id].size {
				slots[id].size = need
				slots[id].sized.step, slots[id].sized.output = i, j
			}
			slotOf[name] = id
			refs[id]++
		}
		// Inputs whose last reader is this step, and outputs nobody reads,
		// free their slots for the steps after this one.
		for _, in := range s.inputs {
			if lastUse[in] == i {
				release(in)
			}
		}
		for _, name := range s.outputs {
			if _, read := lastUse[name]; !read {
				release(name)
			}
		}
	}
	for _, s := range slots {
		if s.size == 0 {
			continue
		}
		st := p.steps[s.sized.step]
		m := st.metas[s.sized.output]
		bytes := m.Bytes()
		if s.family == int8Slot {
			bytes = int64(s.size)
		}
		if err := acct.Take(bytes, m.Named(st.outputs[s.sized.output])); err != nil {
			return fmt.Errorf("node %q (%s): %w", st.node.Name, st.node.OpType, err)
		}
	}
	p.slots = make([]*tensor.Tensor, len(slots))
	for i, s := range slots {
		switch s.family {
		case floatSlot:
			p.slots[i] = &tensor.Tensor{F32: make([]float32, s.size)}
		case int8Slot:
			// The bytes past the end let pointwise convolutions read a
			// blocked tensor in place.
			p.slots[i] = &tensor.Tensor{I8: make([]int8, s.size, s.size+ops.Int8Slack)}
		default:
			p.slots[i] = &tensor.Tensor{I64: make([]int64, s.size)}
		}
	}
	// Bind each step output to a view of its slot.
	for _, s := range p.steps {
		for j, name := range s.outputs {
			if name == "" {
				continue
			}
			id := slotOf[name]
			m := s.metas[j]
			n := tensor.NumElements(m.Shape)
			view := &tensor.Tensor{DType: m.DType, Shape: m.Shape}
			switch {
			case p.linked[name]:
				view.DType, view.I8 = tensor.Int8, p.slots[id].I8[:n]
			case m.DType.IsFloat():
				view.F32 = p.slots[id].F32[:n]
			default:
				view.I64 = p.slots[id].I64[:n]
			}
			p.values[name] = view
		}
	}
	return nil
}

// better reports whether a slot of size a suits a tensor of need elements
// better than one of size b: fitting beats not fitting, then smaller wins
// among fits and larger among non-fits.
func better(a, b, need int) bool {
	af, bf := a >= need, b >= need
	switch {
	case af && !bf:
		return true
	case !af && bf:
		return false
	case af:
		return a < b
	default:
		return a > b
	}
}

// Run executes the plan. obs, when not nil, sees every tensor.
func (p *Plan) Run(inputs map[string]*tensor.Tensor, obs Observer) (map[string]*tensor.Tensor, error) {
	for _, in := range p.inputs {
		t, ok := inputs[in.Name]
		if !ok {
			return nil, fmt.Errorf("no value for model input %q", in.Name)
		}
		if p.half && t.DType.IsFloat() {
			t = p.halfInput(in.Name, t)
		}
		p.values[in.Name] = t
		if obs != nil {
			obs(in.Name, t)
		}
	}
	for _, s := range p.steps {
		in := make([]*tensor.Tensor, len(s.inputs))
		for i, name := range s.inputs {
			if name == "" {
				continue
			}
			if c, ok := p.consts[name]; ok {
				in[i] = c
			} else {
				in[i] = p.values[name]
			}
		}
		out := make([]*tensor.Tensor, len(s.outputs))
		for i, name := range s.outputs {
			if name != "" {
				out[i] = p.values[name]
			}
		}
		// An aliased step's output is its input's storage: nothing to
		// move, nothing to round.
		if !s.alias {
			if err := s.op.Run(&p.ctx, in, out); err != nil {
				return nil, fmt.Errorf("node %q (%s): %w", s.node.Name, s.node.OpType, err)
			}
			if p.half {
				for _, t := range out {
					if t != nil && t.DType.IsFloat() {
						roundHalf(t.F32, p.ctx.Workers)
					}
				}
			}
		}
		if obs != nil {
			for _, name := range s.observeFirst {
				obs(name, p.values[name])
			}
			for i, name := range s.outputs {
				if name != "" && !s.deferred {
					obs(name, out[i])
				}
			}
		}
	}
	res := make(map[string]*tensor.Tensor, len(p.outputs))
	for _, name := range p.outputs {
		if c, ok := p.consts[name]; ok {
			res[name] = c
		} else {
			res[name] = p.values[name]
		}
	}
	return res, nil
}

// halfInput copies a graph input into the plan's own buffer, rounded to
// half precision (the caller's tensor is left alone).
func (p *Plan) halfInput(name string, t *tensor.Tensor) *tensor.Tensor {
	if p.input == nil {
		p.input = map[string]*tensor.Tensor{}
	}
	buf := p.input[name]
	if buf == nil || len(buf.F32) != len(t.F32) {
		buf = &tensor.Tensor{DType: t.DType, F32: make([]float32, len(t.F32))}
		p.input[name] = buf
	}
	buf.Shape = t.Shape
	copy(buf.F32, t.F32)
	roundHalf(buf.F32, p.ctx.Workers)
	return buf
}

// roundHalf rounds a tensor to half precision over the cores.
func roundHalf(x []float32, workers int) {
	parallel.For(len(x), workers, 1<<14, func(lo, hi int) { tensor.RoundToFloat16(x[lo:hi]) })
}

// quantize swaps in the INT8 kernels of the steps that have one and whose
// quantized inputs (ops.Int8Capable.Int8Inputs: the activation of a Conv,
// Gemm or MatMul with constant weights, both operands of a MatMul of two
// activations) all have a calibrated scale that calibtable.CheckScale
// accepts, and logs the steps left in FP32: by operator where there is no
// INT8 kernel (Add, Concat and the other operators that run FP32 on the
// INT8 layers' float32 outputs are listed here), by input tensor where a
// range is missing or unusable, and by node, with the entry that matched,
// where exclude keeps a layer that has an INT8 kernel in FP32. With link,
// it then keeps the tensors between INT8 layers in int8 (linkInt8), and
// the log counts them.
func (p *Plan) quantize(scales map[string]float32, exclude precision.Exclusions, link bool, metas map[string]ops.Meta, log hclog.Logger) {
	var int8Steps int
	noRange := map[string]string{} // tensor name → why its range is unusable ("" when there is none)
	noKernel := map[string]int{}
	var excluded []string
	for _, s := range p.steps {
		q, ok := s.op.(ops.Int8Capable)
		if !ok {
			noKernel[s.node.OpType]++
			continue
		}
		constant := make([]bool, len(s.inputs))
		for i, name := range s.inputs {
			_, constant[i] = p.consts[name]
		}
		need, ok := q.Int8Inputs(constant)
		if !ok {
			noKernel[s.node.OpType]++
			continue
		}
		if why, ok := exclude.Match(s.node.Name, s.node.OpType); ok {
			excluded = append(excluded, fmt.Sprintf("%s (%s, %s)", s.node.Name, s.node.OpType, why))
			continue
		}
		inScales := make([]float32, len(s.inputs))
		ranged := true
		for _, i := range need {
			name := s.inputs[i]
			scale, ok := scales[name]
			if !ok {
				noRange[name] = ""
				ranged = false
				continue
			}
			if err := calibtable.CheckScale(scale); err != nil {
				// A range no reader of a table would use: the layer is
				// reported as lacking one, not as lacking a kernel.
				noRange[name] = " (" + err.Error() + ")"
				ranged = false
				continue
			}
			inScales[i] = scale
		}
		if !ranged {
			continue
		}
		op8, ok := q.Int8(inScales)
		if !ok {
			noKernel[s.node.OpType]++
			continue
		}
		consts := make([]*tensor.Tensor, len(s.inputs))
		for i, name := range s.inputs {
			consts[i] = p.consts[name]
		}
		if pr, ok := op8.(ops.Preparer); ok {
			if err := pr.Prepare(consts); err != nil {
				noKernel[s.node.OpType]++
				continue
			}
		}
		s.op = op8
		int8Steps++
		quantized := make([]string, len(need))
		for k, i := range need {
			quantized[k] = s.inputs[i]
		}
		p.int8 = append(p.int8, Int8Layer{Node: s.node, Inputs: quantized})
	}
	if link {
		p.linkInt8(metas)
	}
	if log == nil {
		return
	}
	var kept []string
	for op, n := range noKernel {
		kept = append(kept, fmt.Sprintf("%s×%d", op, n))
	}
	var missing []string
	for name, why := range noRange {
		missing = append(missing, name+why)
	}
	sort.Strings(kept)
	sort.Strings(missing)
	args := []any{"int8_layers", int8Steps, "int8_tensors_between", len(p.linked), "int8_tensors_blocked", p.blocked, "fp32_no_int8_kernel", strings.Join(kept, ", "), "fp32_no_calibrated_range", strings.Join(missing, ", ")}
	if !exclude.Empty() {
		args = append(args, "fp32_excluded", strings.Join(excluded, ", "))
	}
	log.Info("INT8 plan", args...)
}

// read is a step's input: step -1 for a graph output.
type read struct{ step, input int }

// linkInt8 keeps in int8 the tensors that only INT8 layers touch: made
// by an ops.Int8Linker (or passed on by an ops.Int8Passer from such a
// tensor) and read by nothing but ops.Int8Linkers and Int8Passers, each
// as its input 0 (not a residual, not a graph output), at one scale. The
// producer then quantizes in its epilogue with the scale its readers
// quantize with, the same bytes they would have made of its float32
// output; passers (max pooling, Flatten) carry the bytes on; the readers
// take them as they are. In a ResNet block the convolutions' inner tensor
// is linked, the block's output (read by the next block's residual add
// too) stays float32; in MobileNetV2's inverted residual both inner
// tensors are; in LeNet everything from conv1 to ip2, through both pools.
func (p *Plan) linkInt8(metas map[string]ops.Meta) {
	reads := map[string][]read{}
	for i, s := range p.steps {
		for j, name := range s.inputs {
			if name != "" {
				reads[name] = append(reads[name], read{i, j})
			}
		}
	}
	for _, o := range p.outputs {
		reads[o] = append(reads[o], read{-1, -1})
	}
	passer := func(s *step) (ops.Int8Passer, bool) {
		ps, ok := s.op.(ops.Int8Passer)
		return ps, ok && len(s.outputs) == 1 && ps.CanPassInt8()
	}
	// scales: the tensors linked so far, with their scale. Backwards, so
	// that a passer's readers are settled before its input: the scale a
	// step reads its input 0 at in int8 is a linker's own, or a passer's
	// linked output's.
	scales := map[string]float32{}
	readScale := func(r read) float32 {
		if r.step < 0 || r.input != 0 {
			return 0
		}
		s := p.steps[r.step]
		if l, ok := s.op.(ops.Int8Linker); ok {
			return l.Int8InputScale()
		}
		if _, ok := passer(s); ok {
			return scales[s.outputs[0]]
		}
		return 0
	}
	for i := len(p.steps) - 1; i >= 0; i-- {
		s := p.steps[i]
		_, linker := s.op.(ops.Int8Linker)
		_, passes := passer(s)
		if !linker && !passes || len(s.outputs) != 1 || s.outputs[0] == "" {
			continue
		}
		scale := float32(0)
		for k, r := range reads[s.outputs[0]] {
			rs := readScale(r)
			if !(rs > 0) || k > 0 && rs != scale {
				scale = 0
				break
			}
			scale = rs
		}
		if scale > 0 {
			scales[s.outputs[0]] = scale
		}
	}
	// Forwards: a passer gives int8 only where it gets int8 (its producer
	// may make float32); its readers then read float32 too, and so on.
	for _, s := range p.steps {
		if _, ok := passer(s); ok && scales[s.inputs[0]] == 0 {
			delete(scales, s.outputs[0])
		}
	}
	if len(scales) == 0 {
		return
	}
	p.linked = map[string]bool{}
	for _, s := range p.steps {
		in := len(s.inputs) > 0 && scales[s.inputs[0]] > 0
		out := float32(0)
		if len(s.outputs) == 1 {
			out = scales[s.outputs[0]]
		}
		if out > 0 {
			p.linked[s.outputs[0]] = true
		}
		if !in && out == 0 {
			continue
		}
		// Only linkers and passers read or write linked tensors: the
		// passes above link nothing else.
		if l, ok := s.op.(ops.Int8Linker); ok {
			l.LinkInt8(in, out)
		} else if ps, ok := passer(s); ok {
			ps.PassInt8()
		}
	}
	p.blockInt8(reads, metas)
}

// blockInt8 interleaves in blocks of four channels (ops.Int8Blocker) the
// linked tensors whose producer can write them so and whose readers, all
// reading them as their input 0, can all read them so: in MobileNetV2
// the depthwise convolutions' outputs, which the projections read, and
// the projections' outputs that only the next expansion reads. Those
// readers then read the tensor in place instead of interleaving its
// channels.
func (p *Plan) blockInt8(reads map[string][]read, metas map[string]ops.Meta) {
	inputs := func(s *step) []ops.Meta {
		in := make([]ops.Meta, len(s.inputs))
		for i, name := range s.inputs {
			in[i] = metas[name]
		}
		return in
	}
	producer := map[string]*step{}
	for _, s := range p.steps {
		if len(s.outputs) == 1 {
			producer[s.outputs[0]] = s
		}
	}
	blocked := map[string]bool{}
	for name := range p.linked {
		s := producer[name]
		if s == nil {
			continue
		}
		w, ok := s.op.(ops.Int8Blocker)
		if !ok || !w.CanWriteBlocked(inputs(s)) {
			continue
		}
		all := true
		for _, r := range reads[name] {
			if r.step < 0 || r.input != 0 {
				all = false
				break
			}
			rb, ok := p.steps[r.step].op.(ops.Int8Blocker)
			if !ok || !rb.CanReadBlocked(inputs(p.steps[r.step])) {
				all = false
				break
			}
		}
		blocked[name] = all
	}
	for _, s := range p.steps {
		b, ok := s.op.(ops.Int8Blocker)
		if !ok {
			continue
		}
		in := len(s.inputs) > 0 && blocked[s.inputs[0]]
		out := len(s.outputs) == 1 && blocked[s.outputs[0]]
		if in || out {
			b.SetBlocked(in, out)
			if out {
				p.blocked++
			}
		}
	}
}
