#!/usr/bin/env python3
"""Turns the weight skeletons of testdata/bench (written by
tools/gpu/export_bench.py from PyTorch's export) into runnable ONNX models
for `make bench`: every initializer whose data was stripped gets seeded
normal values with the mean and standard deviation recorded in its
doc_string, so the activations keep the scale they had in PyTorch. The
values depend only on the initializer's name and shape, so every machine
regenerates the same model.

Usage: .venv/bin/python tools/models/fill_weights.py --out DIR SKELETON.onnx...
writes DIR/<name>.onnx for each <name>.skeleton.onnx (temp file, then rename).
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def fill(path_in, path_out):
    m = onnx.load(path_in)
    filled = 0
    for i, t in enumerate(m.graph.initializer):
        if not t.doc_string.startswith("{"):
            continue
        spec = json.loads(t.doc_string)
        if spec.get("int8cal_fill") != "normal":
            sys.exit(f"{path_in}: initializer {t.name!r}: unknown fill {spec!r}")
        seed = int.from_bytes(hashlib.sha256(f"{t.name}{list(t.dims)}".encode()).digest()[:8], "little")
        rng = np.random.default_rng(seed)
        values = rng.standard_normal(tuple(t.dims), dtype=np.float32) * np.float32(spec["std"]) + np.float32(spec["mean"])
        new = numpy_helper.from_array(values.astype(np.float32), t.name)
        m.graph.initializer[i].CopyFrom(new)
        filled += 1
    tmp = path_out + ".tmp"
    onnx.save(m, tmp)
    os.replace(tmp, path_out)
    return filled


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("skeletons", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for s in args.skeletons:
        name = os.path.basename(s).removesuffix(".skeleton.onnx")
        out = os.path.join(args.out, name + ".onnx")
        n = fill(s, out)
        print(f"{out}: {n} initializers filled, {os.path.getsize(out) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
