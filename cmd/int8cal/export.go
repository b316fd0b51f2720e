package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/pipeline"
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
	var opts qdq.Options
	registerExclusions(fs, &opts.Exclude)
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	if *model == "" || *cache == "" || *out == "" {
		return fmt.Errorf("--model, --cache and --out are required (see int8cal export --help)")
	}
	opts.PerTensorWeights = *perTensor
	if *extra != "" {
		opts.ExtraOps = strings.Split(*extra, ",")
	}
	if err := pipeline.CheckOutputs([]pipeline.NamedPath{{What: "--model", Path: *model}, {What: "--cache", Path: *cache}}, []pipeline.NamedPath{{What: "--out", Path: *out}}); err != nil {
		return err
	}
	q, rep, warnings, err := pipeline.ExportQDQ(*model, *cache, opts)
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
