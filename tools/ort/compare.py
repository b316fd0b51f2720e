#!/usr/bin/env python3
"""Run our engine's benchmarks and ONNX Runtime's beside them, in one run.

For each model it runs the Go benchmark (images/s reported by
core/engine's Benchmark*FP32*) and tools/ort/bench.py on the same model and
batch size, alternating rounds so that both see the same machine load, and
prints a table with the median of each and their ratio. Used by `make bench`.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

MODELS = [
    # benchmark name, model path, batch
    ("LeNetFP32Batch32", "data/mnist/lenet.onnx", 32),
    ("ResNet20FP32Batch64", "testdata/models/resnet20.onnx", 64),
]


def go_images_per_s(bench, benchtime):
    out = subprocess.run(
        ["go", "test", "-run", "^$", "-bench", "^Benchmark%s$" % bench,
         "-benchtime", benchtime, "./core/engine/"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    m = re.search(r"([\d.]+) images/s", out)
    if not m:
        sys.exit("no images/s in benchmark output:\n" + out)
    return float(m.group(1))


def ort_images_per_s(model, batch, seconds):
    out = subprocess.run(
        [sys.executable, os.path.join(HERE, "bench.py"), "--model", model,
         "--batch", str(batch), "--seconds", str(seconds)],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    m = re.search(r"images/s=([\d.]+)", out)
    if not m:
        sys.exit("no images/s in bench.py output:\n" + out)
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3)
    args = ap.parse_args()
    rows = []
    for bench, model, batch in MODELS:
        ours, ort = [], []
        for _ in range(args.rounds):
            ours.append(go_images_per_s(bench, "%gs" % args.seconds))
            ort.append(ort_images_per_s(model, batch, args.seconds))
        o, r = statistics.median(ours), statistics.median(ort)
        rows.append((os.path.basename(model), batch, o, r, o / r))
        print("%s batch %d: int8cal %s, onnxruntime %s images/s" % (
            os.path.basename(model), batch, ["%.0f" % v for v in ours], ["%.0f" % v for v in ort]),
            file=sys.stderr)
    print("| model | batch | int8cal FP32 images/s | ONNX Runtime FP32 images/s | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for name, batch, o, r, ratio in rows:
        print("| %s | %d | %.0f | %.0f | %.2fx |" % (name, batch, o, r, ratio))


if __name__ == "__main__":
    main()
