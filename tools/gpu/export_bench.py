"""Exports the full-size benchmark networks of issue 15 (torchvision's
mobilenet_v2, resnet50 and vit_b_16 at 224x224, 1000 classes) as weight
skeletons: ONNX files whose large float initializers carry no data, only
the mean and standard deviation of the values PyTorch's initialisation
gave them (batch-norm statistics randomised first, as export_zoo.py does).
tools/models/fill_weights.py turns a skeleton back into a runnable model
with seeded values of the same mean and spread, so that the benchmark
models are regenerated from a few hundred kilobytes instead of carried
(ResNet-50 alone is 100 MB). The speed of a network does not depend on
its weights; its activations keep the scale they have in PyTorch.

Writes into --out: <name>.skeleton.onnx and manifest.json.
Run where torch and torchvision are (the GPU machine; CPU is enough):
  python3 tools/gpu/export_bench.py --out DIR
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from export_zoo import randomise_norms, randomise_zero_weights  # noqa: E402

SEED = 20261207
KEEP = 4096  # float initializers this small keep their values


def skeleton(path_in, path_out):
    m = onnx.load(path_in)
    stripped = 0
    for t in m.graph.initializer:
        if t.data_type != onnx.TensorProto.FLOAT:
            continue
        a = numpy_helper.to_array(t)
        if a.size <= KEEP:
            continue
        mean, std = float(a.mean()), float(a.std())
        t.ClearField("raw_data")
        t.ClearField("float_data")
        t.doc_string = json.dumps({"int8cal_fill": "normal", "mean": mean, "std": std})
        stripped += 1
    onnx.save(m, path_out)
    return stripped


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(SEED)
    manifest = {"versions": {"torch": torch.__version__, "torchvision": torchvision.__version__,
                             "onnx": onnx.__version__},
                "exporter": "torch.onnx.export dynamo=False opset 17, dynamic batch",
                "models": {}}
    for name in ["mobilenet_v2", "resnet50", "vit_b_16"]:
        model = getattr(torchvision.models, name)(num_classes=1000)
        randomise_zero_weights(randomise_norms(model)).eval()
        full = os.path.join(args.out, name + ".full.onnx")
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), full, dynamo=False, opset_version=17,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        out = os.path.join(args.out, name + ".skeleton.onnx")
        n = skeleton(full, out)
        manifest["models"][name] = {"skeleton": os.path.basename(out), "input": "input [N,3,224,224]",
                                    "output": "logits [N,1000]", "stripped_initializers": n,
                                    "full_bytes": os.path.getsize(full), "skeleton_bytes": os.path.getsize(out)}
        os.remove(full)
        print(name, manifest["models"][name], flush=True)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
