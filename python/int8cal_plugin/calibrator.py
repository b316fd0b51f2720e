"""Calibrator plugins: int8cal.calibrator.v1 served from a Calibrator object.

A calibrator turns per-tensor statistics, gathered by the host over the
calibration data, into one amax per tensor (the range [-amax, amax] that
INT8 quantization maps to [-127, 127]). Subclass Calibrator, then call
serve(YourCalibrator()) in the plugin program.
"""

from __future__ import annotations

import abc
import enum
import math
import threading
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping, NoReturn, Sequence

import grpc
import numpy as np
import numpy.typing as npt

from . import _log, _server
from ._proto.int8cal.calibrator.v1 import calibrator_pb2 as pb
from ._proto.int8cal.calibrator.v1 import calibrator_pb2_grpc as pb_grpc
from .options import Option, OptionError, merge

PROTOCOL = _server.Protocol(
    kind="calibrator", cookie="int8cal-calibrator-c0ffee", version=1, package="int8cal.calibrator.v1", title="calibrator"
)

# Bounds the host's own server checks too (internal/calibratorrpc).
_MAX_BINS = 1 << 24
_MAX_RAW = 1 << 31


class Statistics(enum.IntEnum):
    """The statistics a calibrator asks the host to gather per tensor."""

    ABS_HISTOGRAM = 1
    """A histogram of |x| over [0, range] in ``bins`` equal bins."""
    SIGNED_HISTOGRAM = 2
    """A histogram of x over [-range, range] in ``bins`` equal bins."""
    MIN_MAX = 3
    """Only count, min and max."""
    RAW = 4
    """Every value seen, as float32 (the host may refuse when too many)."""


@dataclass
class Histogram:
    """A histogram of one tensor's values."""

    counts: npt.NDArray[np.uint64]
    range: float
    """The upper edge of the last bin; the lower edge of the first is 0, or
    -range when signed."""
    signed: bool

    @property
    def bins(self) -> int:
        return len(self.counts)

    @property
    def bin_width(self) -> float:
        return (2 * self.range if self.signed else self.range) / len(self.counts)

    @property
    def edges(self) -> npt.NDArray[np.float64]:
        """The bins + 1 edges."""
        low = -self.range if self.signed else 0.0
        return np.linspace(low, self.range, len(self.counts) + 1)


@dataclass
class TensorStats:
    """What the host gathered about one tensor (an activation or input)."""

    name: str
    count: int
    """Values seen."""
    min: float
    max: float
    histogram: Histogram | None = None
    """For the histogram kinds of Statistics."""
    values: npt.NDArray[np.float32] | None = None
    """Every value, for Statistics.RAW."""

    @property
    def max_abs(self) -> float:
        return max(self.max, -self.min)


@dataclass
class Range:
    """The range chosen for one tensor: quantize to [-amax, amax]."""

    name: str
    amax: float
    curve: Sequence[float] | npt.NDArray[np.floating] = field(default_factory=list)
    """Optional diagnostics: the quantity minimized per candidate threshold
    (e.g. KL divergence per candidate bin)..."""
    chosen: int = 0
    """...and the candidate chosen (an index into curve)."""


class Calibrator(abc.ABC):
    """A calibrator, as int8cal's Go calib.Calibrator.

    Set the class attributes, implement calibrate, and configure when the
    calibrator has options. Calls arrive one at a time.
    """

    name: str
    """The plugin's name: its program is int8cal-calibrator-<name>."""
    version: str = "0.1.0"
    algorithm: str
    """Written in the calibration cache header, e.g. EntropyCalibration2."""
    description: str = ""
    statistics: Statistics = Statistics.ABS_HISTOGRAM
    bins: int = 2048
    """Histogram bins, for the histogram kinds."""
    options: Sequence[Option] = ()

    def configure(self, options: Mapping[str, str]) -> None:
        """Applies options: every declared option, the user's value or else
        its default (unknown names were refused already). Raise OptionError
        (or ValueError) naming the option and saying what is wanted; the
        previous configuration should then stay in force."""
        if self.options:
            raise NotImplementedError(f"{self.name}: declares options but does not implement configure")

    @abc.abstractmethod
    def calibrate(self, tensors: list[TensorStats]) -> list[Range]:
        """Returns one range per tensor, in the same order, under the same
        names: amax finite and at least 0 (0 for a tensor of zeros)."""


class _Servicer(pb_grpc.CalibratorServicer):
    def __init__(self, impl: Calibrator) -> None:
        self.impl = impl
        self.log = _log.get_logger(impl.name)
        self.lock = threading.Lock()

    def Info(self, request: pb.InfoRequest, context: grpc.ServicerContext) -> pb.InfoResponse:
        return info_message(self.impl)

    def Configure(self, request: pb.ConfigureRequest, context: grpc.ServicerContext) -> pb.ConfigureResponse:
        with self.lock:
            try:
                self.impl.configure(merge(self.impl.name, self.impl.options, dict(request.options)))
            except OptionError as e:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
            except ValueError as e:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{self.impl.name}: {e}")
            except Exception as e:
                _server.abort_bug(self.log, context, self.impl.name, "Configure", e)
        return pb.ConfigureResponse()

    def Calibrate(self, request_iterator: Iterator[pb.CalibrateChunk], context: grpc.ServicerContext) -> pb.CalibrateResponse:
        try:
            stats = receive(request_iterator, self.impl.statistics)
        except ValueError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{self.impl.name}: {e}")
        with self.lock:
            try:
                return ranges_message(stats, self.impl.calibrate(stats))
            except ValueError as e:
                context.abort(grpc.StatusCode.UNKNOWN, f"{self.impl.name}: {e}")
            except Exception as e:
                _server.abort_bug(self.log, context, self.impl.name, "Calibrate", e)
        raise AssertionError("not reached: abort raises")


def info_message(c: Calibrator) -> pb.InfoResponse:
    """c's Info as the protocol carries it."""
    return pb.InfoResponse(
        name=c.name,
        version=c.version,
        algorithm=c.algorithm,
        description=c.description,
        statistics=pb.StatisticsKind.Name(int(c.statistics)),
        bins=c.bins if c.statistics in (Statistics.ABS_HISTOGRAM, Statistics.SIGNED_HISTOGRAM) else 0,
        options=[pb.Option(name=o.name, default_value=o.default, description=o.description) for o in c.options],
    )


def receive(chunks: Iterable[pb.CalibrateChunk], kind: Statistics) -> list[TensorStats]:
    """Assembles the tensors of a Calibrate stream: a header, then the
    histogram counts and raw values it announced, split over chunks."""
    stats: list[TensorStats] = []
    bins: list[npt.NDArray[np.uint64]] = []
    values: list[npt.NDArray[np.float32]] = []
    want_bins = want_values = 0

    def finish() -> None:
        if not stats:
            return
        s = stats[-1]
        got_bins, got_values = sum(len(b) for b in bins), sum(len(v) for v in values)
        if got_bins != want_bins:
            raise ValueError(f"tensor {s.name!r}: {got_bins} histogram counts received, {want_bins} announced")
        if got_values != want_values:
            raise ValueError(f"tensor {s.name!r}: {got_values} raw values received, {want_values} announced")
        if s.histogram is not None:
            s.histogram.counts = np.concatenate(bins) if bins else np.zeros(0, np.uint64)
        if want_values:
            s.values = np.concatenate(values)

    for chunk in chunks:
        part = chunk.WhichOneof("part")
        if part == "header":
            finish()
            h = chunk.header
            if h.histogram_bins > _MAX_BINS:
                raise ValueError(f"tensor {h.name!r}: {h.histogram_bins} histogram bins is more than supported")
            if h.raw_count > _MAX_RAW:
                raise ValueError(f"tensor {h.name!r}: {h.raw_count} raw values is more than supported")
            s = TensorStats(name=h.name, count=h.count, min=h.min, max=h.max)
            if h.histogram_bins > 0:
                s.histogram = Histogram(np.zeros(0, np.uint64), h.histogram_range, kind == Statistics.SIGNED_HISTOGRAM)
            stats.append(s)
            bins, values = [], []
            want_bins, want_values = max(h.histogram_bins, 0), h.raw_count
        elif part == "bins":
            if not stats or stats[-1].histogram is None:
                raise ValueError("histogram counts arrived before a header announcing them")
            bins.append(np.array(chunk.bins.counts, dtype=np.uint64))
        elif part == "values":
            if not stats or want_values == 0:
                raise ValueError("raw values arrived before a header announcing them")
            values.append(np.array(chunk.values.values, dtype=np.float32))
        else:
            raise ValueError("empty chunk")
    finish()
    return stats


def ranges_message(stats: Sequence[TensorStats], ranges: Sequence[Range]) -> pb.CalibrateResponse:
    """Checks the calibrator's answer (one finite, non-negative amax per
    tensor, same names and order) and encodes it."""
    if len(ranges) != len(stats):
        raise ValueError(f"calibrate returned {len(ranges)} ranges for {len(stats)} tensors")
    out = pb.CalibrateResponse()
    for s, r in zip(stats, ranges):
        if r.name != s.name:
            raise ValueError(f"range for {r.name!r} where tensor {s.name!r} was expected (same order as the statistics)")
        amax = float(r.amax)
        if not math.isfinite(amax) or amax < 0:
            raise ValueError(f"tensor {s.name!r}: amax {amax} is not finite and non-negative")
        out.ranges.append(pb.TensorRange(name=r.name, amax=amax, curve=[float(c) for c in r.curve], chosen=int(r.chosen)))
    return out


def serve(calibrator: Calibrator) -> NoReturn:
    """Runs calibrator as an int8cal calibrator plugin until the host
    disconnects, then exits. Started by hand rather than by the host, the
    program says that it is a plugin and exits with status 1."""

    def register(server: grpc.Server) -> None:
        pb_grpc.add_CalibratorServicer_to_server(_Servicer(calibrator), server)

    _server.serve(PROTOCOL, calibrator.name, register)
