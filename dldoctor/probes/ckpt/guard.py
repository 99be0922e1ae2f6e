"""Hostile and corrupt checkpoints: what `dldoctor ckpt` refuses to read, and the limits.

A checkpoint from the internet is untrusted input. Everything here turns a hostile or
broken file into a one-line `CkptError` (exit 1) before a loader sees it:

* only regular files are opened (a fifo, /dev/zero or a link to it would block or
  never end);
* zip archives (PyTorch `.pt`, Keras `.keras`) are checked member by member against
  the sizes their central directory declares, then inflated in bounded chunks with the
  same limits, so a zip bomb is refused at the cost of reading its directory;
* safetensors headers are validated with the rules of the `safetensors` library (the
  header is parsed here; tensors are never read);
* names and metadata printed to a terminal have their control characters escaped and
  long values clipped.

Stdlib only: the readers (formats.py) import the frameworks.
"""

from __future__ import annotations

import json
import os
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path

from dldoctor import regular_file
from dldoctor.probes.ckpt.facts import CkptError

MB = 1024 * 1024
GB = 1024 * MB
# Zip members: metadata (config.json, metadata.json) and pickles (torch's data.pkl, which
# holds the object tree, not the tensor bytes: storages are separate members) are read
# whole into memory, so they get absolute limits. Weights members are streamed to disk:
# a compressed one may inflate to at most BOMB_RATIO times its compressed size (real
# float weights compress less than 2:1; a zip bomb of zeros, about 1000:1), members
# under RATIO_FLOOR are always allowed.
JSON_MEMBER_LIMIT = 64 * MB
PICKLE_MEMBER_LIMIT = 256 * MB
BOMB_RATIO = 32
RATIO_FLOOR = 16 * MB
CHUNK = 1 * MB
# The safetensors library's own header limit (MAX_HEADER_SIZE) and its recursion limit.
SAFETENSORS_HEADER_LIMIT = 100_000_000
# A TensorFlow `checkpoint` state file lists a few paths; anything bigger is not one.
STATE_FILE_LIMIT = 1 * MB
# TensorFlow data shards up to this size are read tensor by tensor (TensorFlow checks
# each tensor's CRC32C); bigger ones are only checked against the index's sizes.
TF_VERIFY_LIMIT = 2 * GB
# Printing: metadata values and whole report lines are clipped.
METADATA_VALUE_CHARS = 200
LINE_CHARS = 4000


def human(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"


# -- printing --------------------------------------------------------------------------------

# C0/C1 controls, DEL, zero-width and bidirectional marks, line/paragraph separators, BOM.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _escape_one(match: re.Match) -> str:
    char = match.group(0)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """`text` with every control character written as an escape (`\\x1b`, `\\n`, `\\u202e`)."""
    return _UNSAFE.sub(_escape_one, text)


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters not shown)"


def printable(text: str, limit: int = LINE_CHARS) -> str:
    """One terminal line: escaped, then clipped."""
    return clip(escape(text), limit)


# -- files -----------------------------------------------------------------------------------

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (fifo)"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"),
)


def require_regular(path: Path | str) -> os.stat_result:
    """The stat of `path`, a regular file (links followed); a CkptError for anything else."""
    try:
        info = os.stat(path)
    except OSError as problem:
        raise CkptError(f"{path}: cannot be read ({problem.strerror})")
    if stat.S_ISREG(info.st_mode):
        return info
    kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
    link = " (through a symbolic link)" if os.path.islink(path) else ""
    raise CkptError(f"{path}: {kind}{link}, not a regular file: refused (dldoctor reads checkpoints from regular files only)")


def inside(directory: Path, target: Path) -> bool:
    """Whether `target` lies in `directory`, both as written and with links resolved."""
    base = os.path.normpath(os.path.abspath(directory))
    written = os.path.normpath(os.path.abspath(target))
    if os.path.commonpath([base, written]) != base:
        return False
    real_base, real = os.path.realpath(directory), os.path.realpath(target)
    return os.path.commonpath([real_base, real]) == real_base


def read_capped(path: Path, limit: int, what: str) -> bytes:
    """At most `limit` bytes of a regular file (checked on the opened file, so no fifo
    swapped in after the check can block the read); a CkptError for anything else."""
    require_regular(path)
    try:
        return regular_file.read(path, limit)
    except regular_file.TooLarge:
        raise CkptError(f"{path}: {what} is larger than {human(limit)}: refused (not a real {what})") from None
    except (OSError, regular_file.NotRegularFile):
        require_regular(path)  # says what it is now
        raise CkptError(f"{path}: {what} cannot be read: refused") from None


# -- zip archives -----------------------------------------------------------------------------


def member_limit(info: zipfile.ZipInfo) -> tuple[int, str]:
    """(the most bytes the member may inflate to, what kind of limit that is)."""
    name = info.filename.lower()
    if name.endswith(".json"):
        return JSON_MEMBER_LIMIT, "the limit for a JSON member"
    if name.endswith(".pkl"):
        return PICKLE_MEMBER_LIMIT, "the limit for a pickle member"
    if info.compress_type == zipfile.ZIP_STORED:
        return max(info.compress_size, 0), "its stored size"
    return max(RATIO_FLOOR, BOMB_RATIO * info.compress_size), f"{BOMB_RATIO} times its compressed size of {human(info.compress_size)}"


def check_archive(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse an archive whose central directory declares members past their limits."""
    compressed = declared = 0
    for info in archive.infolist():
        limit, why = member_limit(info)
        if info.file_size > limit:
            raise CkptError(
                f"{path}: member {escape(info.filename)} declares {human(info.file_size)} uncompressed "
                f"({human(info.compress_size)} compressed): refused ({why} is {human(limit)}; a zip bomb?)"
            )
        if info.compress_type != zipfile.ZIP_STORED:
            compressed += info.compress_size
            declared += info.file_size
    if declared > max(RATIO_FLOOR, BOMB_RATIO * compressed):
        raise CkptError(
            f"{path}: its compressed members declare {human(declared)} uncompressed from {human(compressed)}: "
            f"refused (more than {BOMB_RATIO}:1; a zip bomb?)"
        )


def _corrupt(path: Path, name: str, problem: BaseException) -> CkptError:
    text = str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
    return CkptError(f"{path}: truncated or corrupt archive member {escape(name)} ({escape(text)})")


def stream_member(path: Path, archive: zipfile.ZipFile, name: str, sink=None, check_crc: bool = True) -> int:
    """Inflate one member in CHUNK pieces into `sink` (a file, or None to count only),
    stopping with a CkptError as soon as it passes its limit; the bytes inflated."""
    info = archive.getinfo(name)
    limit, why = member_limit(info)
    total = 0
    try:
        with archive.open(info) as handle:
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise CkptError(f"{path}: member {escape(name)} inflates past {human(limit)} ({why}): refused (a zip bomb?)")
                if sink is not None:
                    sink.write(chunk)
    except CkptError:
        raise
    except zipfile.BadZipFile as problem:
        if check_crc or "CRC" not in str(problem):
            raise _corrupt(path, name, problem)
    except (zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as problem:
        raise _corrupt(path, name, problem)
    return total


def check_inflated_size(path: Path, handle, info: zipfile.ZipInfo) -> None:
    """Inflate a deflated member's raw stream in bounded pieces (kept nowhere) and refuse
    it the moment it yields more than its central directory declares: a bomb that
    understates its size would otherwise reach every reader that trusts the stream (the
    declared size is what the limits above were checked against). A stream that does
    not inflate is left to the loaders, which name the corruption themselves."""
    if info.compress_type != zipfile.ZIP_DEFLATED:
        return  # stored members are their own size; bzip2/lzma readers stop at the declared size
    handle.seek(info.header_offset)
    local = handle.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        return
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    handle.seek(info.header_offset + 30 + name_length + extra_length)
    inflater = zlib.decompressobj(-15)
    left, out = info.compress_size, 0
    try:
        while left > 0 and not inflater.eof:
            raw = handle.read(min(CHUNK, left))
            if not raw:
                return
            left -= len(raw)
            out += len(inflater.decompress(raw, CHUNK))
            while inflater.unconsumed_tail and out <= info.file_size:
                out += len(inflater.decompress(inflater.unconsumed_tail, CHUNK))
            if out > info.file_size:
                raise CkptError(
                    f"{path}: member {escape(info.filename)} inflates past the {human(info.file_size)} its central directory "
                    f"declares: refused (a zip bomb that understates its size?)"
                )
    except zlib.error:
        return


def read_member(path: Path, archive: zipfile.ZipFile, name: str) -> bytes:
    """A small member (JSON, pickle) into memory, bounded by its limit."""
    import io

    buffer = io.BytesIO()
    stream_member(path, archive, name, buffer)
    return buffer.getvalue()


def open_archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as problem:
        raise CkptError(f"{path}: truncated or corrupt zip archive ({escape(str(problem) or type(problem).__name__)})")


def before_reading(path: Path) -> None:
    """Before any reader or scanner opens `path`: a regular file, and, when it is a zip
    (a PyTorch or Keras archive), members whose declared sizes are within their limits
    and whose compressed streams really inflate to no more than declared. CRCs are left
    to the loaders (torch checks some records and not others); a zip that does not open
    is left to them too."""
    require_regular(path)
    try:
        if not zipfile.is_zipfile(path):
            return
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError):
        return
    with archive, open(path, "rb") as handle:
        check_archive(path, archive)
        for info in archive.infolist():
            check_inflated_size(path, handle, info)


# -- safetensors --------------------------------------------------------------------------------

# dtype -> bits per element, as the safetensors library (0.8) knows them.
SAFETENSORS_BITS = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32,
    "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64,
}
_USIZE = 2**64 - 1


class _Invalid(ValueError):
    pass


def _reject_constant(name: str):
    raise _Invalid(f"{name} is not JSON")


class _Object(list):
    """A JSON object as its (key, value) pairs, duplicates kept (the library refuses a repeated field)."""


def _is_array(value) -> bool:
    return isinstance(value, list) and not isinstance(value, _Object)


def _describe(value) -> str:
    if isinstance(value, _Object):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return json.dumps(value)[:40]


def _usize(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"{what} is {_describe(value)}, not an unsigned integer")
    if not 0 <= value <= _USIZE:
        raise _Invalid(f"{what} is {value}, out of range")
    return value


def _fields(value, name: str) -> tuple:
    """(dtype, shape, data_offsets) of one tensor's entry: a JSON object (or, as serde
    also accepts, a 3-element array)."""
    if _is_array(value):
        if len(value) != 3:
            raise _Invalid(f"tensor {name!r}: its entry is an array of {len(value)}, not an object")
        return tuple(value)
    if not isinstance(value, _Object):
        raise _Invalid(f"tensor {name!r}: its entry is {_describe(value)}, not an object")
    seen: dict = {}
    for key, item in value:
        if key in seen:
            raise _Invalid(f"tensor {name!r}: duplicate field {key!r}")
        seen[key] = item
    for key in ("dtype", "shape", "data_offsets"):
        if key not in seen:
            raise _Invalid(f"tensor {name!r}: missing field {key!r}")
    return seen["dtype"], seen["shape"], seen["data_offsets"]


def _dtype(value, name: str) -> str:
    if isinstance(value, _Object) and len(value) == 1 and value[0][1] is None:
        value = value[0][0]  # serde's {"F32": null} form of an enum variant
    if not isinstance(value, str):
        raise _Invalid(f"tensor {name!r}: dtype is {_describe(value)}, not a string")
    if value not in SAFETENSORS_BITS:
        raise _Invalid(f"tensor {name!r}: unknown dtype {value[:40]!r}")
    return value


def parse_safetensors_header(raw: bytes) -> tuple[dict, dict | None, int]:
    """({name: (dtype, shape, (start, end))}, metadata or None, end of the data), or
    ValueError with the reason, by the rules the safetensors library applies."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as problem:
        raise _Invalid(f"invalid UTF-8 at byte {problem.start}")
    try:
        top = json.loads(text, object_pairs_hook=_Object, parse_constant=_reject_constant)
    except RecursionError:
        raise _Invalid("JSON nested too deeply")
    except json.JSONDecodeError as problem:
        raise _Invalid(f"invalid JSON ({problem.msg} at line {problem.lineno} column {problem.colno})")
    if not isinstance(top, _Object):
        raise _Invalid(f"the header is {_describe(top)}, not a JSON object")
    tensors: dict = {}
    metadata = None
    seen_metadata = False
    for name, value in top:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise _Invalid("a name holds an unpaired surrogate escape")
        if name == "__metadata__":
            if seen_metadata:
                raise _Invalid("duplicate __metadata__")
            seen_metadata = True
            if value is None:
                continue
            if not isinstance(value, _Object):
                raise _Invalid(f"__metadata__ is {_describe(value)}, not an object of strings")
            metadata = {}
            for key, item in value:
                if not isinstance(item, str):
                    raise _Invalid(f"__metadata__ value of {key!r} is {_describe(item)}, not a string")
                try:
                    key.encode("utf-8"), item.encode("utf-8")
                except UnicodeEncodeError:
                    raise _Invalid("__metadata__ holds an unpaired surrogate escape")
                metadata[key] = item  # a repeated key: the last wins
            continue
        dtype, shape, offsets = _fields(value, name)
        dtype = _dtype(dtype, name)
        if not _is_array(shape):
            raise _Invalid(f"tensor {name!r}: shape is {_describe(shape)}, not an array")
        shape = tuple(_usize(d, f"tensor {name!r}: a dimension") for d in shape)
        if not _is_array(offsets) or len(offsets) != 2:
            raise _Invalid(f"tensor {name!r}: data_offsets is {_describe(offsets)}, not a pair")
        begin, end = (_usize(o, f"tensor {name!r}: an offset") for o in offsets)
        tensors[name] = (dtype, shape, (begin, end))  # a repeated name: the last wins, as in the library
    end = 0
    for name, (dtype, shape, (begin, stop)) in sorted(tensors.items(), key=lambda item: item[1][2]):
        if begin != end or stop < begin:
            relation = "overlap" if begin < end else "leave a gap after"
            raise _Invalid(f"tensor {name!r}: data_offsets [{begin}, {stop}] {relation} the previous tensor's (which end at {end})")
        elements = 1
        for dim in shape:
            elements *= dim
            if elements > _USIZE:
                raise _Invalid(f"tensor {name!r}: shape {list(shape)} overflows")
        bits = elements * SAFETENSORS_BITS[dtype]
        if bits > _USIZE:
            raise _Invalid(f"tensor {name!r}: shape {list(shape)} overflows")
        if bits % 8:
            raise _Invalid(f"tensor {name!r}: {elements} elements of {dtype} do not fill whole bytes")
        if stop - begin != bits // 8:
            raise _Invalid(f"tensor {name!r}: data_offsets span {stop - begin} bytes, but {dtype} {list(shape)} takes {bits // 8}")
        end = stop
    return tensors, metadata, end


def metadata_line(metadata: dict, items: int = 6) -> str:
    shown = [f"{clip(str(k), 60)}={clip(str(v), METADATA_VALUE_CHARS)}" for k, v in list(metadata.items())[:items]]
    more = f", ... {len(metadata) - items} more" if len(metadata) > items else ""
    return "metadata: " + ", ".join(shown) + more
