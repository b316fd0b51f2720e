package layererr

import (
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
)

// MACs is the multiply-accumulates of each node of g that has an INT8
// kernel with weights or products (Conv, ConvTranspose, Gemm, MatMul), by
// node name, for inputs of the given shapes: the compute that INT8 runs
// or, excluded, leaves in FP32. Other nodes (pooling, additions) are
// memory-bound and not counted.
func MACs(g *graph.Graph, shapes map[string][]int) (map[string]int64, error) {
	sc, err := engine.New(g, engine.Options{}).Schedule(shapes, false)
	if err != nil {
		return nil, err
	}
	macs := map[string]int64{}
	for _, st := range sc.Steps {
		n := st.Node
		if len(st.Metas) == 0 || len(n.Inputs) < 2 {
			continue
		}
		a, b := sc.Metas[n.Inputs[0]].Shape, sc.Metas[n.Inputs[1]].Shape
		var perOutput int64 // multiply-accumulates per output element
		switch n.OpType {
		case "Conv":
			// Weights [M, C/group, kH, kW...]: each output sums C/group·kH·kW products.
			perOutput = product(b[1:])
		case "ConvTranspose":
			// Every input element scatters into [M/group, kH, kW...] outputs.
			macs[n.Name] += product(a) * product(b[1:])
			continue
		case "Gemm":
			if len(a) == 2 {
				perOutput = int64(a[1])
				if n.Source != nil && n.Source.AttrInt("transA", 0) != 0 {
					perOutput = int64(a[0])
				}
			}
		case "MatMul":
			if len(a) > 0 {
				perOutput = int64(a[len(a)-1])
			}
		default:
			continue
		}
		macs[n.Name] += product(st.Metas[0].Shape) * perOutput
	}
	return macs, nil
}

func product(shape []int) int64 {
	p := int64(1)
	for _, d := range shape {
		p *= int64(d)
	}
	return p
}
