package pipeline

import (
	"fmt"
	"strings"

	"github.com/int8cal/int8cal/core/calibrate"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/qdq"
)

// ExportQDQ reads the model and the calibration cache and makes the Q/DQ
// model: what `int8cal export` writes and INT8FromQDQ builds. The cache
// is used as given (calibrate.ReadTable): an invalid one, or one naming
// none of the model's tensors, is an error. The warnings list the cache's
// tensors the model does not have and the inputs left in float.
func ExportQDQ(model, cache string, opts qdq.Options) (*onnx.Model, *qdq.Report, []string, error) {
	m, err := onnx.ReadFile(model)
	if err != nil {
		return nil, nil, nil, err
	}
	table, unknown, err := calibrate.ReadTable(cache, onnxTensors(m))
	if err != nil {
		return nil, nil, nil, err
	}
	q, rep, err := qdq.Export(m, table, opts)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: Q/DQ from %s: %w", model, cache, err)
	}
	var warnings []string
	if len(unknown) > 0 {
		warnings = append(warnings, fmt.Sprintf("%s names %d tensors that %s does not have; they are ignored: %s", cache, len(unknown), model, strings.Join(unknown, ", ")))
	}
	return q, rep, append(warnings, rep.Warnings()...), nil
}

// onnxTensors are the names of the model's tensors a calibration table
// may name: its inputs, its initializers and every node's outputs.
func onnxTensors(m *onnx.Model) []string {
	var names []string
	for _, in := range m.Graph.Inputs {
		names = append(names, in.Name)
	}
	for _, init := range m.Graph.Initializers {
		names = append(names, init.Name)
	}
	for _, n := range m.Graph.Nodes {
		names = append(names, n.Outputs...)
	}
	return names
}
