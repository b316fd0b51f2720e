"""A data set for int8cal: a folder of NumPy arrays.

The folder holds one <input>.npy per model input, each of shape [N, ...]
(N samples, then one sample's shape) and of the input's type, and
optionally labels.npy, N class indices. The arrays are memory-mapped, so a
large folder is not read whole.
"""

from __future__ import annotations

import os
from typing import Mapping

import numpy as np

from int8cal_plugin import Batch, Dataset, Input, Meta, Option, OptionError, serve

LABELS = "labels.npy"


class NpyFolder(Dataset):
    name = "npyfolder"
    version = "1.0.0"
    description = "a folder of .npy arrays: <input>.npy per model input, labels.npy (optional)"
    options = [
        Option("dir", "", "the folder (required)"),
        Option("classes", "", "number of classes (default: the largest label + 1)"),
    ]

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.labels: np.ndarray | None = None

    def open(self, options: Mapping[str, str]) -> Meta:
        folder = options.get("dir", "")
        if not folder:
            raise OptionError(f"{self.name}: option dir is required: the folder of .npy files")
        names = sorted(f for f in os.listdir(folder) if f.endswith(".npy") and f != LABELS)
        if not names:
            raise OptionError(f"{self.name}: option dir={folder}: no <input>.npy files in it")
        self.arrays = {f[: -len(".npy")]: np.load(os.path.join(folder, f), mmap_mode="r") for f in names}
        samples = {name: len(a) for name, a in self.arrays.items()}
        if len(set(samples.values())) != 1:
            raise ValueError(f"{folder}: the arrays hold different numbers of samples: {samples}")
        n = next(iter(samples.values()))
        self.labels = None
        classes = 0
        path = os.path.join(folder, LABELS)
        if os.path.exists(path):
            self.labels = np.load(path)
            if self.labels.shape != (n,) or self.labels.dtype.kind not in "iu":
                raise ValueError(f"{path}: want {n} integer labels, has {self.labels.dtype} {self.labels.shape}")
            classes = int(self.labels.max(initial=-1)) + 1
        if options.get("classes"):
            try:
                classes = int(options["classes"])
            except ValueError:
                raise OptionError(f"{self.name}: option classes={options['classes']}: want an integer") from None
        inputs = [Input(name, self._dtype(a), a.shape[1:]) for name, a in self.arrays.items()]
        return Meta(samples=n, inputs=inputs, labels=self.labels is not None, classes=classes)

    @staticmethod
    def _dtype(a: np.ndarray) -> np.dtype:
        # float64, which the protocol does not carry, travels as float32.
        return np.dtype(np.float32) if a.dtype == np.float64 else a.dtype

    def read(self, first: int, count: int) -> Batch:
        arrays = {name: np.asarray(a[first : first + count], dtype=self._dtype(a)) for name, a in self.arrays.items()}
        labels = None if self.labels is None else self.labels[first : first + count]
        return arrays, labels

    def close(self) -> None:
        self.arrays, self.labels = {}, None


if __name__ == "__main__":
    serve(NpyFolder())
