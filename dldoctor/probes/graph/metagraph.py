"""Read the `.meta` files of a train dir without TensorFlow: a protobuf wire-format reader.

A MetaGraphDef holds its GraphDef in field 2; a GraphDef holds its NodeDefs in
field 1; a NodeDef has its name in field 1 and its op type in field 2. That is
all `dldoctor graph meta` needs, so it reads the wire format itself, through
`mmap`: no framework import, no 2 GB limit (protobuf's parsers refuse a message
of 2 GiB or more, which is exactly the file a user brings), and a corrupt file
becomes a message, never a crash.
"""

from __future__ import annotations

import mmap
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

STEP = re.compile(r"-(\d+)\.meta$")


class WireError(ValueError):
    pass


def _varint(buf, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise WireError(f"truncated varint at byte {pos}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError(f"varint too long at byte {pos}")


def fields(buf, start: int, end: int):
    """(field number, wire type, value) of a message in buf[start:end]; LEN values are (start, end)."""
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError(f"field number 0 at byte {pos}")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
        elif wire == 1:
            value, pos = (pos, pos + 8), pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            value, pos = (pos, pos + length), pos + length
        elif wire == 5:
            value, pos = (pos, pos + 4), pos + 4
        else:
            raise WireError(f"unsupported wire type {wire} at byte {pos}")
        if pos > end:
            raise WireError(f"field {number} runs past the end ({pos} > {end} bytes)")
        yield number, wire, value


@dataclass
class MetaFile:
    path: str
    step: Optional[int]
    size: int
    mtime: float
    nodes: Optional[int] = None
    op_types: dict = field(default_factory=dict)
    names: list = field(default_factory=list)  # (name, op type, serialized bytes); read for the first and last only
    error: Optional[str] = None
    parsed: bool = False

    def to_json(self, with_names: bool = False) -> dict:
        data = asdict(self)
        if not with_names:
            data.pop("names")
        return data


def parse_meta(entry: MetaFile, keep_names: bool) -> MetaFile:
    """Fill `entry` with its node count, op types and (if asked) node names; `error` on a bad file."""
    if entry.size == 0:
        entry.error = "empty file (0 bytes)"
        return entry
    try:
        with open(entry.path, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            graph = None
            for number, wire, value in fields(buf, 0, len(buf)):
                if number == 2:
                    if wire != 2:
                        raise WireError("graph_def is not a message")
                    graph = value
            if graph is None:
                raise WireError("no graph_def in it")
            count, types, names = 0, {}, []
            for number, wire, value in fields(buf, *graph):
                if number != 1 or wire != 2:
                    continue
                name = op = ""
                for sub, sub_wire, sub_value in fields(buf, *value):
                    if sub == 1 and sub_wire == 2:
                        name = bytes(buf[sub_value[0]:sub_value[1]]).decode("utf-8", "replace")
                    elif sub == 2 and sub_wire == 2:
                        op = bytes(buf[sub_value[0]:sub_value[1]]).decode("utf-8", "replace")
                count += 1
                types[op] = types.get(op, 0) + 1
                if keep_names:
                    names.append((name, op, value[1] - value[0]))
    except WireError as problem:
        entry.error = f"not a MetaGraphDef, or corrupt: {problem}"
        return entry
    except (OSError, ValueError) as problem:
        entry.error = f"cannot read: {problem}"
        return entry
    entry.nodes, entry.op_types, entry.names, entry.parsed = count, types, names, True
    return entry


class MetaDirError(Exception):
    pass


def scan(target: str) -> list[MetaFile]:
    """The `.meta` files of a train dir (or one file), by step, then by modification time."""
    path = Path(target)
    if path.is_file():
        candidates = [path]
    elif path.is_dir():
        candidates = [p for p in path.iterdir() if p.name.endswith(".meta") and p.is_file()]
    else:
        raise MetaDirError(f"{target}: no such file or directory")
    if not candidates:
        raise MetaDirError(f"{target}: no .meta files (a TF1 Saver writes model.ckpt-STEP.meta next to each checkpoint)")
    found = []
    for p in candidates:
        match = STEP.search(p.name)
        stat = p.stat()
        found.append(MetaFile(str(p), int(match.group(1)) if match else None, stat.st_size, stat.st_mtime))
    found.sort(key=lambda m: (m.step is None, m.step if m.step is not None else 0, m.mtime, m.path))
    return found


def read_dir(target: str, parse_all_below: int = 64 * 1024 * 1024) -> list[MetaFile]:
    """Scan, then parse the first and last files (names kept) and every file when they are small."""
    found = scan(target)
    total = sum(m.size for m in found)
    for index, entry in enumerate(found):
        ends = index in (0, len(found) - 1)
        if ends or total <= parse_all_below:
            parse_meta(entry, keep_names=ends)
    return found


def relative(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path
