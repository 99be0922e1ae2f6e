"""The event-file reader's fast path: whole chunks at a time, with NumPy, and the proto parser as its judge.

A training that logs a few scalars every step writes millions of records that differ
only in their step, wall time and value: the same tag, the same summary framing, the
same metadata bytes. Parsing each one into a protobuf message and a Python object is
what makes TensorBoard (and a naive reader) take minutes. Here a chunk of the file
(2 MiB) is handled as arrays:

1. Framing. Records are framed one by one in Python until their lengths repeat with
   some period (4 tags logged per step: lengths a, b, b, b, a, b, b, b, ...); then the
   next periods are *predicted* and checked all at once on strided views of the
   buffer: every predicted length field must hold that length and its checksum the
   masked CRC32C of that length. The first mismatch ends the prediction and framing
   goes on one by one from there, so a prediction never frames a record the one by one
   framing would not.
2. Templates. Records of one length are compared with the first of them: its bytes
   are walked field by field (Event.wall_time, Event.step, Event.summary ->
   Summary.Value{tag, simple_value | tensor{dtype, tensor_shape, tensor_content |
   float_val | double_val}, metadata}) to find the bytes that vary (wall time, step,
   value); it is parsed with the `tensorboard` protos too, and used as a template only
   when both readings agree. Every record whose other bytes equal the template's has
   the template's meaning, with its own step and value read from its own bytes.
3. Checksums. CRC32C is linear: a record's CRC is the CRC of the template with its
   variable bytes zeroed, XOR the contribution of each variable byte (a table per
   distance from the end). So a record's CRC costs a lookup per variable byte, and each
   record is still checked against its own stored CRC.

Everything else (histograms, images, graphs, session logs, a record that matches no
template, a record whose checksum fails) goes to the proto path, one record at a time
and in file order, so the result is the proto path's exactly; the tests compare both
on files written by every writer.
"""

from __future__ import annotations

import struct
from array import array
from typing import Optional

import numpy as np

from dldoctor.probes.logs import events as ev

CHUNK_BYTES = 2 << 20
# A length group tries at most this many templates per chunk before the rest goes to the proto path.
MAX_TEMPLATES = 16
# A value's ordering key is its record's index in the chunk times KEY_SLOTS plus its place in the record
# (TF1 merges many summaries in one event); a template holds at most MAX_VALUES values.
KEY_SLOTS = 1 << 20
MAX_VALUES = 64
_PAD = 16
_MAX_PERIOD = 64
_UNPACK_HEADER = struct.Struct("<QI").unpack_from
_NUMPY_DTYPES = {1: "<f4", 2: "<f8", 3: "<i4", 9: "<i8", 19: "<f2", 4: "u1", 5: "<i2", 6: "i1", 17: "<u2",
                 22: "<u4", 23: "<u8"}

_tables_cache: list = []


def _crc_tables(length: int) -> np.ndarray:
    """Row d: the raw CRC32C (init 0, no final xor) of byte value b followed by d zero bytes."""
    if not _tables_cache or len(_tables_cache[0]) < length:
        size = max(length, 512)
        base = np.array(ev._crc32c_table(), dtype=np.uint32)
        table = np.empty((size, 256), np.uint32)
        table[0] = base
        for d in range(1, size):
            previous = table[d - 1]
            table[d] = base[previous & 0xFF] ^ (previous >> 8)
        _tables_cache[:] = [table]
    return _tables_cache[0]


def _masked(crc: np.ndarray) -> np.ndarray:
    crc = crc.astype(np.uint32)
    return ((crc >> np.uint32(15)) | (crc << np.uint32(17))) + np.uint32(0xA282EAD8)


# --- framing -----------------------------------------------------------------------------------------------------


def frame(buf: bytes, pos: int, end: int, known: dict) -> tuple[array, array, int, str]:
    """(payload starts, lengths, position reached, why it stopped) for the records of buf[pos:end].

    Stops with "more" where the next record is not whole in the buffer and "corrupt" where
    its length fails its checksum (or is absurd). `known` caches length -> masked CRC.
    """
    starts, lengths = array("q"), array("q")
    window = 64
    while True:
        for _ in range(window):
            if end - pos < 12:
                return starts, lengths, pos, "more"
            length, header_crc = _UNPACK_HEADER(buf, pos)
            if known.get(length) != header_crc:
                if length > ev.MAX_RECORD_BYTES or ev.masked_crc32c(buf[pos:pos + 8]) != header_crc:
                    return starts, lengths, pos, "corrupt"
                known[length] = header_crc
            following = pos + 16 + length
            if following > end:
                return starts, lengths, pos, "more"
            starts.append(pos + 12)
            lengths.append(length)
            pos = following
        accepted, pos = _predict(buf, pos, end, starts, lengths, known)
        window = 64 if accepted else min(window * 2, 1 << 14)


def _period(tail: np.ndarray) -> int:
    """The period whose repetition covers the longest end of `tail` (at least one full period), or 0."""
    best, best_run, n = 0, 0, len(tail)
    for p in range(1, min(_MAX_PERIOD, n // 2) + 1):
        differ = np.flatnonzero(tail[p:] != tail[:-p])
        run = n - p if differ.size == 0 else n - p - 1 - int(differ[-1])
        if run >= p and run > best_run:
            best, best_run = p, run
            if run == n - p:
                break
    return best


def _predict(buf: bytes, pos: int, end: int, starts: array, lengths: array, known: dict) -> tuple[int, int]:
    """Frame whole periods of the recent length pattern at once; (records framed, new position)."""
    if len(lengths) < 8:
        return 0, pos
    tail = np.frombuffer(lengths[-256:], dtype=np.int64)
    p = _period(tail)
    if not p:
        return 0, pos
    pattern = tail[-p:].copy()
    sizes = pattern + 16
    period_bytes = int(sizes.sum())
    periods = min((end - pos) // period_bytes, (1 << 20) // p)
    if periods < 2:
        return 0, pos
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    good_periods = periods
    for phase in range(p):
        at = pos + int(offsets[phase])
        length = int(pattern[phase])
        length_view = np.ndarray((good_periods,), dtype="<u8", buffer=buf, offset=at, strides=(period_bytes,))
        crc_view = np.ndarray((good_periods,), dtype="<u4", buffer=buf, offset=at + 8, strides=(period_bytes,))
        bad = np.flatnonzero((length_view != length) | (crc_view != known[length]))
        if bad.size:
            good_periods = int(bad[0])
            if not good_periods:
                return 0, pos
    grid = pos + 12 + offsets[None, :] + period_bytes * np.arange(good_periods, dtype=np.int64)[:, None]
    starts.frombytes(grid.astype(np.int64).ravel().tobytes())
    lengths.frombytes(np.tile(pattern, good_periods).astype(np.int64).tobytes())
    return good_periods * p, pos + good_periods * period_bytes


# --- templates -------------------------------------------------------------------------------------------------------


def _varint(data: bytes, pos: int, stop: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= stop or shift > 63:
            raise ValueError("bad varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


class Layout:
    """Where the varying bytes of a template are, and what its values mean (from the proto parser)."""

    __slots__ = ("wall", "step", "values", "variable", "fixed_mask")

    def __init__(self, wall, step, values):
        self.wall = wall  # byte position of the 8-byte wall time, or None
        self.step = step  # (position, width) of the step varint, or None (step 0)
        self.values = values  # [(position, numpy dtype, tag, metadata plugin or None, is_tensor)]
        variable = list(range(wall, wall + 8)) if wall is not None else []
        if step is not None:
            variable += range(step[0], step[0] + step[1])
        for position, dtype, *_ in values:
            variable += range(position, position + np.dtype(dtype).itemsize)
        self.variable = variable
        self.fixed_mask = None


def _walk_value(data: bytes, pos: int, stop: int) -> Optional[tuple[int, str]]:
    """(position, dtype) of a Summary.Value's number: simple_value, or a tensor's one element."""
    seen, found = set(), None
    while pos < stop:
        key, pos = _varint(data, pos, stop)
        field, wire = key >> 3, key & 7
        if field in seen:
            return None
        seen.add(field)
        if field in (1, 7, 9) and wire == 2:  # tag, node_name, metadata: fixed bytes, read by the proto parser
            n, pos = _varint(data, pos, stop)
            pos += n
        elif field == 2 and wire == 5:
            found, pos = (pos, "<f4"), pos + 4
        elif field == 8 and wire == 2:
            n, pos = _varint(data, pos, stop)
            found = _walk_tensor(data, pos, pos + n)
            if found is None:
                return None
            pos += n
        else:
            return None
    if pos != stop or (2 in seen) == (8 in seen):
        return None
    return found


def _walk_tensor(data: bytes, pos: int, stop: int) -> Optional[tuple[int, str]]:
    seen, dtype, number = set(), 0, None
    while pos < stop:
        key, pos = _varint(data, pos, stop)
        field, wire = key >> 3, key & 7
        if field in seen:
            return None
        seen.add(field)
        if field in (1, 3) and wire == 0:
            value, pos = _varint(data, pos, stop)
            if field == 1:
                dtype = value
        elif field == 2 and wire == 2:
            n, pos = _varint(data, pos, stop)
            pos += n
        elif field == 4 and wire == 2:
            n, pos = _varint(data, pos, stop)
            number = (pos, n, "content")
            pos += n
        elif field == 5 and wire in (2, 5):
            n, pos = _varint(data, pos, stop) if wire == 2 else (4, pos)
            number = (pos, n, "<f4")
            pos += n
        elif field == 6 and wire in (2, 1):
            n, pos = _varint(data, pos, stop) if wire == 2 else (8, pos)
            number = (pos, n, "<f8")
            pos += n
        else:
            return None
    if pos != stop or number is None or len(seen & {4, 5, 6}) != 1:
        return None
    position, n, kind = number
    kind = _NUMPY_DTYPES.get(dtype) if kind == "content" else kind
    if kind is None or np.dtype(kind).itemsize != n:
        return None
    return position, kind


def derive_layout(payload: bytes, event_class) -> Optional[Layout]:
    """The template of a one-or-more-scalar summary event, or None where the fast path does not apply."""
    stop = len(payload)
    try:
        pos, seen, wall, step, summary = 0, set(), None, None, None
        while pos < stop:
            key, pos = _varint(payload, pos, stop)
            field, wire = key >> 3, key & 7
            if field in seen:
                return None
            seen.add(field)
            if field == 1 and wire == 1:
                wall, pos = pos, pos + 8
            elif field == 2 and wire == 0:
                begin = pos
                _, pos = _varint(payload, pos, stop)
                step = (begin, pos - begin)
            elif field == 5 and wire == 2:
                n, pos = _varint(payload, pos, stop)
                summary, pos = (pos, pos + n), pos + n
            else:
                return None
        if pos != stop or summary is None:
            return None
        pos, end = summary
        numbers = []
        while pos < end:
            key, pos = _varint(payload, pos, end)
            if key != 0x0A:
                return None
            n, pos = _varint(payload, pos, end)
            found = _walk_value(payload, pos, pos + n)
            if found is None:
                return None
            numbers.append(found)
            pos += n
        if pos != end or not numbers or len(numbers) > MAX_VALUES:
            return None
    except (ValueError, IndexError):
        return None
    return _judged(payload, event_class, wall, step, numbers)


def _judged(payload: bytes, event_class, wall, step, numbers) -> Optional[Layout]:
    """The layout, when the proto parser reads the template the same way; else None."""
    from google.protobuf.message import DecodeError

    try:
        event = event_class.FromString(payload)
    except DecodeError:
        return None
    if event.WhichOneof("what") != "summary" or len(event.summary.value) != len(numbers):
        return None
    if event.step != (_step_of(payload, step) if step else 0):
        return None
    values = []
    for value, (position, dtype) in zip(event.summary.value, numbers):
        kind = value.WhichOneof("value")
        if kind == "simple_value":
            expected, is_tensor = float(value.simple_value), False
        elif kind == "tensor":
            expected, is_tensor = ev._tensor_scalar(value.tensor), True
        else:
            return None
        ours = float(np.frombuffer(payload, dtype=dtype, count=1, offset=position)[0])
        if expected is None or struct.pack("<d", expected) != struct.pack("<d", ours):
            if not (expected is not None and expected != expected and ours != ours):
                return None
        plugin = None
        if value.HasField("metadata") and value.metadata.plugin_data.plugin_name:
            plugin = value.metadata.plugin_data.plugin_name
        values.append((position, dtype, value.tag or value.node_name, plugin, is_tensor))
    return Layout(wall, step, values)


def _step_of(payload: bytes, step) -> int:
    value, _ = _varint(payload, step[0], step[0] + step[1])
    return value - (1 << 64) if value >= 1 << 63 else value


# --- one chunk --------------------------------------------------------------------------------------------------------


class ChunkResult:
    __slots__ = ("parts", "changes", "fast_records")

    def __init__(self):
        self.parts = []  # (tag, kind, keys, steps, values, plugin or None, needs plugin) numpy arrays
        self.changes = {}  # tag -> [(keys, plugin)] plugin changes made by fast records
        self.fast_records = 0


def decode(buf: bytes, starts: np.ndarray, lengths: np.ndarray, event_class, corrupt: list, slow: list,
           result: ChunkResult) -> None:
    """Decode the records of one chunk that match a template into `result`; record indices with a bad
    checksum go to `corrupt`, the rest to `slow` (the proto path)."""
    u8 = np.frombuffer(buf, dtype=np.uint8)
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = lengths[order]
    cuts = np.flatnonzero(np.diff(sorted_lengths)) + 1
    for group in np.split(order, cuts):
        length = int(lengths[group[0]])
        if len(group) < 4 or length > 4096:
            slow.extend(group.tolist())
            continue
        width = (length + 4 + 7) // 8 * 8
        rows = np.lib.stride_tricks.sliding_window_view(u8, width)[starts[group]]
        _templates(buf, rows, group, length, event_class, corrupt, slow, result)


def _templates(buf, rows, group, length, event_class, corrupt, slow, result) -> None:
    remaining = np.arange(len(group))
    words = rows.view("<u8")
    tables = _crc_tables(length)
    for _ in range(MAX_TEMPLATES):
        if not remaining.size:
            return
        first = int(remaining[0])
        template = rows[first]
        layout = derive_layout(template[:length].tobytes(), event_class)
        if layout is None:
            slow.append(int(group[first]))
            remaining = remaining[1:]
            continue
        mask = np.zeros(rows.shape[1], np.uint8)
        mask[:length] = 0xFF
        mask[layout.variable] = 0
        mask_words = mask.view("<u8")
        candidates = words[remaining]
        match = ((candidates & mask_words) == (template.view("<u8") & mask_words)).all(axis=1)
        chosen = remaining[match]
        sub = rows[chosen]
        steps = None
        if layout.step is not None:
            at, width = layout.step
            digits = sub[:, at:at + width]
            ok = (digits[:, width - 1] & 0x80) == 0
            if width > 1:
                ok &= (digits[:, :width - 1] & 0x80).all(axis=1)
            if not ok.all():
                chosen, sub, digits = chosen[ok], sub[ok], digits[ok]
            steps = np.zeros(len(chosen), np.uint64)
            for k in range(width):
                steps |= (digits[:, k] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
            steps = steps.view(np.int64)
        zeroed = template[:length].copy()
        zeroed[layout.variable] = 0
        crc = np.full(len(chosen), ev.crc32c(zeroed.tobytes()), np.uint32)
        for column in layout.variable:
            crc ^= tables[length - 1 - column][sub[:, column]]
        stored = np.ascontiguousarray(sub[:, length:length + 4]).view("<u4").ravel()
        sound = _masked(crc) == stored
        taken = chosen
        if not sound.all():
            corrupt.extend(group[chosen[~sound]].tolist())
            chosen, sub = chosen[sound], sub[sound]
            if steps is not None:
                steps = steps[sound]
        if steps is None:
            steps = np.zeros(len(chosen), np.int64)
        indices = group[chosen].astype(np.int64)
        result.fast_records += len(chosen)
        for slot, (position, dtype, tag, plugin, is_tensor) in enumerate(layout.values):
            keys = indices * KEY_SLOTS + slot
            size = np.dtype(dtype).itemsize
            values = np.ascontiguousarray(sub[:, position:position + size]).view(dtype).ravel().astype(np.float64)
            if plugin is not None:
                result.changes.setdefault(tag, []).append((keys, plugin))
            result.parts.append((tag, keys, steps, values, plugin, is_tensor))
        done = np.zeros(len(remaining), bool)
        done[np.searchsorted(remaining, taken)] = True
        if not done[0]:  # the template itself did not pass (its step or checksum): the proto path judges it
            slow.append(int(group[first]))
            done[0] = True
        remaining = remaining[~done]
    slow.extend(group[remaining].tolist())


# --- the file -------------------------------------------------------------------------------------------------------


def batches(reader, event_class):
    """`EventFileReader.batches` on the fast path: one `Batch` per chunk, problems and counts on `reader`."""
    state = _FileState()
    with open(reader.path, "rb") as handle:
        leftover, base = b"", 0  # unframed bytes carried over, and the file offset of their first byte
        while True:
            want = CHUNK_BYTES
            if len(leftover) >= 12:
                length = struct.unpack_from("<Q", leftover)[0]
                if length <= ev.MAX_RECORD_BYTES:
                    want = max(want, length + 16 - len(leftover))
            data = handle.read(want)
            at_end = len(data) < want
            buf = leftover + data + bytes(_PAD)
            end = len(buf) - _PAD
            starts, lengths, pos, why = frame(buf, 0, end, state.known)
            if len(lengths):
                yield _chunk(reader, event_class, state, buf, base,
                             np.frombuffer(starts, np.int64), np.frombuffer(lengths, np.int64))
            if why == "corrupt":
                reader.problems.append(ev.ReadProblem(reader.path, base + pos, "corrupt-length",
                                                      "a record's length does not match its checksum; the rest of "
                                                      "the file cannot be framed", state.sound))
                return
            leftover, base = buf[pos:end], base + pos
            if at_end:
                if leftover:
                    if len(leftover) < 12:
                        detail = f"the file ends {len(leftover)} bytes into a record header"
                    else:
                        detail = (f"the file ends inside a record of {struct.unpack_from('<Q', leftover)[0]} bytes "
                                  f"(the writer stopped mid-write: a crash or a kill)")
                    reader.problems.append(ev.ReadProblem(reader.path, base, "truncated", detail, state.sound))
                return


class _FileState:
    def __init__(self):
        self.known: dict = {}  # record length -> the masked CRC of its header
        self.plugins: dict = {}  # tag -> its plugin before the chunk at hand
        self.sound = 0  # records whose checksum held, before the chunk at hand
        self.unparsable = 0


def _chunk(reader, event_class, state: _FileState, buf: bytes, base: int, starts: np.ndarray,
           lengths: np.ndarray) -> "ev.Batch":
    from google.protobuf.message import DecodeError

    corrupt, slow = [], []
    result = ChunkResult()
    decode(buf, starts, lengths, event_class, corrupt, slow, result)
    slow.sort()
    fast_changes = {}
    for tag, changes in result.changes.items():
        keys = np.concatenate([k for k, _ in changes])
        names = np.concatenate([np.full(len(k), i, np.int32) for i, (k, _) in enumerate(changes)])
        order = np.argsort(keys, kind="stable")
        fast_changes[tag] = (keys[order], names[order], [p for _, p in changes])
    slow_state: dict = {}
    slow_changes: dict = {}

    def plugin_of(tag, key):
        best_key, best = -1, state.plugins.get(tag, "")
        mine = slow_state.get(tag)
        if mine is not None:
            best_key, best = mine
        theirs = fast_changes.get(tag)
        if theirs is not None:
            i = int(np.searchsorted(theirs[0], key)) - 1
            if i >= 0 and theirs[0][i] > best_key:
                best = theirs[2][theirs[1][i]]
        return best

    def set_plugin(tag, key, plugin):
        slow_state[tag] = (key, plugin)
        slow_changes.setdefault(tag, []).append((key, plugin))

    unparsable, rows, restarts, first_parsed, parsed = [], [], [], None, 0
    crc_of = ev.masked_crc32c
    for i in slow:
        start, length = int(starts[i]), int(lengths[i])
        payload = buf[start:start + length]
        if crc_of(payload) != struct.unpack_from("<I", buf, start + length)[0]:
            corrupt.append(i)
            continue
        try:
            event = event_class.FromString(payload)
        except DecodeError as error:
            unparsable.append((i, str(error)))
            continue
        parsed += 1
        if first_parsed is None:
            first_parsed = (i, event.wall_time)
        what = event.WhichOneof("what")
        if what == "summary":
            for slot, tag, kind, step, value in ev._facts(event, plugin_of, set_plugin, i * KEY_SLOTS):
                rows.append((i * KEY_SLOTS + slot, tag, kind, step, value))
        elif what == "session_log":
            if event.session_log.status == 1:
                restarts.append(ev.Restart(event.step, event.wall_time))
        elif what == "file_version":
            reader.file_version = event.file_version
    reader.records += result.fast_records + parsed
    reader.fast_records += result.fast_records
    if reader.first_wall_time is None:
        fast_first = min((int(k[0]) // KEY_SLOTS for _, k, *_ in result.parts if len(k)), default=None)
        if fast_first is not None and (first_parsed is None or fast_first < first_parsed[0]):
            start, length = int(starts[fast_first]), int(lengths[fast_first])
            reader.first_wall_time = event_class.FromString(buf[start:start + length]).wall_time
        elif first_parsed is not None:
            reader.first_wall_time = first_parsed[1]
    columns = _columns(result, rows, fast_changes, slow_changes, state)
    _problems(reader, state, base, starts, lengths, corrupt, unparsable, len(lengths))
    return ev.Batch(columns, restarts)


def _columns(result: ChunkResult, rows: list, fast_changes: dict, slow_changes: dict, state: _FileState) -> dict:
    parts: dict = {}
    for tag, keys, steps, values, plugin, is_tensor in result.parts:
        if is_tensor:
            if plugin is None:
                keep = _resolve(tag, keys, fast_changes, slow_changes, state)
                keys, steps, values = keys[keep], steps[keep], values[keep]
            elif plugin not in ev._SCALAR_PLUGINS:
                continue
        if len(keys):
            parts.setdefault((tag, "scalar"), []).append((keys, steps, values))
    if rows:
        by_column: dict = {}
        for key, tag, kind, step, value in rows:
            by_column.setdefault((tag, kind), []).append((key, step, value))
        for column, items in by_column.items():
            keys = np.fromiter((k for k, _, _ in items), np.int64, len(items))
            steps = np.fromiter((s for _, s, _ in items), np.int64, len(items))
            values = np.fromiter((v for _, _, v in items), np.float64, len(items))
            parts.setdefault(column, []).append((keys, steps, values))
    merged = []
    for column, pieces in parts.items():
        keys = np.concatenate([p[0] for p in pieces])
        order = np.argsort(keys, kind="stable")
        steps = np.concatenate([p[1] for p in pieces])[order]
        values = np.concatenate([p[2] for p in pieces])[order]
        merged.append((int(keys[order[0]]), column, steps, values))
    merged.sort(key=lambda item: item[0])
    columns = {}
    for _, column, steps, values in merged:
        step_array, value_array = array("q"), array("d")
        step_array.frombytes(steps.astype(np.int64).tobytes())
        value_array.frombytes(values.astype(np.float64).tobytes())
        columns[column] = (step_array, value_array)
    for tag in set(fast_changes) | set(slow_changes):
        last_key, last = -1, None
        if tag in fast_changes:
            keys, names, plugins = fast_changes[tag]
            last_key, last = int(keys[-1]), plugins[names[-1]]
        for key, plugin in slow_changes.get(tag, ()):
            if key > last_key:
                last_key, last = key, plugin
        state.plugins[tag] = last
    return columns


def _resolve(tag: str, keys: np.ndarray, fast_changes: dict, slow_changes: dict, state: _FileState) -> np.ndarray:
    """Which of these tensor values (without metadata of their own) are scalars: those whose tag's plugin,
    as set by the last metadata before each, is the scalars plugin (or none)."""
    change_keys, change_plugins = [], []
    if tag in fast_changes:
        k, names, plugins = fast_changes[tag]
        change_keys.append(k)
        change_plugins.append(np.array([p in ev._SCALAR_PLUGINS for p in plugins])[names])
    if tag in slow_changes:
        change_keys.append(np.array([k for k, _ in slow_changes[tag]], np.int64))
        change_plugins.append(np.array([p in ev._SCALAR_PLUGINS for _, p in slow_changes[tag]], bool))
    initial = state.plugins.get(tag, "") in ev._SCALAR_PLUGINS
    if not change_keys:
        return np.full(len(keys), initial)
    all_keys = np.concatenate(change_keys)
    scalar = np.concatenate(change_plugins)
    order = np.argsort(all_keys, kind="stable")
    all_keys, scalar = all_keys[order], scalar[order]
    at = np.searchsorted(all_keys, keys) - 1
    return np.where(at >= 0, scalar[np.maximum(at, 0)], initial)


def _problems(reader, state: _FileState, base: int, starts, lengths, corrupt: list, unparsable: list,
              records: int) -> None:
    bad = sorted([(i, "corrupt-data", "") for i in corrupt] + [(i, "unparsable", e) for i, e in unparsable])
    corrupt_before = unparsable_before = 0
    for i, kind, error in bad:
        sound_before = state.sound + i - corrupt_before
        if kind == "corrupt-data":
            reader.problems.append(ev.ReadProblem(
                reader.path, base + int(starts[i]) - 12, kind,
                f"a record of {int(lengths[i])} bytes does not match its checksum; skipped", sound_before))
            corrupt_before += 1
        else:
            reader.problems.append(ev.ReadProblem(
                reader.path, -1, kind, f"a record is not an Event ({error}); skipped",
                sound_before - state.unparsable - unparsable_before))
            unparsable_before += 1
    state.sound += records - len(corrupt)
    state.unparsable += len(unparsable)
