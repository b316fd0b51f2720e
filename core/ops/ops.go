package ops

import (
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// Meta describes a value without its data: what shape inference works on.
type Meta struct {
	DType tensor.DType
	Shape []int
}

func (m Meta) String() string { return m.DType.String() + tensor.ShapeString(m.Shape) }

// Named describes the value called name, for messages: `tensor "y"
// float32[4,4]`.
func (m Meta) Named(name string) string { return fmt.Sprintf("tensor %q %s", name, m) }

// Bytes returns the storage a tensor of this meta takes; the shape must be
// valid (tensor.CheckShape).
func (m Meta) Bytes() int64 { return int64(tensor.NumElements(m.Shape)) * int64(m.DType.ElemBytes()) }

// Ctx carries what kernels need from the executor.
type Ctx struct {
	// Workers is the number of goroutines a kernel may use.
	Workers int
}

// Op is one built node.
type Op interface {
	// Infer returns the output metas for the given inputs. consts[i] holds
	// input i's value when it is known before running (an initializer or a
	// folded value) and nil otherwise; operators whose output shape depends
	// on an input's value (Reshape, Slice, ...) require it.
	Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error)
	// Run computes the outputs into out, whose tensors the executor has
	// allocated with the shapes Infer returned. Absent optional inputs are nil.
	Run(ctx *Ctx, in []*tensor.Tensor, out []*tensor.Tensor) error
}

// Activation is a pointwise function an operator can apply to its own
// output before writing it, so that the executor can fuse a following Relu
// or Clip into a Conv or Gemm.
type Activation struct {
	Kind     ActivationKind
	Min, Max float32 // bounds for Clip
}

// ActivationKind names the fusable activations.
type ActivationKind int

const (
	NoActivation ActivationKind = iota
	ReluActivation
	ClipActivation
)

// Fusable is implemented by operators that can absorb a following
// activation: FuseActivation returns false when they cannot.
type Fusable interface {
	FuseActivation(a Activation) bool
}

// BiasFusable is implemented by operators that can add a constant vector
// along their output's last dimension (a bias per output feature, as
// MatMul followed by Add writes it) right after their products, rounding
// as the Add would: FuseBias returns false when they cannot.
type BiasFusable interface {
	FuseBias(bias []float32) bool
}

// ResidualFusable is implemented by operators that can add a tensor of
// their output's shape before their activation: out = act(op(...) + r),
// with r passed as input 3. FuseResidual returns false when they cannot.
type ResidualFusable interface {
	FuseResidual() bool
}

// Infer is op.Infer followed by the check every executor relies on: each
// output's shape must be one a tensor can have (tensor.CheckShape), so
// that a model cannot make the kernels or the buffer sizes overflow.
// names are the node's output names, for the error; outputs the node
// leaves out ("" or past the end of names) are not checked. With names nil
// every output is checked.
func Infer(op Op, in []Meta, consts []*tensor.Tensor, names []string) ([]Meta, error) {
	out, err := op.Infer(in, consts)
	if err != nil {
		return nil, err
	}
	for i, m := range out {
		name := fmt.Sprintf("output %d", i)
		if names != nil {
			if i >= len(names) || names[i] == "" {
				continue
			}
			name = fmt.Sprintf("output %q", names[i])
		}
		if _, err := tensor.CheckShape(m.Shape); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return out, nil
}

// MemoryUser is implemented by operators that hold memory besides their
// outputs, so that executors can count it against a memory budget before
// it is allocated.
type MemoryUser interface {
	// Memory returns, for inputs of these metas (weights constant),
	// the bytes Prepare allocates (packed weights) and the bytes Run
	// keeps as working memory when it runs with the given number of
	// workers. An error says the working memory is too large to exist.
	Memory(in []Meta, workers int) (prepared, working int64, err error)
}

// ProgressRunner is implemented by operators that can tell, while they
// run, which values of their output are final, so that an executor can
// work on them while they are still in the cache of the core that
// computed them (the engine's chunk-observed runs: calibration's
// statistics and the Relu after a Conv).
type ProgressRunner interface {
	// RunProgress is Run, calling done(worker, lo, hi) for each range
	// [lo, hi) of out[0]'s float32 values once the operator has finished
	// writing them: the ranges partition the output, worker is below
	// max(1, ctx.Workers), and calls with one worker index never overlap
	// (calls with different ones may). done may read the range, and
	// write other tensors; nil done is Run.
	RunProgress(ctx *Ctx, in, out []*tensor.Tensor, done func(worker, lo, hi int)) error
}

// eachTask runs body(worker, i) for every task i in [0, n) on up to
// workers goroutines (worker is the goroutine's index), each taking the
// next task when it has finished its last: a core slowed by other work
// (another process, a slower task) takes fewer tasks instead of holding
// up the others, as an even split would. For tasks whose results do not
// depend on the goroutine that runs them.
func eachTask(n, workers int, body func(worker, i int)) {
	var next atomic.Int64
	parallel.Each(min(n, max(1, workers)), max(1, workers), func(w, _, _ int) {
		for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
			body(w, i)
		}
	})
}

// doneAll reports all n values of an output to done (when not nil) at
// once, split between the workers: for the strategies whose workers
// share every piece of the work, so that no value is final before the
// end.
func doneAll(done func(worker, lo, hi int), n, workers int) {
	if done != nil {
		parallel.Each(n, max(1, workers), done)
	}
}

// bufferBytes returns the size of a buffer of elemSize-byte elements
// laid out as shape (a GEMM operand, say), checked like a tensor's shape.
func bufferBytes(elemSize int, what string, shape ...int) (int64, error) {
	n, err := tensor.CheckShape(shape)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return int64(n) * int64(elemSize), nil
}

// Constant input values that an operator can use ahead of time (weights to
// pack, say) are handed over once the graph is final.
type Preparer interface {
	Prepare(consts []*tensor.Tensor) error
}

type builder func(n *onnx.Node, opset int64) (Op, error)

type spec struct {
	build builder
	// attrs lists the attribute names the operator understands; any other
	// attribute makes the node unsupported rather than silently ignored.
	attrs []string
	// minOpset is the first opset in which this implementation's semantics
	// hold; models older than that are refused.
	minOpset int64
}

var registry = map[string]spec{}

func register(name string, minOpset int64, b builder, attrs ...string) {
	registry[name] = spec{build: b, attrs: attrs, minOpset: minOpset}
}

// MinOpset and MaxOpset bound the default-domain opsets the engine accepts.
const (
	MinOpset = 7
	MaxOpset = 21
)

// Supported lists the operator names the engine can run, sorted.
func Supported() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// UnsupportedError says why one node cannot be built.
type UnsupportedError struct {
	Node, Op string
	Opset    int64
	Reason   string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("node %q (%s, opset %d): %s", e.Node, e.Op, e.Opset, e.Reason)
}

// Build creates the operator for a node of a model with the given
// default-domain opset. Errors are *UnsupportedError.
func Build(n *onnx.Node, opset int64) (Op, error) {
	fail := func(format string, args ...any) error {
		return &UnsupportedError{Node: n.Name, Op: n.OpType, Opset: opset, Reason: fmt.Sprintf(format, args...)}
	}
	if n.Domain != "" && n.Domain != "ai.onnx" {
		return nil, fail("operator domain %q is not supported (only the default ONNX domain)", n.Domain)
	}
	s, ok := registry[n.OpType]
	if !ok {
		return nil, fail("operator not supported; supported operators: %s", strings.Join(Supported(), ", "))
	}
	if opset < s.minOpset {
		return nil, fail("needs opset %d or later", s.minOpset)
	}
	var unknown []string
	for _, a := range n.Attrs {
		if !contains(s.attrs, a.Name) {
			unknown = append(unknown, a.Name)
		}
	}
	if len(unknown) > 0 {
		return nil, fail("attribute %s not supported", strings.Join(unknown, ", "))
	}
	op, err := s.build(n, opset)
	if err != nil {
		if _, ok := err.(*UnsupportedError); ok {
			return nil, err
		}
		return nil, fail("%v", err)
	}
	return op, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// attribute readers with ONNX defaults

func attrInt(n *onnx.Node, name string, def int64) int64 { return n.AttrInt(name, def) }

func attrFloat(n *onnx.Node, name string, def float32) float32 { return n.AttrFloat(name, def) }

func attrString(n *onnx.Node, name, def string) string {
	if a := n.Attr(name); a != nil {
		return a.S
	}
	return def
}

func attrInts(n *onnx.Node, name string) []int {
	a := n.Attr(name)
	if a == nil {
		return nil
	}
	out := make([]int, len(a.Ints))
	for i, v := range a.Ints {
		out[i] = int(v)
	}
	return out
}

// normAxis maps a possibly negative axis into [0,rank).
func normAxis(axis, rank int) (int, error) {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return axis, nil
}

func wantInputs(in []Meta, min, max int) error {
	present := 0
	for i := range in {
		if in[i].DType != tensor.Undefined {
			present = i + 1
		}
	}
	if present < min || len(in) > max {
		return fmt.Errorf("got %d inputs, want %d to %d", len(in), min, max)
	}
	for i := 0; i < min; i++ {
		if in[i].DType == tensor.Undefined {
			return fmt.Errorf("required input %d is missing", i)
		}
	}
	return nil
}

// wantFloat refuses non-float inputs to kernels that compute in floating
// point.
func wantFloat(in []Meta) error {
	for i, m := range in {
		if m.DType != tensor.Undefined && !m.DType.IsFloat() {
			return fmt.Errorf("input %d is %v; a float type is required", i, m.DType)
		}
	}
	return nil
}

func requireConst(consts []*tensor.Tensor, i int, what string) (*tensor.Tensor, error) {
	if i >= len(consts) || consts[i] == nil {
		return nil, fmt.Errorf("input %d (%s) must be a constant or computable from shapes at load time", i, what)
	}
	return consts[i], nil
}

func one(dt tensor.DType, shape []int) []Meta { return []Meta{{DType: dt, Shape: shape}} }
