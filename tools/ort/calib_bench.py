#!/usr/bin/env python3
"""Time ONNX Runtime's own calibrators on ResNet-20 and the CIFAR-10
calibration images, the peer of int8cal's calibration benchmark.

Runs onnxruntime.quantization's MinMax and Entropy calibrators (the Python
quantizer's create_calibrator, default options except symmetric activations
as quantize_static uses for int8) over cifar10_calib_x.npy (1,000 images,
batches of 50, normalized as resnet20.onnx expects) and prints one line per
method:

  ort-calib <method> images=<n> seconds=<float> tensors=<n>

The time covers collect_data and compute_data (the whole calibration), not
model loading.
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization.calibrate import CalibrationMethod, create_calibrator

from cifar import Reader, normalise


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="testdata/models/resnet20.onnx")
    ap.add_argument("--cifar", default="../shared/data/cifar10")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--methods", default="MinMax,Entropy")
    args = ap.parse_args()
    path = os.path.join(args.cifar, "cifar10_calib_x.npy")
    if not os.path.exists(path):
        print("ort-calib skipped: %s not found" % path)
        return
    x = normalise(np.load(path))
    name = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"]).get_inputs()[0].name
    for method in args.methods.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            extra = {"symmetric": True}
            cal = create_calibrator(args.model, op_types_to_calibrate=None,
                                    augmented_model_path=os.path.join(tmp, "augmented.onnx"),
                                    calibrate_method=getattr(CalibrationMethod, method),
                                    extra_options=extra)
            began = time.perf_counter()
            cal.collect_data(Reader(x, args.batch, name))
            ranges = cal.compute_data()
            took = time.perf_counter() - began
        print("ort-calib %s images=%d seconds=%.3f tensors=%d" % (method, len(x), took, len(ranges.data) if hasattr(ranges, "data") else len(ranges)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
