#!/usr/bin/env python3
"""Run an ONNX model in ONNX Runtime (CPU) on inputs from a .npy file and
write one output as a .npy file, so that Go tests (core/qdq) and
`make crosscheck` can compare our engine's execution of an exported QDQ
model with ONNX Runtime's.

  python3 tools/ort/qdq_check.py --model exported.onnx --input data \\
      --npy inputs.npy --out outputs.npy [--output prob] [--check] [--opt all] [--runs]

--input defaults to the model's only graph input (initializers listed as
inputs by old models are not counted); --output to its first output. The
input array is cast to the input's element type (float32 for our models).
--check runs onnx.checker.check_model (full_check) first and fails on a
problem. --opt chooses ONNX Runtime's graph optimization level: "disable"
(the default: the graph as written, QuantizeLinear/DequantizeLinear run as
such, the reference semantics) or "basic", "extended", "all" (ONNX Runtime
may then fuse Q/DQ around operators into integer kernels, whose results
differ slightly from fake quantization). The session uses one intra-op
thread. --runs reads the array as several inputs stacked along a new
first axis (for a model whose batch size is fixed): each is run in turn and
the outputs are stacked the same way. A one-line JSON summary goes to
stdout.
"""

import argparse
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort

OPT_LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}

# ONNX Runtime's input type strings to numpy.
NP_TYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="ONNX model file")
    ap.add_argument("--input", help="graph input name (default: the only input)")
    ap.add_argument("--npy", required=True, help="input array (.npy)")
    ap.add_argument("--out", required=True, help="output array to write (.npy)")
    ap.add_argument("--output", help="graph output name (default: the first output)")
    ap.add_argument("--check", action="store_true", help="run onnx.checker.check_model(full_check=True) first")
    ap.add_argument("--opt", choices=sorted(OPT_LEVELS), default="disable",
                    help="ONNX Runtime graph optimization level (default: disable)")
    ap.add_argument("--runs", action="store_true",
                    help="the array's first axis counts separate runs; stack their outputs")
    args = ap.parse_args()

    if args.check:
        model = onnx.load(args.model)
        try:
            onnx.checker.check_model(model, full_check=True)
        except Exception as e:  # onnx raises several types
            sys.exit("%s: onnx.checker: %s" % (args.model, e))

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = OPT_LEVELS[args.opt]
    sess = ort.InferenceSession(args.model, sess_options=so, providers=["CPUExecutionProvider"])

    inputs = sess.get_inputs()
    if args.input:
        match = [i for i in inputs if i.name == args.input]
        if not match:
            sys.exit("%s: no input %r (inputs: %s)" % (args.model, args.input, ", ".join(i.name for i in inputs)))
        inp = match[0]
    else:
        if len(inputs) != 1:
            sys.exit("%s: %d inputs (%s); name one with --input" % (args.model, len(inputs), ", ".join(i.name for i in inputs)))
        inp = inputs[0]
    outputs = [o.name for o in sess.get_outputs()]
    out_name = args.output or outputs[0]
    if out_name not in outputs:
        sys.exit("%s: no output %r (outputs: %s)" % (args.model, out_name, ", ".join(outputs)))

    x = np.load(args.npy)
    dtype = NP_TYPES.get(inp.type)
    if dtype is None:
        sys.exit("%s: input %r has type %s, which this script does not feed" % (args.model, inp.name, inp.type))
    x = np.ascontiguousarray(x.astype(dtype, copy=False))
    if args.runs:
        y = np.stack([sess.run([out_name], {inp.name: xi})[0] for xi in x])
    else:
        (y,) = sess.run([out_name], {inp.name: x})
    np.save(args.out, y)
    print(json.dumps({
        "onnxruntime": ort.__version__,
        "model": args.model,
        "input": inp.name,
        "input_shape": list(x.shape),
        "output": out_name,
        "output_shape": list(y.shape),
        "output_dtype": str(y.dtype),
        "opt": args.opt,
        "checked": bool(args.check),
        "runs": int(x.shape[0]) if args.runs else 1,
    }))


if __name__ == "__main__":
    main()
