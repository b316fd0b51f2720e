#!/usr/bin/env python3
"""Measure ONNX Runtime CPU FP32 inference throughput of an ONNX model.

The session uses ONNX Runtime's defaults (ORT_ENABLE_ALL graph optimizations,
intra-op threads = ORT's default of one per physical core) unless --threads is
given. Inputs are random (seeded) float32 of shape [batch, *input-shape]. After
--warmup runs, the model is run repeatedly for --seconds and one line is
printed:

  ort <model-basename> batch=<N> images/s=<float> threads=<n>

With --json a JSON object with the same numbers and latency statistics is
printed after it.

Usage:
  python3 tools/ort/bench.py --model data/mnist/lenet.onnx --batch 32
  python3 tools/ort/bench.py --model testdata/models/resnet20.onnx --batch 64 --input-shape 3,32,32
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort


def physical_cores():
    """Cores ORT's default thread pool sizes itself by (best effort)."""
    try:
        cores = set()
        with open("/proc/cpuinfo") as f:
            phys = core = None
            for line in f:
                if line.startswith("physical id"):
                    phys = line.split(":")[1].strip()
                elif line.startswith("core id"):
                    core = line.split(":")[1].strip()
                elif not line.strip():
                    if core is not None:
                        cores.add((phys, core))
                    phys = core = None
        allowed = len(os.sched_getaffinity(0))
        if cores:
            return min(len(cores), allowed)
        return allowed
    except (OSError, AttributeError):
        return os.cpu_count() or 1


def input_shape(inp, batch, override):
    if override:
        dims = [int(d) for d in override.replace("x", ",").split(",") if d.strip()]
        return [batch] + dims
    dims = list(inp.shape)
    if not dims:
        sys.exit(f"bench.py: input {inp.name} is a scalar; give --input-shape")
    first = dims[0]
    if isinstance(first, int) and first != batch:
        sys.exit(f"bench.py: input {inp.name} has fixed batch {first}; --batch {batch} cannot be used")
    rest = dims[1:]
    if not all(isinstance(d, int) for d in rest):
        sys.exit(f"bench.py: input {inp.name} has symbolic dims {dims}; give --input-shape")
    return [batch] + rest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="path of the .onnx model")
    ap.add_argument("--batch", type=int, default=1, help="images per run (default 1)")
    ap.add_argument("--seconds", type=float, default=5.0, help="measuring time after warm-up (default 5)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    ap.add_argument("--input-shape", default="",
                    help="per-image input shape without the batch dim, e.g. 3,32,32 "
                         "(default: the model's, with its batch dim replaced by --batch)")
    ap.add_argument("--threads", type=int, default=0,
                    help="intra-op threads (default 0: ONNX Runtime's default, one per physical core)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="also print a JSON object")
    args = ap.parse_args()
    if args.batch < 1 or args.seconds <= 0:
        sys.exit("bench.py: --batch must be >= 1 and --seconds > 0")

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if args.threads > 0:
        so.intra_op_num_threads = args.threads
    sess = ort.InferenceSession(args.model, sess_options=so, providers=["CPUExecutionProvider"])
    threads = args.threads if args.threads > 0 else physical_cores()

    inputs = [i for i in sess.get_inputs()]
    if len(inputs) != 1:
        sys.exit(f"bench.py: model has {len(inputs)} inputs, want 1")
    inp = inputs[0]
    if inp.type != "tensor(float)":
        sys.exit(f"bench.py: input {inp.name} is {inp.type}, want tensor(float)")
    shape = input_shape(inp, args.batch, args.input_shape)
    x = np.random.default_rng(args.seed).random(shape, dtype=np.float32)
    feed = {inp.name: x}

    for _ in range(args.warmup):
        sess.run(None, feed)
    times = []
    start = time.perf_counter()
    end = start + args.seconds
    while True:
        t0 = time.perf_counter()
        sess.run(None, feed)
        t1 = time.perf_counter()
        times.append(t1 - t0)
        if t1 >= end:
            break
    elapsed = time.perf_counter() - start
    runs = len(times)
    ips = runs * args.batch / elapsed

    name = os.path.basename(args.model)
    print(f"ort {name} batch={args.batch} images/s={ips:.1f} threads={threads}")
    if args.json:
        ms = np.array(times) * 1e3
        print(json.dumps({
            "runtime": "onnxruntime",
            "onnxruntime": ort.__version__,
            "provider": "CPUExecutionProvider",
            "graph_optimization_level": "ORT_ENABLE_ALL",
            "model": name,
            "input": inp.name,
            "input_shape": shape,
            "batch": args.batch,
            "threads": threads,
            "threads_source": "--threads" if args.threads > 0 else "ORT default (physical cores)",
            "cpus_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "warmup_runs": args.warmup,
            "runs": runs,
            "seconds": round(elapsed, 3),
            "images_per_s": round(ips, 1),
            "batch_ms": {
                "mean": round(float(ms.mean()), 3),
                "median": round(float(np.median(ms)), 3),
                "p90": round(float(np.percentile(ms, 90)), 3),
                "min": round(float(ms.min()), 3),
            },
        }))


if __name__ == "__main__":
    main()
