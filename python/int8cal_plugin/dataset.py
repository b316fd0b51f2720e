"""Data set plugins: int8cal.batchstream.v2 served from a Dataset object.

A data set hands the host samples for calibration and evaluation: for each
sample one array per model input (named, of a fixed shape and element type)
and optionally a class label. Subclass Dataset, then call
serve(YourDataset()) in the plugin program.

Batches travel streamed over gRPC, or, on Linux, through the shared memory
region the host hands every data set plugin at start (a memory file whose
descriptor is in $INT8CAL_BATCHSTREAM_SHM_FD): the SDK maps it with mmap and
writes each batch into the slot the host reserved, so the values cross
without being copied through gRPC. The host decides which; the plugin
offers shared memory whenever it was handed a region it can map.
"""

from __future__ import annotations

import abc
import mmap
import os
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, NoReturn, Sequence

import grpc
import numpy as np
import numpy.typing as npt

from . import _log, _server
from ._proto.int8cal.batchstream.v2 import batchstream_pb2 as pb
from ._proto.int8cal.batchstream.v2 import batchstream_pb2_grpc as pb_grpc
from .options import Option, OptionError, merge

PROTOCOL = _server.Protocol(
    kind="batchstream", cookie="int8cal-batchstream-5eed", version=2, package="int8cal.batchstream.v2", title="data set"
)

SHM_FD_ENV = "INT8CAL_BATCHSTREAM_SHM_FD"

# The protocol's bounds (internal/batchstreamrpc): chunk size, batch size
# in samples and bytes, slots per shared call, inputs.
CHUNK_BYTES = 1 << 20
MAX_BATCH = 1 << 16
MAX_BATCH_BYTES = 1 << 31
MAX_SLOTS = 8
MAX_INPUTS = 64

# The element types the protocol carries (ONNX TensorProto numbering) and
# the numpy types that hold them.
ELEMENT_TYPES: dict[np.dtype[Any], pb.ElementType] = {
    np.dtype(np.float32): pb.ELEMENT_TYPE_FLOAT32,
    np.dtype(np.uint8): pb.ELEMENT_TYPE_UINT8,
    np.dtype(np.int8): pb.ELEMENT_TYPE_INT8,
    np.dtype(np.int32): pb.ELEMENT_TYPE_INT32,
    np.dtype(np.int64): pb.ELEMENT_TYPE_INT64,
    np.dtype(np.bool_): pb.ELEMENT_TYPE_BOOL,
    np.dtype(np.float16): pb.ELEMENT_TYPE_FLOAT16,
}


@dataclass(frozen=True)
class Input:
    """One named input of every sample, as the model's input of that name
    takes it (a data set of one input may leave the name empty)."""

    name: str
    dtype: npt.DTypeLike
    """One of float32, uint8, int8, int32, int64, bool, float16."""
    shape: tuple[int, ...]
    """One sample's shape, every dimension at least 1."""


@dataclass(frozen=True)
class Meta:
    """What Dataset.open describes."""

    samples: int
    inputs: Sequence[Input]
    labels: bool = False
    """Whether samples carry class labels."""
    classes: int = 0
    """Number of classes when known (labels then lie in [0, classes))."""


Batch = tuple[Mapping[str, npt.NDArray[np.generic]], "npt.NDArray[np.integer] | None"]
"""What Dataset.read returns: each input's values, shape (count, *shape) and
of its dtype, by name; and the count labels, or None without labels."""


class Dataset(abc.ABC):
    """A data set, as int8cal's Go dataset.TensorStream.

    Set the class attributes and implement open and read (and close when
    open acquires something). Calls arrive one at a time.
    """

    name: str
    """The plugin's name: its program is int8cal-batchstream-<name>."""
    version: str = "0.1.0"
    description: str = ""
    options: Sequence[Option] = ()

    @abc.abstractmethod
    def open(self, options: Mapping[str, str]) -> Meta:
        """Selects the data: options holds the user's values over the
        declared defaults (unknown names were refused already). Raise
        OptionError or ValueError/OSError naming the option or file at
        fault. May be called again to open other data."""

    @abc.abstractmethod
    def read(self, first: int, count: int) -> Batch:
        """Returns samples [first, first+count) (always within the data
        set)."""

    def close(self) -> None:
        """Releases what open acquired."""


def _input_message(i: int, x: Input) -> pb.Input:
    dt = np.dtype(x.dtype)
    if dt not in ELEMENT_TYPES:
        raise ValueError(f"input {i} {x.name!r}: element type {dt} is not one of " + ", ".join(str(t) for t in ELEMENT_TYPES))
    if not x.shape or any(int(d) < 1 for d in x.shape):
        raise ValueError(f"input {x.name!r}: shape {tuple(x.shape)} needs at least one dimension, each at least 1")
    return pb.Input(name=x.name, element_type=ELEMENT_TYPES[dt], shape=[int(d) for d in x.shape])


def open_message(meta: Meta, shared: bool) -> pb.OpenResponse:
    """Checks what open described and encodes it."""
    if meta.samples < 0 or meta.classes < 0:
        raise ValueError(f"{meta.samples} samples, {meta.classes} classes")
    if not 1 <= len(meta.inputs) <= MAX_INPUTS:
        raise ValueError(f"{len(meta.inputs)} inputs; want 1 to {MAX_INPUTS}")
    names = [x.name for x in meta.inputs]
    if len(set(names)) != len(names):
        raise ValueError(f"input names {names} are not distinct")
    if meta.classes and not meta.labels:
        raise ValueError(f"{meta.classes} classes but labels=False")
    return pb.OpenResponse(
        samples=meta.samples,
        inputs=[_input_message(i, x) for i, x in enumerate(meta.inputs)],
        labels=meta.labels,
        classes=meta.classes,
        shared_memory=shared,
    )


def _sample_bytes(meta: Meta) -> int:
    return sum(np.dtype(x.dtype).itemsize * int(np.prod(x.shape)) for x in meta.inputs)


def checked_batch(meta: Meta, first: int, count: int, batch: Batch) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Checks what read returned against meta and returns the inputs in
    meta's order, C-contiguous, and the labels as int32."""
    arrays, labels = batch
    where = f"read({first}, {count})"
    out = []
    for x in meta.inputs:
        if x.name not in arrays:
            raise ValueError(f"{where} returned no input {x.name!r} (inputs: {sorted(arrays)})")
        a = np.asarray(arrays[x.name])
        want = (count, *x.shape)
        if a.dtype != np.dtype(x.dtype):
            raise ValueError(f"{where}: input {x.name!r} is {a.dtype}, declared {np.dtype(x.dtype)} (convert with .astype)")
        if a.shape != want:
            raise ValueError(f"{where}: input {x.name!r} has shape {a.shape}, want {want}")
        if a.dtype == np.bool_ and a.view(np.uint8).max(initial=0) > 1:
            raise ValueError(f"{where}: input {x.name!r} holds bools other than 0 and 1")
        out.append(np.ascontiguousarray(a))
    if len(arrays) != len(meta.inputs):
        extra = sorted(set(arrays) - {x.name for x in meta.inputs})
        raise ValueError(f"{where} returned inputs {extra} that open did not declare")
    if not meta.labels:
        if labels is not None:
            raise ValueError(f"{where} returned labels, and open said the data set has none")
        return out, None
    if labels is None:
        raise ValueError(f"{where} returned no labels, and open said the data set has them")
    lab = np.asarray(labels)
    if lab.shape != (count,) or lab.dtype.kind not in "iu":
        raise ValueError(f"{where}: labels of shape {lab.shape} and type {lab.dtype}; want {count} integers")
    if count and (lab.min() < 0 or (meta.classes and lab.max() >= meta.classes)):
        bad = lab[(lab < 0) | ((lab >= meta.classes) if meta.classes else False)][0]
        raise ValueError(f"{where}: label {bad} outside [0, {meta.classes or 'any'})")
    return out, lab.astype(np.int32)


class _Region:
    """The shared memory file the host handed over, mapped per call."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @staticmethod
    def from_env(log_debug: Callable[[str], None]) -> "_Region | None":
        text = os.environ.get(SHM_FD_ENV, "")
        if not text:
            return None
        try:
            fd = int(text)
            os.fstat(fd)
        except (ValueError, OSError) as e:
            log_debug(f"batches will be streamed: ${SHM_FD_ENV}={text!r} is unusable: {e}")
            return None
        return _Region(fd)

    def map(self, size: int) -> mmap.mmap:
        return mmap.mmap(self.fd, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)


def slot_layout(meta: Meta, n: int) -> tuple[list[int], int, int]:
    """Where a batch of n samples lies in its slot: each input's offset,
    the labels' offset, and the end (every part 8-byte aligned; see
    batchstream.proto's SharedStart)."""
    offsets = []
    at = 0
    for x in meta.inputs:
        offsets.append(at)
        at += (n * int(np.prod(x.shape)) * np.dtype(x.dtype).itemsize + 7) & ~7
    end = at + (4 * n if meta.labels else 0)
    return offsets, at, end


def slot_bytes(meta: Meta, batch: int) -> int:
    """A slot's size for batches of batch samples, whole pages."""
    page = mmap.PAGESIZE
    return (slot_layout(meta, batch)[2] + page - 1) // page * page


class _Servicer(pb_grpc.BatchStreamServicer):
    def __init__(self, impl: Dataset, region: _Region | None) -> None:
        self.impl = impl
        self.region = region
        self.log = _log.get_logger(impl.name)
        self.lock = threading.Lock()  # one call of the implementation at a time
        self.meta: Meta | None = None

    def Info(self, request: pb.InfoRequest, context: grpc.ServicerContext) -> pb.InfoResponse:
        i = self.impl
        return pb.InfoResponse(
            name=i.name,
            version=i.version,
            description=i.description,
            options=[pb.Option(name=o.name, default_value=o.default, description=o.description) for o in i.options],
        )

    def Open(self, request: pb.OpenRequest, context: grpc.ServicerContext) -> pb.OpenResponse:
        with self.lock:
            self.meta = None
            try:
                options = merge(self.impl.name, self.impl.options, dict(request.options))
                meta = self.impl.open(options)
                resp = open_message(meta, self.region is not None)
            except OptionError as e:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
            except (ValueError, OSError) as e:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{self.impl.name}: Open: {e}")
            except Exception as e:
                _server.abort_bug(self.log, context, self.impl.name, "Open", e)
            self.meta = meta
            self.log.debug("opened", extra={"fields": {"samples": meta.samples, "inputs": len(meta.inputs)}})
            return resp

    def Close(self, request: pb.CloseRequest, context: grpc.ServicerContext) -> pb.CloseResponse:
        with self.lock:
            self.meta = None
            try:
                self.impl.close()
            except Exception as e:
                _server.abort_bug(self.log, context, self.impl.name, "Close", e)
        return pb.CloseResponse()

    def _plan(self, req: pb.BatchesRequest, context: grpc.ServicerContext) -> Meta:
        meta = self.meta
        if meta is None:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{self.impl.name}: batches requested before Open")
        assert meta is not None
        size = req.batch_size
        if not 1 <= size <= MAX_BATCH or size * _sample_bytes(meta) > MAX_BATCH_BYTES:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"batch size {size}: want 1 to {MAX_BATCH} samples and at most {MAX_BATCH_BYTES} bytes of values",
            )
        if req.start > meta.samples or req.count > meta.samples - req.start:
            context.abort(
                grpc.StatusCode.OUT_OF_RANGE,
                f"samples [{req.start}, {req.start + req.count}) requested; the data set has {meta.samples}",
            )
        return meta

    def _read(self, meta: Meta, first: int, n: int, context: grpc.ServicerContext) -> tuple[list[np.ndarray], np.ndarray | None]:
        with self.lock:
            if self.meta is not meta:
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{self.impl.name}: the data set was closed or reopened while batches were read")
            try:
                return checked_batch(meta, first, n, self.impl.read(first, n))
            except (ValueError, OSError) as e:
                context.abort(grpc.StatusCode.UNKNOWN, f"{self.impl.name}: reading samples [{first}, {first + n}): {e}")
            except Exception as e:
                _server.abort_bug(self.log, context, self.impl.name, f"reading samples [{first}, {first + n})", e)
        raise AssertionError("not reached: abort raises")

    def Batches(self, request: pb.BatchesRequest, context: grpc.ServicerContext) -> Iterator[pb.BatchChunk]:
        meta = self._plan(request, context)
        end = request.start + request.count
        for first in range(request.start, end, request.batch_size):
            n = min(request.batch_size, end - first)
            arrays, labels = self._read(meta, first, n, context)
            for i, a in enumerate(arrays):
                data = a.astype(a.dtype.newbyteorder("<"), copy=False).reshape(-1).view(np.uint8)
                size = a.dtype.itemsize
                off = 0
                while off < len(data):  # never empty: n ≥ 1, every dimension ≥ 1
                    chunk = pb.BatchChunk(first=first, samples=n, input=i, offset=off)
                    room = CHUNK_BYTES
                    if i == 0 and off == 0 and labels is not None:
                        chunk.labels.extend(labels.tolist())
                        room -= 4 * len(labels)
                    m = min(max(room // size, 1) * size, len(data) - off)
                    chunk.data = data[off : off + m].tobytes()
                    yield chunk
                    off += m

    def SharedBatches(self, request_iterator: Iterator[pb.SharedBatchesRequest], context: grpc.ServicerContext) -> Iterator[pb.SharedBatch]:
        if self.region is None:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "no shared memory region was handed to this plugin")
        assert self.region is not None
        try:
            msg = next(request_iterator)
        except StopIteration:
            return
        if msg.WhichOneof("part") != "start":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "SharedBatches must begin with a SharedStart")
        start = msg.start
        req = start.batches
        meta = self._plan(req, context)
        slots, size = start.slots, start.slot_bytes
        need = slot_bytes(meta, min(req.batch_size, max(req.count, 1)))
        if not 1 <= slots <= MAX_SLOTS:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{slots} slots (want 1 to {MAX_SLOTS})")
        if size < need or size % 8 or size > 1 << 40:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"slots of {size} bytes for batches of {need} bytes")
        if start.region_bytes < slots * size:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"a region of {start.region_bytes} bytes for {slots} slots of {size}")
        try:
            mem = self.region.map(start.region_bytes)
        except (OSError, ValueError) as e:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"mapping the shared memory region: {e}")
        pool = _SlotPool(slots, request_iterator, context)
        try:
            end = req.start + req.count
            for first in range(req.start, end, req.batch_size):
                n = min(req.batch_size, end - first)
                slot = pool.take()
                base = slot * size
                arrays, labels = self._read(meta, first, n, context)
                offsets, labels_at, nbytes = slot_layout(meta, n)
                for a, off in zip(arrays, offsets):
                    _write(mem, base + off, a)
                if labels is not None:
                    _write(mem, base + labels_at, labels)
                yield pb.SharedBatch(first=first, samples=n, slot=slot, offset=base, bytes=nbytes)
        finally:
            mem.close()


def _write(mem: mmap.mmap, offset: int, a: np.ndarray) -> None:
    """Copies a into the region at offset, in the machine's byte order
    (host and plugin share the machine). The view into the map ends with
    the call, so the map can be closed after."""
    view = np.frombuffer(mem, dtype=a.dtype.newbyteorder("="), count=a.size, offset=offset)
    view[:] = a.reshape(-1)


class _SlotPool:
    """The slots of one SharedBatches call: the plugin fills a free one,
    the host hands it back (a Release on the same stream, in any order)
    once it has copied the batch out. A thread reads the releases."""

    def __init__(self, slots: int, requests: Iterator[pb.SharedBatchesRequest], context: grpc.ServicerContext) -> None:
        self.free = list(range(slots))
        self.held = [False] * slots
        self.context = context
        self.released: queue.Queue[int | BaseException | None] = queue.Queue()
        threading.Thread(target=self._receive, args=(requests,), daemon=True, name="slot-releases").start()

    def _receive(self, requests: Iterator[pb.SharedBatchesRequest]) -> None:
        try:
            for msg in requests:
                if msg.WhichOneof("part") != "release":
                    self.released.put(ValueError(f"expected a slot release, got {msg}"))
                    return
                self.released.put(msg.release.slot)
        except grpc.RpcError as e:  # the call ended
            self.released.put(e)
            return
        self.released.put(None)  # the host stopped reading

    def take(self) -> int:
        while not self.free:
            got = self.released.get()
            if got is None:
                self.context.abort(grpc.StatusCode.CANCELLED, "the host stopped reading")
            if isinstance(got, BaseException):
                self.context.abort(grpc.StatusCode.INVALID_ARGUMENT if isinstance(got, ValueError) else grpc.StatusCode.CANCELLED, str(got))
            assert isinstance(got, int)
            if got >= len(self.held) or not self.held[got]:
                self.context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"slot {got} released, which the host does not hold")
            self.held[got] = False
            self.free.append(got)
        slot = self.free.pop(0)
        self.held[slot] = True
        return slot


def serve(dataset: Dataset) -> NoReturn:
    """Runs dataset as an int8cal data set plugin (int8cal.batchstream.v2)
    until the host disconnects, then exits. Started by hand rather than by
    the host, the program says that it is a plugin and exits with
    status 1."""
    log = _log.get_logger(dataset.name)
    region = _Region.from_env(log.debug)

    def register(server: grpc.Server) -> None:
        pb_grpc.add_BatchStreamServicer_to_server(_Servicer(dataset, region), server)

    _server.serve(PROTOCOL, dataset.name, register)
