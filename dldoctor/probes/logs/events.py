"""A streaming reader of TensorBoard event files: every record, one at a time, none sampled.

An event file is a sequence of TFRecord frames: an 8-byte little-endian length, the
masked CRC32C of those 8 bytes, the payload (one serialized `Event` protocol buffer)
and the masked CRC32C of the payload. TF1's `FileWriter`, TF2's `tf.summary`,
Keras' TensorBoard callback and PyTorch's `SummaryWriter` all write this format.

The payloads are parsed with the `tensorboard` package's own protos. Memory stays
bounded by one record: a file of millions of events is read front to back, and what
comes out is a stream of `Scalar`, `Histogram` and `Restart` facts. TensorBoard's
`EventAccumulator`, by contrast, keeps a reservoir sample of 10,000 points per tag.

A run that crashed leaves a torn last record; a disk error or a copy cut short can
corrupt one in the middle. Such a record is reported as a `ReadProblem` and everything
readable is still returned: a bad payload checksum skips that record (its length was
sound), a bad length checksum or a short tail ends the file there (nothing after a
broken length can be trusted to start a record).
"""

from __future__ import annotations

import math
import struct
from array import array
from dataclasses import dataclass
from typing import Iterator, Optional, Union

_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8
# The largest record we accept: a length beyond this is a corrupt header, not a 100 GB event.
MAX_RECORD_BYTES = 1 << 30


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


def _crc32c_python(data: bytes, _table=_crc32c_table()) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _crc32c_function():
    """The CRC32C (Castagnoli) of `google-crc32c` or `crc32c` when installed (C, hardware accelerated), else a
    table-driven one in Python (about 100x slower; right all the same)."""
    try:
        import google_crc32c

        if getattr(google_crc32c, "implementation", "c") == "c":
            return google_crc32c.value
    except ImportError:
        pass
    try:
        import crc32c

        return crc32c.crc32c
    except ImportError:
        return _crc32c_python


crc32c = _crc32c_function()


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked checksum: the CRC rotated right by 15 bits plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


@dataclass(frozen=True)
class ReadProblem:
    """A record that could not be read: where, and what was wrong."""

    path: str
    offset: int  # byte offset of the record's header
    kind: str  # "truncated", "corrupt-length", "corrupt-data", "unparsable"
    detail: str
    records_before: int  # records read from this file before it

    def to_json(self) -> dict:
        return {"path": self.path, "offset": self.offset, "kind": self.kind, "detail": self.detail,
                "records_before": self.records_before}


def iter_records(path: str, problems: list) -> Iterator[bytes]:
    """The payload of each sound record of `path`, in order; damaged ones are appended to `problems`."""
    count = 0
    with open(path, "rb") as handle:
        offset = 0
        read = handle.read
        while True:
            header = read(12)
            if not header:
                return
            if len(header) < 12:
                problems.append(ReadProblem(path, offset, "truncated",
                                            f"the file ends {len(header)} bytes into a record header", count))
                return
            length, length_crc = _HEADER.unpack(header)
            if masked_crc32c(header[:8]) != length_crc or length > MAX_RECORD_BYTES:
                problems.append(ReadProblem(path, offset, "corrupt-length",
                                            "a record's length does not match its checksum; the rest of the file "
                                            "cannot be framed", count))
                return
            payload = read(length)
            footer = read(4)
            if len(payload) < length or len(footer) < 4:
                problems.append(ReadProblem(path, offset, "truncated",
                                            f"the file ends inside a record of {length} bytes (the writer stopped "
                                            f"mid-write: a crash or a kill)", count))
                return
            if masked_crc32c(payload) != _CRC.unpack(footer)[0]:
                problems.append(ReadProblem(path, offset, "corrupt-data",
                                            f"a record of {length} bytes does not match its checksum; skipped", count))
            else:
                count += 1
                yield payload
            offset += 16 + length


# --- what comes out of the events --------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    tag: str
    step: int
    wall_time: float
    value: float


@dataclass(frozen=True)
class Histogram:
    """A histogram summary, reduced to what the diagnoses use: its range and size."""

    tag: str
    step: int
    wall_time: float
    minimum: float
    maximum: float
    count: float

    @property
    def max_abs(self) -> float:
        return max(abs(self.minimum), abs(self.maximum))


@dataclass(frozen=True)
class Restart:
    """A `SessionLog.START`: the writer says the program (re)started at this step."""

    step: int
    wall_time: float


Fact = Union[Scalar, Histogram, Restart]

# TensorProto dtypes that can hold a scalar, and how to unpack one element of tensor_content.
_DTYPES = {1: "<f", 2: "<d", 3: "<i", 9: "<q", 19: "<e", 4: "<B", 5: "<h", 6: "<b", 17: "<H", 22: "<I", 23: "<Q"}
_BFLOAT16 = 14
_SCALAR_PLUGINS = ("scalars", "")
_HISTOGRAM_PLUGIN = "histograms"


def _tensor_scalar(tensor) -> Optional[float]:
    """The one value of a scalar TensorProto (TF2 `tf.summary.scalar`, Keras), or None for anything else."""
    dims = tensor.tensor_shape.dim
    if any(d.size != 1 for d in dims):
        return None
    dtype = tensor.dtype
    content = tensor.tensor_content
    if content:
        if dtype == _BFLOAT16 and len(content) == 2:
            return struct.unpack("<f", b"\x00\x00" + content)[0]
        fmt = _DTYPES.get(dtype)
        if fmt is None or len(content) != struct.calcsize(fmt):
            return None
        return float(struct.unpack(fmt, content)[0])
    for values in (tensor.float_val, tensor.double_val, tensor.int64_val, tensor.int_val):
        if len(values) == 1:
            return float(values[0])
    if len(tensor.half_val) == 1:
        bits = tensor.half_val[0]
        if dtype == _BFLOAT16:
            return struct.unpack("<f", struct.pack("<I", bits << 16))[0]
        return struct.unpack("<e", struct.pack("<H", bits))[0]
    return None


def _tensor_histogram(tensor) -> Optional[tuple[float, float, float]]:
    """(min, max, count) of a TF2 histogram tensor: k buckets of (left edge, right edge, count) doubles."""
    dims = [d.size for d in tensor.tensor_shape.dim]
    if len(dims) != 2 or dims[1] != 3:
        return None
    if dims[0] == 0:
        return None
    if tensor.tensor_content and tensor.dtype in (1, 2):
        fmt = "<%d%s" % (dims[0] * 3, "f" if tensor.dtype == 1 else "d")
        try:
            flat = struct.unpack(fmt, tensor.tensor_content)
        except struct.error:
            return None
    else:
        flat = list(tensor.double_val) or list(tensor.float_val)
        if len(flat) != dims[0] * 3:
            return None
    lefts, rights, counts = flat[0::3], flat[1::3], flat[2::3]
    filled = [i for i, c in enumerate(counts) if c]
    if not filled:
        return None
    return float(lefts[filled[0]]), float(rights[filled[-1]]), float(sum(counts))


def _event_class():
    try:
        from tensorboard.compat.proto import event_pb2
    except ImportError as error:  # pragma: no cover - tensorboard ships with tensorflow and with the logs extra
        raise RuntimeError("reading event files needs the tensorboard package: pip install 'dldoctor[logs]'") from error
    return event_pb2.Event


@dataclass
class Batch:
    """The points of a stretch of one event file: per (tag, kind) its steps and values in written order
    (the columns in the order their tags first appear), and the restarts recorded there."""

    columns: dict  # (tag, "scalar" | "histogram") -> (array("q") steps, array("d") values)
    restarts: list


def _facts(event, plugin_of, set_plugin, key: int = 0) -> Iterator[tuple]:
    """(slot, tag, kind, step, value) of each scalar or histogram of one summary event. A TF2 value is a
    tensor whose meaning is its tag's plugin, named in the metadata of (at least) the tag's first value:
    `plugin_of(tag, key)` is the tag's plugin before this value and `set_plugin` records a new one."""
    step = event.step
    for slot, value in enumerate(event.summary.value):
        tag = value.tag or value.node_name
        kind = value.WhichOneof("value")
        if value.HasField("metadata") and value.metadata.plugin_data.plugin_name:
            set_plugin(tag, key + slot, value.metadata.plugin_data.plugin_name)
        if kind == "simple_value":
            yield slot, tag, "scalar", step, float(value.simple_value)
        elif kind == "histo":
            histo = value.histo
            if histo.num:
                yield slot, tag, "histogram", step, max(abs(float(histo.min)), abs(float(histo.max)))
        elif kind == "tensor":
            plugin = plugin_of(tag, key + slot)
            if plugin == _HISTOGRAM_PLUGIN:
                summary = _tensor_histogram(value.tensor)
                if summary is not None:
                    yield slot, tag, "histogram", step, max(abs(summary[0]), abs(summary[1]))
            elif plugin in _SCALAR_PLUGINS:
                number = _tensor_scalar(value.tensor)
                if number is not None:
                    yield slot, tag, "scalar", step, number


class EventFileReader:
    """The points of one event file, streamed in batches. `problems` holds the damaged records once
    iteration ends; `records` counts the events read, `first_wall_time` the time of the first.

    `fast` (the default) reads whole chunks with NumPy (fast_events.py) and hands the proto path
    every record its templates do not cover; `fast=False` parses every record with the protos, one
    at a time. Both give the same points, problems and counts.
    """

    BATCH_FACTS = 1 << 16

    def __init__(self, path: str, fast: bool = True):
        self.path = path
        self.fast = fast
        self.problems: list[ReadProblem] = []
        self.records = 0
        self.fast_records = 0  # of `records`, those the fast path decoded from a template
        self.first_wall_time: Optional[float] = None
        self.file_version: Optional[str] = None

    def batches(self) -> Iterator[Batch]:
        event_class = _event_class()
        if self.fast:
            try:
                from dldoctor.probes.logs import fast_events
            except ImportError:  # pragma: no cover - NumPy comes with tensorboard
                pass
            else:
                yield from fast_events.batches(self, event_class)
                return
        yield from self._proto_batches(event_class)

    def _proto_batches(self, event_class) -> Iterator[Batch]:
        from google.protobuf.message import DecodeError

        plugins: dict[str, str] = {}
        plugin_of = lambda tag, key: plugins.get(tag, "")  # noqa: E731
        set_plugin = lambda tag, key, plugin: plugins.__setitem__(tag, plugin)  # noqa: E731
        columns: dict = {}
        restarts: list = []
        pending = 0
        for payload in iter_records(self.path, self.problems):
            try:
                event = event_class.FromString(payload)
            except DecodeError as error:
                self.problems.append(ReadProblem(self.path, -1, "unparsable",
                                                 f"a record is not an Event ({error}); skipped", self.records))
                continue
            self.records += 1
            if self.first_wall_time is None:
                self.first_wall_time = event.wall_time
            what = event.WhichOneof("what")
            if what == "summary":
                for _, tag, kind, step, value in _facts(event, plugin_of, set_plugin):
                    column = columns.get((tag, kind))
                    if column is None:
                        column = columns[(tag, kind)] = (array("q"), array("d"))
                    column[0].append(step)
                    column[1].append(value)
                    pending += 1
            elif what == "session_log":
                if event.session_log.status == 1:  # SessionLog.START
                    restarts.append(Restart(event.step, event.wall_time))
            elif what == "file_version":
                self.file_version = event.file_version
            if pending >= self.BATCH_FACTS:
                yield Batch(columns, restarts)
                columns, restarts, pending = {}, [], 0
        yield Batch(columns, restarts)


def is_event_file(name: str) -> bool:
    return "tfevents" in name and not name.endswith((".tmp", ".lock"))


def finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))
