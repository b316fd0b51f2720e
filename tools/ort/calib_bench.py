#!/usr/bin/env python3
"""Time ONNX Runtime's own calibrators on ResNet-20 and the CIFAR-10
calibration images, the peer of int8cal's calibration benchmark, and with
--compare int8cal's beside them in the same run.

Runs onnxruntime.quantization's MinMax and Entropy calibrators (the Python
quantizer's create_calibrator, default options except symmetric activations
as quantize_static uses for int8) over cifar10_calib_x.npy (1,000 images,
batches of 50, normalized as resnet20.onnx expects) and prints one line per
method:

  ort-calib <method> images=<n> seconds=<float> tensors=<n>

The time covers collect_data and compute_data (the whole calibration), not
model loading.

--compare also runs core/calibrate's BenchmarkCalibrateResNet20 (the same
images and batches: the observed FP32 runs, statistics, calibrator and
table written, for entropy2 and minmax; two calibrations a round after a
warm-up one, so that planning the network is not counted, as ONNX
Runtime's session is made before its clock starts), alternating with ONNX
Runtime's rounds so that both see the same machine load, and prints the
medians and the ratios:

  calib <ours>/<ort>: int8cal <s> s, ONNX Runtime <s> s (medians of <n> rounds): <x>x faster

and the benchmark's "forward" line: the fused FP32 forward pass alone over
the same batches, the floor of a calibration.

--go-test LABEL=PATH (repeatable) times prebuilt core/calibrate test
binaries (`go test -c ./core/calibrate/`) instead of building one from
this tree, e.g. a before and an after in one run. --kernels native,avx2
times each also with INT8CAL_KERNELS=avx2 (the GEMM's and the
histograms' AVX2 kernels forced), the path of AVX2-only CPUs.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization.calibrate import CalibrationMethod, create_calibrator

from cifar import Reader, normalise

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# ONNX Runtime's method and the int8cal calibrator it is set beside.
PEERS = {"Entropy": "entropy2", "MinMax": "minmax"}


def ort_seconds(model, x, batch, name, method):
    """One ONNX Runtime calibration: seconds and number of tensors."""
    with tempfile.TemporaryDirectory() as tmp:
        cal = create_calibrator(model, op_types_to_calibrate=None,
                                augmented_model_path=os.path.join(tmp, "augmented.onnx"),
                                calibrate_method=getattr(CalibrationMethod, method),
                                extra_options={"symmetric": True})
        began = time.perf_counter()
        cal.collect_data(Reader(x, batch, name))
        ranges = cal.compute_data()
        took = time.perf_counter() - began
    return took, len(ranges.data) if hasattr(ranges, "data") else len(ranges)


def go_seconds(binary, cifar, kernels):
    """int8cal's seconds per calibration, by calibrator, from one run of
    BenchmarkCalibrateResNet20, and under "forward" the seconds of its
    fused FP32 forward pass alone over the same batches (where the
    benchmark has it)."""
    env = dict(os.environ, INT8CAL_CIFAR10=os.path.abspath(cifar))
    if kernels != "native":
        env["INT8CAL_KERNELS"] = kernels
    out = subprocess.run(
        [binary, "-test.run", "^$", "-test.bench", "^BenchmarkCalibrateResNet20$",
         "-test.benchtime", "2x"],
        cwd=os.path.join(ROOT, "core", "calibrate"), env=env,
        check=True, capture_output=True, text=True).stdout
    got = {m.group(1): float(m.group(2))
           for m in re.finditer(r"BenchmarkCalibrateResNet20/(\w+)-\d+\s.*?([\d.]+) s/calibration", out)}
    if not got:
        sys.exit("no s/calibration in the benchmark output:\n" + out)
    m = re.search(r"BenchmarkCalibrateResNet20/forward-\d+\s.*?([\d.]+) s/pass", out)
    if m:
        got["forward"] = float(m.group(1))
    return got


def build_go_test(tmp):
    path = os.path.join(tmp, "calibrate.test")
    subprocess.run(["go", "test", "-c", "-o", path, "./core/calibrate/"], cwd=ROOT, check=True,
                   env=dict(os.environ, CGO_ENABLED="0"))
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="testdata/models/resnet20.onnx")
    ap.add_argument("--cifar", default="../shared/data/cifar10")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--methods", default="MinMax,Entropy")
    ap.add_argument("--compare", action="store_true", help="time int8cal's calibration too, alternating")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of --compare")
    ap.add_argument("--go-test", action="append", default=[], metavar="LABEL=PATH",
                    help="a prebuilt core/calibrate test binary to time (repeatable)")
    ap.add_argument("--kernels", default="native",
                    help="comma-separated kernel sets for int8cal: native (the best the CPU has), avx2, go "
                         "(INT8CAL_KERNELS; an AVX-512 machine measures the AVX2 path with avx2)")
    args = ap.parse_args()
    path = os.path.join(args.cifar, "cifar10_calib_x.npy")
    if not os.path.exists(path):
        print("ort-calib skipped: %s not found" % path)
        return
    x = normalise(np.load(path))
    name = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"]).get_inputs()[0].name
    methods = args.methods.split(",")
    if not args.compare:
        for method in methods:
            took, tensors = ort_seconds(args.model, x, args.batch, name, method)
            print("ort-calib %s images=%d seconds=%.3f tensors=%d" % (method, len(x), took, tensors))
            sys.stdout.flush()
        return
    with tempfile.TemporaryDirectory() as tmp:
        built = [tuple(b.split("=", 1)) for b in args.go_test] or [("int8cal", build_go_test(tmp))]
        # one timed configuration per binary and kernel set, labelled
        kernels = args.kernels.split(",")
        binaries = [(label if k == "native" else "%s/%s" % (label, k), path, k)
                    for label, path in built for k in kernels]
        ours = {label: {} for label, _, _ in binaries}  # label → calibrator → seconds per round
        theirs = {m: [] for m in methods}
        for r in range(args.rounds):
            line = []
            for label, binary, k in binaries:
                for calibrator, s in go_seconds(binary, args.cifar, k).items():
                    ours[label].setdefault(calibrator, []).append(s)
                    line.append("%s %s %.3f s" % (label, calibrator, s))
            for method in methods:
                took, _ = ort_seconds(args.model, x, args.batch, name, method)
                theirs[method].append(took)
                line.append("ONNX Runtime %s %.3f s" % (method, took))
            print("calib round %d: %s" % (r + 1, "; ".join(line)))
            sys.stdout.flush()
    for method in methods:
        peer = statistics.median(theirs[method])
        for label, _, _ in binaries:
            got = ours[label].get(PEERS.get(method, ""))
            if not got:
                continue
            mine = statistics.median(got)
            print("calib %s/%s: %s %.3f s, ONNX Runtime %.3f s (medians of %d rounds, %d images): %.2fx faster"
                  % (PEERS[method], method, label, mine, peer, args.rounds, len(x), peer / mine))
    for label, _, _ in binaries:
        if "forward" in ours[label]:
            print("calib forward: %s's fused FP32 forward pass alone over the same batches %.3f s (median): the floor of its calibration"
                  % (label, statistics.median(ours[label]["forward"])))


if __name__ == "__main__":
    main()
