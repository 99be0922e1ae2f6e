"""The entry point of the user's script process: install the import hooks, run the script.

Started by dldoctor as `python -c LAUNCH PROBE_DIR CONFIG SCRIPT ARGS...`, where
PROBE_DIR holds a copy of the `inject_*` modules as the package
`_dldoctor_graph_probe` (so an interpreter without dldoctor can run them). The
script then runs as `python SCRIPT ARGS...` would: `sys.argv`, `sys.path[0]` and
`__main__` are the script's. Frameworks are patched when the script imports
them, by a meta-path finder that wraps the loader of three modules; a script
that imports no framework runs untouched.

The script's outcome (finished, exit status, exception with its traceback, or
stopped by us) is recorded apart from the observations.
"""

from __future__ import annotations

import importlib.abc
import json
import os
import runpy
import sys
import traceback

from . import inject_state as state


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader, callback):
        self._loader = loader
        self._callback = callback

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._callback(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self, recorder: state.Recorder):
        self.recorder = recorder
        self.targets = {
            "tensorflow.python.client.session": ("inject_tf1", "TF1 Session.run"),
            "tensorflow.python.eager.polymorphic_function.polymorphic_function": ("inject_tf2", "tf.function"),
            "torch.autograd": ("inject_torch", "torch.autograd.backward"),
        }

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.targets:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        module_name, label = self.targets.pop(fullname)
        recorder = self.recorder

        def callback(module):
            try:
                patcher = sys.modules[f"{__package__}.{module_name}"].patch
                patcher(module, recorder)
                recorder.facts.setdefault("instrumented", []).append(label)
            except Exception as problem:
                recorder.error(f"patching {label}", problem)

        spec.loader = _PatchingLoader(spec.loader, callback)
        return spec


def _ours(filename: str) -> bool:
    return filename.startswith(state.HERE) or os.path.basename(filename) == "runpy.py" or filename.startswith("<frozen runpy")


TRACEBACK_LIMIT = 1000  # frames, innermost kept: what the interpreter itself prints at most


def script_traceback(error: BaseException) -> str:
    """The exception's traceback without our frames (bootstrap, runpy, our wrappers).

    Linear in the depth of the stack, and bounded: only the innermost TRACEBACK_LIMIT
    frames are formatted (a RecursionError of a script that raised the recursion limit
    has hundreds of thousands). The frames are filtered in a StackSummary, never by
    relinking `tb_next` (each assignment walks the rest of the chain: quadratic)."""
    summary = traceback.TracebackException(type(error), error, error.__traceback__, limit=-TRACEBACK_LIMIT,
                                           lookup_lines=False)
    kept = [frame for frame in summary.stack if not _ours(frame.filename)]
    summary.stack = traceback.StackSummary.from_list(kept)
    for frame in summary.stack:
        frame.line  # noqa: B018  (reads the source line now, for the kept frames only)
    return "".join(summary.format())


def _where(error: BaseException, script: str) -> dict | None:
    """The innermost frame of the exception in the user's code."""
    found = None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if state.is_user_file(frame.f_code.co_filename) and not _ours(frame.f_code.co_filename):
            found = {"file": frame.f_code.co_filename, "line": lineno, "function": frame.f_code.co_name}
    return found


def main() -> None:
    probe_dir, config_path, script, *args = sys.argv[1:]
    with open(config_path, encoding="utf-8") as stream:
        config = json.load(stream)
    from . import inject_tf1, inject_tf2, inject_torch  # noqa: F401  (loaded now: the hooks need them later)

    recorder = state.Recorder(config["results"], int(config["steps"]), int(config["warmup"]))
    state.RECORDER = recorder
    recorder.facts["script"] = script
    recorder.facts["argv"] = args
    sys.path[:] = [p for p in sys.path if p not in ("", probe_dir)]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    sys.argv = [script, *args]
    sys.meta_path.insert(0, _Finder(recorder))
    if config.get("line_buffered"):  # copied to the user's terminal as it is written: line by line, as on a terminal
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.reconfigure(line_buffering=True)
            except (AttributeError, ValueError):
                pass
    outcome: dict = {"status": "finished", "exit_code": 0}
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except state.GraphProbeStop:
        outcome = {"status": "stopped", "exit_code": 0}
    except SystemExit as error:
        status = error.code
        if status is None or status == 0:
            outcome = {"status": "finished", "exit_code": 0}
        else:
            code = status if isinstance(status, int) else 1
            outcome = {"status": "exit", "exit_code": code, "message": None if isinstance(status, int) else str(status)}
    except BaseException as error:  # the script's own failure, reported, not ours
        if not recorder.stopping:
            code = 1
            outcome = {
                "status": "raised", "exit_code": 1, "exception": type(error).__name__,
                "message": str(error).strip().splitlines()[0][:500] if str(error).strip() else "",
                "where": _where(error, script), "traceback": script_traceback(error)[-20000:],
            }
    if recorder.stopping:
        outcome = {"status": "stopped", "exit_code": 0}
    recorder.facts["outcome"] = outcome
    recorder.write(force=True, final=True)
    sys.stdout.flush()
    sys.stderr.flush()
    if recorder.stopping:
        os._exit(0)  # a stopped script's threads (queue runners, data loaders) must not keep it alive
    sys.exit(code)  # as the script would have ended: its atexit handlers run
