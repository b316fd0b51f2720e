package engine

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// Run splits a batch into as many parts as it has workers (each part a
// run of consecutive images) and runs the parts side by side, each in a
// plan of its own with its share of the workers, when the network treats
// the images of a batch independently. Spreading every operator of one
// plan over the workers instead makes each of them wait for the slowest
// worker at every step and streams each layer's whole-batch tensors
// through memory between steps; a part's tensors are a fraction of that
// and its steps wait for nobody. Measured on a 2-core Xeon (one part per
// core against one plan over both): LeNet b32 INT8 1.8x, ResNet-20 b64
// INT8 1.5x, MobileNetV2 b32 INT8 1.25x; FP32 1.0-1.25x.
//
// Each part's plan prepares its own copy of the weights, so the parts
// are fewer where that copy is large (splitWeightBytes). Observed runs
// (calibration) are never split: they observe whole-batch tensors.

// splitWeightBytes bounds the weights the parts' plans copy besides the
// first one's.
const splitWeightBytes = 512 << 20

// batchSplit is a batch's run as parts: the plans, and the whole batch's
// outputs, into which each part copies its images.
type batchSplit struct {
	parts   []splitPart
	outputs []string
	out     map[string]*tensor.Tensor
}

type splitPart struct {
	lo, hi int // images [lo, hi) of the batch
	// plan runs the part's images chunk at a time (chunk = hi-lo unless
	// the plan has channels-last stretches, see chunkOf).
	plan  *Plan
	chunk int
}

// fusedFor returns what Run runs for the inputs' shapes, made once per
// shapes: the batch's parts where it splits (split), else the one fused
// plan.
func (e *Engine) fusedFor(inputs map[string]*tensor.Tensor) (*batchSplit, *Plan, error) {
	shapes := shapesOf(inputs)
	key := shapeKey(shapes, planFused)
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.split(shapes, key); s != nil {
		return s, nil, nil
	}
	p, err := e.cachedPlan(shapes, key, planFused)
	return nil, p, err
}

// split returns the split run for shapes (cached under key, e.mu held),
// or nil where the batch runs in one plan (newSplit says when). Why a
// batch runs whole goes to Options.Log at debug level.
func (e *Engine) split(shapes map[string][]int, key string) *batchSplit {
	if e.opts.WholeBatch || e.opts.Workers < 2 || len(shapes) == 0 {
		return nil
	}
	if s, ok := e.splits[key]; ok {
		return s
	}
	s, why := e.newSplit(shapes)
	if why != nil && e.opts.Log != nil {
		e.opts.Log.Debug("the batch runs in one plan", "shapes", key, "why", why)
	}
	e.splits[key] = s
	return s
}

// newSplit plans the parts of a batch, or returns nil and why the batch
// runs whole: inputs without a common first dimension of at least 2, one
// part's worth of weights (splitWeightBytes), a network not separable by
// images (separable), or a part that cannot be planned (the whole
// batch's plan then reports the error).
func (e *Engine) newSplit(shapes map[string][]int) (*batchSplit, error) {
	n := -1
	for name, s := range shapes {
		if len(s) == 0 || n >= 0 && s[0] != n {
			return nil, fmt.Errorf("input %q has no batch in common with the others", name)
		}
		n = s[0]
	}
	parts := min(e.opts.Workers, n)
	if w := e.g.ConstantBytes(); w > 0 {
		parts = min(parts, 1+int(splitWeightBytes/w))
	}
	if parts < 2 {
		return nil, fmt.Errorf("%d images, %d workers, %d bytes of weights: one part", n, e.opts.Workers, e.g.ConstantBytes())
	}
	half := e.opts.Precision == precision.FP16
	full, err := e.schedule(shapes, half, e.g.Budget.Account(e.g.ConstantBytes()))
	if err != nil {
		return nil, err
	}
	// The smallest part's size is the other batch size the network is
	// checked at.
	m := n / parts
	sub, err := e.schedule(resized(shapes, m), half, e.g.Budget.Account(e.g.ConstantBytes()))
	if err != nil {
		return nil, fmt.Errorf("at %d images: %w", m, err)
	}
	if err := separable(full, sub, n, m, e.g.Opset); err != nil {
		return nil, err
	}
	s := &batchSplit{outputs: full.Outputs, out: map[string]*tensor.Tensor{}}
	lo := 0
	for i := range parts {
		size := n/parts + btoi(i < n%parts)
		workers := e.opts.Workers/parts + btoi(i < e.opts.Workers%parts)
		part := splitPart{lo: lo, hi: lo + size, chunk: size}
		// The part's plan tells whether it has channels-last stretches;
		// where it runs in chunks, a plan for a chunk replaces it (made
		// once per shapes).
		p, err := e.plan(resized(shapes, size), planFused, workers)
		if err == nil {
			if part.chunk = chunkOf(p, size); part.chunk < size {
				p, err = e.plan(resized(shapes, part.chunk), planFused, workers)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("images %d to %d: %w", lo, lo+size-1, err)
		}
		part.plan = p
		s.parts = append(s.parts, part)
		lo += size
	}
	for _, name := range s.outputs {
		s.out[name] = batchOf(s.parts[0].plan.output(name), n)
	}
	return s, nil
}

// chunkBytes bounds the channels-last values of one chunk of a part's
// images (see chunkOf): about what one core's second-level cache holds.
const chunkBytes = 1 << 20

// chunkOf returns how many of a part's size images its plan p runs at a
// time, a divisor of size (one plan serves every chunk). Plans with
// channels-last stretches (see channelsLast) run the most images that
// keep each tensor of a stretch within chunkBytes, at least one: their
// kernels lose nothing on few images (a pointwise
// convolution's rows are the positions of all the images, a depthwise
// one's work is a row at a time), and a stretch's tensors then pass from
// one convolution to the next through the cache instead of memory.
// MobileNetV2 FP32 on a 2-core Xeon, b32: one image at a time 1.36x
// sixteen (BENCHMARKS.md). Other plans run their part whole: ResNet-50
// and MobileNetV2 INT8 ran slower an image at a time (their GEMMs' tiles
// span a plane's positions of one image, and fill less of them).
func chunkOf(p *Plan, size int) int {
	per := p.channelsLastBytes() / int64(size)
	if per == 0 {
		return size
	}
	chunk := int(max(1, min(int64(size), chunkBytes/per)))
	for size%chunk != 0 {
		chunk--
	}
	return chunk
}

// output returns the plan's tensor for graph output name (its storage,
// or the constant).
func (p *Plan) output(name string) *tensor.Tensor {
	if c, ok := p.consts[name]; ok {
		return c
	}
	return p.values[name]
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// resized returns shapes with every first dimension set to n.
func resized(shapes map[string][]int, n int) map[string][]int {
	r := make(map[string][]int, len(shapes))
	for name, s := range shapes {
		r[name] = append([]int{n}, s[1:]...)
	}
	return r
}

// run runs the parts side by side and returns the whole batch's outputs
// (which belong to s and are overwritten by its next run).
func (s *batchSplit) run(inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	errs := make([]error, len(s.parts))
	var wg sync.WaitGroup
	for i := range s.parts {
		wg.Go(func() { errs[i] = s.runPart(&s.parts[i], inputs) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res := make(map[string]*tensor.Tensor, len(s.outputs))
	for _, name := range s.outputs {
		res[name] = s.out[name]
	}
	return res, nil
}

// runPart runs a part's images, a chunk at a time, and copies each
// chunk's outputs into the batch's.
func (s *batchSplit) runPart(part *splitPart, inputs map[string]*tensor.Tensor) error {
	in := make(map[string]*tensor.Tensor, len(inputs))
	for lo := part.lo; lo < part.hi; lo += part.chunk {
		hi := lo + part.chunk
		for name, t := range inputs {
			in[name] = t.Batch(lo, hi)
		}
		outs, err := part.plan.Run(in, nil)
		if err != nil {
			return fmt.Errorf("images %d to %d of the batch: %w", lo, hi-1, err)
		}
		for _, name := range s.outputs {
			dst, src := s.out[name].Batch(lo, hi), outs[name]
			copy(dst.F32, src.F32)
			copy(dst.I64, src.I64)
			copy(dst.I8, src.I8)
		}
	}
	return nil
}

// batchOf returns a tensor like part (same type and storage) for n
// images.
func batchOf(part *tensor.Tensor, n int) *tensor.Tensor {
	t := &tensor.Tensor{DType: part.DType, Shape: append([]int{n}, part.Shape[1:]...)}
	size := t.Len()
	switch {
	case part.F32 != nil:
		t.F32 = make([]float32, size)
	case part.I64 != nil:
		t.I64 = make([]int64, size)
	case part.I8 != nil:
		t.I8 = make([]int8, size)
	}
	return t
}

// separable reports (with the reason when not) whether the network,
// scheduled for batches of n and of m images (full, sub), computes each
// image from that image alone: the same steps in both; every tensor a
// step reads or writes, and every output, carries the batch on its first
// axis (n images in full, m in sub, the other dimensions equal); every
// constant a step reads is the same at both sizes, or one image's values
// repeated for the batch (perImage), or the target shape of a Reshape or
// Expand (whose outputs are checked); and every
// operator is one that works image by image given that, with its axis
// off the batch where it has one (splitOps). The two sizes catch what
// one could not: an operation mixing images changes a shape at one of
// them (a Gather of n images along the batch still gives n rows at the
// size m), except those that keep every shape, which splitOps names.
func separable(full, sub *Schedule, n, m int, opset int64) error {
	if len(full.Steps) != len(sub.Steps) {
		return fmt.Errorf("%d steps at %d images, %d at %d", len(full.Steps), n, len(sub.Steps), m)
	}
	batched := func(name string) error {
		f, s := full.Metas[name], sub.Metas[name]
		if len(f.Shape) == 0 || f.Shape[0] != n || len(s.Shape) == 0 || s.Shape[0] != m || !slices.Equal(f.Shape[1:], s.Shape[1:]) {
			return fmt.Errorf("%q has shape %v at %d images, %v at %d", name, f.Shape, n, s.Shape, m)
		}
		return nil
	}
	for i, st := range full.Steps {
		node := st.Node
		if sub.Steps[i].Node != node {
			return fmt.Errorf("node %q is not scheduled at %d images", node.Name, m)
		}
		if err := splitOp(node, st, full.Metas, opset); err != nil {
			return fmt.Errorf("node %q (%s): %w", node.Name, node.OpType, err)
		}
		for j, name := range node.Inputs {
			if name == "" {
				continue
			}
			fc, sc := st.Consts[j], sub.Steps[i].Consts[j]
			switch {
			case fc == nil || sc == nil:
				if err := batched(name); err != nil {
					return fmt.Errorf("node %q (%s): %w", node.Name, node.OpType, err)
				}
			case !sameTensor(fc, sc) && !perImage(fc, sc, n, m) && !(j == 1 && (node.OpType == "Reshape" || node.OpType == "Expand")):
				return fmt.Errorf("node %q (%s): constant input %q depends on the batch", node.Name, node.OpType, name)
			}
		}
		for _, name := range node.Outputs {
			if name == "" {
				continue
			}
			if err := batched(name); err != nil {
				return fmt.Errorf("node %q (%s): %w", node.Name, node.OpType, err)
			}
		}
	}
	for _, name := range full.Outputs {
		if full.Consts[name] != nil {
			return fmt.Errorf("output %q is a constant", name)
		}
		if err := batched(name); err != nil {
			return err
		}
	}
	return nil
}

// perImage reports whether constants full and sub, folded at batches of
// n and m images, are one image's values repeated for each image (a
// class token expanded to the batch, zeros of the batch's shape), so that
// every part sees the same values.
func perImage(full, sub *tensor.Tensor, n, m int) bool {
	if full.DType != sub.DType || len(full.Shape) == 0 || full.Shape[0] != n || len(sub.Shape) == 0 || sub.Shape[0] != m ||
		!slices.Equal(full.Shape[1:], sub.Shape[1:]) || m == 0 {
		return false
	}
	first := sub.Batch(0, 1)
	for _, t := range []*tensor.Tensor{full, sub} {
		for i := range t.Shape[0] {
			b := t.Batch(i, i+1)
			if !slices.Equal(b.F32, first.F32) || !slices.Equal(b.I64, first.I64) || !slices.Equal(b.I8, first.I8) {
				return false
			}
		}
	}
	return true
}

// sameTensor reports whether a and b hold the same values.
func sameTensor(a, b *tensor.Tensor) bool {
	return a == b || a.DType == b.DType && slices.Equal(a.Shape, b.Shape) &&
		slices.Equal(a.F32, b.F32) && slices.Equal(a.I64, b.I64) && slices.Equal(a.I8, b.I8)
}

// splitOps are the operators that compute each image of a batch from
// that image alone when their tensors pass separable's shape checks: the
// value true for those with nothing more to check, false for those whose
// axis, pads or mode splitOp checks.
var splitOps = map[string]bool{
	"Abs": true, "Acos": true, "Add": true, "And": true, "ArgMax": true, "ArgMin": true, "Asin": true, "Atan": true,
	"AveragePool": true, "BatchNormalization": false, "Cast": true, "Ceil": true, "Celu": true, "Clip": true,
	"Concat": true, "Conv": true, "ConvTranspose": true, "Cos": true, "CumSum": false, "DepthToSpace": true,
	"DequantizeLinear": true, "Div": true, "Dropout": true, "Elu": true, "Equal": true, "Erf": true, "Exp": true,
	"Expand": true, "Flatten": true, "Floor": true, "Gather": true, "Gelu": true, "Gemm": true,
	"GlobalAveragePool": true, "GlobalMaxPool": true, "Greater": true, "GreaterOrEqual": true,
	"GroupNormalization": true, "HardSigmoid": true, "HardSwish": true, "Hardmax": false, "Identity": true,
	"InstanceNormalization": true, "LayerNormalization": false, "LeakyRelu": true, "Less": true,
	"LessOrEqual": true, "Log": true, "LogSoftmax": false, "LRN": true, "MatMul": true, "Max": true,
	"MaxPool": true, "Mean": true, "Min": true, "Mish": true, "Mul": true, "Neg": true, "Not": true, "Or": true,
	"Pad": false, "Pow": true, "PRelu": true, "QuantizeLinear": true, "Reciprocal": true, "ReduceL1": true,
	"ReduceL2": true, "ReduceLogSumExp": true, "ReduceMax": true, "ReduceMean": true, "ReduceMin": true,
	"ReduceProd": true, "ReduceSum": true, "ReduceSumSquare": true, "Relu": true, "Reshape": true,
	"Resize": false, "Round": true, "Selu": true, "Shape": true, "Sigmoid": true, "Sign": true, "Sin": true,
	"Slice": false, "Softmax": false, "Softplus": true, "Softsign": true, "SpaceToDepth": true, "Split": true,
	"Sqrt": true, "Squeeze": true, "Sub": true, "Sum": true, "Tan": true, "Tanh": true, "Tile": true,
	"TopK": true, "Transpose": true, "Unsqueeze": true, "Upsample": false, "Where": true, "Xor": true,
}

// splitOp checks that a step is one of splitOps and, where its operator
// keeps every shape while working along an axis, pads or crops, that the
// batch axis is left alone.
func splitOp(node *graph.Node, st Step, metas map[string]ops.Meta, opset int64) error {
	src := node.Source
	simple, ok := splitOps[node.OpType]
	if !ok || src == nil || src.Domain != "" && src.Domain != "ai.onnx" {
		return errors.New("not known to work image by image")
	}
	if simple {
		return nil
	}
	rank := len(metas[node.Inputs[0]].Shape)
	onBatch := func(axis int64) bool { return axis == 0 || axis == -int64(rank) }
	switch node.OpType {
	case "Softmax", "LogSoftmax", "Hardmax":
		def := int64(-1)
		if opset < 13 { // the axis the input was flattened at, 1 by default
			def = 1
		}
		if onBatch(src.AttrInt("axis", def)) {
			return errors.New("along the batch axis")
		}
	case "LayerNormalization":
		if onBatch(src.AttrInt("axis", -1)) {
			return errors.New("normalizes along the batch axis")
		}
	case "BatchNormalization":
		if src.AttrInt("training_mode", 0) != 0 {
			return errors.New("in training mode (batch statistics)")
		}
	case "CumSum":
		if c := constInput(st, 1); c == nil || c.Len() != 1 || onBatch(int64(c.Ints()[0])) {
			return errors.New("along the batch axis, or an axis not known before running")
		}
	case "Slice":
		axes := axesOf(st, 3, src.Attr("axes"))
		if axes == nil {
			return errors.New("over the batch axis (no axes given)")
		}
		for _, a := range axes {
			if onBatch(int64(a)) {
				return errors.New("over the batch axis")
			}
		}
	case "Pad":
		if err := padsOffBatch(st, src, rank); err != nil {
			return err
		}
	case "Resize", "Upsample":
		if a := src.Attr("coordinate_transformation_mode"); a != nil && a.S == "tf_crop_and_resize" {
			return errors.New("crops by a region of interest")
		}
	}
	return nil
}

// constInput returns step input j when it is a constant, else nil.
func constInput(st Step, j int) *tensor.Tensor {
	if j < len(st.Consts) {
		return st.Consts[j]
	}
	return nil
}

// axesOf returns the axes of a Slice: its constant input j (opset 10 on)
// or its attribute (before), nil when neither is given.
func axesOf(st Step, j int, attr *onnx.Attribute) []int {
	if c := constInput(st, j); c != nil {
		return c.Ints()
	}
	if attr != nil {
		axes := make([]int, len(attr.Ints))
		for i, a := range attr.Ints {
			axes[i] = int(a)
		}
		return axes
	}
	return nil
}

// padsOffBatch checks that a Pad adds nothing before or after the batch:
// its pads (the constant input 1 from opset 11, the attribute before),
// over its axes (input 3, opset 18; every axis by default).
func padsOffBatch(st Step, src *onnx.Node, rank int) error {
	var pads []int
	if c := constInput(st, 1); c != nil {
		pads = c.Ints()
	} else if a := src.Attr("pads"); a != nil {
		for _, p := range a.Ints {
			pads = append(pads, int(p))
		}
	} else {
		return errors.New("pads not known before running")
	}
	axes := make([]int, len(pads)/2)
	for i := range axes {
		axes[i] = i
	}
	if len(st.Consts) > 3 && st.Node.Inputs[3] != "" {
		if c := constInput(st, 3); c != nil {
			axes = c.Ints()
		} else {
			return errors.New("axes not known before running")
		}
	}
	if len(pads) != 2*len(axes) {
		return fmt.Errorf("%d pads for %d axes", len(pads), len(axes))
	}
	for i, a := range axes {
		if (a == 0 || a == -rank) && (pads[i] != 0 || pads[len(axes)+i] != 0) {
			return errors.New("pads the batch axis")
		}
	}
	return nil
}
