"""Facts about one TFRecord file, read without TensorFlow.

The framing is TensorFlow's: each record is an 8-byte little-endian length, the masked
CRC32C of those 8 bytes, the data, and the masked CRC32C of the data. Every CRC is
verified (with the `crc32c` library when installed, else `google-crc32c`, else a
pure-Python table that is correct but slow). GZIP and ZLIB shards are recognised by
their first bytes (after checking the bytes are not a valid uncompressed header) and
read through the standard library's decompressors.

Records are parsed as `tf.train.SequenceExample` with protobuf's own runtime, from
descriptors built here (a private pool, so TensorFlow's own classes, when imported in
the same process, are never touched): an `Example`'s one field is a `SequenceExample`'s
context, so one parse reads both. The schema summary per key: the kinds seen (bytes,
float, int64), list lengths, how many records have it, the byte lengths of bytes
values (their gcd decides whether `decode_raw` of any dtype can work), bytes values
that hold Python `repr` text (`b'...'`), and encoded images decoded like files.
"""

from __future__ import annotations

import gzip
import io
import math
import struct
import zlib
from functools import lru_cache
from typing import Optional

from dldoctor.probes.data import images

TFRECORD_EXTENSIONS = (".tfrecord", ".tfrecords", ".record", ".tfrec")
_MASK_DELTA = 0xA282EAD8
# Encoded images inside records: up to this many per key are decoded (all with --sample off and a small set).
IMAGES_PER_KEY = 10_000
REPR_EXAMPLES = 3


# --- CRC32C -----------------------------------------------------------------------------------


def _table_crc32c():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)

    def crc32c(data: bytes) -> int:
        crc = 0xFFFFFFFF
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF

    return crc32c


@lru_cache(maxsize=1)
def crc_implementation():
    """(name, function): the fastest CRC32C available."""
    try:
        import crc32c

        return "crc32c", crc32c.crc32c
    except ImportError:
        pass
    try:
        import google_crc32c

        return "google-crc32c", lambda data: google_crc32c.value(bytes(data))
    except ImportError:
        return "pure-python", _table_crc32c()


def masked_crc(data: bytes) -> int:
    crc = crc_implementation()[1](data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


# --- tf.train.Example without TensorFlow ------------------------------------------------------


@lru_cache(maxsize=1)
def example_classes():
    """The message classes of tensorflow/core/example/{feature,example}.proto, built from descriptors here."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    F = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(name="dldoctor_example.proto", package="tensorflow", syntax="proto3")

    def message(name, *fields, maps=()):
        m = proto.message_type.add(name=name)
        for number, (field_name, kind, label, type_name, packed) in enumerate(fields, start=1):
            f = m.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                f.type_name = type_name
            if packed:
                f.options.packed = True
        for entry_name, value_type in maps:
            entry = m.nested_type.add(name=entry_name)
            entry.options.map_entry = True
            entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
            entry.field.add(name="value", number=2, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL, type_name=value_type)
        return m

    rep, opt = F.LABEL_REPEATED, F.LABEL_OPTIONAL
    message("BytesList", ("value", F.TYPE_BYTES, rep, "", False))
    message("FloatList", ("value", F.TYPE_FLOAT, rep, "", True))
    message("Int64List", ("value", F.TYPE_INT64, rep, "", True))
    feature = message("Feature")
    for number, (name, type_name) in enumerate(
            (("bytes_list", ".tensorflow.BytesList"), ("float_list", ".tensorflow.FloatList"),
             ("int64_list", ".tensorflow.Int64List")), start=1):
        feature.field.add(name=name, number=number, type=F.TYPE_MESSAGE, label=opt, type_name=type_name, oneof_index=0)
    feature.oneof_decl.add(name="kind")
    message("Features", ("feature", F.TYPE_MESSAGE, rep, ".tensorflow.Features.FeatureEntry", False),
            maps=(("FeatureEntry", ".tensorflow.Feature"),))
    message("FeatureList", ("feature", F.TYPE_MESSAGE, rep, ".tensorflow.Feature", False))
    message("FeatureLists", ("feature_list", F.TYPE_MESSAGE, rep, ".tensorflow.FeatureLists.FeatureListEntry", False),
            maps=(("FeatureListEntry", ".tensorflow.FeatureList"),))
    message("SequenceExample", ("context", F.TYPE_MESSAGE, opt, ".tensorflow.Features", False),
            ("feature_lists", F.TYPE_MESSAGE, opt, ".tensorflow.FeatureLists", False))
    message("Example", ("features", F.TYPE_MESSAGE, opt, ".tensorflow.Features", False))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"tensorflow.{name}"))
            for name in ("SequenceExample", "Example")}


KINDS = {"bytes_list": "bytes", "float_list": "float", "int64_list": "int64"}


# --- reading the framing ----------------------------------------------------------------------


class _ZlibReader(io.RawIOBase):
    """A readable stream of a raw zlib stream (TFRecord's ZLIB compression)."""

    def __init__(self, raw):
        self._raw, self._inflate, self._buffer, self._done = raw, zlib.decompressobj(), b"", False

    def readable(self):
        return True

    def readinto(self, target):
        while not self._buffer and not self._done:
            chunk = self._raw.read(1 << 16)
            if not chunk:
                self._done = True
                if not self._inflate.eof:
                    raise EOFError("Compressed file ended before the end-of-stream marker was reached")
                break
            self._buffer = self._inflate.decompress(chunk)
            if self._inflate.eof:
                self._done = True
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def _valid_header(head: bytes) -> bool:
    return len(head) >= 12 and masked_crc(head[:8]) == struct.unpack("<I", head[8:12])[0]


def compression(head: bytes) -> str:
    """NONE, GZIP or ZLIB, from a file's first bytes: an intact record header wins over a look-alike magic."""
    if _valid_header(head):
        return "NONE"
    if head[:2] == b"\x1f\x8b":
        return "GZIP"
    if len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0:
        return "ZLIB"
    return "NONE"


def open_stream(raw, kind: str):
    if kind == "GZIP":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "ZLIB":
        return io.BufferedReader(_ZlibReader(raw), 1 << 16)
    return raw


def is_tfrecord(head: bytes) -> bool:
    """Whether a file's first bytes are a TFRecord header (or a compressed stream that may hold one)."""
    return _valid_header(head)


class _KeyStats:
    __slots__ = ("kinds", "records", "min_len", "max_len", "bytes_min", "bytes_max", "bytes_gcd", "repr_count",
                 "repr_examples", "image_facts", "sequence")

    def __init__(self, sequence: bool = False):
        self.kinds: dict[str, int] = {}
        self.records = 0
        self.min_len = self.max_len = None
        self.bytes_min = self.bytes_max = None
        self.bytes_gcd = 0
        self.repr_count = 0
        self.repr_examples: list[dict] = []
        self.image_facts: list[dict] = []
        self.sequence = sequence

    def to_json(self) -> dict:
        out = {"kinds": dict(sorted(self.kinds.items())), "records": self.records, "min_len": self.min_len,
               "max_len": self.max_len}
        if self.sequence:
            out["sequence"] = True
        if self.bytes_min is not None:
            out.update(bytes_min=self.bytes_min, bytes_max=self.bytes_max, bytes_gcd=self.bytes_gcd)
        if self.repr_count:
            out.update(repr_count=self.repr_count, repr_examples=self.repr_examples)
        if self.image_facts:
            out["images"] = _image_summary(self.image_facts)
        return out


def _image_summary(facts: list[dict]) -> dict:
    """The encoded images of one key, summarised: counts by format and mode, sizes, the bad ones (first few)."""
    formats: dict[str, int] = {}
    modes: dict[str, int] = {}
    bad, orientation = [], 0
    widths = [f["width"] for f in facts if "width" in f]
    heights = [f["height"] for f in facts if "height" in f]
    small = []
    for f in facts:
        formats[f.get("format") or f.get("sniffed") or "?"] = formats.get(f.get("format") or f.get("sniffed") or "?", 0) + 1
        if f.get("mode"):
            modes[f["mode"]] = modes.get(f["mode"], 0) + 1
        if f.get("error_kind") in ("truncated", "corrupt", "unidentified", "bomb"):
            bad.append({"record": f["record"], "error_kind": f["error_kind"], "error": f.get("error", "")})
        if f.get("orientation", 1) != 1:
            orientation += 1
        if "width" in f and min(f["width"], f["height"]) < 8:
            small.append({"record": f["record"], "size": [f["width"], f["height"]]})
    return {"count": len(facts), "formats": dict(sorted(formats.items())), "modes": dict(sorted(modes.items())),
            "min_size": [min(widths), min(heights)] if widths else None,
            "max_size": [max(widths), max(heights)] if widths else None,
            "bad": bad[:20], "bad_count": len(bad), "rotated": orientation, "small": small[:20], "small_count": len(small)}


def _looks_like_repr(value: bytes) -> bool:
    return len(value) >= 3 and value[:2] in (b"b'", b'b"') and value[-1:] == value[1:2]


def _observe(stats: dict, key: str, feature, record: int, decode_images: bool, sequence: bool = False) -> None:
    kind = feature.WhichOneof("kind")
    entry = stats.get(key)
    if entry is None:
        entry = stats[key] = _KeyStats(sequence)
    entry.records += 1
    if kind is None:
        entry.kinds["empty"] = entry.kinds.get("empty", 0) + 1
        length, values = 0, ()
    else:
        values = getattr(feature, kind).value
        length = len(values)
        name = KINDS[kind]
        entry.kinds[name] = entry.kinds.get(name, 0) + 1
    entry.min_len = length if entry.min_len is None else min(entry.min_len, length)
    entry.max_len = length if entry.max_len is None else max(entry.max_len, length)
    if kind != "bytes_list":
        return
    for value in values:
        size = len(value)
        entry.bytes_min = size if entry.bytes_min is None else min(entry.bytes_min, size)
        entry.bytes_max = size if entry.bytes_max is None else max(entry.bytes_max, size)
        entry.bytes_gcd = math.gcd(entry.bytes_gcd, size)
        if value[:2] in (b"b'", b'b"') and _looks_like_repr(value):
            entry.repr_count += 1
            if len(entry.repr_examples) < REPR_EXAMPLES:
                entry.repr_examples.append({"record": record, "text": value[:60].decode("utf-8", "replace")})
        elif decode_images and len(entry.image_facts) < IMAGES_PER_KEY and images.sniff(value[:16]) in (
                "JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF"):
            facts = images.decode(value, f"record {record}")
            facts["record"] = record
            entry.image_facts.append(facts)


def scan(path: str, *, decode_images: bool = True, max_records: Optional[int] = None) -> dict:
    """Every fact of one TFRecord file: records, the first bad one, compression, the schema of its examples."""
    facts: dict = {"path": path, "records": 0, "bad": None, "bad_records": 0, "compression": "NONE",
                   "crc": crc_implementation()[0], "not_examples": 0, "sequence_examples": 0}
    try:
        raw = _open_raw(path)
    except OSError as error:
        facts["unreadable"] = f"{type(error).__name__}: {error.strerror or error}"
        return facts
    sequence_example = example_classes()["SequenceExample"]
    stats: dict[str, _KeyStats] = {}
    list_stats: dict[str, _KeyStats] = {}
    with raw:
        head = raw.read(12)
        kind = compression(head)
        facts["compression"] = kind
        raw.seek(0)
        stream = open_stream(raw, kind)
        offset, record = 0, 0
        crc = crc_implementation()[1]
        unpack_q, unpack_i = struct.Struct("<Q").unpack, struct.Struct("<I").unpack

        def masked(data):
            value = crc(data)
            return ((((value >> 15) | (value << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF

        try:
            while max_records is None or record < max_records:
                header = stream.read(12)
                if not header:
                    break
                if len(header) < 12:
                    facts["bad"] = {"record": record, "offset": offset, "check": "truncated-tail",
                                    "detail": f"{len(header)} byte(s) after the last complete record; a record header "
                                              f"needs 12", "missing_bytes": 12 - len(header)}
                    break
                if masked(header[:8]) != unpack_i(header[8:12])[0]:
                    facts["bad"] = {"record": record, "offset": offset, "check": "length-crc",
                                    "tensorflow_says": f"corrupted record at {offset}",
                                    "detail": "the length's CRC does not match: the length cannot be trusted, so "
                                              "nothing after this point can be read"}
                    break
                (length,) = unpack_q(header[:8])
                body = stream.read(length + 4)
                if len(body) < length + 4:
                    facts["bad"] = {"record": record, "offset": offset, "check": "truncated-tail",
                                    "detail": f"the record declares {length} bytes of data; the file ends "
                                              f"{length + 4 - len(body)} byte(s) short",
                                    "missing_bytes": length + 4 - len(body)}
                    break
                data = body[:length]
                if masked(data) != unpack_i(body[length:])[0]:
                    facts["bad_records"] += 1
                    if facts["bad"] is None:
                        facts["bad"] = {"record": record, "offset": offset, "check": "data-crc",
                                        "tensorflow_says": f"corrupted record at {offset + 12}",
                                        "detail": f"the data's CRC does not match ({length} bytes): the record's "
                                                  "bytes were changed after it was written"}
                else:
                    _parse(sequence_example, data, record, stats, list_stats, facts, decode_images)
                offset += 12 + length + 4
                record += 1
        except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as error:
            facts["bad"] = {"record": record, "offset": offset, "check": "compressed-stream",
                            "detail": f"the {kind} stream fails: {type(error).__name__}: {error}"}
        facts["records"] = record
        facts["decompressed_bytes" if kind != "NONE" else "data_bytes"] = offset
    facts["schema"] = {key: stats[key].to_json() for key in sorted(stats)}
    if list_stats:
        facts["feature_lists"] = {key: list_stats[key].to_json() for key in sorted(list_stats)}
    return facts


def _parse(message_class, data, record, stats, list_stats, facts, decode_images) -> None:
    message = message_class()
    try:
        message.ParseFromString(data)
    except Exception:
        facts["not_examples"] += 1
        return
    context = message.context.feature
    lists = message.feature_lists.feature_list
    if not context and not lists:
        if data:
            facts["not_examples"] += 1
        return
    for key, feature in context.items():
        _observe(stats, key, feature, record, decode_images)
    if lists:
        facts["sequence_examples"] += 1
        for key, feature_list in lists.items():
            for feature in feature_list.feature:
                _observe(list_stats, key, feature, record, decode_images, sequence=True)


def _open_raw(path: str):
    if "://" in path and not path.startswith("file://"):
        import fsspec

        return fsspec.open(path, "rb").open()
    return open(path[7:] if path.startswith("file://") else path, "rb", buffering=1 << 20)
