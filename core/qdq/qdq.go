package qdq

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// DefaultOps are the operator types whose inputs Export always quantizes:
// those the CPU engine runs in INT8 (ops.Int8Capable), so that the Q/DQ
// model and the engine's INT8 plan quantize the same tensors.
var DefaultOps = []string{"Conv", "ConvTranspose", "Gemm", "MatMul"}

// Options tune Export.
type Options struct {
	// PerTensorWeights quantizes each weight tensor with a single scale
	// (max|w|/127 over the whole tensor) instead of one per output channel.
	PerTensorWeights bool
	// ExtraOps names further default-domain operator types (Add,
	// MaxPool, AveragePool, GlobalAveragePool, Concat, ...) whose
	// non-constant inputs get Q/DQ like the activations of a Conv. Their
	// constant inputs are left in float. TensorRT uses such Q/DQ to run the
	// operator in INT8 (an Add of a residual connection, say).
	ExtraOps []string
	// Exclude keeps the nodes it matches in FP32 (mixed precision): no
	// Q/DQ on their inputs and float weights, so that TensorRT and ONNX
	// Runtime run them in float too. Export checks it against the model
	// first: a name or pattern matching no node is an error.
	Exclude precision.Exclusions
}

// Report says what Export did.
type Report struct {
	// FromOpset is the model's default-domain opset, Opset the exported
	// model's (13 if it had to be raised, else the same).
	FromOpset, Opset int64
	// Activations are the tensors that got a QuantizeLinear/DequantizeLinear
	// pair, in the order they were first met.
	Activations []Activation
	// Weights are the constant tensors replaced by int8 initializers and a
	// DequantizeLinear.
	Weights []Weight
	// Skipped lists the inputs of quantizable nodes left in float, and why.
	Skipped []Skip
	// Excluded are the nodes Options.Exclude kept in float, in graph
	// order.
	Excluded []Excluded
	// Removed names the nodes ("node NAME") and initializers
	// ("initializer NAME") that the rewiring left unused and that were
	// removed.
	Removed []string
}

// Activation is one tensor quantized at run time.
type Activation struct {
	Tensor string
	// Scale is the table's scale (amax/127); the zero point is 0.
	Scale float32
	// Readers are the nodes rewired to read the dequantized tensor.
	Readers []string
}

// Weight is one constant quantized to int8.
type Weight struct {
	Tensor string
	Shape  []int
	// Axis is the per-channel axis, -1 for a single scale.
	Axis int
	// Scales are the scales, one per channel (one for per tensor).
	Scales []float32
	// MaxAbsError is the largest |w - dequantized w|.
	MaxAbsError float32
	// Readers are the nodes rewired to read the dequantized weight.
	Readers []string
}

// Skip is an input of a quantizable node that stays in float.
type Skip struct {
	Tensor string
	Node   string
	Input  int
	Reason string
}

// Excluded is a node of a quantized type that Options.Exclude kept in
// float.
type Excluded struct {
	Node, OpType string
	// Reason is the entry that matched: `by name "n"`, `by pattern "p"`
	// or `by op type T`.
	Reason string
}

func (x Excluded) String() string {
	return fmt.Sprintf("node %q (%s) kept in FP32: excluded %s", x.Node, x.OpType, x.Reason)
}

func (s Skip) String() string {
	return fmt.Sprintf("tensor %q (input %d of node %q) left in float: %s", s.Tensor, s.Input, s.Node, s.Reason)
}

// Warnings returns the skipped inputs as messages, one per line of a
// report.
func (r *Report) Warnings() []string {
	out := make([]string, len(r.Skipped))
	for i, s := range r.Skipped {
		out[i] = s.String()
	}
	return out
}

// String summarizes the report in a few lines.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "opset %d", r.FromOpset)
	if r.Opset != r.FromOpset {
		fmt.Fprintf(&b, " -> %d", r.Opset)
	}
	fmt.Fprintf(&b, "; %d activation(s) and %d weight(s) quantized, %d input(s) left in float",
		len(r.Activations), len(r.Weights), len(r.Skipped))
	if len(r.Excluded) > 0 {
		fmt.Fprintf(&b, ", %d node(s) excluded", len(r.Excluded))
	}
	b.WriteString("\n")
	for _, a := range r.Activations {
		fmt.Fprintf(&b, "  activation %s: scale %g (amax %g), read by %s\n", a.Tensor, a.Scale, a.Scale*127, strings.Join(a.Readers, ", "))
	}
	for _, w := range r.Weights {
		layout := "per tensor"
		if w.Axis >= 0 {
			layout = fmt.Sprintf("per channel, axis %d (%d scales)", w.Axis, len(w.Scales))
		}
		fmt.Fprintf(&b, "  weight %s %s: %s, max |error| %g, read by %s\n", w.Tensor, tensor.ShapeString(w.Shape), layout, w.MaxAbsError, strings.Join(w.Readers, ", "))
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(&b, "  warning: %s\n", s)
	}
	for _, x := range r.Excluded {
		fmt.Fprintf(&b, "  %s\n", x)
	}
	for _, s := range r.Removed {
		fmt.Fprintf(&b, "  removed unused %s\n", s)
	}
	return b.String()
}

// Export returns a copy of m with explicit int8 quantization from table
// (see the package documentation); m is not modified. It fails if the
// model has no graph or default-domain opset, or if its opset is below 13
// and cannot be raised.
func Export(m *onnx.Model, table *calibtable.Table, opts Options) (*onnx.Model, *Report, error) {
	if m == nil || m.Graph == nil {
		return nil, nil, errors.New("qdq: model has no graph")
	}
	if table == nil {
		return nil, nil, errors.New("qdq: no calibration table")
	}
	targets := map[string]bool{}
	for _, op := range DefaultOps {
		targets[op] = true
	}
	for _, op := range opts.ExtraOps {
		if op == "" || op == "QuantizeLinear" || op == "DequantizeLinear" {
			return nil, nil, fmt.Errorf("qdq: %q cannot be quantized", op)
		}
		targets[op] = true
	}
	named := make([]precision.Node, len(m.Graph.Nodes))
	for i, n := range m.Graph.Nodes {
		named[i] = precision.Node{Name: n.Name, OpType: n.OpType}
	}
	if err := opts.Exclude.Check(named, ops.Supported()); err != nil {
		return nil, nil, err
	}
	from, ok := m.Opsets[""]
	if !ok {
		return nil, nil, errors.New("qdq: the model imports no default-domain (ai.onnx) opset")
	}
	out := cloneModel(m)
	rep := &Report{FromOpset: from, Opset: from}
	if from < 13 {
		if err := checkUpgrade(out.Graph.Nodes, from); err != nil {
			return nil, nil, err
		}
		out.Opsets[""] = 13
		rep.Opset = 13
		if out.IRVersion < 7 {
			out.IRVersion = 7 // the IR version that came with opset 13
		}
	}

	e := &exporter{
		g:        out.Graph,
		table:    table,
		opts:     opts,
		rep:      rep,
		consts:   constants(m),
		names:    usedNames(out.Graph),
		acts:     map[string]*actQDQ{},
		weights:  map[string]*weightDQ{},
		producer: map[string]*onnx.Node{},
	}
	usedBefore := uses(out.Graph)
	for _, n := range out.Graph.Nodes {
		for _, o := range n.Outputs {
			if o != "" {
				e.producer[o] = n
			}
		}
	}
	nodes := make([]*onnx.Node, 0, len(out.Graph.Nodes))
	for i, n := range out.Graph.Nodes {
		if n.Domain == "" && targets[n.OpType] {
			if why, ok := opts.Exclude.Match(n.Name, n.OpType); ok {
				rep.Excluded = append(rep.Excluded, Excluded{Node: nodeLabel(n, i), OpType: n.OpType, Reason: why})
			} else {
				nodes = append(nodes, e.quantizeNode(n, i)...)
			}
		}
		nodes = append(nodes, n)
	}
	out.Graph.Nodes = nodes
	e.removeUnused(usedBefore)
	if out.IRVersion < 4 {
		// Old IR versions list every initializer among the inputs.
		for _, init := range e.added {
			out.Graph.Inputs = append(out.Graph.Inputs, valueInfoOf(init))
		}
	}
	return out, rep, nil
}

type actQDQ struct {
	dq  string // the dequantized tensor's name
	rep int    // index in Report.Activations
}

type weightDQ struct {
	dq  string
	rep int
}

type exporter struct {
	g        *onnx.Graph
	table    *calibtable.Table
	opts     Options
	rep      *Report
	consts   map[string]*tensor.Tensor
	names    map[string]bool
	acts     map[string]*actQDQ
	weights  map[string]*weightDQ // by tensor name and axis
	producer map[string]*onnx.Node
	added    []*onnx.Initializer
}

// role is what an input of a quantizable node is.
type role int

const (
	keep role = iota
	activation
	weight
)

// roleOf returns the role of input j of n and, for weights, the channel
// axis (-1: per tensor).
func (e *exporter) roleOf(n *onnx.Node, j int, w *tensor.Tensor) (role, int) {
	isConst := w != nil
	switch n.OpType {
	case "Conv", "ConvTranspose":
		switch {
		case j == 0:
			return activation, 0
		case j == 1 && n.OpType == "Conv":
			return weight, 0
		case j == 1:
			// [C, M/group, k...]: the output channels are axis 1.
			return weight, 1
		}
		return keep, 0
	case "Gemm", "MatMul":
		switch {
		case j == 0:
			return activation, 0
		case j == 1 && !isConst:
			return activation, 0
		case j == 1 && n.OpType == "Gemm":
			if a := n.Attr("transB"); a != nil && a.I != 0 {
				return weight, 0
			}
			return weight, 1
		case j == 1:
			return weight, len(w.Shape) - 1
		}
		return keep, 0
	}
	if isConst {
		return keep, 0
	}
	return activation, 0
}

func nodeLabel(n *onnx.Node, i int) string {
	if n.Name != "" {
		return n.Name
	}
	return fmt.Sprintf("%s_%d", n.OpType, i)
}

// quantizeNode rewires the inputs of node n (index i in the graph) and
// returns the nodes to insert before it.
func (e *exporter) quantizeNode(n *onnx.Node, i int) []*onnx.Node {
	var pre []*onnx.Node
	label := nodeLabel(n, i)
	for j, name := range n.Inputs {
		if name == "" {
			continue
		}
		w := e.consts[name]
		r, axis := e.roleOf(n, j, w)
		if r == keep {
			continue
		}
		skip := func(format string, args ...any) {
			e.rep.Skipped = append(e.rep.Skipped, Skip{Tensor: name, Node: label, Input: j, Reason: fmt.Sprintf(format, args...)})
		}
		if p := e.producer[name]; p != nil && p.OpType == "DequantizeLinear" && p.Domain == "" {
			skip("already produced by a DequantizeLinear")
			continue
		}
		if r == activation {
			if w != nil {
				skip("a constant where an activation is expected; only activations and weights are quantized")
				continue
			}
			entry, ok := e.table.Lookup(name)
			if !ok {
				skip("not in the calibration table")
				continue
			}
			if s := entry.Scale; !(s > 0) || math.IsInf(float64(s), 0) {
				skip("the table's scale %g is not a positive finite number", s)
				continue
			}
			dq, nodes := e.activation(name, entry.Scale)
			pre = append(pre, nodes...)
			n.Inputs[j] = dq
			a := &e.rep.Activations[e.acts[name].rep]
			a.Readers = appendOnce(a.Readers, label)
			continue
		}
		if w.DType != tensor.Float32 {
			skip("weights of type %v are left alone (float32 only)", w.DType)
			continue
		}
		if n.OpType == "Conv" && len(w.Shape) < 3 {
			skip("a Conv weight of shape %s (want [M,C,k...])", tensor.ShapeString(w.Shape))
			continue
		}
		if n.OpType == "ConvTranspose" && len(w.Shape) < 3 {
			skip("a ConvTranspose weight of shape %s (want [C,M/group,k...])", tensor.ShapeString(w.Shape))
			continue
		}
		if n.OpType == "Gemm" && len(w.Shape) != 2 {
			skip("a Gemm weight of shape %s (want rank 2)", tensor.ShapeString(w.Shape))
			continue
		}
		if e.opts.PerTensorWeights || len(w.Shape) < 2 {
			axis = -1
		}
		if !finite(w.F32) {
			skip("holds NaN or infinite values")
			continue
		}
		dq, nodes := e.weight(name, w, axis)
		pre = append(pre, nodes...)
		n.Inputs[j] = dq
		wr := &e.rep.Weights[e.weights[weightKey(name, axis)].rep]
		wr.Readers = appendOnce(wr.Readers, label)
	}
	return pre
}

func finite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

func appendOnce(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

func weightKey(name string, axis int) string { return fmt.Sprintf("%s\x00%d", name, axis) }

// unique returns base, or base_1, base_2, ... whichever is not yet a name
// in the graph, and reserves it.
func (e *exporter) unique(base string) string {
	name := base
	for k := 1; e.names[name]; k++ {
		name = fmt.Sprintf("%s_%d", base, k)
	}
	e.names[name] = true
	return name
}

func (e *exporter) addInit(name string, t *tensor.Tensor) {
	init := &onnx.Initializer{Name: name, Tensor: t}
	e.g.Initializers = append(e.g.Initializers, init)
	e.added = append(e.added, init)
	e.consts[name] = t
}

// activation returns the dequantized name of tensor x and, the first time,
// the QuantizeLinear and DequantizeLinear nodes that compute it.
func (e *exporter) activation(x string, scale float32) (string, []*onnx.Node) {
	if a, ok := e.acts[x]; ok {
		return a.dq, nil
	}
	s, z := e.unique(x+"_scale"), e.unique(x+"_zero_point")
	e.addInit(s, &tensor.Tensor{DType: tensor.Float32, Shape: []int{}, F32: []float32{scale}})
	e.addInit(z, &tensor.Tensor{DType: tensor.Int8, Shape: []int{}, I64: []int64{0}})
	qOut := e.unique(x + "_QuantizeLinear_Output")
	dqOut := e.unique(x + "_DequantizeLinear_Output")
	q := &onnx.Node{Name: e.unique(x + "_QuantizeLinear"), OpType: "QuantizeLinear",
		Inputs: []string{x, s, z}, Outputs: []string{qOut}}
	dq := &onnx.Node{Name: e.unique(x + "_DequantizeLinear"), OpType: "DequantizeLinear",
		Inputs: []string{qOut, s, z}, Outputs: []string{dqOut}}
	e.producer[qOut], e.producer[dqOut] = q, dq
	e.acts[x] = &actQDQ{dq: dqOut, rep: len(e.rep.Activations)}
	e.rep.Activations = append(e.rep.Activations, Activation{Tensor: x, Scale: scale})
	return dqOut, []*onnx.Node{q, dq}
}

// weight returns the dequantized name of constant w quantized along axis
// (-1: per tensor) and, the first time, the DequantizeLinear node.
func (e *exporter) weight(name string, w *tensor.Tensor, axis int) (string, []*onnx.Node) {
	key := weightKey(name, axis)
	if d, ok := e.weights[key]; ok {
		return d.dq, nil
	}
	q, scales, maxErr := QuantizeWeights(w, axis)
	qn, s, z := e.unique(name+"_quantized"), e.unique(name+"_scale"), e.unique(name+"_zero_point")
	e.addInit(qn, q)
	if axis < 0 {
		e.addInit(s, &tensor.Tensor{DType: tensor.Float32, Shape: []int{}, F32: scales})
		e.addInit(z, &tensor.Tensor{DType: tensor.Int8, Shape: []int{}, I64: []int64{0}})
	} else {
		e.addInit(s, &tensor.Tensor{DType: tensor.Float32, Shape: []int{len(scales)}, F32: scales})
		e.addInit(z, &tensor.Tensor{DType: tensor.Int8, Shape: []int{len(scales)}, I64: make([]int64, len(scales))})
	}
	dqOut := e.unique(name + "_DequantizeLinear_Output")
	dq := &onnx.Node{Name: e.unique(name + "_DequantizeLinear"), OpType: "DequantizeLinear",
		Inputs: []string{qn, s, z}, Outputs: []string{dqOut}}
	if axis >= 0 {
		dq.Attrs = []*onnx.Attribute{{Name: "axis", Type: onnx.AttrInt, I: int64(axis)}}
	}
	e.producer[dqOut] = dq
	e.weights[key] = &weightDQ{dq: dqOut, rep: len(e.rep.Weights)}
	e.rep.Weights = append(e.rep.Weights, Weight{Tensor: name, Shape: append([]int(nil), w.Shape...),
		Axis: axis, Scales: scales, MaxAbsError: maxErr})
	return dqOut, []*onnx.Node{dq}
}

// QuantizeWeights quantizes a float32 tensor symmetrically to int8 in
// [-127, 127]: per channel along axis (one scale max|w|/127 per index of
// that axis), or with a single scale when axis < 0. A channel of zeros
// gets scale 1. It returns the int8 tensor, the scales and the largest
// |w - q*scale|.
func QuantizeWeights(w *tensor.Tensor, axis int) (*tensor.Tensor, []float32, float32) {
	channels, inner := 1, len(w.F32)
	if axis >= 0 {
		channels = w.Shape[axis]
		inner = tensor.NumElements(w.Shape[axis+1:])
	}
	amax := make([]float32, channels)
	for i, v := range w.F32 {
		c := 0
		if inner > 0 {
			c = (i / inner) % channels
		}
		amax[c] = max(amax[c], float32(math.Abs(float64(v))))
	}
	scales := make([]float32, channels)
	for c, a := range amax {
		scales[c] = a / 127
		if !(scales[c] > 0) {
			scales[c] = 1
		}
	}
	q := &tensor.Tensor{DType: tensor.Int8, Shape: append([]int{}, w.Shape...), I64: make([]int64, len(w.F32))}
	var maxErr float32
	for i, v := range w.F32 {
		c := 0
		if inner > 0 {
			c = (i / inner) % channels
		}
		q.I64[i] = ops.QuantizeValue(v, scales[c], 0, -127, 127)
		maxErr = max(maxErr, float32(math.Abs(float64(v-float32(q.I64[i])*scales[c]))))
	}
	return q, scales, maxErr
}

// removeUnused drops the nodes whose outputs were read before the
// rewiring and no longer are (repeatedly, so that chains go), then the
// initializers in the same case, with their graph input and value_info
// entries.
func (e *exporter) removeUnused(before map[string]bool) {
	g := e.g
	removed := map[string]bool{}
	for {
		now := uses(g)
		kept := g.Nodes[:0:0]
		changed := false
		for _, n := range g.Nodes {
			wasUsed, isUsed := false, false
			for _, o := range n.Outputs {
				wasUsed = wasUsed || before[o]
				isUsed = isUsed || now[o]
			}
			if wasUsed && !isUsed {
				e.rep.Removed = append(e.rep.Removed, "node "+n.Name)
				for _, o := range n.Outputs {
					removed[o] = true
				}
				changed = true
				continue
			}
			kept = append(kept, n)
		}
		g.Nodes = kept
		if !changed {
			break
		}
	}
	now := uses(g)
	inits := g.Initializers[:0:0]
	for _, init := range g.Initializers {
		if before[init.Name] && !now[init.Name] {
			e.rep.Removed = append(e.rep.Removed, "initializer "+init.Name)
			removed[init.Name] = true
			continue
		}
		inits = append(inits, init)
	}
	g.Initializers = inits
	filter := func(list []*onnx.ValueInfo) []*onnx.ValueInfo {
		out := list[:0:0]
		for _, v := range list {
			if !removed[v.Name] {
				out = append(out, v)
			}
		}
		return out
	}
	g.Inputs = filter(g.Inputs)
	g.ValueInfo = filter(g.ValueInfo)
}

// uses returns the names read by some node or listed as graph outputs.
func uses(g *onnx.Graph) map[string]bool {
	u := map[string]bool{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			u[in] = true
		}
	}
	for _, o := range g.Outputs {
		u[o.Name] = true
	}
	delete(u, "")
	return u
}

// usedNames collects every tensor and node name of the graph.
func usedNames(g *onnx.Graph) map[string]bool {
	names := map[string]bool{"": true}
	for _, n := range g.Nodes {
		names[n.Name] = true
		for _, s := range n.Inputs {
			names[s] = true
		}
		for _, s := range n.Outputs {
			names[s] = true
		}
	}
	for _, in := range g.Initializers {
		names[in.Name] = true
	}
	for _, list := range [][]*onnx.ValueInfo{g.Inputs, g.Outputs, g.ValueInfo} {
		for _, v := range list {
			names[v.Name] = true
		}
	}
	return names
}

// constants returns the initializers of m and, when the engine can load
// the model, every tensor computed from initializers alone (folded by
// graph.FromONNX on a copy of the nodes, which it may rename).
func constants(m *onnx.Model) map[string]*tensor.Tensor {
	c := map[string]*tensor.Tensor{}
	for _, in := range m.Graph.Initializers {
		c[in.Name] = in.Tensor
	}
	g := *m.Graph
	g.Nodes = make([]*onnx.Node, len(m.Graph.Nodes))
	for i, n := range m.Graph.Nodes {
		cp := *n
		g.Nodes[i] = &cp
	}
	cm := *m
	cm.Graph = &g
	if loaded, err := graph.FromONNX(&cm); err == nil {
		for name, t := range loaded.Constants {
			if _, ok := c[name]; !ok {
				c[name] = t
			}
		}
	}
	return c
}

func valueInfoOf(init *onnx.Initializer) *onnx.ValueInfo {
	v := &onnx.ValueInfo{Name: init.Name, DType: init.Tensor.DType, HasShape: true, Dims: []onnx.Dim{}}
	for _, d := range init.Tensor.Shape {
		v.Dims = append(v.Dims, onnx.Dim{Value: int64(d)})
	}
	return v
}

// upgradeSince gives, for the operators a model may use when Export
// relabels its opset to 13, the oldest opset whose definition means the
// same at 13: later versions only added types, optional inputs or
// attributes with defaults that keep the old behaviour.
var upgradeSince = map[string]int64{
	"Abs": 6, "Add": 7, "Sub": 7, "Mul": 7, "Div": 7, "Sum": 8, "Max": 8, "Min": 8,
	"Relu": 6, "LeakyRelu": 6, "Sigmoid": 6, "Tanh": 6, "Exp": 6, "Sqrt": 6, "Neg": 6,
	"Identity": 1, "Conv": 1, "MatMul": 1, "Gemm": 7,
	"MaxPool": 1, "AveragePool": 7, "GlobalAveragePool": 1, "GlobalMaxPool": 1,
	"BatchNormalization": 9, "Reshape": 5, "Flatten": 1, "Transpose": 1, "Concat": 4,
	"Slice": 10, "Gather": 1, "Shape": 1, "Constant": 1, "ConstantOfShape": 9,
	"Cast": 6, "Pad": 11, "Clip": 11, "Dropout": 12,
	"QuantizeLinear": 10, "DequantizeLinear": 10,
}

// upgradeRefused explains the operators known to change meaning (or move
// attributes to inputs) by opset 13.
var upgradeRefused = map[string]string{
	"Softmax":    "Softmax changed meaning in opset 13 (before, it flattened its input to 2-D at axis)",
	"LogSoftmax": "LogSoftmax changed meaning in opset 13 (before, it flattened its input to 2-D at axis)",
	"Hardmax":    "Hardmax changed meaning in opset 13 (before, it flattened its input to 2-D at axis)",
	"Squeeze":    "axes became an input in opset 13",
	"Unsqueeze":  "axes became an input in opset 13",
	"Split":      "split became an input in opset 13",
	"ReduceSum":  "axes became an input in opset 13",
	"Upsample":   "Upsample was removed in opset 10",
}

// checkUpgrade reports whether every default-domain node means the same
// at opset 13 as at opset from.
func checkUpgrade(nodes []*onnx.Node, from int64) error {
	var problems []string
	for i, n := range nodes {
		if n.Domain != "" {
			continue
		}
		since, ok := upgradeSince[n.OpType]
		var reason string
		switch {
		case !ok && upgradeRefused[n.OpType] != "":
			reason = upgradeRefused[n.OpType]
		case !ok:
			reason = "not known to mean the same at opset 13"
		case from < since:
			reason = fmt.Sprintf("its definition changed between opset %d and 13 (it means the same at 13 only from opset %d on)", from, since)
		default:
			continue
		}
		problems = append(problems, fmt.Sprintf("node %q (%s): %s", nodeLabel(n, i), n.OpType, reason))
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("qdq: the model imports opset %d and per-axis DequantizeLinear needs opset 13, "+
		"but the model cannot simply be relabelled to opset 13 because of %d node(s):\n  %s\n"+
		"convert it first, e.g. in Python: onnx.version_converter.convert_version(model, 13)",
		from, len(problems), strings.Join(problems, "\n  "))
}

// cloneModel deep-copies a model.
func cloneModel(m *onnx.Model) *onnx.Model {
	out := &onnx.Model{IRVersion: m.IRVersion, ProducerName: m.ProducerName, ProducerVersion: m.ProducerVersion,
		Opsets: map[string]int64{}}
	for d, v := range m.Opsets {
		out.Opsets[d] = v
	}
	g := m.Graph
	og := &onnx.Graph{Name: g.Name}
	for _, n := range g.Nodes {
		cn := &onnx.Node{Name: n.Name, OpType: n.OpType, Domain: n.Domain,
			Inputs: append([]string(nil), n.Inputs...), Outputs: append([]string(nil), n.Outputs...)}
		for _, a := range n.Attrs {
			ca := *a
			if a.T != nil {
				ca.T = a.T.Clone()
			}
			ca.Floats = append([]float32(nil), a.Floats...)
			ca.Ints = append([]int64(nil), a.Ints...)
			ca.Strings = append([]string(nil), a.Strings...)
			cn.Attrs = append(cn.Attrs, &ca)
		}
		og.Nodes = append(og.Nodes, cn)
	}
	for _, in := range g.Initializers {
		og.Initializers = append(og.Initializers, &onnx.Initializer{Name: in.Name, Tensor: in.Tensor.Clone()})
	}
	cv := func(list []*onnx.ValueInfo) []*onnx.ValueInfo {
		var out []*onnx.ValueInfo
		for _, v := range list {
			c := *v
			if v.Dims != nil {
				c.Dims = append([]onnx.Dim{}, v.Dims...)
			}
			out = append(out, &c)
		}
		return out
	}
	og.Inputs, og.Outputs, og.ValueInfo = cv(g.Inputs), cv(g.Outputs), cv(g.ValueInfo)
	out.Graph = og
	return out
}
