"""Is a checkpoint safe to load? Answered without ever running the file's code.

A PyTorch file is a pickle: loading it with full unpickling (`weights_only=False`)
calls whatever callables the file names, so a checkpoint from the internet can run
`os.system`. dldoctor reads PyTorch files only with `torch.load(weights_only=True)`,
whose unpickler refuses any global outside an allow-list; when it refuses, the globals
the file wants are listed from the pickle's opcodes (torch's
`get_unsafe_globals_in_checkpoint` for zip checkpoints, a `pickletools` scan for legacy
ones) and reported, not executed. TensorFlow, Keras weights and safetensors files
hold no code.
"""

from __future__ import annotations

import io
import pickletools
import zipfile

_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}
_MEMO_PUT = {"PUT", "BINPUT", "LONG_BINPUT"}
_MEMO_GET = {"GET", "BINGET", "LONG_BINGET"}


def pickle_globals(data: bytes, max_pickles: int = 4) -> list[str]:
    """Every `module.name` global the pickle stream(s) in `data` would import, in order.

    Reads opcodes only (`pickletools.genops`); nothing is imported or called. Legacy
    torch files are several pickles back to back, then raw storage bytes: up to
    `max_pickles` are scanned and scanning stops quietly at the first non-pickle byte.
    """
    found: list[str] = []
    stream = io.BytesIO(data)
    for _ in range(max_pickles):
        if stream.tell() >= len(data):
            break
        memo: dict = {}
        strings: list = []  # values the stack-global opcodes may pop, most recent last
        last = None
        try:
            for opcode, arg, _pos in pickletools.genops(stream):
                name = opcode.name
                if name in ("GLOBAL", "INST"):
                    module, _, attr = str(arg).partition(" ")
                    found.append(f"{module}.{attr}")
                    last = None
                elif name == "STACK_GLOBAL":
                    if len(strings) >= 2:
                        found.append(f"{strings[-2]}.{strings[-1]}")
                    else:
                        found.append("<unknown>.<unknown>")
                    last = None
                elif name in _STRING_OPS:
                    last = arg.decode("latin-1") if isinstance(arg, bytes) else str(arg)
                    strings.append(last)
                elif name in _MEMO_PUT:
                    memo[arg] = last
                elif name == "MEMOIZE":
                    memo[len(memo)] = last
                elif name in _MEMO_GET:
                    last = memo.get(arg)
                    if isinstance(last, str):
                        strings.append(last)
                else:
                    last = None
                if name == "STOP":
                    break
        except Exception:  # not (or no longer) a pickle: the rest is raw storage bytes
            break
    unique: list[str] = []
    for item in found:
        if item not in unique:
            unique.append(item)
    return unique


def _allowed_globals() -> set[str]:
    """The globals torch's weights-only unpickler accepts (its allow-list plus user-added safe globals)."""
    allowed: set[str] = set()
    try:
        from torch import _weights_only_unpickler

        allowed |= set(_weights_only_unpickler._get_allowed_globals())
        allowed |= set(_weights_only_unpickler._get_user_allowed_globals())
    except Exception:  # a torch without these helpers: every global is listed
        pass
    return allowed


def torch_unsafe_globals(path: str) -> list[str]:
    """Globals a PyTorch file needs that `weights_only=True` refuses; [] when it needs none."""
    if zipfile.is_zipfile(path):
        import torch

        try:
            return list(torch.serialization.get_unsafe_globals_in_checkpoint(path))
        except Exception:
            with zipfile.ZipFile(path) as archive:
                pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
                data = archive.read(pickles[0]) if pickles else b""
    else:
        with open(path, "rb") as handle:
            data = handle.read(64 * 1024 * 1024)
    allowed = _allowed_globals()
    return [name for name in pickle_globals(data) if name not in allowed]


def describe_globals(names: list[str]) -> str:
    """Why these globals matter, in a clause."""
    dangerous = [n for n in names if n.split(".")[0] in {"os", "posix", "nt", "subprocess", "builtins", "sys", "shutil", "socket", "runpy", "importlib", "pty", "webbrowser"}]
    if dangerous:
        return f"it calls {', '.join(dangerous)} when unpickled: a code-execution payload"
    if any(n[:1].isupper() or n.rsplit(".", 1)[-1][:1].isupper() for n in names):
        return "it pickles whole Python objects (classes above), so loading it runs their code"
    return "full unpickling would import and call them"
