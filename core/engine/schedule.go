package engine

import (
	"fmt"

	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/memlimit"
)

// Schedule is a graph specialised to fixed input shapes: every value that
// is known before running (initializers, folded subgraphs, shapes) is a
// constant, and every remaining node is a Step with its output metas. It
// is what an executor lowers, this package's plans and other backends
// (core/cuda) alike, so that folding and shape inference exist once.
type Schedule struct {
	Inputs  []graph.Value
	Outputs []string
	// Consts holds every value known before running, by name.
	Consts map[string]*tensor.Tensor
	// Metas holds the dtype and shape of every value, constant or not.
	Metas map[string]ops.Meta
	// Steps are the nodes left to run, in order.
	Steps []Step
}

// Step is one node to run.
type Step struct {
	Node *graph.Node
	Op   ops.Op
	// Consts[i] is input i's value when it is constant, else nil.
	Consts []*tensor.Tensor
	// Metas are the outputs' dtypes and shapes.
	Metas []ops.Meta
}

// Schedule folds the engine's graph for the given input shapes. With half
// set, float constants are rounded to half precision first (as FP16 plans
// store them), so values folded from them are computed from the rounded
// weights. What it allocates (those copies, folded values) is counted
// against the graph's memory budget.
func (e *Engine) Schedule(shapes map[string][]int, half bool) (*Schedule, error) {
	return e.schedule(shapes, half, e.g.Budget.Account(e.g.ConstantBytes()))
}

// schedule is Schedule counting in acct, which the plan goes on with.
func (e *Engine) schedule(shapes map[string][]int, half bool, acct *memlimit.Account) (*Schedule, error) {
	g := e.g
	sc := &Schedule{Inputs: g.Inputs, Consts: map[string]*tensor.Tensor{}, Metas: map[string]ops.Meta{}}
	for name, c := range g.Constants {
		meta := ops.Meta{DType: c.DType, Shape: c.Shape}
		if half && c.DType.IsFloat() {
			if err := acct.Take(meta.Bytes(), "the FP16 copy of "+meta.Named(name)); err != nil {
				return nil, err
			}
			c = c.Clone()
			tensor.RoundToFloat16(c.F32)
		}
		sc.Consts[name] = c
		sc.Metas[name] = meta
	}
	for _, in := range g.Inputs {
		s, ok := shapes[in.Name]
		if !ok {
			return nil, fmt.Errorf("no value for model input %q", in.Name)
		}
		if _, err := tensor.CheckShape(s); err != nil {
			return nil, fmt.Errorf("model input %q: %w", in.Name, err)
		}
		if err := e.CheckInput(in.Name, s); err != nil {
			return nil, err
		}
		dt := in.DType
		if dt == tensor.Undefined {
			dt = tensor.Float32
		}
		sc.Metas[in.Name] = ops.Meta{DType: dt, Shape: s}
	}
	for _, n := range g.Nodes {
		op, err := ops.Build(n.Source, g.Opset)
		if err != nil {
			return nil, err
		}
		inMetas := make([]ops.Meta, len(n.Inputs))
		inConsts := make([]*tensor.Tensor, len(n.Inputs))
		allConst := true
		for i, name := range n.Inputs {
			if name == "" {
				continue
			}
			m, ok := sc.Metas[name]
			if !ok {
				return nil, fmt.Errorf("node %q (%s): input %q is not computed", n.Name, n.OpType, name)
			}
			inMetas[i] = m
			inConsts[i] = sc.Consts[name]
			if inConsts[i] == nil {
				allConst = false
			}
		}
		// A node whose value is known now (all inputs constant, or Shape
		// of a tensor whose shape is now fixed) is folded for this plan.
		if allConst || n.OpType == "Shape" {
			vals := inConsts
			if !allConst {
				vals = []*tensor.Tensor{{DType: inMetas[0].DType, Shape: inMetas[0].Shape}}
			}
			outs, err := graph.Evaluate(op, vals, n.Outputs, acct)
			if err != nil {
				return nil, fmt.Errorf("node %q (%s): %w", n.Name, n.OpType, err)
			}
			for i, name := range n.Outputs {
				if name != "" {
					sc.Consts[name] = outs[i]
					sc.Metas[name] = ops.Meta{DType: outs[i].DType, Shape: outs[i].Shape}
				}
			}
			continue
		}
		outMetas, err := ops.Infer(op, inMetas, inConsts, n.Outputs)
		if err != nil {
			return nil, fmt.Errorf("node %q (%s) with inputs %s: %w", n.Name, n.OpType, metaList(inMetas), err)
		}
		if len(n.Outputs) > len(outMetas) {
			return nil, fmt.Errorf("node %q (%s): %d outputs wired, the operator has %d", n.Name, n.OpType, len(n.Outputs), len(outMetas))
		}
		outMetas = outMetas[:len(n.Outputs)]
		for i, name := range n.Outputs {
			if name != "" {
				sc.Metas[name] = outMetas[i]
			}
		}
		sc.Steps = append(sc.Steps, Step{Node: n, Op: op, Consts: inConsts, Metas: outMetas})
	}
	for _, o := range g.Outputs {
		if _, ok := sc.Metas[o.Name]; !ok {
			return nil, fmt.Errorf("graph output %q is not computed", o.Name)
		}
		sc.Outputs = append(sc.Outputs, o.Name)
	}
	return sc, nil
}
