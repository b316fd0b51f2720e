package graph

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/memlimit"
)

// Value describes a graph input or output. A dimension of -1 is not fixed
// by the model (a dynamic batch, typically).
type Value struct {
	Name  string
	DType tensor.DType
	Shape []int
}

// Node is one operator application that survived constant folding.
type Node struct {
	Name    string
	OpType  string
	Inputs  []string // "" marks an omitted optional input
	Outputs []string // "" marks an omitted optional output
	Source  *onnx.Node
}

// Graph is a validated, topologically ordered, constant-folded model.
type Graph struct {
	Name      string
	Opset     int64
	Inputs    []Value
	Outputs   []Value
	Constants map[string]*tensor.Tensor
	Nodes     []*Node
	// Budget is the memory budget the graph was loaded under; engines
	// count each plan, on top of the constants, against it.
	Budget memlimit.Budget
}

// Options say how a model is loaded.
type Options struct {
	// Budget bounds the bytes of the graph's constants (initializers and
	// values folded at load time) and, with them, of each plan an engine
	// makes from the graph. The zero Budget sets no limit.
	Budget memlimit.Budget
}

// Load reads and prepares an ONNX file with no memory limit.
func Load(path string) (*Graph, error) { return Options{}.Load(path) }

// FromONNX validates and prepares a decoded model with no memory limit.
func FromONNX(m *onnx.Model) (*Graph, error) { return Options{}.FromONNX(m) }

// Load reads and prepares an ONNX file. Errors name the file.
func (o Options) Load(path string) (*Graph, error) {
	m, err := onnx.ReadFile(path)
	if err != nil {
		return nil, err
	}
	g, err := o.FromONNX(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// ConstantBytes returns the storage the graph's constants take.
func (g *Graph) ConstantBytes() int64 {
	var n int64
	for _, c := range g.Constants {
		n += 4*int64(len(c.F32)) + 8*int64(len(c.I64))
	}
	return n
}

// UnsupportedError lists every node the engine cannot run.
type UnsupportedError struct {
	Nodes []*ops.UnsupportedError
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d unsupported node(s):", len(e.Nodes))
	for _, n := range e.Nodes {
		b.WriteString("\n  ")
		b.WriteString(n.Error())
	}
	return b.String()
}

// FromONNX validates and prepares a decoded model.
func (o Options) FromONNX(m *onnx.Model) (*Graph, error) {
	if m.Graph == nil {
		return nil, errors.New("model has no graph")
	}
	opset, ok := m.Opsets[""]
	if !ok {
		return nil, errors.New("model imports no default-domain (ai.onnx) opset")
	}
	if opset < ops.MinOpset || opset > ops.MaxOpset {
		return nil, fmt.Errorf("opset %d not supported (supported: %d to %d); convert the model with onnx.version_converter", opset, ops.MinOpset, ops.MaxOpset)
	}
	g := &Graph{Name: m.Graph.Name, Opset: opset, Constants: map[string]*tensor.Tensor{}, Budget: o.Budget}
	// The initializers are in memory already (the file held them), but
	// they count: what a plan may add is what they leave.
	acct := o.Budget.Account(0)
	for _, init := range m.Graph.Initializers {
		t := init.Tensor
		if _, err := tensor.CheckShape(t.Shape); err != nil {
			return nil, fmt.Errorf("initializer %q: %w", init.Name, err)
		}
		meta := ops.Meta{DType: t.DType, Shape: t.Shape}
		if err := acct.Take(meta.Bytes(), meta.Named(init.Name)); err != nil {
			return nil, fmt.Errorf("initializers: %w", err)
		}
		g.Constants[init.Name] = t
	}
	for _, vi := range m.Graph.Inputs {
		if _, isConst := g.Constants[vi.Name]; isConst {
			continue
		}
		g.Inputs = append(g.Inputs, valueOf(vi))
	}
	for _, vi := range m.Graph.Outputs {
		g.Outputs = append(g.Outputs, valueOf(vi))
	}
	if len(g.Inputs) == 0 {
		return nil, errors.New("graph has no inputs besides initializers")
	}

	built := make([]ops.Op, len(m.Graph.Nodes))
	var unsupported []*ops.UnsupportedError
	for i, n := range m.Graph.Nodes {
		if n.Name == "" {
			n.Name = fmt.Sprintf("%s_%d", n.OpType, i)
		}
		op, err := ops.Build(n, opset)
		if err != nil {
			var ue *ops.UnsupportedError
			if errors.As(err, &ue) {
				unsupported = append(unsupported, ue)
				continue
			}
			return nil, err
		}
		built[i] = op
	}
	if len(unsupported) > 0 {
		return nil, &UnsupportedError{Nodes: unsupported}
	}
	order, err := topoSort(m.Graph.Nodes, g)
	if err != nil {
		return nil, err
	}
	for _, i := range order {
		n := m.Graph.Nodes[i]
		folded, err := g.fold(n, built[i], acct)
		if err != nil {
			return nil, err
		}
		if !folded {
			g.Nodes = append(g.Nodes, &Node{Name: n.Name, OpType: n.OpType, Inputs: n.Inputs, Outputs: n.Outputs, Source: n})
		}
	}
	for _, o := range g.Outputs {
		if !g.produces(o.Name) {
			return nil, fmt.Errorf("graph output %q is produced by no node", o.Name)
		}
	}
	return g, nil
}

func valueOf(vi *onnx.ValueInfo) Value {
	v := Value{Name: vi.Name, DType: vi.DType}
	if vi.HasShape {
		v.Shape = make([]int, len(vi.Dims))
		for i, d := range vi.Dims {
			if d.Value > 0 {
				v.Shape[i] = int(d.Value)
			} else {
				v.Shape[i] = -1
			}
		}
	}
	return v
}

func (g *Graph) produces(name string) bool {
	if _, ok := g.Constants[name]; ok {
		return true
	}
	for _, in := range g.Inputs {
		if in.Name == name {
			return true
		}
	}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o == name {
				return true
			}
		}
	}
	return false
}

// topoSort orders nodes so that each runs after the producers of its
// inputs, keeping file order among independent nodes.
func topoSort(nodes []*onnx.Node, g *Graph) ([]int, error) {
	available := map[string]bool{"": true}
	for name := range g.Constants {
		available[name] = true
	}
	for _, in := range g.Inputs {
		available[in.Name] = true
	}
	producer := map[string]int{}
	for i, n := range nodes {
		for _, o := range n.Outputs {
			if o == "" {
				continue
			}
			if p, dup := producer[o]; dup {
				return nil, fmt.Errorf("tensor %q is produced by both node %q and node %q", o, nodes[p].Name, n.Name)
			}
			producer[o] = i
		}
	}
	done := make([]bool, len(nodes))
	order := make([]int, 0, len(nodes))
	for len(order) < len(nodes) {
		progress := false
		for i, n := range nodes {
			if done[i] {
				continue
			}
			ready := true
			for _, in := range n.Inputs {
				if !available[in] {
					ready = false
					break
				}
			}
			if !ready {
				continue
			}
			done[i], progress = true, true
			order = append(order, i)
			for _, o := range n.Outputs {
				available[o] = true
			}
		}
		if !progress {
			return nil, stuckError(nodes, done, available, producer)
		}
	}
	return order, nil
}

func stuckError(nodes []*onnx.Node, done []bool, available map[string]bool, producer map[string]int) error {
	var missing []string
	for i, n := range nodes {
		if done[i] {
			continue
		}
		for _, in := range n.Inputs {
			if available[in] {
				continue
			}
			if _, ok := producer[in]; !ok {
				missing = append(missing, fmt.Sprintf("node %q (%s) reads %q, which no node, input or initializer provides", n.Name, n.OpType, in))
			}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return errors.New(strings.Join(missing, "; "))
	}
	return errors.New("the graph has a cycle")
}

// fold evaluates n now if all its inputs are constants, counting the
// values it makes in acct.
func (g *Graph) fold(n *onnx.Node, op ops.Op, acct *memlimit.Account) (bool, error) {
	in := make([]*tensor.Tensor, len(n.Inputs))
	for i, name := range n.Inputs {
		if name == "" {
			continue
		}
		c, ok := g.Constants[name]
		if !ok {
			return false, nil
		}
		in[i] = c
	}
	outs, err := Evaluate(op, in, n.Outputs, acct)
	if err != nil {
		return false, fmt.Errorf("node %q (%s): %w", n.Name, n.OpType, err)
	}
	for i, name := range n.Outputs {
		if name != "" {
			g.Constants[name] = outs[i]
		}
	}
	return true, nil
}

// Evaluate runs op on known input values on the calling goroutine and
// returns its outputs, one per name in outputs ("" marks an omitted one,
// left nil). It is how constants are folded. Each output's shape is
// checked and its storage counted in acct before it is allocated.
func Evaluate(op ops.Op, in []*tensor.Tensor, outputs []string, acct *memlimit.Account) ([]*tensor.Tensor, error) {
	metas := make([]ops.Meta, len(in))
	for i, t := range in {
		if t != nil {
			metas[i] = ops.Meta{DType: t.DType, Shape: t.Shape}
		}
	}
	outMetas, err := ops.Infer(op, metas, in, outputs)
	if err != nil {
		return nil, err
	}
	if len(outputs) > len(outMetas) {
		return nil, fmt.Errorf("node has %d outputs, the operator produces %d", len(outputs), len(outMetas))
	}
	out := make([]*tensor.Tensor, len(outputs))
	for i, name := range outputs {
		if name == "" {
			continue
		}
		m := outMetas[i]
		if err := acct.Take(m.Bytes(), m.Named(name)); err != nil {
			return nil, err
		}
		out[i] = tensor.New(m.DType, m.Shape...)
	}
	if p, ok := op.(ops.Preparer); ok {
		if err := p.Prepare(in); err != nil {
			return nil, err
		}
	}
	if err := op.Run(&ops.Ctx{Workers: 1}, in, out); err != nil {
		return nil, err
	}
	return out, nil
}
