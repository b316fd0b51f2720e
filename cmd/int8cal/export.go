package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/int8cal/int8cal/core/calibrate"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/qdq"
)

const exportSynopsis = `Writes an ONNX model with explicit quantization, the form TensorRT 10/11 and
ONNX Runtime consume: QuantizeLinear/DequantizeLinear pairs (int8, zero point
0, scale amax/127 from the calibration cache) on the activation inputs of
Conv, Gemm and MatMul, and weights stored as int8 per output channel with a
DequantizeLinear. Tensors missing from the cache stay in float and are
listed. The cache is used as given: one with an unusable scale (NaN,
infinite, zero, negative, denormal) or naming none of the model's tensors is
an error.`

func exportCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", exportSynopsis)
	model := fs.String("model", "", "ONNX model (required)")
	cache := fs.String("cache", "", "calibration cache, TensorRT format (required)")
	out := fs.String("out", "", "output .onnx file (required)")
	perTensor := fs.Bool("per-tensor-weights", false, "one scale per weight tensor instead of per output channel")
	extra := fs.String("extra-ops", "", "comma-separated operators whose activation inputs also get Q/DQ, e.g. Add")
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	if *model == "" || *cache == "" || *out == "" {
		return fmt.Errorf("--model, --cache and --out are required (see int8cal export --help)")
	}
	opts := qdq.Options{PerTensorWeights: *perTensor}
	if *extra != "" {
		opts.ExtraOps = strings.Split(*extra, ",")
	}
	if err := checkOutputs([]namedPath{{"--model", *model}, {"--cache", *cache}}, []namedPath{{"--out", *out}}); err != nil {
		return err
	}
	q, rep, warnings, err := exportQDQ(*model, *cache, opts)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "int8cal export: warning:", w)
	}
	if err := onnx.WriteFile(*out, q); err != nil {
		return err
	}
	fmt.Fprint(stdout, rep.String())
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}

// exportQDQ reads the model and the calibration cache and makes the Q/DQ
// model: what export writes and --tensorrt-int8 qdq builds. The cache is
// used as given (calibrate.ReadTable): an invalid one, or one naming none
// of the model's tensors, is an error. The warnings list the cache's
// tensors the model does not have and the inputs left in float.
func exportQDQ(model, cache string, opts qdq.Options) (*onnx.Model, *qdq.Report, []string, error) {
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
