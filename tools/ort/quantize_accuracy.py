#!/usr/bin/env python3
"""ONNX Runtime's post-training quantization on a CIFAR-10 model, the peer
of `int8cal compare` for issue 15's accuracy table.

For each of ORT's calibration methods (MinMax, Entropy, Percentile) the
model is quantized with onnxruntime.quantization.quantize_static in the QDQ
format, int8 activations and weights, both symmetric, weights per channel
(the settings that match int8cal's INT8: per-tensor symmetric activations,
per-channel symmetric weights), calibrated on the same 1,000 calibration
arrays int8cal uses (cifar10_calib_x.npy) and scored on the 10,000 test
arrays. The model is first run through ORT's quant_pre_process (shape
inference and graph optimisation), as ORT's documentation advises.

A method may name its histogram's bins, e.g. Entropy:2048. ORT's Entropy
defaults to 128 bins for 128 quantized bins, which leaves it one candidate
threshold, the whole range: its scales are then MinMax's. With 2048 bins
it searches thresholds as TensorRT's entropy calibration does, so the
default list runs both. quantize_static (1.32) passes no bin count to its
calibrator, so this script gives it one by wrapping create_calibrator.

Prints one JSON object per line:
  {"runtime": "onnxruntime", "precision": "fp32"|"int8", "method": ..., "top1": ..., "top5": ...,
   "images": 10000, "calibration_seconds": ...}

Usage: .venv/bin/python tools/ort/quantize_accuracy.py --model M.onnx --cifar ../shared/data/cifar10
"""

import argparse
import importlib
import json
import os
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from cifar import Reader, load

# The module, not the function of the same name the package exports.
quantize_module = importlib.import_module("onnxruntime.quantization.quantize")
_create_calibrator = quantize_module.create_calibrator


def with_bins(bins):
    """Makes quantize_static's calibrator use bins histogram bins (None:
    ORT's default)."""
    def create(*args, extra_options=None, **kwargs):
        extra = dict(extra_options or {})
        extra["num_bins"] = bins
        return _create_calibrator(*args, extra_options=extra, **kwargs)
    quantize_module.create_calibrator = create if bins else _create_calibrator


def score(path, x, y, batch):
    opts = ort.SessionOptions()
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    top1 = top5 = 0
    for i in range(0, len(x), batch):
        out = sess.run(None, {name: x[i:i + batch]})[0]
        labels = y[i:i + batch]
        top = np.argsort(-out, axis=1)[:, :5]
        top1 += int((top[:, 0] == labels).sum())
        top5 += int((top == labels[:, None]).any(axis=1).sum())
    return top1 / len(x), top5 / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--cifar", required=True, help="folder with cifar10_{calib,test}_{x,y}.npy")
    ap.add_argument("--methods", default="MinMax,Entropy,Entropy:2048,Percentile")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--cal-batch", type=int, default=50)
    args = ap.parse_args()
    if not os.path.exists(os.path.join(args.cifar, "cifar10_test_x.npy")):
        sys.exit(f"quantize_accuracy: no CIFAR-10 arrays in {args.cifar}")
    xc, _ = load(args.cifar, "calib")
    xt, yt = load(args.cifar, "test")
    name = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"]).get_inputs()[0].name
    t1, t5 = score(args.model, xt, yt, args.batch)
    print(json.dumps({"runtime": "onnxruntime", "version": ort.__version__, "model": os.path.basename(args.model),
                      "precision": "fp32", "top1": t1, "top5": t5, "images": len(xt)}), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        pre = os.path.join(tmp, "pre.onnx")
        quant_pre_process(args.model, pre, skip_symbolic_shape=True)
        for spec in args.methods.split(","):
            method, _, bins = spec.partition(":")
            with_bins(int(bins) if bins else None)
            out = os.path.join(tmp, f"int8.{method}{bins}.onnx")
            start = time.perf_counter()
            quantize_static(pre, out, Reader(xc, args.cal_batch, name),
                            quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                            calibrate_method=getattr(CalibrationMethod, method),
                            extra_options={"ActivationSymmetric": True, "WeightSymmetric": True})
            seconds = time.perf_counter() - start
            t1, t5 = score(out, xt, yt, args.batch)
            print(json.dumps({"runtime": "onnxruntime", "version": ort.__version__,
                              "model": os.path.basename(args.model), "precision": "int8", "method": spec,
                              "format": "QDQ symmetric, weights per channel", "top1": t1, "top5": t5,
                              "images": len(xt), "calibration_seconds": round(seconds, 2)}), flush=True)


if __name__ == "__main__":
    main()
