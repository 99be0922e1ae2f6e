"""Is a checkpoint safe to load? Answered without ever running the file's code, and without torch.

A PyTorch file is a pickle: loading it with full unpickling (`weights_only=False`)
calls whatever callables the file names, so a checkpoint from the internet can run
`os.system`. The scan here reads opcodes only (pickle_scan.py) in the file and in
everything inside it (containers.py: zip, npz, tar, compressed streams, .npy object
arrays, Keras configs), and accepts exactly the globals torch's `weights_only=True`
unpickler accepts (torch_allowlist.py, stored as data), plus those the user allows with
`--allow-global module.name` (torch's `add_safe_globals`). Everything else is reported
by name; nothing is unpickled, imported or called, and torch is not imported. Keras
Lambda layers (marshalled bytecode in the model config) are reported the same way.
TensorFlow checkpoints and safetensors files hold no code.
"""

from __future__ import annotations

from pathlib import Path

from dldoctor.probes.ckpt import containers, pickle_scan
from dldoctor.probes.ckpt.torch_allowlist import BLOCKED_MODULES

_user_allowed: set[str] = set()

DANGEROUS_MODULES = {
    "os", "posix", "nt", "subprocess", "builtins", "__builtin__", "sys", "shutil", "socket", "runpy", "importlib", "pty",
    "webbrowser", "pip", "timeit", "pydoc", "code", "codeop", "_operator", "operator", "functools", "io", "_io", "logging",
    "ctypes", "marshal", "pickle", "_pickle", "shelve", "dill", "cloudpickle", "asyncio", "multiprocessing", "commands",
    "popen2", "platform", "bdb", "pdb", "trace", "cProfile", "profile", "types", "tempfile", "glob", "ftplib", "httplib",
    "http", "urllib", "requests", "aiohttp", "telnetlib", "smtplib", "venv", "ensurepip", "distutils", "setuptools",
    "numpy.f2py", "torch.serialization", "torch.hub", "torch.jit", "torch._dynamo", "torch.utils.cpp_extension",
    "copyreg", "copy_reg", "_pydevd_bundle", "imp", "zipimport", "site", "inspect",
}


def allow_globals(names) -> None:
    """The user's own safe globals (`--allow-global module.name`), like torch's add_safe_globals."""
    for name in names:
        if name.split(".", 1)[0] in BLOCKED_MODULES:
            raise ValueError(f"--allow-global {name}: torch never allows globals from {', '.join(sorted(BLOCKED_MODULES))}, even when allow-listed")
        if "." not in name.strip("."):
            raise ValueError(f"--allow-global {name}: expected module.name (e.g. numpy.core.multiarray._reconstruct)")
        _user_allowed.add(name)


def clear_allowed() -> None:
    """Forget the --allow-global globals (one process running several commands, as tests do)."""
    _user_allowed.clear()


def user_allowed() -> frozenset:
    """The globals allowed with --allow-global in this run."""
    return frozenset(_user_allowed)


def is_allowed(name: str) -> bool:
    return pickle_scan.allowed(name, _user_allowed)


def pickle_globals(data: bytes, max_pickles: int = pickle_scan.MAX_PICKLES) -> list[str]:
    """Every `module.name` global the pickle stream(s) in `data` would import, in order (opcodes only)."""
    return list(pickle_scan.scan(data, max_pickles).globals)


def scan(path: str | Path) -> containers.ScanReport:
    """The whole scan of a file: every part of it, every global, every Lambda layer."""
    return containers.scan_path(Path(path))


def unsafe_names(report: containers.ScanReport) -> tuple[list[str], list[str]]:
    """(names of what loading would import or run, places they were found) outside the allow-lists."""
    names: list[str] = []
    places: list[str] = []
    for hit in report.unsafe(_user_allowed):
        if hit.name not in names:
            names.append(hit.name)
        if hit.where and not hit.where.endswith("data.pkl") and hit.where not in places:
            places.append(hit.where)
    for problem in report.problems:
        label = f"<not scannable: {problem}>"
        if label not in names:
            names.append(label)
    return names, places


def torch_unsafe_globals(path: str) -> list[str]:
    """Globals a PyTorch file needs that `weights_only=True` refuses; [] when it needs none. No torch import."""
    return [n for n in unsafe_names(scan(path))[0] if not n.startswith("<not scannable")]


def describe_globals(names: list[str], places: list[str] | None = None) -> str:
    """Why these globals matter, in a clause."""
    inside = f" (found in {', '.join(places[:4])})" if places else ""
    if any(n.startswith("Keras Lambda layer") for n in names):
        return (
            "its model config holds Lambda layers whose Python bytecode runs when the model is loaded: "
            "keras.models.load_model(..., safe_mode=False) runs it, and so do Keras 2 / tf.keras legacy loaders "
            "(which have no safe_mode) for .h5 files; the weights alone are safe (model.load_weights)" + inside
        )
    dangerous = [n for n in names if _dangerous(n)]
    if dangerous:
        return f"it calls {', '.join(dangerous)} when unpickled: a code-execution payload" + inside
    if any(n.startswith("<not scannable") for n in names):
        return "dldoctor could not scan all of it, so it cannot vouch for it" + inside
    if any(n.startswith("<") for n in names):
        return "its pickle imports globals that cannot be resolved without running it (a scanner-evasion trick)" + inside
    if any(n[:1].isupper() or n.rsplit(".", 1)[-1][:1].isupper() for n in names):
        return "it pickles whole Python objects (classes above), so loading it runs their code" + inside
    return "full unpickling would import and call them" + inside


def is_dangerous(name: str) -> bool:
    """Whether a global runs commands or code (os.system, builtins.eval, subprocess, pickle.loads, ...)."""
    parts = name.split(".")
    return any(".".join(parts[:i]) in DANGEROUS_MODULES for i in range(1, len(parts)))


_dangerous = is_dangerous
