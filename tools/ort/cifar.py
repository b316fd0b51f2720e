"""The CIFAR-10 arrays as the CIFAR-10 models of testdata/models take them
(NCHW float32, pixel/255 then per-channel mean and std), and an ONNX
Runtime calibration data reader over them; shared by the tools here."""

import os

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(1, 3, 1, 1)


def normalise(x_nhwc_uint8):
    """uint8 NHWC RGB images → the models' normalised NCHW float32."""
    x = (x_nhwc_uint8.transpose(0, 3, 1, 2).astype(np.float32) / 255 - MEAN) / STD
    return np.ascontiguousarray(x, dtype=np.float32)


def load(folder, split):
    """cifar10_<split>_{x,y}.npy from folder: normalised images, int64 labels."""
    x = np.load(os.path.join(folder, f"cifar10_{split}_x.npy"))
    y = np.load(os.path.join(folder, f"cifar10_{split}_y.npy")).astype(np.int64)
    return normalise(x), y


class Reader(CalibrationDataReader):
    """Feeds x to the model's input name in batches of batch."""

    def __init__(self, x, batch, name):
        self.x, self.batch, self.name, self.i = x, batch, name, 0

    def get_next(self):
        if self.i >= len(self.x):
            return None
        b = self.x[self.i:self.i + self.batch]
        self.i += self.batch
        return {self.name: b}
