"""A percentile calibrator for int8cal, in Python with NumPy.

amax is the smallest bin edge of the histogram of |x| below which at least
the given percentile of a tensor's values lie: outliers above it are clipped.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from int8cal_plugin import Calibrator, Option, OptionError, Range, Statistics, TensorStats, serve


class Percentile(Calibrator):
    name = "pypercentile"
    version = "1.0.0"
    algorithm = "Percentile"  # written in the calibration cache header
    description = "amax at a percentile of |x|, 99.99 by default (NumPy, from the histogram)"
    statistics = Statistics.ABS_HISTOGRAM
    bins = 2048
    options = [Option("percentile", "99.99", "percentile of |x| kept unclipped, in (0, 100]")]

    def __init__(self) -> None:
        self.percentile = 99.99

    def configure(self, options: Mapping[str, str]) -> None:
        text = options["percentile"]
        try:
            p = float(text)
        except ValueError:
            p = float("nan")
        if not 0 < p <= 100:
            raise OptionError(f"{self.name}: option percentile={text}: want a number in (0, 100]")
        self.percentile = p

    def calibrate(self, tensors: list[TensorStats]) -> list[Range]:
        ranges = []
        for t in tensors:
            h = t.histogram
            if h is None or h.signed:
                raise ValueError(f"tensor {t.name!r}: needs a histogram of |x|")
            total = int(h.counts.sum())
            if t.max_abs == 0 or total == 0:
                ranges.append(Range(t.name, 0.0))
                continue
            cumulative = np.cumsum(h.counts, dtype=np.float64)
            # The first bin whose upper edge has that percentile of the values
            # at or below it.
            b = int(np.searchsorted(cumulative, total * self.percentile / 100, side="left"))
            amax = min((b + 1) * h.bin_width, t.max_abs)
            ranges.append(Range(t.name, amax))
        return ranges


if __name__ == "__main__":
    serve(Percentile())
