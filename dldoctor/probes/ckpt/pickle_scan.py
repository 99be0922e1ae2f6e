"""Which globals would a pickle import? Answered from its opcodes, never by unpickling.

A pickle can run code only by importing a callable (GLOBAL, STACK_GLOBAL, INST, or an
EXT1/2/4 code from the copyreg extension registry) and calling it (REDUCE, NEWOBJ,
NEWOBJ_EX, OBJ, INST, BUILD's __setstate__). So a pickle is safe under torch's
`weights_only=True` rules when every global it imports is on torch's allow-list
(torch_allowlist.py) or one the user allowed, and nothing else is imported.

The scan walks `pickletools.genops` and emulates the pickle machine's stack and memo
symbolically (strings are tracked as values; everything else is an opaque object),
so STACK_GLOBAL operands that come through MEMOIZE/PUT/GET, DUP, or sit behind MARKs
and persistent ids are resolved the way pickle resolves them. A STACK_GLOBAL whose
operands are not literal strings, and any EXT code, cannot be resolved statically:
they are reported as such, never assumed safe. Protocol 0-2 module names are mapped
the way pickle maps them (`__builtin__` -> `builtins`, `copy_reg` -> `copyreg`).

Several pickles may follow each other (legacy torch files, joblib); the scan goes on
pickle after pickle, and where the opcode stream breaks (raw tensor bytes, or a
corrupt tail that a loader would still execute up to), the rest of the bytes is
searched for GLOBAL and STACK_GLOBAL byte patterns as well.
"""

from __future__ import annotations

import _compat_pickle
import io
import pickletools
import re
from dataclasses import dataclass, field

from dldoctor.probes.ckpt.torch_allowlist import BLOCKED_MODULES, WEIGHTS_ONLY_GLOBALS

UNRESOLVED = "<STACK_GLOBAL of a non-literal name>"
MAX_PICKLES = 64

_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}
_PUT = {"PUT", "BINPUT", "LONG_BINPUT"}
_GET = {"GET", "BINGET", "LONG_BINGET"}
_EXT = {"EXT1", "EXT2", "EXT4"}
_MARK = object()


class _Opaque:
    """Any value the scan does not track (numbers, containers, call results)."""


_OBJ = _Opaque()


@dataclass(frozen=True)
class _Global:
    name: str


@dataclass
class PickleScan:
    """What one byte string's pickle stream(s) would import."""

    globals: list = field(default_factory=list)  # every `module.name` imported, in order, unique
    opcodes: int = 0
    pickles: int = 0  # complete pickles (each ended by STOP)
    protocol: int = 0  # of the first pickle
    complete: bool = False  # the stream ended cleanly at a STOP at the end of the data
    error: str = ""  # why the opcode walk stopped early, if it did

    def add(self, name: str) -> None:
        if name not in self.globals:
            self.globals.append(name)


def _map_name(module: str, name: str, proto: int) -> str:
    """The global pickle's find_class really imports (Python 2 names mapped for protocols < 3)."""
    if proto < 3:
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
    return f"{module}.{name}"


def _pop_mark(stack: list) -> list:
    for index in range(len(stack) - 1, -1, -1):
        if stack[index] is _MARK:
            items = stack[index + 1:]
            del stack[index:]
            return items
    items = stack[:]
    stack.clear()
    return items


def _pop(stack: list):
    return stack.pop() if stack else _OBJ


def _scan_one(stream: io.BytesIO, result: PickleScan) -> bool:
    """Walk one pickle from the stream's position; True when it ended at STOP."""
    stack: list = []
    memo: dict = {}
    proto = 0
    for opcode, arg, _pos in pickletools.genops(stream):
        result.opcodes += 1
        name = opcode.name
        if name == "PROTO":
            proto = int(arg)
            if result.pickles == 0:
                result.protocol = proto
        elif name in _STRING_OPS:
            stack.append(arg.decode("latin-1") if isinstance(arg, bytes) else str(arg))
        elif name in _GET:
            stack.append(memo.get(arg, _OBJ))
        elif name in _PUT:
            memo[arg] = stack[-1] if stack else _OBJ
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1] if stack else _OBJ
        elif name == "GLOBAL":
            module, _, attr = str(arg).partition(" ")
            full = _map_name(module, attr, proto)
            result.add(full)
            stack.append(_Global(full))
        elif name == "INST":
            module, _, attr = str(arg).partition(" ")
            result.add(_map_name(module, attr, proto))
            _pop_mark(stack)
            stack.append(_OBJ)
        elif name == "STACK_GLOBAL":
            attr, module = _pop(stack), _pop(stack)
            if isinstance(module, str) and isinstance(attr, str):
                full = _map_name(module, attr, proto)
                result.add(full)
                stack.append(_Global(full))
            else:
                result.add(UNRESOLVED)
                stack.append(_OBJ)
        elif name in _EXT:
            result.add(f"<copyreg extension code {arg}>")
            stack.append(_OBJ)
        elif name == "MARK":
            stack.append(_MARK)
        elif name == "DUP":
            stack.append(stack[-1] if stack else _OBJ)
        elif name == "POP":
            _pop(stack)
        elif name == "POP_MARK":
            _pop_mark(stack)
        elif name == "STOP":
            result.pickles += 1
            return True
        else:  # generic stack effect from pickletools' opcode table
            before = opcode.stack_before
            if pickletools.markobject in before:
                _pop_mark(stack)
                before = before[: before.index(pickletools.markobject)]
            for _ in before:
                _pop(stack)
            for item in opcode.stack_after:
                stack.append(_MARK if item is pickletools.markobject else _OBJ)
    return False


# `c<module>\n<name>\n` (GLOBAL) or `i...` (INST), and two short strings then STACK_GLOBAL.
_IDENT = rb"[A-Za-z_][A-Za-z0-9_.]{0,200}"
_TEXT_GLOBAL = re.compile(rb"[ci](" + _IDENT + rb")\n(" + _IDENT + rb")\n")
_STACK_GLOBAL = re.compile(
    rb"(?:\x8c([\x01-\xff])|X([\x01-\xff])\x00\x00\x00)(" + _IDENT + rb")(?:\x94|q.|r....)?"
    rb"(?:\x8c([\x01-\xff])|X([\x01-\xff])\x00\x00\x00)(" + _IDENT + rb")(?:\x94|q.|r....)?\x93",
    re.S,
)


def tail_globals(data: bytes) -> list[str]:
    """GLOBAL / STACK_GLOBAL byte patterns in bytes the opcode walk could not parse."""
    found: list[str] = []
    for match in _TEXT_GLOBAL.finditer(data):
        found.append(_map_name(match.group(1).decode("latin-1"), match.group(2).decode("latin-1"), 0))
    for match in _STACK_GLOBAL.finditer(data):
        first = (match.group(1) or match.group(2))[0]
        second = (match.group(4) or match.group(5))[0]
        module, attr = match.group(3), match.group(6)
        if len(module) == first and len(attr) == second:
            found.append(f"{module.decode('latin-1')}.{attr.decode('latin-1')}")
    return found


def scan(data: bytes, max_pickles: int = MAX_PICKLES) -> PickleScan:
    """The globals the pickle stream(s) at the start of `data` import. Nothing is imported or called."""
    result = PickleScan()
    stream = io.BytesIO(data)
    while result.pickles < max_pickles and stream.tell() < len(data):
        start = stream.tell()
        try:
            ended = _scan_one(stream, result)
        except Exception as problem:  # a broken opcode: not (or no longer) a pickle
            result.error = f"{type(problem).__name__} at byte {stream.tell()}: {problem}"[:200]
            if result.opcodes:
                for name in tail_globals(data[start:]):
                    result.add(name)
            return result
        if not ended:
            result.error = "the pickle has no STOP opcode (truncated)"
            return result
    result.complete = stream.tell() >= len(data)
    if not result.complete:
        for name in tail_globals(data[stream.tell():]):
            result.add(name)
    return result


_FIRST_OPS = set(b"(}]).NIJKLFGSUTVXBCIJ\x80\x8c\x95\x94\x93\x88\x89cidelptR")


def looks_like_pickle(data: bytes) -> bool:
    """Whether `data` starts with a pickle, any protocol 0-5: decided by parsing its opcodes."""
    if len(data) < 2:
        return False
    if data[0] == 0x80:
        return data[1] <= 5 and _parses(data)
    if data[0] not in _FIRST_OPS:
        return False
    return _parses(data)


def _parses(data: bytes) -> bool:
    """A pickle if its first stream reaches STOP, or gets to a global before breaking."""
    probe = PickleScan()
    buffer = data[: 16 * 1024 * 1024]
    stream = io.BytesIO(buffer)
    try:
        ended = _scan_one(stream, probe)
    except Exception:  # broken, or only the sniffed head of a longer pickle (every opcode so far valid)
        ran_out = stream.tell() >= len(buffer) - 16 and len(buffer) >= 1024
        return (bool(probe.globals) or ran_out) and probe.opcodes >= 2
    if ended:
        return probe.opcodes >= 2 or data[:1] == b"N"
    return bool(probe.globals)


def allowed(name: str, extra: frozenset | set = frozenset()) -> bool:
    """Whether torch's weights-only unpickler (plus the user's --allow-global list) accepts a global."""
    module = name.split(".", 1)[0]
    if module in BLOCKED_MODULES:
        return False
    return name in WEIGHTS_ONLY_GLOBALS or name in extra
