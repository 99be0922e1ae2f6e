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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

STEP = re.compile(r"-(\d+)\.meta$")


class WireError(ValueError):
    pass


class _PastEnd(WireError):
    """A varint that the end of its message cuts off."""


class Truncated(WireError):
    """A field runs past the end of the file itself: the file was cut short."""

    def __init__(self, message: str, needed: int, size: int):
        super().__init__(message)
        self.needed, self.size = needed, size


def _varint(buf, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise _PastEnd(f"truncated varint at byte {pos}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError(f"varint too long at byte {pos}")


def fields(buf, start: int, end: int, top: bool = False):
    """(field number, wire type, value) of a message in buf[start:end]; LEN values are (start, end).

    In the file's top-level message (`top`), a field that runs past the end of the file
    raises `Truncated`: that is a file cut short, not a corrupt one."""
    pos = start
    while pos < end:
        try:
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
        except _PastEnd as problem:
            if top:
                raise Truncated(str(problem), end + 1, end) from None
            raise
        if pos > end:
            if top:
                raise Truncated(f"field {number} runs past the end ({pos} > {end} bytes)", pos, end)
            raise WireError(f"field {number} runs past the end ({pos} > {end} bytes)")
        yield number, wire, value


def truncated_text(problem: Truncated) -> str:
    return (f"truncated: {problem.size:,} bytes, but its fields need at least {problem.needed:,} (the file was cut short: "
            "a save that did not finish, a full disk, or an incomplete copy); it is left out of the comparison")


@dataclass
class MetaFile:
    path: str
    step: Optional[int]
    size: int
    mtime: float
    nodes: Optional[int] = None
    op_types: dict = field(default_factory=dict)
    names: list = field(default_factory=list)  # (name, op type, serialized bytes); only when asked for (parse_meta)
    error: Optional[str] = None
    parsed: bool = False
    diff: Optional[dict] = None  # the last file, against the first: {added: [(name, op, bytes)...], removed: int}

    def to_json(self, with_names: bool = False) -> dict:
        # Built by hand: dataclasses.asdict would deep-copy `names` (one tuple per node) only to drop it.
        data = {"path": self.path, "step": self.step, "size": self.size, "mtime": self.mtime, "nodes": self.nodes,
                "op_types": dict(self.op_types), "error": self.error, "parsed": self.parsed}
        if with_names:
            data["names"] = [list(n) for n in self.names]
        return data


def _nodes(buf, start: int, end: int):
    """(name, op, serialized bytes) of each NodeDef (field 1) of the GraphDef in buf[start:end].

    One pass: a node's other fields (inputs, attrs, large constants) are skipped by
    their length, never copied."""
    for number, wire, value in fields(buf, start, end):
        if number == 1 and wire == 2:
            node_start, node_end = value
            yield (*_name_and_op(buf, node_start, node_end), node_end - node_start)


def _name_and_op(buf, pos: int, end: int) -> tuple[bytes, bytes]:
    """A NodeDef's name (field 1) and op (field 2). Called once per node, over all its
    fields, so the varints are decoded inline (the one-byte case first): through
    `fields` it takes about twice as long (1.0-1.5 s against 0.6 s for 300,000 nodes)."""
    name = op = b""
    while pos < end:
        key = buf[pos]
        if key & 0x80:
            key, pos = _varint(buf, pos, end)
        else:
            pos += 1
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError(f"field number 0 at byte {pos}")
        if wire == 2:
            size = buf[pos] if pos < end else 0x80
            if size & 0x80:
                size, pos = _varint(buf, pos, end)
            else:
                pos += 1
            if number == 1:
                name = buf[pos:pos + size]
            elif number == 2:
                op = buf[pos:pos + size]
            pos += size
        elif wire == 0:
            _, pos = _varint(buf, pos, end)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise WireError(f"unsupported wire type {wire} at byte {pos}")
        if pos > end:
            raise WireError(f"field {number} runs past the end ({pos} > {end} bytes)")
    return name, op


def parse_meta(entry: MetaFile, keep_names: bool, on_node=None) -> MetaFile:
    """Fill `entry` with its node count and op types; `error` on a bad file.

    Node names are kept in `entry.names` only if `keep_names`; `on_node(name, op, bytes)`,
    if given, is called for every node instead (streaming: no list of the nodes is built)."""
    if entry.size == 0:
        entry.error = "empty file (0 bytes)"
        return entry
    try:
        with open(entry.path, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            graph = None
            for number, wire, value in fields(buf, 0, len(buf), top=True):
                if number == 2:
                    if wire != 2:
                        raise WireError("graph_def is not a message")
                    graph = value
            if graph is None:
                raise WireError("no graph_def in it")
            count, types, names = 0, {}, []
            op_text: dict = {}  # op bytes -> text: a graph has few op types and many nodes
            for raw_name, raw_op, size in _nodes(buf, *graph):
                op = op_text.get(raw_op)
                if op is None:
                    op = op_text[raw_op] = raw_op.decode("utf-8", "replace")
                count += 1
                types[op] = types.get(op, 0) + 1
                if keep_names or on_node is not None:
                    name = raw_name.decode("utf-8", "replace")
                    if on_node is not None:
                        on_node(name, op, size)
                    if keep_names:
                        names.append((name, op, size))
    except Truncated as problem:
        entry.error = truncated_text(problem)
        return entry
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


def check_framing(entry: MetaFile) -> MetaFile:
    """The cheap check of a file that is not parsed node by node: its top-level fields
    (skipped by their lengths) fit in the file and one of them is a graph_def. A
    truncated or foreign file gets its `error`; a sound one is left unparsed."""
    if entry.size == 0:
        entry.error = "empty file (0 bytes)"
        return entry
    try:
        with open(entry.path, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            if not any(number == 2 and wire == 2 for number, wire, _ in fields(buf, 0, len(buf), top=True)):
                raise WireError("no graph_def in it")
    except Truncated as problem:
        entry.error = truncated_text(problem)
    except WireError as problem:
        entry.error = f"not a MetaGraphDef, or corrupt: {problem}"
    except (OSError, ValueError) as problem:
        entry.error = f"cannot read: {problem}"
    return entry


def read_dir(target: str, parse_all_below: int = 64 * 1024 * 1024) -> list[MetaFile]:
    """Scan, then compare the first and the last readable files; parse every file when they are small.

    An unreadable file (truncated, corrupt, empty) is never growth evidence: the files
    are tried from the start until one parses, and from the end back until another
    one does, and those two are compared. The first one's node names are kept as a
    set, and the last one is compared with it while it is read: only the nodes it adds
    are kept (`last.diff`). Memory is the first file's names plus the added nodes, never
    a list of every node of every file. The files in between are parsed when the dir
    is small, and otherwise only checked for truncation (`check_framing`)."""
    found = scan(target)
    total = sum(m.size for m in found)
    before: Optional[set] = None
    first_index = None
    for index, entry in enumerate(found):
        names: set = set()
        parse_meta(entry, keep_names=False, on_node=lambda name, op, size: names.add(name))
        if entry.parsed:
            before, first_index = names, index
            break
    if first_index is None:
        return found
    for entry in reversed(found[first_index + 1:]):
        added: list = []
        kept: set = set()

        def compare(name, op, size):
            if name in before:
                kept.add(name)
            else:
                added.append((name, op, size))

        parse_meta(entry, keep_names=False, on_node=compare)
        if entry.parsed:
            entry.diff = {"added": added, "removed": len(before) - len(kept)}
            break
    for entry in found:
        if entry.parsed or entry.error:
            continue
        if total <= parse_all_below:
            parse_meta(entry, keep_names=False)
        else:
            check_framing(entry)
    return found


def relative(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path
