"""Writes MNIST's test images as a folder for npy_folder_dataset.py.

usage: mnist_to_npy.py MNIST_DIR OUT_DIR [COUNT]

MNIST_DIR holds the IDX files (int8cal's `make data` puts them in
data/mnist). OUT_DIR gets data.npy, float32 [N, 1, 28, 28] with pixel/255
as LeNet's input "data" takes it, and labels.npy, N digits.
"""

from __future__ import annotations

import os
import sys

import numpy as np


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    with open(os.path.join(src, "t10k-images-idx3-ubyte"), "rb") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:count]
    with open(os.path.join(src, "t10k-labels-idx1-ubyte"), "rb") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:count]
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "data.npy"), images.astype(np.float32) / 255)
    np.save(os.path.join(out, "labels.npy"), labels.astype(np.int64))


if __name__ == "__main__":
    main()
