package cuda

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/qgemm"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/float16"
	"github.com/int8cal/int8cal/loader/cublaslt"
	"github.com/int8cal/int8cal/loader/cudadriver"
)

// Go mirrors of the structs in kernels.cu (int fields only, so the
// layouts agree without padding).
type (
	convGeo struct {
		N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, K, Kpad, Rows, Mpad int32
	}
	epilogue struct{ N, Cout, HW, StrideC, StrideP, Relu, Half, QStride, Rows, Chunk int32 }
	poolGeo  struct {
		Planes, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW int32
	}
	bcast struct {
		Rank, N       int32
		Shape, SA, SB [maxRank]int32
	}
	affineGeo struct {
		Rank, N                              int32
		Out, In, Stride, Start, Step, Lo, Hi [maxRank]int32
	}
)

// maxRank is the highest tensor rank of the broadcasting and gathering
// kernels (MAX_RANK in kernels.cu).
const maxRank = 6

// productAlign pads the m and k of every product: cuBLASLt's INT8 rules
// need multiples of 4, and 8 keeps FP16 rows 16-byte aligned.
const productAlign = 8

// maxWorkspace bounds the cuBLASLt workspace an algorithm may use.
const maxWorkspace = 32 << 20

// UnsupportedError says what of a model the cuda backend cannot run: the
// inputs of types it does not take, and each node it has no kernel for
// (`node "name" (Op): why`). Nodes refused only because they read what
// such a node would have written are counted in Downstream, not listed.
type UnsupportedError struct {
	Inputs     []string
	Nodes      []string
	Downstream int
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the cuda backend cannot run this model (use --backend cpu):")
	for _, in := range e.Inputs {
		fmt.Fprintf(&b, "\n  %s", in)
	}
	for _, n := range e.Nodes {
		fmt.Fprintf(&b, "\n  %s", n)
	}
	if e.Downstream > 0 {
		fmt.Fprintf(&b, "\n  and %d node(s) after them that read what they would write", e.Downstream)
	}
	return b.String()
}

// errNotOnGPU refuses a node whose input a refused node should have
// written.
var errNotOnGPU = errors.New("input not on the GPU")

// group is a schedule step with the Relu and residual Add fused into it.
type group struct {
	step     engine.Step
	residual string // tensor added before the activation (Conv only)
	relu     bool
	softmax  bool   // a Gemm's Softmax over its outputs (the group writes it)
	out      string // the tensor the group writes
	pos      int    // schedule position it runs at
}

// fuseSteps merges, as the CPU engine does, into the step producing a
// tensor that nothing else reads (and that is no graph output): a
// following Relu (Conv, Gemm, Add), and for a Conv an Add of a tensor of
// the same shape, after which a Relu can follow too. The Conv then runs at
// the Add's place.
func fuseSteps(sc *engine.Schedule, fuse bool) []group {
	readers := map[string][]int{}
	producer := map[string]int{}
	for i, st := range sc.Steps {
		for _, in := range st.Node.Inputs {
			if in != "" {
				readers[in] = append(readers[in], i)
			}
		}
		for _, o := range st.Node.Outputs {
			producer[o] = i
		}
	}
	for _, o := range sc.Outputs {
		readers[o] = append(readers[o], -1)
	}
	sole := func(name string, op string) (int, bool) {
		r := readers[name]
		if len(r) != 1 || r[0] < 0 || sc.Steps[r[0]].Node.OpType != op {
			return 0, false
		}
		return r[0], true
	}
	skip := map[int]bool{}
	var groups []group
	for i, st := range sc.Steps {
		if skip[i] {
			continue
		}
		g := group{step: st, out: st.Node.Outputs[0], pos: i}
		op := st.Node.OpType
		if fuse && (op == "Conv" || op == "Gemm" || op == "Add") {
			if j, ok := sole(g.out, "Add"); ok && op == "Conv" {
				add := sc.Steps[j].Node
				other := add.Inputs[0]
				if other == g.out {
					other = add.Inputs[1]
				}
				// The residual must exist when the Conv runs at the Add's
				// place: of a bottleneck's two branches (a downsampling
				// Conv and the main path's last Conv, both read only by
				// the Add) the one scheduled second takes the other in.
				at := producer[other]
				otherFuses := false
				if at > i && sc.Steps[at].Node.OpType == "Conv" {
					k, ok := sole(other, "Add")
					otherFuses = ok && k == j
				}
				if other != g.out && !skip[j] && !otherFuses && tensor.ShapeString(sc.Metas[other].Shape) == tensor.ShapeString(st.Metas[0].Shape) {
					g.residual, g.out, g.pos = other, add.Outputs[0], j
					skip[j] = true
				}
			}
			if j, ok := sole(g.out, "Relu"); ok {
				g.relu, g.out, g.pos = true, sc.Steps[j].Node.Outputs[0], max(g.pos, j)
				skip[j] = true
			}
			// A Gemm's Softmax over each row of its [N, outputs] result
			// (axis 1, the last, under every opset's rule).
			if j, ok := sole(g.out, "Softmax"); ok && op == "Gemm" && len(sc.Metas[g.out].Shape) == 2 {
				if axis := sc.Steps[j].Node.Source.AttrInt("axis", 1); axis == 1 || axis == -1 {
					g.softmax, g.out, g.pos = true, sc.Steps[j].Node.Outputs[0], max(g.pos, j)
					skip[j] = true
				}
			}
		}
		groups = append(groups, g)
	}
	sort.SliceStable(groups, func(a, b int) bool { return groups[a].pos < groups[b].pos })
	return groups
}

// affineMapper is implemented by the operators that one gather kernel
// runs: Slice and constant Pad (core/ops).
type affineMapper interface {
	AffineMap(in []ops.Meta, consts []*tensor.Tensor) (ops.Affine, error)
}

// lower turns the schedule into the plan's operations. Buffers are
// allocated as it goes; the launches themselves are made by p.builds
// once the shared scratch space is sized.
func (p *plan) lower(sc *engine.Schedule, groups []group) error {
	// The tensors INT8 products read, with their scales: the product
	// that computes one also writes it quantized, channels-last (a Gemm's
	// [rows][features] is the channels-last form of a 1×1 image), in its
	// epilogue.
	for _, g := range groups {
		if op := g.step.Node.OpType; op == "Conv" || op == "Gemm" {
			if s, ok := p.int8Scale(g.step.Node); ok {
				p.int8Inputs[g.step.Node.Inputs[0]] = s
			}
		}
	}
	// The tensors read as float32: all of them in observed plans, else
	// graph outputs, residuals and every input but an INT8 product's
	// quantized one; what a view (Flatten, Reshape, ...) reads is read as
	// float32 when its view is. A product or pooling whose output is read
	// only quantized skips writing the float values.
	for _, g := range groups {
		_, int8 := p.int8Scale(g.step.Node) // an excluded product reads float32 where others read int8
		for i, in := range g.step.Node.Inputs {
			if op := g.step.Node.OpType; !isView(op) && (i > 0 || !int8 || (op != "Conv" && op != "Gemm")) {
				p.floatRead[in] = true
			}
		}
		p.floatRead[g.residual] = true
	}
	for _, o := range sc.Outputs {
		p.floatRead[o] = true
	}
	for i := len(groups) - 1; i >= 0; i-- {
		if n := groups[i].step.Node; isView(n.OpType) && p.floatRead[groups[i].out] {
			p.floatRead[n.Inputs[0]] = true
		}
	}
	// The tensors an INT8 Gemm reads through a Flatten (or Reshape) to
	// [N, the rest]: a pooling writing the tensor can write them
	// quantized too.
	if !p.observed && !p.e.opts.NoFusion {
		for _, g := range groups {
			n := g.step.Node
			if _, ok := p.int8Inputs[g.out]; !ok || (n.OpType != "Flatten" && n.OpType != "Reshape") {
				continue
			}
			in, out := sc.Metas[n.Inputs[0]].Shape, g.step.Metas[0].Shape
			if len(in) >= 2 && len(out) == 2 && out[0] == in[0] && out[1] == tensor.NumElements(in[1:]) {
				p.flattened[n.Inputs[0]] = g.out
			}
		}
	}
	// Gathers whose only reader is another gather, or a convolution that
	// adds them as its residual (not in observed plans, where every
	// tensor is shown).
	if !p.observed && !p.e.opts.NoFusion {
		readers := map[string][]string{}
		for _, g := range groups {
			for _, in := range g.step.Node.Inputs {
				readers[in] = append(readers[in], g.step.Node.OpType)
			}
			readers[g.residual] = append(readers[g.residual], "residual")
		}
		for _, o := range sc.Outputs {
			readers[o] = append(readers[o], "output")
		}
		isGather := func(op string) bool { return op == "Slice" || op == "Pad" }
		for _, g := range groups {
			r := readers[g.out]
			if isGather(g.step.Node.OpType) && len(r) == 1 && isGather(r[0]) {
				p.gatherFeedsGather[g.out] = true
			}
			if isGather(g.step.Node.OpType) && len(r) == 1 && r[0] == "residual" {
				p.gatherFeedsResidual[g.out] = true
			}
		}
	}
	unsupported := &UnsupportedError{}
	for _, g := range groups {
		err := p.lowerGroup(sc, g)
		switch {
		case errors.Is(err, errNotOnGPU):
			unsupported.Downstream++
		case err != nil:
			n := g.step.Node
			unsupported.Nodes = append(unsupported.Nodes, fmt.Sprintf("node %q (%s): %v", n.Name, n.OpType, err))
		}
	}
	if unsupported.Nodes != nil || unsupported.Downstream > 0 {
		return unsupported
	}
	return nil
}

func (p *plan) lowerGroup(sc *engine.Schedule, g group) error {
	st := g.step
	n := st.Node
	for i, o := range n.Outputs {
		if i > 0 && o != "" {
			return fmt.Errorf("output %d (%s) is not supported", i, o)
		}
	}
	// An input (or the residual fused in) that an earlier, refused node
	// should have written is not on the GPU: this node is refused too,
	// so that every node is reported at once.
	for _, in := range append(n.Inputs[:len(n.Inputs):len(n.Inputs)], g.residual) {
		if in != "" && sc.Consts[in] == nil && p.tensors[in] == nil {
			return fmt.Errorf("%w: %q", errNotOnGPU, in)
		}
	}
	inMetas := make([]ops.Meta, len(n.Inputs))
	for i, in := range n.Inputs {
		if in != "" {
			inMetas[i] = sc.Metas[in]
		}
	}
	if !isView(n.OpType) {
		if st.Metas[0].DType != tensor.Float32 {
			return fmt.Errorf("output type %s (the cuda backend computes float32 tensors)", st.Metas[0].DType)
		}
	}
	half := int32(0)
	if p.half {
		half = 1
	}
	out := st.Metas[0]
	switch {
	case isView(n.OpType):
		src := p.tensors[n.Inputs[0]]
		if src == nil {
			return fmt.Errorf("a constant input is not supported")
		}
		p.tensors[g.out] = &devTensor{ptr: src.ptr, shape: out.Shape}
		return nil
	case n.OpType == "Conv":
		return p.lowerConv(sc, g, inMetas)
	case n.OpType == "Gemm":
		return p.lowerGemm(sc, g, inMetas)
	}
	y, err := p.alloc(g.out, out.Shape)
	if err != nil {
		return err
	}
	x := p.tensors[n.Inputs[0]]
	if x == nil {
		return fmt.Errorf("a constant first input is not supported")
	}
	total := tensor.NumElements(out.Shape)
	if err := fitsIndex(int64(total), int64(tensor.NumElements(x.shape))); err != nil {
		return err
	}
	switch n.OpType {
	case "Relu":
		p.builds = append(p.builds, func(*scratch) { p.queue(p.b.kernel("relu", total, x.ptr, y, int32(total))) })
	case "Add":
		b := p.tensors[n.Inputs[1]]
		if b == nil {
			return fmt.Errorf("a constant second input is not supported")
		}
		if len(out.Shape) > maxRank {
			return fmt.Errorf("rank %d (at most %d)", len(out.Shape), maxRank)
		}
		geo := bcast{Rank: int32(len(out.Shape)), N: int32(total)}
		sa, sb := broadcastStrides(x.shape, out.Shape), broadcastStrides(b.shape, out.Shape)
		for i, d := range out.Shape {
			geo.Shape[i], geo.SA[i], geo.SB[i] = int32(d), sa[i], sb[i]
		}
		relu := int32(0)
		if g.relu {
			relu = 1
		}
		p.builds = append(p.builds, func(*scratch) { p.queue(p.b.kernel("add", total, x.ptr, b.ptr, y, geo, relu, half)) })
	case "MaxPool":
		if len(x.shape) != 4 {
			return fmt.Errorf("input %s (NCHW only)", tensor.ShapeString(x.shape))
		}
		w, err := ops.ResolveWindow(n.Source, nil, [2]int{x.shape[2], x.shape[3]})
		if err != nil {
			return err
		}
		geo := poolGeo{Planes: int32(x.shape[0] * x.shape[1]), H: int32(x.shape[2]), W: int32(x.shape[3]),
			KH: int32(w.Kernel[0]), KW: int32(w.Kernel[1]), SH: int32(w.Stride[0]), SW: int32(w.Stride[1]),
			PH: int32(w.PadBegin[0]), PW: int32(w.PadBegin[1]), DH: int32(w.Dilation[0]), DW: int32(w.Dilation[1]),
			OH: int32(out.Shape[2]), OW: int32(out.Shape[3])}
		q, qScale, view, err := p.poolQuantized(g.out, out.Shape)
		if err != nil {
			return err
		}
		if q != 0 && !p.observed && !p.floatRead[g.out] {
			y = 0
		}
		p.builds = append(p.builds, func(*scratch) { p.queue(p.b.kernel("maxpool", total, x.ptr, y, geo, q, qScale, view)) })
	case "GlobalAveragePool":
		if len(x.shape) < 3 {
			return fmt.Errorf("input %s", tensor.ShapeString(x.shape))
		}
		planes := x.shape[0] * x.shape[1]
		hw := tensor.NumElements(x.shape[2:])
		p.builds = append(p.builds, func(*scratch) {
			p.queue(p.b.kernel("global_avgpool", planes*32, x.ptr, y, int32(planes), int32(hw), half))
		})
	case "Softmax":
		rows, cols, err := softmaxRows(n.Source, p.e.opset(), x.shape)
		if err != nil {
			return err
		}
		p.builds = append(p.builds, func(*scratch) {
			p.queue(p.b.kernel("softmax", rows, x.ptr, y, int32(rows), int32(cols), half))
		})
	case "Slice", "Pad":
		am, ok := st.Op.(affineMapper)
		if !ok {
			return fmt.Errorf("no gather form")
		}
		a, err := am.AffineMap(inMetas, st.Consts)
		if err != nil {
			return err
		}
		if len(out.Shape) > maxRank {
			return fmt.Errorf("rank %d (at most %d)", len(out.Shape), maxRank)
		}
		m := newGather(a, x.shape, out.Shape, n.OpType == "Pad")
		src := x
		// A chain of gathers (a ResNet shortcut's Slice, Slice, Pad) runs
		// as one: a gather read only by the next is deferred, then
		// composed into it; one read only as a residual is deferred to
		// the convolution, which reads it in place where it can
		// (lowerProduct).
		if inner, ok := p.deferred[n.Inputs[0]]; ok {
			delete(p.deferred, n.Inputs[0])
			if c, ok := inner.m.then(m); ok {
				m, src = c, inner.src
			} else {
				inner.emit()
			}
		}
		emit := func() {
			geo := m.geometry(total)
			p.builds = append(p.builds, func(*scratch) { p.queue(p.b.kernel("gather_affine", total, src.ptr, y, geo, m.fill)) })
		}
		if p.gatherFeedsGather[g.out] || p.gatherFeedsResidual[g.out] {
			p.deferred[g.out] = &deferredGather{m: m, src: src, emit: emit}
		} else {
			emit()
		}
	default:
		return fmt.Errorf("no GPU kernel for %s", n.OpType)
	}
	return nil
}

// isView says whether op only views its input under another shape (the
// same device buffer).
func isView(op string) bool {
	switch op {
	case "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout":
		return true
	}
	return false
}

// qView mirrors QView in kernels.cu: where element (b, c, p) of an NCHW
// tensor goes in a quantized copy.
type qView struct{ C, Img, Pix, Ch int32 }

// poolQuantized gives a pooling's output, of NCHW shape, the quantized
// copy an INT8 product reads, when one does (0 otherwise): channels-last
// for a convolution, the flattened [N, C·H·W] row (rounded up to 8) for a
// Gemm after a Flatten. It is registered in p.quantized under the name the
// product reads.
func (p *plan) poolQuantized(name string, shape []int) (cudadriver.Ptr, float32, qView, error) {
	if p.observed || p.e.opts.NoFusion {
		return 0, 0, qView{}, nil
	}
	n, c, hw := shape[0], shape[1], shape[2]*shape[3]
	var view qView
	var bytes int
	scale, ok := p.int8Inputs[name]
	if ok {
		cq := roundUp(c, channelAlign)
		view, bytes = qView{C: int32(c), Img: int32(hw * cq), Pix: int32(cq), Ch: 1}, n*hw*cq
	} else if f, flat := p.flattened[name]; flat {
		feat := roundUp(c*hw, channelAlign)
		scale, name = p.int8Inputs[f], f
		view, bytes = qView{C: int32(c), Img: int32(feat), Pix: 1, Ch: int32(hw)}, n*feat
	} else {
		return 0, 0, qView{}, nil
	}
	if err := fitsIndex(int64(bytes)); err != nil {
		return 0, 0, qView{}, err
	}
	q, err := p.own(zeroed(p.b.Driver, bytes)) // the padding stays 0
	if err != nil {
		return 0, 0, qView{}, err
	}
	p.quantized[name] = q
	return q, scale, view, nil
}

// gather is the map of a gather_affine launch: output index i (per
// dimension) reads source index start + step·i when i is in [lo, hi) and
// that index within the source, fill elsewhere.
type gather struct {
	start, step, lo, hi, in, out []int
	fill                         float32
	fills                        bool // some index can take the fill (a Pad is in the chain)
}

func newGather(a ops.Affine, in, out []int, pad bool) gather {
	return gather{start: a.Start, step: a.Step, lo: make([]int, len(out)), hi: append([]int(nil), out...), in: in, out: out, fill: a.Fill, fills: pad}
}

// then composes g (applied first) with o (applied to g's output) into one
// gather, or reports false when the two would fill with different values.
func (g gather) then(o gather) (gather, bool) {
	if g.fills && o.fills && g.fill != o.fill {
		return gather{}, false
	}
	c := gather{in: g.in, out: o.out, fill: o.fill, fills: g.fills || o.fills}
	if g.fills {
		c.fill = g.fill
	}
	for d := range o.out {
		c.start = append(c.start, g.start[d]+g.step[d]*o.start[d])
		c.step = append(c.step, g.step[d]*o.step[d])
		// o's index i reads g's output index j = o.start + o.step·i,
		// which g computes (rather than fills) for j in [g.lo, g.hi).
		lo, hi := indexRange(o.start[d], o.step[d], max(0, g.lo[d]), min(g.out[d], g.hi[d]))
		c.lo = append(c.lo, max(lo, o.lo[d]))
		c.hi = append(c.hi, min(hi, o.hi[d]))
	}
	return c, true
}

// indexRange returns [lo, hi): the i with L <= s + t·i < H (t != 0).
func indexRange(s, t, L, H int) (lo, hi int) {
	if t > 0 {
		return ceilDiv(L-s, t), ceilDiv(H-s, t)
	}
	return floorDiv(s-H, -t) + 1, floorDiv(s-L, -t) + 1
}

func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (g gather) geometry(total int) affineGeo {
	geo := affineGeo{Rank: int32(len(g.out)), N: int32(total)}
	strides := tensor.Strides(g.in)
	for i := range g.out {
		geo.Out[i], geo.In[i], geo.Stride[i] = int32(g.out[i]), int32(g.in[i]), int32(strides[i])
		geo.Start[i], geo.Step[i] = int32(g.start[i]), int32(g.step[i])
		geo.Lo[i], geo.Hi[i] = int32(max(g.lo[i], 0)), int32(min(g.hi[i], g.out[i]))
	}
	return geo
}

// rmap mirrors RMap in kernels.cu: where conv_s8 reads its residual.
type rmap struct {
	Start, Step, Lo, Hi, In, Stride [4]int32
	Fill                            float32
	Mapped                          int32
}

// identityMap reads a residual of the output's own shape (NCHW); the
// kernel reads it at the output's offset (Mapped 0), with no map
// arithmetic.
func identityMap(shape []int) rmap {
	var m rmap
	strides := tensor.Strides(shape)
	for d := range 4 {
		m.Step[d], m.Hi[d], m.In[d], m.Stride[d] = 1, int32(shape[d]), int32(shape[d]), int32(strides[d])
	}
	return m
}

// residualMap is g as conv_s8's residual map, when g gathers a 4-D
// tensor and keeps its images as they are (a ResNet shortcut's strided
// Slice and channel Pad).
func (g gather) residualMap() (rmap, bool) {
	if len(g.out) != 4 || g.start[0] != 0 || g.step[0] != 1 || g.lo[0] > 0 || g.hi[0] < g.out[0] || g.in[0] != g.out[0] {
		return rmap{}, false
	}
	m := rmap{Fill: g.fill, Mapped: 1}
	strides := tensor.Strides(g.in)
	for d := range 4 {
		m.Start[d], m.Step[d], m.In[d], m.Stride[d] = int32(g.start[d]), int32(g.step[d]), int32(g.in[d]), int32(strides[d])
		m.Lo[d], m.Hi[d] = int32(max(g.lo[d], 0)), int32(min(g.hi[d], g.out[d]))
	}
	return m, true
}

// deferredGather is a gather waiting for the gather that reads it.
type deferredGather struct {
	m    gather
	src  *devTensor
	emit func()
}

// broadcastStrides gives, per output dimension, the element stride of an
// input broadcast onto out (0 along broadcast dimensions).
func broadcastStrides(in, out []int) []int32 {
	s := make([]int32, len(out))
	strides := tensor.Strides(in)
	off := len(out) - len(in)
	for i := range in {
		if in[i] != 1 || out[off+i] == 1 {
			s[off+i] = int32(strides[i])
		}
	}
	return s
}

// softmaxRows maps Softmax onto rows × cols: before opset 13 the input is
// coerced to 2-D at axis (default 1); from 13 on the kernel covers the
// last axis only.
func softmaxRows(n *onnx.Node, opset int64, shape []int) (rows, cols int, err error) {
	rank := len(shape)
	def := int64(1)
	if opset >= 13 {
		def = -1
	}
	axis := int(n.AttrInt("axis", def))
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return 0, 0, fmt.Errorf("axis %d of a rank-%d tensor", axis, rank)
	}
	if opset >= 13 && axis != rank-1 {
		return 0, 0, fmt.Errorf("softmax over axis %d, not the last (the kernel covers the last axis)", axis)
	}
	rows = tensor.NumElements(shape[:axis])
	return rows, tensor.NumElements(shape) / max(rows, 1), nil
}

func (p *plan) lowerConv(sc *engine.Schedule, g group, in []ops.Meta) error {
	n := g.step.Node
	w := g.step.Consts[1]
	if w == nil {
		return fmt.Errorf("weights %q are not constant", n.Inputs[1])
	}
	if group := n.Source.AttrInt("group", 1); group != 1 {
		return fmt.Errorf("group %d (grouped convolutions are not supported)", group)
	}
	xs := in[0].Shape
	if len(xs) != 4 || len(w.Shape) != 4 {
		return fmt.Errorf("input %s, weights %s (2-D convolutions only)", tensor.ShapeString(xs), tensor.ShapeString(w.Shape))
	}
	win, err := ops.ResolveWindow(n.Source, w.Shape[2:], [2]int{xs[2], xs[3]})
	if err != nil {
		return err
	}
	cout := w.Shape[0]
	geo := convGeo{N: int32(xs[0]), C: int32(xs[1]), H: int32(xs[2]), W: int32(xs[3]),
		KH: int32(win.Kernel[0]), KW: int32(win.Kernel[1]), SH: int32(win.Stride[0]), SW: int32(win.Stride[1]),
		PH: int32(win.PadBegin[0]), PW: int32(win.PadBegin[1]), DH: int32(win.Dilation[0]), DW: int32(win.Dilation[1]),
		OH: int32(win.Out[0]), OW: int32(win.Out[1])}
	var bias []float32
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		if g.step.Consts[2] == nil {
			return fmt.Errorf("bias %q is not constant", n.Inputs[2])
		}
		bias = g.step.Consts[2].F32
	}
	return p.lowerProduct(g, geo, cout, w.F32, bias)
}

// lowerGemm runs the fully connected layer Y = X·Bᵀ + C (transA 0, alpha
// and beta 1, constant B and a bias vector C) as a 1×1 convolution of a
// 1×1 image.
func (p *plan) lowerGemm(sc *engine.Schedule, g group, in []ops.Meta) error {
	n := g.step.Node
	src := n.Source
	if src.AttrInt("transA", 0) != 0 || src.AttrFloat("alpha", 1) != 1 || src.AttrFloat("beta", 1) != 1 {
		return fmt.Errorf("only transA=0, alpha=1, beta=1 (a fully connected layer)")
	}
	b := g.step.Consts[1]
	if b == nil || len(b.Shape) != 2 {
		return fmt.Errorf("B %q must be a constant matrix", n.Inputs[1])
	}
	m, k := in[0].Shape[0], in[0].Shape[1]
	rows := b.F32
	nOut := b.Shape[0]
	if src.AttrInt("transB", 0) == 0 {
		nOut = b.Shape[1]
		rows = make([]float32, len(b.F32))
		for i := 0; i < k; i++ {
			for j := 0; j < nOut; j++ {
				rows[j*k+i] = b.F32[i*nOut+j]
			}
		}
	}
	var bias []float32
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		c := g.step.Consts[2]
		if c == nil || c.Len() != nOut {
			return fmt.Errorf("C must be a constant bias vector of %d", nOut)
		}
		bias = c.F32
	}
	geo := convGeo{N: int32(m), C: int32(k), H: 1, W: 1, KH: 1, KW: 1, SH: 1, SW: 1, DH: 1, DW: 1, OH: 1, OW: 1}
	return p.lowerProduct(g, geo, nOut, rows, bias)
}

// int8Scale decides, as the CPU engine does, whether an INT8 plan runs
// the product of node n (a Conv or Gemm) in INT8, and with which scale it
// quantizes the input: not in other precisions, not when Options.Exclude
// keeps the node in FP32, not when its input has no usable range.
func (p *plan) int8Scale(n *graph.Node) (float32, bool) {
	if p.precision != precision.INT8 {
		return 0, false
	}
	if _, excluded := p.e.opts.Exclude.Match(n.Name, n.OpType); excluded {
		return 0, false
	}
	s, ok := p.scales[n.Inputs[0]]
	return s, ok && calibtable.CheckScale(s) == nil
}

// lowerProduct lowers a Conv or Gemm given its geometry and its weights
// as rows of k = C·KH·KW values per output channel: im2col (the unfolded
// input, one row of kpad taps per output pixel), one cuBLASLt product of
// it with the weights, and the epilogue. The product is computed in the
// orientation and with the algorithm that run fastest here (see tune):
// D = colᵀ·W (m = pixels, n = channels) or D = Wᵀ·col (m = channels, n =
// pixels), both the "TN" form cuBLASLt's INT8 needs.
func (p *plan) lowerProduct(g group, geo convGeo, cout int, weights, bias []float32) error {
	n := g.step.Node
	k := int(geo.C * geo.KH * geo.KW)
	rows := int(geo.N * geo.OH * geo.OW)
	prec := p.precision
	var inScale float32
	if prec == precision.INT8 {
		s, ok := p.int8Scale(n)
		switch why, excluded := p.e.opts.Exclude.Match(n.Name, n.OpType); {
		case excluded:
			p.excluded = append(p.excluded, fmt.Sprintf("%s (%s, %s)", n.Name, n.OpType, why))
			prec = precision.FP32
		case !ok:
			p.noRange[n.Inputs[0]] = true
			prec = precision.FP32
		default:
			inScale = s
			p.int8Layers++
		}
	}
	// INT8 products read their input quantized channels-last (cq
	// channels per pixel, C rounded up to channelAlign), so that im2col
	// and the implicit-GEMM kernels read whole words (pairs of words);
	// their taps are then ordered (ky, kx, channel), which changes nothing
	// in the exact int32 sums.
	nhwc := prec == precision.INT8
	cq := roundUp(int(geo.C), channelAlign)
	kGemm := k
	if nhwc {
		kGemm = int(geo.KH*geo.KW) * cq
	}
	kpad, mpad, cpad := roundUp(kGemm, productAlign), roundUp(rows, productAlign), roundUp(cout, productAlign)
	geo.K, geo.Kpad, geo.Rows, geo.Mpad = int32(kGemm), int32(kpad), int32(rows), int32(mpad)
	var (
		wPtr, scalePtr cudadriver.Ptr
		types          cublaslt.Types
		colElem        int
		err            error
		wq             []int8 // INT8: the quantized weights, channels-last
	)
	switch prec {
	case precision.FP32:
		wPtr, err = upload(p.b, padRows(weights, cout, cpad, k, kpad, func(v float32) float32 { return v }))
		types, colElem = cublaslt.FP32, 4
	case precision.FP16:
		wPtr, err = upload(p.b, padRows(weights, cout, cpad, k, kpad, float16.FromFloat32))
		types, colElem = cublaslt.FP16, 2
	case precision.INT8:
		q, ws := qgemm.QuantizeWeights(weights, cout, k)
		for i := range ws {
			ws[i] *= inScale
		}
		if scalePtr, err = p.own(upload(p.b, ws)); err != nil {
			return err
		}
		wq = channelsLast(q, cout, int(geo.C), int(geo.KH*geo.KW), cq)
		wPtr, err = upload(p.b, padRows(wq, cout, cpad, kGemm, kpad, func(v int8) int8 { return v }))
		types, colElem = cublaslt.INT8, 1
	}
	if _, err = p.own(wPtr, err); err != nil {
		return err
	}
	var biasPtr cudadriver.Ptr
	if bias != nil {
		if biasPtr, err = p.own(upload(p.b, bias)); err != nil {
			return err
		}
	}
	table := tapTable(geo)
	if nhwc {
		// Words up to K rounded up to 32, the conv_s8 kernels' step;
		// im2col reads the first kpad/4.
		g := geo
		g.Kpad = int32(roundUp(kGemm, convK))
		table = wordTable(g, int32(cq/4))
	}
	taps, err := p.own(upload(p.b, table))
	if err != nil {
		return err
	}
	inElems := int(geo.N * geo.C * geo.H * geo.W)
	if nhwc {
		inElems = int(geo.N*geo.H*geo.W) * cq
	}
	if err := fitsIndex(int64(mpad)*int64(kpad), int64(cpad)*int64(mpad), int64(inElems)); err != nil {
		return err
	}
	colBytes, accBytes := mpad*kpad*colElem, cpad*mpad*4
	outputs := rows * cout
	// The output quantized channels-last for the INT8 convolutions that
	// read it, if any.
	var qOut cudadriver.Ptr
	qScale, quantizeOut := p.int8Inputs[g.out]
	quantizeOut = quantizeOut && !g.softmax // a product would read the softmax, not these outputs
	cqOut := roundUp(cout, channelAlign)
	if epiPixels*(cqOut+4) > 48<<10 {
		quantizeOut = false // too wide for the epilogue's tile: the readers quantize it themselves
	}
	if quantizeOut {
		qBytes := rows * cqOut
		if qOut, err = p.own(p.b.Driver.Alloc(qBytes)); err != nil {
			return err
		}
		if err := p.b.Driver.Zero(qOut, qBytes); err != nil { // the padding channels stay 0
			return err
		}
		p.quantized[g.out] = qOut
	}
	// epilogueFor makes the epilogue for a product orientation, with
	// the bias, activation and scales of this layer.
	epilogueFor := func(channels bool, acc, y, res, q cudadriver.Ptr, qScale float32) *launch {
		ep := epilogue{N: geo.N, Cout: int32(cout), HW: geo.OH * geo.OW, StrideC: int32(mpad), StrideP: 1, QStride: int32(cqOut), Rows: int32(rows)}
		if channels {
			ep.StrideC, ep.StrideP = 1, int32(cpad)
		}
		if g.relu {
			ep.Relu = 1
		}
		if p.half {
			ep.Half = 1
		}
		if prec == precision.INT8 {
			return p.b.epilogueLaunch("epilogue_s32", ep, q != 0, acc, y, biasPtr, res, scalePtr, q, qScale, ep)
		}
		return p.b.epilogueLaunch("epilogue_f32", ep, q != 0, acc, y, biasPtr, res, q, qScale, ep)
	}
	// The float output is left out when only INT8 products read it.
	writeY := !quantizeOut || p.observed || p.floatRead[g.out]
	im2colFor := func(in, col cudadriver.Ptr) *launch {
		return p.b.kernelGrid("im2col_nhwc_s8", (mpad+nhwcRows-1)/nhwcRows, threadsPerBlock, 0, in, taps, col, geo, int32(cq/4))
	}
	// Where conv_s8 competes, cuBLASLt's first two algorithms per
	// orientation are timed, not all eight: the plan is made inside the
	// first Run, and the others rarely win.
	algos := 0
	if nhwc && p.b.tensorCoresS8 {
		algos = 2
	}
	prod, ltTime, err := p.tune(types, mpad, cpad, kpad, wPtr, colBytes, accBytes, 4*outputs, algos, epilogueFor)
	if err != nil && !(nhwc && p.b.tensorCoresS8) {
		return fmt.Errorf("%w (product of %d×%d by %d×%d)", err, rows, kGemm, kGemm, cout)
	}
	// INT8: the implicit-GEMM kernels (one launch, no unfolded matrix and
	// no separate epilogue) where one of them runs faster than im2col,
	// the cuBLASLt product and its epilogue together.
	qIn, haveQIn := p.quantized[n.Inputs[0]]
	// A first layer of at most channelAlign channels reads the float
	// input and quantizes it in conv_s8 rather than in a kernel of its own.
	floatIn := nhwc && !haveQIn && cq == channelAlign
	var conv *convS8
	if nhwc && p.b.tensorCoresS8 {
		if prod != nil && forceProduct == "" {
			t, err := p.timeOn(inElems, colBytes, func(in, col cudadriver.Ptr) error { return p.b.run(im2colFor(in, col)) })
			if err != nil {
				return err
			}
			ltTime += t
		}
		// A fused softmax wants the kernels whose block covers every
		// output (then the kernel applies it) where some kernel does.
		minChannels := 0
		if g.softmax && cout <= convChannels {
			minChannels = cout
		}
		if conv, err = p.tuneConv(geo, cout, wq, kGemm, cq, taps, scalePtr, biasPtr, g.relu, inScale, floatIn, inElems, outputs, rows*cqOut, writeY, quantizeOut, prod != nil, ltTime, minChannels); err != nil {
			return fmt.Errorf("%w (product of %d×%d by %d×%d)", err, rows, kGemm, kGemm, cout)
		}
	}
	if conv != nil {
		if err := p.b.Driver.Free(wPtr); err != nil { // cuBLASLt's copy of the weights is not needed
			return err
		}
		p.disown(wPtr)
	} else {
		p.colBytes = max(p.colBytes, colBytes)
		p.accBytes = max(p.accBytes, accBytes)
		p.wsBytes = max(p.wsBytes, prod.mm.Workspace)
	}
	p.inBytes = max(p.inBytes, inElems*colElem)
	y, err := p.alloc(g.out, g.step.Metas[0].Shape)
	if err != nil {
		return err
	}
	x := p.tensors[n.Inputs[0]].ptr
	var res cudadriver.Ptr
	rm := identityMap([]int{int(geo.N), cout, int(geo.OH), int(geo.OW)})
	if g.residual != "" {
		res = p.tensors[g.residual].ptr
		// A gather deferred to this convolution (a shortcut's Slice and
		// Pad): conv_s8 reads its source in place through its map, else
		// it runs here, before the convolution.
		if d, ok := p.deferred[g.residual]; ok {
			delete(p.deferred, g.residual)
			if m, ok := d.m.residualMap(); ok && conv != nil {
				rm, res = m, d.src.ptr
			} else {
				d.emit()
			}
		}
	}
	if !writeY {
		y = 0
	}
	// A fused softmax: conv_s8 applies it when one block covers every
	// output; otherwise the product writes its outputs (the logits) to a
	// buffer of their own and the softmax kernel runs after it.
	out := y
	if g.softmax {
		if conv != nil && conv.cfg.channels() >= cout {
			conv.geo.Softmax = 1
		} else if out, err = p.own(p.b.Driver.Alloc(4 * outputs)); err != nil {
			return err
		}
	}
	grid := [2]int{(mpad + tileRows - 1) / tileRows, (kpad + tileTaps - 1) / tileTaps}
	queueProduct := func(s *scratch) {
		var im *launch
		switch {
		case nhwc:
			if conv != nil && floatIn {
				p.queue(conv.launch(p.b, 0, x, res, out, qOut, qScale, rm))
				return
			}
			if !haveQIn {
				qIn = s.in
				p.queue(p.b.kernel("quantize_nhwc_s8", inElems, x, s.in, int32(inElems), geo.C, geo.H*geo.W, int32(cq), inScale))
			}
			if conv != nil {
				p.queue(conv.launch(p.b, qIn, 0, res, out, qOut, qScale, rm))
				return
			}
			im = im2colFor(qIn, s.col)
		case prec == precision.FP16:
			p.queue(p.b.kernel("to_half", inElems, x, s.in, int32(inElems)))
			im = p.b.kernelGrid2("im2col_f16", grid, s.in, taps, s.col, geo)
		default:
			im = p.b.kernelGrid2("im2col_f32", grid, x, taps, s.col, geo)
		}
		p.queue(im)
		p.ops = append(p.ops, op{label: "matmul", run: func() error {
			if err := prod.run(s.col, wPtr, s.acc, s.ws, p.b.stream); err != nil {
				return fmt.Errorf("node %q (%s): %w", n.Name, n.OpType, err)
			}
			return nil
		}})
		p.queue(epilogueFor(prod.channels, s.acc, out, res, qOut, qScale))
	}
	p.builds = append(p.builds, func(s *scratch) {
		queueProduct(s)
		if out != y {
			half := int32(0)
			if p.half {
				half = 1
			}
			p.queue(p.b.kernel("softmax", rows, out, y, int32(rows), int32(cout), half))
		}
	})
	return nil
}

// channelAlign is the channels per pixel of the quantized channels-last
// tensors INT8 products read, C rounded up to it: a multiple of 8, so that
// a pixel is whole pairs of 32-bit words (conv_s8 loads pairs).
const channelAlign = 8

// fragmentOrder lays out weights (rows of k bytes, k a multiple of 32,
// rows a multiple of 8) in the order conv_s8 reads its B fragments: for
// each step of 32 bytes and each tile of 8 rows, lane g·4+t's 8 bytes,
// bytes 8t to 8t+7 of row g of the tile (its two fragment registers), so
// that a warp reads 256 contiguous bytes a tile, a block's tiles of a
// step lie together (one address and constant offsets) and the next step
// is a fixed stride on.
func fragmentOrder(w []int8, k int) []int8 {
	out := make([]int8, len(w))
	steps := k / 32
	at := 0
	for ks := 0; ks < steps; ks++ {
		for tile := 0; tile < len(w)/(8*k); tile++ {
			for lane := 0; lane < 32; lane++ {
				g, t := lane/4, lane%4
				at += copy(out[at:at+8], w[(tile*8+g)*k+ks*32+8*t:(tile*8+g)*k+ks*32+8*t+8])
			}
		}
	}
	return out
}

// nhwcRows is the rows per block of im2col_nhwc_s8 (NHWC_ROWS in
// kernels.cu).
const nhwcRows = 32

// epiPixels is the epilogue kernels' tile of output pixels (EPI_PIX in
// kernels.cu).
const epiPixels = 32

// epiChannels is how many channels an epilogue block covers when it
// writes no quantized copy (which needs every channel of its pixels).
const epiChannels = 32

// epilogueLaunch prepares an epilogue: one block per tile of epiPixels
// output pixels and, without a quantized copy, per epiChannels channels;
// with one (quantized), shared memory for its tile.
func (b *Backend) epilogueLaunch(name string, ep epilogue, quantized bool, args ...any) *launch {
	var shared uint32
	ep.Chunk = ep.Cout
	if quantized {
		shared = uint32(epiPixels * (ep.QStride + 4))
	} else {
		ep.Chunk = min(ep.Cout, epiChannels)
	}
	args[len(args)-1] = ep // the Epi argument, last
	l := b.kernelGrid(name, (int(ep.Rows)+epiPixels-1)/epiPixels, threadsPerBlock, shared, args...)
	l.grid[1] = uint32((ep.Cout + ep.Chunk - 1) / ep.Chunk)
	return l
}

// tileRows and tileTaps are the im2col kernels' tile (TILE_ROWS and
// TILE_TAPS in kernels.cu).
const (
	tileRows = 128
	tileTaps = 48
)

// fitsIndex refuses sizes the kernels' 32-bit element indices cannot
// address.
func fitsIndex(sizes ...int64) error {
	for _, n := range sizes {
		if n >= 1<<31 {
			return fmt.Errorf("%d elements in one buffer: the cuda backend indexes with 32 bits; use a smaller batch", n)
		}
	}
	return nil
}

// tapTable describes each of the kpad taps of a product row for the
// im2col kernels: {offset from the window's corner, dy, dx, 0}; the
// padding taps past K get a dy no window reaches, so they read 0.
func tapTable(g convGeo) []int32 {
	t := make([]int32, 4*g.Kpad)
	khw := g.KH * g.KW
	for k := int32(0); k < g.Kpad; k++ {
		if k >= g.K {
			t[4*k+1] = 1 << 29
			continue
		}
		ci, r := k/khw, k%khw
		dy, dx := (r/g.KW)*g.DH, (r%g.KW)*g.DW
		t[4*k], t[4*k+1], t[4*k+2] = ci*g.H*g.W+dy*g.W+dx, dy, dx
	}
	return t
}

// product is a matrix product in the orientation chosen for it.
type product struct {
	mm       *cublaslt.Matmul
	channels bool // D = Wᵀ·col ([rows][cpad]) rather than colᵀ·W ([cpad][mpad])
}

func (pr *product) run(col, w, acc, ws cudadriver.Ptr, s cudadriver.Stream) error {
	if pr.channels {
		return pr.mm.Run(uint64(w), uint64(col), uint64(acc), uint64(ws), uintptr(s))
	}
	return pr.mm.Run(uint64(col), uint64(w), uint64(acc), uint64(ws), uintptr(s))
}

// tune picks, as TensorRT's tactic selection does, the fastest way to
// compute a product and its epilogue here: both orientations (which lay
// the product out differently for the epilogue to read), each with every
// algorithm cuBLASLt's heuristic offers (its first algos when algos > 0),
// timed on scratch buffers. It returns the time of the product and
// epilogue chosen.
func (p *plan) tune(types cublaslt.Types, mpad, cpad, kpad int, w cudadriver.Ptr, colBytes, accBytes, outBytes, algos int,
	epilogueFor func(channels bool, acc, y, res, q cudadriver.Ptr, qScale float32) *launch) (*product, time.Duration, error) {
	var cands []*product
	for _, channels := range []bool{false, true} {
		s := cublaslt.Shape{M: mpad, N: cpad, K: kpad, TransA: true, LDA: kpad, LDB: kpad, LDD: mpad}
		if channels {
			s = cublaslt.Shape{M: cpad, N: mpad, K: kpad, TransA: true, LDA: kpad, LDB: kpad, LDD: cpad}
		}
		mm, err := p.b.lt.New(s, types, maxWorkspace)
		if err != nil {
			continue
		}
		p.matmuls = append(p.matmuls, mm)
		cands = append(cands, &product{mm: mm, channels: channels})
	}
	if len(cands) == 0 {
		return nil, 0, fmt.Errorf("cuBLASLt offers no algorithm in either orientation")
	}
	d := p.b.Driver
	var tmp [4]cudadriver.Ptr
	for i, slot := range []int{scratchCol, scratchAcc, scratchWS, scratchOut} {
		var err error
		if tmp[i], err = p.tuneScratch(slot, []int{colBytes, accBytes, maxWorkspace, outBytes}[i]); err != nil {
			return nil, 0, err
		}
	}
	var best *product
	bestAlgo, bestTime := 0, time.Duration(math.MaxInt64)
	for _, c := range cands {
		epl := epilogueFor(c.channels, tmp[1], tmp[3], 0, 0, 0)
		epi, err := timeIt(d, tuneRuns, func() error { return p.b.run(epl) })
		if err != nil {
			return nil, 0, err
		}
		n := c.mm.Candidates()
		if algos > 0 {
			n = min(n, algos)
		}
		for a := 0; a < n; a++ {
			c.mm.Choose(a)
			took, err := timeIt(d, tuneRuns, func() error { return c.run(tmp[0], w, tmp[1], tmp[2], p.b.stream) })
			took += epi
			if err == nil && took < bestTime {
				best, bestAlgo, bestTime = c, a, took
			}
		}
	}
	if best == nil {
		return nil, 0, fmt.Errorf("no cuBLASLt algorithm ran")
	}
	best.mm.Choose(bestAlgo)
	return best, bestTime, nil
}

// zeroed allocates n bytes of device memory set to 0.
func zeroed(d *cudadriver.Driver, n int) (cudadriver.Ptr, error) {
	ptr, err := d.Alloc(n)
	if err != nil {
		return 0, err
	}
	if err := d.Zero(ptr, n); err != nil {
		d.Free(ptr)
		return 0, err
	}
	return ptr, nil
}

// The tactic timing's scratch buffers (plan.scratchTune), by role.
const (
	scratchIn = iota
	scratchCol
	scratchAcc
	scratchWS
	scratchOut
	scratchQ
	scratchSlots
)

// tuneScratch returns the tactic timing's scratch buffer for a role, at
// least n bytes, zeroed: one buffer per role for the whole plan, grown as
// layers need, rather than an allocation and a free (which waits for the
// GPU) per buffer and layer. freeTuneScratch frees them once lowered.
func (p *plan) tuneScratch(slot, n int) (cudadriver.Ptr, error) {
	d := p.b.Driver
	t := &p.scratchTune[slot]
	if t.bytes < n {
		if t.ptr != 0 {
			d.Free(t.ptr)
			*t = tuneBuffer{}
		}
		ptr, err := d.Alloc(n)
		if err != nil {
			return 0, err
		}
		*t = tuneBuffer{ptr: ptr, bytes: n}
	}
	if err := d.Zero(t.ptr, n); err != nil {
		return 0, err
	}
	return t.ptr, nil
}

func (p *plan) freeTuneScratch() {
	for i, t := range p.scratchTune {
		if t.ptr != 0 {
			p.b.Driver.Free(t.ptr)
		}
		p.scratchTune[i] = tuneBuffer{}
	}
}

// timeOn times f on the input and unfolded-matrix scratch buffers, of
// the given sizes.
func (p *plan) timeOn(inBytes, colBytes int, f func(in, col cudadriver.Ptr) error) (time.Duration, error) {
	in, err := p.tuneScratch(scratchIn, inBytes)
	if err != nil {
		return 0, err
	}
	col, err := p.tuneScratch(scratchCol, colBytes)
	if err != nil {
		return 0, err
	}
	return timeIt(p.b.Driver, tuneRuns, func() error { return f(in, col) })
}

// forceProduct, when set, makes every INT8 product run by cuBLASLt
// ("cublaslt") or by the named conv_s8 kernel, untimed (for the tests
// that compare the paths; export_test.go).
var forceProduct string

// convConfig is one of the conv_s8 kernels, MT tiles of 16 rows per warp,
// NT tiles of 8 channels per block, KW warps splitting K on the same rows,
// reading its A operands through the input tile in shared memory where
// that fits, or from global memory (global). Which is faster depends on
// the layer (the tile's load and barrier against the bounds checks and
// loads of every tap), so both are tactics.
type convConfig struct {
	mt, nt, kw int
	global     bool
}

// convKernels are the conv_s8 kernels kernels.cu instantiates; each runs
// as two configurations (convConfigs), with and without the tile.
var convKernels = []convConfig{{1, 1, 1, false}, {1, 2, 1, false}, {1, 4, 1, false}, {1, 8, 1, false}, {2, 1, 1, false},
	{2, 2, 1, false}, {2, 4, 1, false}, {2, 8, 1, false}, {1, 1, 4, false}, {1, 2, 4, false}, {1, 4, 4, false}, {1, 8, 4, false}}

var convConfigs = func() []convConfig {
	var all []convConfig
	for _, global := range []bool{false, true} {
		for _, c := range convKernels {
			c.global = global
			all = append(all, c)
		}
	}
	return all
}()

// convWarps is the warps per block of conv_s8 (CONV_WARPS in kernels.cu);
// convChannels is the widest channel chunk (8·NT), to which the weights
// are padded so that every kernel reads within them; convK is the taps
// of one mma step, to which K is padded.
const (
	convWarps    = 4
	convChannels = 64
	convK        = 32
)

func (c convConfig) name() string { return fmt.Sprintf("conv_s8_m%dn%dk%d", c.mt, c.nt, c.kw) }

// label names the configuration (ForceProduct's names): the kernel's
// name, with "_global" when it reads no tile.
func (c convConfig) label() string {
	if c.global {
		return c.name() + "_global"
	}
	return c.name()
}

// rows and channels are a block's tile.
func (c convConfig) rows() int     { return convWarps / c.kw * 16 * c.mt }
func (c convConfig) channels() int { return 8 * c.nt }

// convCandidates are the kernels worth timing for a product of rows ×
// cout: a chunk at most twice as wide as the channels (rounded up to 8),
// since a wider one computes padding; K split between warps only where
// the rows are too few to give every SM's warps a tile of their own
// (BenchmarkConvS8: on ResNet-20's stages, 16k rows and more, it is 1.7
// to 2.5 times slower), and then one row tile a warp.
func convCandidates(rows, cout int) []convConfig {
	var out []convConfig
	few := rows < convFewRows
	for _, c := range convConfigs {
		if c.channels() < 2*roundUp(cout, 8) && (c.kw > 1) == few && !(few && c.mt > 1) {
			out = append(out, c)
		}
	}
	return out
}

// convFewRows is where convCandidates starts splitting K: 132 SMs (an
// H100's) × 4 warps × 16 rows is 8448.
const convFewRows = 8192

// iconv mirrors IConv in kernels.cu.
type iconv struct {
	Rows, HW, OW, H, W, C, SH, SW, PH, PW, WPT, KSteps, Cout, QStride, Relu int32
	InScale, QInv                                                           float32
	Tile, KH, DH, OH, IHV, IC                                               int32
	WTiles, Softmax                                                         int32
	DHW, DOW, DOH, DIHV, DIC                                                fastDiv
}

// fastDiv mirrors FDiv in kernels.cu: n/d for 0 ≤ n < 2^31 as
// (n·Mul)>>(32+Shr), with Mul = ⌈2^(31+L)/d⌉ and 2^L the least power of
// two ≥ d. Mul·d = 2^(31+L) + e with e < d ≤ 2^L, so n·Mul/2^(31+L) exceeds
// n/d by n·e/(d·2^(31+L)) < 1/d, too little to reach the next integer.
// Mul < 2^32 since 2^L < 2d; d = 1 has Mul = 0 (the kernel takes n).
type fastDiv struct{ Mul, Shr uint32 }

func newFastDiv(d int32) fastDiv {
	if d <= 1 {
		return fastDiv{}
	}
	l := uint(bits.Len32(uint32(d - 1))) // ⌈log2 d⌉
	return fastDiv{Mul: uint32((uint64(1)<<(31+l) + uint64(d) - 1) / uint64(d)), Shr: uint32(l - 1)}
}

// div is n/d as the kernel computes it.
func (f fastDiv) div(n int32) int32 {
	if f.Mul == 0 {
		return n
	}
	return int32(uint32((uint64(uint32(n))*uint64(f.Mul))>>32) >> f.Shr)
}

// newIConv is the conv_s8 geometry of a convolution (geo, with Rows set)
// of cout channels over a channels-last input of cq channels per pixel,
// K = kGemm.
func newIConv(geo convGeo, cout, cq, kGemm int, relu bool, inScale float32) iconv {
	c := iconv{Rows: geo.Rows, HW: geo.OH * geo.OW, OW: geo.OW, H: geo.H, W: geo.W, C: geo.C,
		SH: geo.SH, SW: geo.SW, PH: geo.PH, PW: geo.PW, WPT: int32(cq / 4), KSteps: int32(roundUp(kGemm, convK) / convK), Cout: int32(cout),
		QStride: int32(roundUp(cout, channelAlign)), InScale: inScale,
		KH: geo.KH, DH: geo.DH, OH: geo.OH, IHV: (geo.OH-1)*geo.SH + (geo.KH-1)*geo.DH + 1, IC: tileColumns(geo),
		WTiles: int32(roundUp(cout, convChannels) / 8)}
	c.DHW, c.DOW, c.DOH, c.DIHV, c.DIC = newFastDiv(c.HW), newFastDiv(c.OW), newFastDiv(c.OH), newFastDiv(c.IHV), newFastDiv(c.IC)
	if relu {
		c.Relu = 1
	}
	return c
}

// convS8 is an INT8 product run by a conv_s8 kernel, with its weights
// (rows of ksteps·32 bytes, convChannels-padded) and word table.
type convS8 struct {
	cfg            convConfig
	geo            iconv
	words, weights cudadriver.Ptr
	scale, bias    cudadriver.Ptr
}

// launch prepares the kernel reading the quantized input q (or the float
// input xf, quantizing it), adding res (0: none), writing y (0: not
// needed) and the quantized copy qo (0: none) with qScale. The input tile
// (conv_tile in kernels.cu) is used where it fits in maxTileBytes.
func (c *convS8) launch(b *Backend, q, xf, res, y, qo cudadriver.Ptr, qScale float32, rm rmap) *launch {
	geo := c.geo
	geo.QInv = qgemm.QuantInverse(qScale)
	shared := tileBytes(geo, c.cfg.rows())
	if !c.cfg.global && shared <= maxTileBytes {
		geo.Tile = 1
	} else {
		shared = 0
	}
	// After the product, the same memory holds the epilogue's stage: a
	// channel's rows + 4 floats for each of the block's channels.
	shared = max(shared, stageBytes(c.cfg))
	l := b.kernelGrid(c.cfg.name(), (int(c.geo.Rows)+c.cfg.rows()-1)/c.cfg.rows(), convWarps*32, uint32(shared),
		q, xf, c.words, c.weights, c.scale, c.bias, res, y, qo, qScale, geo, rm)
	l.grid[1] = uint32((int(c.geo.Cout) + c.cfg.channels() - 1) / c.cfg.channels())
	return l
}

// stageBytes is the shared memory of conv_s8's epilogue stage (SP in
// kernels.cu): the block's outputs as floats, channel-major, each
// channel's rows padded by 4.
func stageBytes(c convConfig) int { return 4 * c.channels() * (c.rows() + 4) }

// tileColumns is the width of conv_s8's input tile: the input columns
// from -PW that a row of output pixels reads.
func tileColumns(g convGeo) int32 { return (g.OW-1)*g.SW + (g.KW-1)*g.DW + 1 }

// tileSlots is the most input rows (tile slots) a block of bm product
// rows reads, as conv_s8 counts them: its virtual rows (conv_tile) from
// its first output row's first to its last output row's last.
func tileSlots(g iconv, bm int) int {
	virtual := func(row, ky int) int {
		r := row / int(g.OW)
		b, oy := r/int(g.OH), r%int(g.OH)
		return b*int(g.IHV) + oy*int(g.SH) + ky*int(g.DH)
	}
	most := 0
	for first := 0; first < int(g.Rows); first += bm {
		last := min(first+bm, int(g.Rows)) - 1
		most = max(most, virtual(last, int(g.KH)-1)-virtual(first, 0)+1)
	}
	return most
}

// tileBytes is the shared memory of conv_s8's input tile for blocks of bm
// product rows: IC pixels of each slot, and each slot's source offset.
func tileBytes(g iconv, bm int) int {
	return 4 * tileSlots(g, bm) * (int(g.IC)*int(g.WPT) + 1)
}

// maxTileBytes caps conv_s8's input tile; wider ones read their operands
// from global memory instead (a 24 KiB tile still lets 8 blocks share an
// SM's 228 KiB).
const maxTileBytes = 24 << 10

// tuneConv uploads a convolution's weights for the conv_s8 kernels and
// returns the fastest kernel, or nil when the cuBLASLt path (haveLt,
// taking ltTime) is faster. wq is the quantized weights, cout rows of
// kGemm bytes in (ky, kx, channel) order; words is the word table
// (wordTable) up to kGemm rounded up to convK. With floatIn the kernel
// reads the float input and quantizes it with inScale.
func (p *plan) tuneConv(geo convGeo, cout int, wq []int8, kGemm, cq int, words, scale, bias cudadriver.Ptr, relu bool, inScale float32,
	floatIn bool, inElems, outputs, qBytes int, writeY, quantized, haveLt bool, ltTime time.Duration, minChannels int) (*convS8, error) {
	cands := convCandidates(int(geo.Rows), cout)
	if wide := slices.DeleteFunc(slices.Clone(cands), func(c convConfig) bool { return c.channels() < minChannels }); len(wide) > 0 {
		cands = wide
	}
	// A tile that does not fit runs as the global configuration: time it
	// once.
	cands = slices.DeleteFunc(cands, func(c convConfig) bool {
		return !c.global && tileBytes(newIConv(geo, cout, cq, kGemm, relu, inScale), c.rows()) > maxTileBytes
	})
	switch forceProduct {
	case "":
	case "cublaslt":
		if haveLt {
			return nil, nil
		}
	default:
		cands = nil
		for _, c := range convConfigs {
			if c.label() == forceProduct {
				cands = []convConfig{c}
			}
		}
		if cands == nil {
			return nil, fmt.Errorf("no INT8 product kernel %q", forceProduct)
		}
	}
	kc := roundUp(kGemm, convK)
	c := &convS8{words: words, scale: scale, bias: bias, geo: newIConv(geo, cout, cq, kGemm, relu, inScale)}
	var err error
	if c.weights, err = p.own(upload(p.b, fragmentOrder(padRows(wq, cout, roundUp(cout, convChannels), kGemm, kc, func(v int8) int8 { return v }), kc))); err != nil {
		return nil, err
	}
	if len(cands) == 1 && (!haveLt || forceProduct != "") {
		c.cfg = cands[0]
		return c, nil
	}
	d := p.b.Driver
	var tmp [3]cudadriver.Ptr
	inBytes := inElems
	if floatIn {
		inBytes = 4 * int(geo.N*geo.C*geo.H*geo.W)
	}
	for i, n := range []int{inBytes, 4 * outputs, qBytes} {
		if i == 1 && !writeY || i == 2 && !quantized {
			continue
		}
		if tmp[i], err = p.tuneScratch([]int{scratchIn, scratchOut, scratchQ}[i], n); err != nil {
			return nil, err
		}
	}
	q, xf := tmp[0], cudadriver.Ptr(0)
	if floatIn {
		q, xf = 0, tmp[0]
	}
	best, bestTime := -1, ltTime
	for i, cfg := range cands {
		c.cfg = cfg
		l := c.launch(p.b, q, xf, 0, tmp[1], tmp[2], 1, rmap{})
		took, err := timeIt(d, tuneRuns, func() error { return p.b.run(l) })
		if err != nil {
			return nil, err
		}
		if best < 0 && !haveLt || took < bestTime {
			best, bestTime = i, took
		}
	}
	if best < 0 {
		d.Free(c.weights)
		p.disown(c.weights)
		return nil, nil
	}
	c.cfg = cands[best]
	return c, nil
}

// tuneRuns is how many timed runs each candidate gets (after one warm-up).
const tuneRuns = 3

// timeIt runs f once to warm up, then n times, synchronizing around the
// timed runs, and returns the time per run.
func timeIt(d *cudadriver.Driver, n int, f func() error) (time.Duration, error) {
	if err := f(); err != nil {
		return 0, err
	}
	if err := d.Synchronize(); err != nil {
		return 0, err
	}
	began := time.Now()
	for i := 0; i < n; i++ {
		if err := f(); err != nil {
			return 0, err
		}
	}
	if err := d.Synchronize(); err != nil {
		return 0, err
	}
	return time.Since(began) / time.Duration(n), nil
}

// channelsLast reorders rows of c·taps weights from (channel, tap) to
// (tap, channel) with cq channels per tap, the extra ones 0.
func channelsLast(w []int8, rows, c, taps, cq int) []int8 {
	out := make([]int8, rows*taps*cq)
	for r := 0; r < rows; r++ {
		for ci := 0; ci < c; ci++ {
			for t := 0; t < taps; t++ {
				out[(r*taps+t)*cq+ci] = w[(r*c+ci)*taps+t]
			}
		}
	}
	return out
}

// wordTable describes each 32-bit word of a channels-last product row
// for im2col_nhwc_s8 and conv_s8: {dy, dx, word within the input pixel,
// byte offset in conv_s8's input tile from the row's base}; the padding
// words past K get a dy no window reaches, so they read 0, and tile
// offset 0 (they meet zero weights).
func wordTable(g convGeo, wpt int32) []int32 {
	words := g.Kpad / 4
	ic := tileColumns(g)
	t := make([]int32, 4*words)
	for w := int32(0); w < words; w++ {
		tap := w / wpt
		if tap >= g.KH*g.KW {
			t[4*w] = 1 << 29
			continue
		}
		ky, kx := tap/g.KW, tap%g.KW
		t[4*w], t[4*w+1], t[4*w+2], t[4*w+3] = ky*g.DH, kx*g.DW, w%wpt, 4*((ky*g.DH*ic+kx*g.DW)*wpt+w%wpt)
	}
	return t
}

// padRows converts rows×k values to rpad×kpad, zero-filling each row's
// tail and the rows beyond rows.
func padRows[S, D any](v []S, rows, rpad, k, kpad int, conv func(S) D) []D {
	out := make([]D, rpad*kpad)
	for r := 0; r < rows; r++ {
		for j := 0; j < k; j++ {
			out[r*kpad+j] = conv(v[r*k+j])
		}
	}
	return out
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }
