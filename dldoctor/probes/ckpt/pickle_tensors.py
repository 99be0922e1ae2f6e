"""The tensors a PyTorch pickle holds, read from its opcodes: nothing is unpickled, imported or called.

A `torch.save` file is a pickle whose tensors are calls such as
`torch._utils._rebuild_tensor_v2(<storage>, offset, size, stride, ...)`, the storage
a persistent id `('storage', torch.FloatStorage, key, location, numel)`. This module
runs the pickle machine symbolically over `pickletools.genops`: every global is a
name, every call an inert record of (callable name, arguments), dicts, lists and tuples
are built as they would be. From that tree it lists the tensors (name, shape, dtype)
the way `state_dict()` names them: nested dicts by their keys, and a whole pickled
`nn.Module` (`torch.save(model)`) through its `_parameters`, `_buffers` and `_modules`.

It needs no torch and runs no code from the file, so it answers two questions the
weights-only loader cannot: what a file that `weights_only=True` refuses holds, and
what a file holds on a machine without torch.
"""

from __future__ import annotations

import io
import pickletools
import zipfile
from dataclasses import dataclass, field
from typing import Optional

from dldoctor.probes.ckpt.facts import Entry
from dldoctor.probes.ckpt.pickle_scan import _MARK, _pop_mark  # the scanner's own stack machinery

MAX_OPCODES = 20_000_000
MAX_NODES = 1_000_000  # containers walked when naming the tensors

_STORAGE_DTYPES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16", "BFloat16Storage": "bfloat16",
    "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128",
}
_REBUILD_TENSOR = {"torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3"}
_REBUILD_PARAMETER = {"torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state"}
_DICT_CLASSES = {"collections.OrderedDict", "builtins.dict"}


@dataclass(frozen=True)
class Global:
    name: str


@dataclass(eq=False)
class Call:
    """The result of calling (or instantiating) a global: never run, only recorded."""

    func: object
    args: tuple = ()
    state: object = None
    items: dict = field(default_factory=dict)  # SETITEMS on an object that is not a dict
    listed: list = field(default_factory=list)  # APPENDS on an object that is not a list

    @property
    def name(self) -> str:
        return self.func.name if isinstance(self.func, Global) else ""


@dataclass(frozen=True)
class Tensor:
    shape: tuple
    dtype: str


class _Opaque:
    pass


_OBJ = _Opaque()


class _Key:
    """A dict key that is not hashable as built (a Call, a list): kept by identity."""

    def __init__(self, value):
        self.value = value


def _key(value):
    try:
        hash(value)
        return value
    except TypeError:
        return _Key(value)


def _tensor(call: Call) -> Optional[Tensor]:
    if call.name in _REBUILD_PARAMETER and call.args:
        inner = call.args[0]
        return _tensor(inner) if isinstance(inner, Call) else inner if isinstance(inner, Tensor) else None
    if call.name in _REBUILD_TENSOR and len(call.args) >= 3:
        storage, size = call.args[0], call.args[2]
        dtype = "unknown"
        if isinstance(storage, tuple) and len(storage) >= 2 and isinstance(storage[1], Global):
            dtype = _STORAGE_DTYPES.get(storage[1].name.rsplit(".", 1)[-1], "unknown")
        elif isinstance(storage, Call) and storage.name == "torch.storage.TypedStorage":
            dtype = "unknown"
        if isinstance(size, tuple) and all(isinstance(d, int) for d in size):
            return Tensor(tuple(size), dtype)
    return None


def evaluate(data: bytes):
    """The object the first pickle in `data` builds, with calls recorded, not made."""
    stack: list = []
    memo: dict = {}
    count = 0
    for opcode, arg, _pos in pickletools.genops(io.BytesIO(data)):
        count += 1
        if count > MAX_OPCODES:
            raise ValueError(f"more than {MAX_OPCODES:,} opcodes")
        name = opcode.name
        if name in ("PROTO", "FRAME"):
            continue
        if name == "STOP":
            return stack.pop() if stack else None
        if name == "MARK":
            stack.append(_MARK)
        elif name in ("GLOBAL", "INST"):
            module, _, attr = str(arg).partition(" ")
            if name == "GLOBAL":
                stack.append(Global(f"{module}.{attr}"))
            else:
                args = _pop_mark(stack)
                stack.append(Call(Global(f"{module}.{attr}"), tuple(args)))
        elif name == "STACK_GLOBAL":
            attr, module = stack.pop(), stack.pop()
            stack.append(Global(f"{module}.{attr}") if isinstance(module, str) and isinstance(attr, str) else _OBJ)
        elif name in ("REDUCE", "NEWOBJ"):
            args, func = stack.pop(), stack.pop()
            stack.append(_call(func, args))
        elif name == "NEWOBJ_EX":
            _kwargs, args, func = stack.pop(), stack.pop(), stack.pop()
            stack.append(_call(func, args))
        elif name == "OBJ":
            items = _pop_mark(stack)
            stack.append(_call(items[0], tuple(items[1:])) if items else _OBJ)
        elif name == "BUILD":
            state = stack.pop()
            target = stack[-1]
            if isinstance(target, Call):
                target.state = state
        elif name in ("BINPERSID", "PERSID"):
            stack.append(stack.pop() if name == "BINPERSID" else arg)
        elif name in ("EMPTY_DICT",):
            stack.append({})
        elif name == "DICT":
            items = _pop_mark(stack)
            stack.append({_key(items[i]): items[i + 1] for i in range(0, len(items) - 1, 2)})
        elif name in ("EMPTY_LIST",):
            stack.append([])
        elif name == "LIST":
            stack.append(_pop_mark(stack))
        elif name == "EMPTY_TUPLE":
            stack.append(())
        elif name == "TUPLE":
            stack.append(tuple(_pop_mark(stack)))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            size = int(name[-1])
            items = stack[-size:]
            del stack[-size:]
            stack.append(tuple(items))
        elif name in ("EMPTY_SET", "FROZENSET"):
            stack.append(_pop_mark(stack) if name == "FROZENSET" else [])
        elif name == "ADDITEMS":
            items = _pop_mark(stack)
            if isinstance(stack[-1], list):
                stack[-1].extend(items)
        elif name == "SETITEM":
            value, key = stack.pop(), stack.pop()
            _setitem(stack[-1], key, value)
        elif name == "SETITEMS":
            items = _pop_mark(stack)
            for i in range(0, len(items) - 1, 2):
                _setitem(stack[-1], items[i], items[i + 1])
        elif name == "APPEND":
            value = stack.pop()
            _append(stack[-1], [value])
        elif name == "APPENDS":
            _append(stack[-1], _pop_mark(stack))
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = stack[-1]
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo.get(arg, _OBJ))
        elif name == "DUP":
            stack.append(stack[-1])
        elif name == "POP":
            stack.pop()
        elif name == "POP_MARK":
            _pop_mark(stack)
        elif name in ("NONE",):
            stack.append(None)
        elif name in ("NEWTRUE", "NEWFALSE"):
            stack.append(name == "NEWTRUE")
        elif name in ("EXT1", "EXT2", "EXT4"):
            stack.append(_OBJ)
        elif name == "READONLY_BUFFER":
            continue
        else:  # numbers, strings, bytes (pickletools decodes them): the argument is the value
            stack.append(arg)
    raise ValueError("the pickle has no STOP opcode (truncated)")


def _call(func, args):
    args = args if isinstance(args, tuple) else (args,)
    if isinstance(func, Global):
        if func.name in _DICT_CLASSES and not args:
            return {}
        call = Call(func, args)
        tensor = _tensor(call)
        return tensor if tensor is not None else call
    return Call(func, args)


def _setitem(target, key, value) -> None:
    if isinstance(target, dict):
        target[_key(key)] = value
    elif isinstance(target, Call):
        target.items[_key(key)] = value


def _append(target, values) -> None:
    if isinstance(target, list):
        target.extend(values)
    elif isinstance(target, Call):
        target.listed.extend(values)


# -- naming the tensors ------------------------------------------------------------------------


def _is_module(value) -> bool:
    return isinstance(value, Call) and isinstance(value.state, dict) and "_parameters" in value.state and "_modules" in value.state


def _non_persistent(state: dict) -> set:
    found = state.get("_non_persistent_buffers_set")
    if isinstance(found, Call) and found.args and isinstance(found.args[0], list):
        found = found.args[0]
    return {x for x in found if isinstance(x, str)} if isinstance(found, list) else set()


def tensors(value, prefix: str = "", out: Optional[dict] = None, depth: int = 0, seen: Optional[set] = None) -> dict:
    """name -> Tensor for every tensor under `value`, named as state_dict() names them.

    Each container is walked once (a pickle can make a structure that holds itself, or
    the same list twice at every level), so the walk is linear in the pickle's size."""
    out = {} if out is None else out
    seen = set() if seen is None else seen
    if depth > 100 or len(seen) > MAX_NODES:
        return out
    if isinstance(value, Tensor):
        out[prefix.rstrip(".") or "<tensor>"] = value
        return out
    if not isinstance(value, (dict, Call)) or id(value) in seen:
        return out
    seen.add(id(value))
    if _is_module(value):
        state = value.state
        skip = _non_persistent(state)
        for group in ("_parameters", "_buffers"):
            for key, item in (state.get(group) or {}).items():
                if isinstance(key, str) and isinstance(item, Tensor) and not (group == "_buffers" and key in skip):
                    out[f"{prefix}{key}"] = item
        for key, child in (state.get("_modules") or {}).items():
            if isinstance(key, str) and child is not None:
                tensors(child, f"{prefix}{key}.", out, depth + 1, seen)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, (str, int)):
                tensors(item, f"{prefix}{key}.", out, depth + 1, seen)
    else:
        if value.items:
            tensors(value.items, prefix, out, depth + 1, seen)
        if isinstance(value.state, dict):
            tensors(value.state, prefix, out, depth + 1, seen)
    return out


def main_pickle(path: str, kind: str) -> bytes:
    """The pickle that holds the object tree: data.pkl of a zip, the third pickle of a legacy file."""
    if kind == "torch":
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
            with archive.open(name) as handle:
                return handle.read(256 * 1024 * 1024 + 1)
    with open(path, "rb") as handle:
        data = handle.read(512 * 1024 * 1024)
    stream = io.BytesIO(data)
    for _ in range(3):  # magic number, protocol version, sys info
        for opcode, _arg, _pos in pickletools.genops(stream):
            if opcode.name == "STOP":
                break
    return data[stream.tell():]


def read(path: str, kind: str) -> dict:
    """{name: Entry} of a torch zip or legacy file, without unpickling it."""
    tree = evaluate(main_pickle(path, kind))
    return {name: Entry(name, t.shape, t.dtype) for name, t in tensors(tree).items()}
