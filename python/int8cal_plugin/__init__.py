"""int8cal_plugin: write int8cal calibrator and data set plugins in Python.

A calibrator::

    from int8cal_plugin import Calibrator, Range, serve
    class MyCalibrator(Calibrator): ...
    serve(MyCalibrator())

A data set (int8cal.batchstream.v2: named inputs of any supported type)::

    from int8cal_plugin import Dataset, Input, Meta, serve
    class MyDataset(Dataset): ...
    serve(MyDataset())

The program, named int8cal-calibrator-<name> or int8cal-batchstream-<name>
and executable, goes in a directory passed to int8cal with --plugin-dir.
See docs/writing-a-python-plugin.md in the int8cal repository.
"""

from __future__ import annotations

from typing import NoReturn

from . import calibrator, dataset
from ._log import get_logger
from .calibrator import Calibrator, Histogram, Range, Statistics, TensorStats
from .dataset import Batch, Dataset, Input, Meta
from .options import Option, OptionError

__all__ = [
    "Batch",
    "Calibrator",
    "Dataset",
    "Histogram",
    "Input",
    "Meta",
    "Option",
    "OptionError",
    "Range",
    "Statistics",
    "TensorStats",
    "get_logger",
    "serve",
]

__version__ = "0.1.0"


def serve(plugin: Calibrator | Dataset) -> NoReturn:
    """Serves a Calibrator or a Dataset as an int8cal plugin until the host
    shuts it down, then exits the process."""
    if isinstance(plugin, Calibrator):
        calibrator.serve(plugin)
    if isinstance(plugin, Dataset):
        dataset.serve(plugin)
    raise TypeError(f"serve takes an int8cal_plugin.Calibrator or Dataset, not {type(plugin).__name__}")
