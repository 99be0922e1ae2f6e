"""Scan a file and everything inside it for code that loading would run, without running any.

Formats are told by their bytes, never by the extension, and a file is read under every
interpretation it admits (a polyglot that is a pickle at the start and a zip at the end
is scanned as both, the way different loaders would see it):

- pickles of any protocol 0-5 (torch legacy, joblib, plain .pkl): pickle_scan.py;
- zip archives (torch zip checkpoints, .npz, .keras, nested zips): members are read from
  their local headers with the sizes of the central directory, CRCs are not checked and
  flag bits (encryption, data descriptors) are ignored, as torch's reader does; local
  headers the central directory does not list are scanned too;
- tar archives, gzip / bz2 / xz / lzma / zlib streams (compressed joblib), lz4 when the
  lz4 module is importable;
- .npy arrays: an object array holds a pickle after the header;
- Keras: Lambda layers in a .keras config.json or a legacy .h5's model_config attribute
  (marshalled Python bytecode that runs when the model is loaded).

Recursion is bounded (depth, members, total inflated bytes) so a zip bomb costs at most
the budget; a file that cannot be scanned completely is never reported as safe.
"""

from __future__ import annotations

import bz2
import io
import json
import lzma
import re
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from dldoctor.probes.ckpt import pickle_scan

MAX_DEPTH = 5
MAX_MEMBERS = 10_000
MAX_INFLATED = 1024 * 1024 * 1024  # total bytes decompressed for one scan
MAX_PICKLE = 512 * 1024 * 1024  # bytes of one pickle stream read
SNIFF = 64 * 1024

ZIP_LOCAL = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
NPY_MAGIC = b"\x93NUMPY"
SEVEN_Z = b"7z\xbc\xaf\x27\x1c"
GZIP, BZIP2, XZ, LZ4 = b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x04\x22\x4d\x18"
_TORCH_STORAGE = re.compile(r"^(?:[^/]+/)?data/\d+$")


@dataclass
class Hit:
    """One thing loading would import or run."""

    name: str  # `module.name`, or a description (a Keras Lambda layer)
    where: str  # the member path inside the file, "" for the file itself
    kind: str = "pickle"  # pickle, keras-lambda

    def label(self) -> str:
        return self.name


@dataclass
class ScanReport:
    hits: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # parts that could not be scanned (limits, 7z, lz4)
    scanned: list = field(default_factory=list)  # (where, what) of every part looked at
    inflated: int = 0
    members: int = 0
    npy: dict = field(default_factory=dict)  # where -> (shape, dtype) of numeric .npy arrays

    def unsafe(self, extra=frozenset()) -> list[Hit]:
        return [h for h in self.hits if h.kind != "pickle" or not pickle_scan.allowed(h.name, extra)]


class _Budget(Exception):
    pass


def _where(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


# -- entry points ---------------------------------------------------------------------------


def scan_path(path: Path | str, keras_h5: bool = True) -> ScanReport:
    report = ScanReport()
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(SNIFF)
        if head.startswith(HDF5_MAGIC):
            if keras_h5:
                _scan_h5(path, report)
            return report
        size = path.stat().st_size
        _scan_stream(handle, size, head, "", 0, report)
    return report


def scan_bytes(data: bytes) -> ScanReport:
    report = ScanReport()
    _scan_stream(io.BytesIO(data), len(data), data[:SNIFF], "", 0, report)
    return report


# -- dispatch -------------------------------------------------------------------------------


def _scan_stream(handle, size: int, head: bytes, where: str, depth: int, report: ScanReport) -> None:
    if depth > MAX_DEPTH:
        report.problems.append(f"{where or 'the file'}: nested deeper than {MAX_DEPTH} containers (not scanned)")
        return
    matched = False
    if head.startswith(NPY_MAGIC):
        _scan_npy(handle, size, where, depth, report)
        return
    if pickle_scan.looks_like_pickle(head):
        matched = True
        handle.seek(0)
        data = _read_capped(handle, min(size, MAX_PICKLE), report)
        _scan_pickle(data, where, report, truncated=size > MAX_PICKLE)
    if head.startswith(SEVEN_Z):
        report.problems.append(f"{where or 'the file'}: a 7z archive (dldoctor does not unpack 7z; its contents are unscanned)")
        return
    if head.startswith(LZ4):
        matched = True
        _scan_compressed(handle, "lz4", where, depth, report)
    elif head.startswith(GZIP) or head.startswith(XZ) or (head.startswith(BZIP2) and head[3:4].isdigit()) or _is_lzma_alone(head) or _is_zlib(head):
        matched = True
        kind = "gzip" if head.startswith(GZIP) else "xz" if head.startswith(XZ) else "bz2" if head.startswith(BZIP2) else "lzma" if _is_lzma_alone(head) else "zlib"
        _scan_compressed(handle, kind, where, depth, report)
    if head.startswith(ZIP_LOCAL) or _has_zip_end(handle, size):
        matched = True
        _scan_zip(handle, size, where, depth, report)
    if size >= 512 and _is_tar(handle):
        matched = True
        _scan_tar(handle, where, depth, report)
    if not matched and where:
        report.scanned.append((where, "data"))


def _is_zlib(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0 and head[1] in (0x01, 0x5E, 0x9C, 0xDA)


def _is_lzma_alone(head: bytes) -> bool:
    return len(head) >= 13 and head[0] == 0x5D and head[1:5] in (b"\x00\x00\x80\x00", b"\x00\x00\x00\x01", b"\x00\x00\x00\x02", b"\x00\x00\x00\x04", b"\x00\x00\x10\x00", b"\x00\x00\x20\x00", b"\x00\x00\x40\x00", b"\x00\x00\x00\x08", b"\x00\x00\x00\x10", b"\x00\x00\x00\x20", b"\x00\x00\x00\x40")


def _is_tar(handle) -> bool:
    handle.seek(257)
    magic = handle.read(8)
    return magic.startswith(b"ustar")


def _has_zip_end(handle, size: int) -> bool:
    """An end-of-central-directory record in the last 64 KB (zip data may follow other bytes)."""
    tail = min(size, 65536 + 22)
    handle.seek(size - tail)
    return b"PK\x05\x06" in handle.read(tail)


def _read_capped(handle, count: int, report: ScanReport) -> bytes:
    data = handle.read(count)
    return data


def _charge(report: ScanReport, count: int) -> None:
    report.inflated += count
    if report.inflated > MAX_INFLATED:
        raise _Budget(f"more than {MAX_INFLATED // (1024 * 1024)} MB inflated")


def _scan_pickle(data: bytes, where: str, report: ScanReport, truncated: bool = False) -> None:
    result = pickle_scan.scan(data)
    report.scanned.append((where, f"pickle (protocol {result.protocol}, {result.opcodes} opcodes)"))
    for name in result.globals:
        report.hits.append(Hit(name, where))
    if truncated:
        report.problems.append(f"{where or 'the file'}: a pickle larger than {MAX_PICKLE // (1024 * 1024)} MB (scanned up to there)")


# -- compressed streams ------------------------------------------------------------------------


def _decompressor(kind: str):
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if kind == "zlib":
        return zlib.decompressobj()
    if kind == "bz2":
        return bz2.BZ2Decompressor()
    if kind in ("xz", "lzma"):
        return lzma.LZMADecompressor()
    import lz4.frame  # noqa: F401  (ImportError handled by the caller)

    return lz4.frame.LZ4FrameDecompressor()


def _inflate(raw_chunks, kind: str, report: ScanReport, limit: int) -> bytes:
    """Decompress chunk by chunk, never holding more than `limit` (or the scan's budget) bytes."""
    decomp = _decompressor(kind)
    out = bytearray()
    for chunk in raw_chunks:
        while chunk:
            piece = decomp.decompress(chunk, max(1, min(limit - len(out) + 1, 1024 * 1024)))
            _charge(report, len(piece))
            out += piece
            if len(out) > limit:
                raise _Budget(f"inflates to more than {limit // (1024 * 1024)} MB")
            chunk = getattr(decomp, "unconsumed_tail", b"")
            if getattr(decomp, "eof", False):
                return bytes(out)
            if not chunk and not getattr(decomp, "needs_input", True):
                chunk = b""
                piece = decomp.decompress(b"", 16 * 1024 * 1024)
                _charge(report, len(piece))
                out += piece
                if len(out) > limit:
                    raise _Budget(f"inflates to more than {limit // (1024 * 1024)} MB")
    while not getattr(decomp, "eof", True) and not getattr(decomp, "needs_input", True):  # output still buffered
        piece = decomp.decompress(b"", 1024 * 1024)
        _charge(report, len(piece))
        out += piece
        if len(out) > limit:
            raise _Budget(f"inflates to more than {limit // (1024 * 1024)} MB")
    return bytes(out)


def _chunks(handle, count: int | None = None, size: int = 1024 * 1024):
    left = count
    while left is None or left > 0:
        chunk = handle.read(size if left is None else min(size, left))
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        yield chunk


def _scan_compressed(handle, kind: str, where: str, depth: int, report: ScanReport) -> None:
    label = _where(where, f"<{kind}>")
    handle.seek(0)
    try:
        data = _inflate(_chunks(handle), kind, report, MAX_INFLATED)
    except ImportError:
        report.problems.append(f"{label}: lz4-compressed (the lz4 module is not installed; contents unscanned)")
        return
    except _Budget as problem:
        report.problems.append(f"{label}: {problem} (a decompression bomb? not scanned further)")
        return
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as problem:
        report.problems.append(f"{label}: corrupt {kind} stream ({problem}); contents not fully scanned")
        return
    report.scanned.append((label, f"{kind} stream, {len(data)} bytes"))
    _scan_stream(io.BytesIO(data), len(data), data[:SNIFF], label, depth + 1, report)


# -- numpy ----------------------------------------------------------------------------------------


def npy_header(head: bytes):
    """(header dict, data offset) of a .npy, parsed as a Python literal (never evaluated)."""
    import ast

    major = head[6]
    if major == 1:
        (length,) = struct.unpack("<H", head[8:10])
        start = 10
    else:
        (length,) = struct.unpack("<I", head[8:12])
        start = 12
    text = head[start:start + length].decode("latin-1")
    return ast.literal_eval(text), start + length


def _object_dtype(descr) -> bool:
    if isinstance(descr, str):
        return "O" in descr
    if isinstance(descr, (list, tuple)):
        return any(_object_dtype(part) for part in descr)
    return True


def _scan_npy(handle, size: int, where: str, depth: int, report: ScanReport) -> None:
    handle.seek(0)
    head = handle.read(SNIFF)
    label = where or "the file"
    try:
        header, offset = npy_header(head)
        descr = header["descr"]
    except Exception:
        report.problems.append(f"{label}: a .npy with an unreadable header (not scanned)")
        return
    if not _object_dtype(descr):
        report.scanned.append((where, f"npy {descr} {tuple(header.get('shape', ()))}"))
        report.npy[where] = (tuple(header.get("shape", ())), str(descr))
        return
    handle.seek(offset)
    data = handle.read(min(size - offset, MAX_PICKLE))
    report.scanned.append((where, "npy object array (a pickle follows the header)"))
    before = len(report.hits)
    _scan_pickle(data, where, report, truncated=size - offset > MAX_PICKLE)
    if len(report.hits) == before:  # numpy.load(allow_pickle=True) unpickles it: say so even when it imports nothing
        report.hits.append(Hit("<numpy object array: needs allow_pickle=True>", where, "npy-object"))


# -- zip ------------------------------------------------------------------------------------------


@dataclass
class _Member:
    name: str
    offset: int  # of the local header
    method: int
    compressed: int
    size: int


def _zip_members(handle, size: int) -> tuple[list, str]:
    """Members from the central directory, plus local headers it does not list."""
    members: list = []
    note = ""
    try:
        handle.seek(0)
        archive = zipfile.ZipFile(handle)
        for info in archive.infolist():
            members.append(_Member(info.filename, info.header_offset, info.compress_type, info.compress_size, info.file_size))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as problem:
        note = str(problem)
    seen = {m.offset for m in members}
    handle.seek(0)
    position = 0
    buffer_start = 0
    while buffer_start < size and len(members) <= MAX_MEMBERS:
        handle.seek(buffer_start)
        block = handle.read(8 * 1024 * 1024)
        if not block:
            break
        index = block.find(ZIP_LOCAL)
        while index != -1:
            position = buffer_start + index
            if position not in seen:
                handle.seek(position)
                header = handle.read(30)
                if len(header) == 30:
                    _, _, flags, method, _, _, _, csize, usize, nlen, xlen = struct.unpack("<IHHHHHIIIHH", header)
                    name = handle.read(nlen).decode("utf-8", "replace")
                    if flags & 0x08 and not csize:  # sizes in a data descriptor after the data: up to the next record
                        data_start = position + 30 + nlen + xlen
                        handle.seek(data_start)
                        rest = handle.read(min(size - data_start, MAX_PICKLE))
                        ends = [i for i in (rest.find(b"PK\x07\x08"), rest.find(ZIP_LOCAL), rest.find(b"PK\x01\x02")) if i >= 0]
                        csize = min(ends) if ends else len(rest)
                        usize = csize if method == zipfile.ZIP_STORED else 0
                    members.append(_Member(name, position, method, csize, usize))
                    seen.add(position)
            index = block.find(ZIP_LOCAL, index + 1)
        if len(block) < 8 * 1024 * 1024:
            break
        buffer_start += len(block) - 3
    return members, note


def _member_reader(handle, member: _Member, report: ScanReport, limit: int) -> bytes:
    handle.seek(member.offset)
    header = handle.read(30)
    if len(header) < 30 or not header.startswith(ZIP_LOCAL):
        raise ValueError("no local header at the offset the central directory gives")
    nlen, xlen = struct.unpack("<HH", header[26:30])
    handle.seek(member.offset + 30 + nlen + xlen)
    if member.method == zipfile.ZIP_STORED:
        count = min(member.compressed or member.size, limit)
        _charge(report, count)
        return handle.read(count)
    kinds = {zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bz2", zipfile.ZIP_LZMA: "zip-lzma"}
    kind = kinds.get(member.method)
    if kind is None:
        raise ValueError(f"compression method {member.method} is not supported")
    chunks = _chunks(handle, member.compressed)
    if kind == "zip-lzma":  # zip's lzma: 4 bytes of version and properties size, then the properties
        first = handle.read(4)
        (psize,) = struct.unpack("<H", first[2:4])
        props = handle.read(psize)
        filters = [lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)]
        decomp = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)
        out = bytearray()
        for chunk in _chunks(handle, max(0, member.compressed - 4 - psize)):
            piece = decomp.decompress(chunk, limit - len(out) + 1)
            _charge(report, len(piece))
            out += piece
            if len(out) > limit:
                break
        return bytes(out[:limit])
    if kind == "deflate":
        decomp = zlib.decompressobj(-15)
    else:
        decomp = bz2.BZ2Decompressor()
    out = bytearray()
    step = 1024 * 1024  # inflate at most this much per call, so the budget is checked before memory grows
    for chunk in chunks:
        while len(out) <= limit:
            if kind == "deflate":
                piece = decomp.decompress(chunk, step)
                chunk = decomp.unconsumed_tail
                more = bool(chunk)
            else:
                piece = decomp.decompress(chunk, step)
                chunk = b""
                more = not decomp.needs_input and not decomp.eof
            _charge(report, len(piece))
            out += piece
            if decomp.eof or not more:
                break
        if len(out) > limit or decomp.eof:
            break
    return bytes(out[:limit + 1])


def _scan_zip(handle, size: int, where: str, depth: int, report: ScanReport) -> None:
    members, note = _zip_members(handle, size)
    label = where or "the file"
    if not members:
        if note:
            report.problems.append(f"{label}: a zip archive that cannot be read ({note}); not scanned")
        return
    names = [m.name for m in members]
    torch_zip = any(n.endswith("data.pkl") for n in names)
    keras = "config.json" in names and any(n.endswith(".weights.h5") or n == "metadata.json" for n in names)
    report.scanned.append((where, f"zip, {len(members)} members"))
    for member in members:
        report.members += 1
        if report.members > MAX_MEMBERS:
            report.problems.append(f"{label}: more than {MAX_MEMBERS} archive members (the rest unscanned)")
            return
        inner = _where(where, member.name)
        if member.name.endswith("/") and not member.size:
            continue
        if torch_zip and _TORCH_STORAGE.match(member.name):
            continue  # raw tensor bytes: torch never unpickles them
        try:
            head = _member_reader(handle, member, report, SNIFF)
            if not head:
                continue
            wants_all = pickle_scan.looks_like_pickle(head) or not head.startswith(NPY_MAGIC) and _container_head(head)
            if head.startswith(NPY_MAGIC):
                try:
                    _, offset = npy_header(head)
                    descr = npy_header(head)[0]["descr"]
                except Exception:
                    offset, descr = 0, "O"
                if _object_dtype(descr):
                    wants_all = True
            if wants_all or (keras and member.name == "config.json") or member.name.endswith(".h5"):
                limit = MAX_PICKLE if pickle_scan.looks_like_pickle(head) else MAX_INFLATED
                data = _member_reader(handle, member, report, limit)
                if len(data) > limit:
                    report.problems.append(f"{inner}: inflates to more than {limit // (1024 * 1024)} MB (a zip bomb? not scanned)")
                    continue
            else:
                data = head
        except _Budget as problem:
            report.problems.append(f"{inner}: {problem} (a zip bomb? the rest is unscanned)")
            return
        except (ValueError, zlib.error, OSError, EOFError, lzma.LZMAError, struct.error) as problem:
            report.problems.append(f"{inner}: unreadable archive member ({problem}); not scanned")
            continue
        if keras and member.name == "config.json":
            _scan_keras_config(data, inner, report)
            continue
        if data.startswith(HDF5_MAGIC):
            _scan_h5_bytes(data, inner, report)
            continue
        _scan_stream(io.BytesIO(data), len(data), data[:SNIFF], inner, depth + 1, report)


def _container_head(head: bytes) -> bool:
    return (
        head.startswith(ZIP_LOCAL) or head.startswith(GZIP) or head.startswith(XZ) or head.startswith(BZIP2)
        or head.startswith(LZ4) or head.startswith(SEVEN_Z) or _is_zlib(head) or _is_lzma_alone(head)
        or head[257:262] == b"ustar"
    )


# -- tar --------------------------------------------------------------------------------------------


def _scan_tar(handle, where: str, depth: int, report: ScanReport) -> None:
    handle.seek(0)
    label = where or "the file"
    try:
        archive = tarfile.open(fileobj=handle, mode="r:")
    except (tarfile.TarError, OSError, EOFError) as problem:
        report.problems.append(f"{label}: a tar archive that cannot be read ({problem})")
        return
    report.scanned.append((where, "tar"))
    with archive:
        for info in archive:
            report.members += 1
            if report.members > MAX_MEMBERS:
                report.problems.append(f"{label}: more than {MAX_MEMBERS} archive members (the rest unscanned)")
                return
            if not info.isfile():
                continue
            inner = _where(where, info.name)
            try:
                _charge(report, info.size)
            except _Budget as problem:
                report.problems.append(f"{inner}: {problem}; the rest is unscanned")
                return
            extracted = archive.extractfile(info)
            data = extracted.read() if extracted else b""
            _scan_stream(io.BytesIO(data), len(data), data[:SNIFF], inner, depth + 1, report)


# -- Keras ------------------------------------------------------------------------------------------


def _lambda_layers(config, found: list, path: str = "") -> None:
    """(layer name, what runs) for every Lambda layer (and __lambda__ function) in a Keras config."""
    if isinstance(config, dict):
        if config.get("class_name") in ("Lambda", "keras.layers.Lambda") or config.get("class_name") == "__lambda__" and not path:
            layer_config = config.get("config") or {}
            name = layer_config.get("name", "?") if isinstance(layer_config, dict) else "?"
            found.append((name, _what_runs(layer_config.get("function") if isinstance(layer_config, dict) else None)))
            return
        for key, value in config.items():
            _lambda_layers(value, found, f"{path}/{key}")
    elif isinstance(config, list):
        for value in config:
            _lambda_layers(value, found, path)


def _what_runs(function) -> str:
    """A description of a serialised Lambda function, from its config (the bytecode is never unmarshalled)."""
    import base64

    if isinstance(function, dict) and function.get("class_name") == "__lambda__":
        code = (function.get("config") or {}).get("code", "")
    elif isinstance(function, (list, tuple)) and function:
        code = function[0]
    elif isinstance(function, dict):
        module = (function.get("config") or {}).get("module") or function.get("module")
        name = (function.get("config") or {}).get("function_name") or function.get("config")
        return f"the function {module}.{name}" if module else f"the function {name}"
    elif isinstance(function, str):
        code = function
    else:
        return "a Python function"
    try:
        raw = base64.b64decode(code.encode("ascii") if isinstance(code, str) else code, validate=False)
    except Exception:
        raw = b""
    words = [w.decode("latin-1") for w in re.findall(rb"[\x20-\x7e]{3,}", raw)]
    where = next((w for w in words if w.endswith(".py") or w.startswith("/") or w.startswith("<")), "")
    names = [w for w in words if w.isidentifier()][:6]
    detail = f", compiled from {where}" if where else ""
    uses = f"; names in it: {', '.join(names)}" if names else ""
    return f"{len(raw)} bytes of marshalled Python bytecode{detail}{uses}"


def _scan_keras_config(data: bytes, where: str, report: ScanReport, loader: str = ".keras") -> None:
    try:
        config = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        report.problems.append(f"{where}: unreadable Keras config (not JSON)")
        return
    found: list = []
    _lambda_layers(config, found)
    for name, what in found:
        report.hits.append(Hit(f"Keras Lambda layer {name!r} ({what})", where, "keras-lambda-" + loader))


# HDF5 stores attribute names as raw bytes (filters compress dataset chunks only), so a file
# without these bytes has no `model_config` attribute: h5py (and numpy) need not be imported.
_H5_CONFIG_NAME = b"model_config"
_H5_SEARCH_LIMIT = 64 * 1024 * 1024


def _h5_config_from_bytes(data: bytes, report: ScanReport) -> bool:
    """Scan a legacy Keras .h5's model_config from the file's bytes, without h5py: True when that settled it.

    The attribute is one uncompressed string; a file whose bytes hold no `ambda` and no JSON
    `\\u` escape has no Lambda layer. Otherwise the JSON objects in the bytes that parse as a
    Keras model config are scanned; when none does, h5py reads the attribute."""
    if _H5_CONFIG_NAME not in data:
        return True
    if b"ambda" not in data and b"\\u" not in data:
        return True
    found = False
    decoder = json.JSONDecoder()
    for match in re.finditer(rb'\{"(?:module|class_name)"', data):
        try:
            config, _ = decoder.raw_decode(data[match.start():].decode("utf-8", "replace"))
        except ValueError:
            continue
        if isinstance(config, dict) and isinstance(config.get("config"), dict):
            _scan_keras_config(json.dumps(config).encode(), "model_config", report, loader=".h5")
            found = True
            break
    return found


def _h5_may_have_config(path: Path, report: ScanReport) -> bool:
    """False when the file's bytes settle the question (no model_config, or one scanned from the bytes)."""
    if path.stat().st_size > _H5_SEARCH_LIMIT:
        return True
    with open(path, "rb") as handle:
        return not _h5_config_from_bytes(handle.read(), report)


def _scan_h5_bytes(data: bytes, where: str, report: ScanReport) -> None:
    if _H5_CONFIG_NAME not in data:
        return
    try:
        import h5py
    except ImportError:
        return
    try:
        with h5py.File(io.BytesIO(data), "r") as handle:
            _scan_h5_handle(handle, where, report)
    except OSError:
        return


def _scan_h5(path: Path, report: ScanReport) -> None:
    if not _h5_may_have_config(path, report):
        return
    try:
        import h5py
    except ImportError:
        report.problems.append("an HDF5 file, and h5py is not installed: its model config (Lambda layers) is unscanned")
        return
    try:
        with h5py.File(str(path), "r") as handle:
            _scan_h5_handle(handle, "", report)
    except OSError:
        return  # the reader names the corruption


def _scan_h5_handle(handle, where: str, report: ScanReport) -> None:
    config = handle.attrs.get("model_config")
    if config is None:
        return
    if isinstance(config, bytes):
        config = config.decode("utf-8", "replace")
    _scan_keras_config(str(config).encode("utf-8", "surrogatepass"), where or "model_config", report, loader=".h5")
