"""Shared state of the instrumentation inside the user's script process (stdlib only).

The facts go to a JSON file named by dldoctor (never to the script's stdout),
rewritten atomically at most once a second while the script runs and at the
end, so a script killed at `--timeout` still leaves what was observed.
"""

from __future__ import annotations

import json
import linecache
import os
import sys
import sysconfig
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WRITE_EVERY_S = 1.0


class GraphProbeStop(BaseException):
    """Raised into the script to stop it once growth is established (a BaseException, so
    `except Exception:` in the script does not swallow it)."""


class Recorder:
    def __init__(self, results_path: str, steps: int, warmup: int):
        self.results_path = results_path
        self.steps = steps
        self.warmup = warmup
        self.facts: dict = {"version": 1, "steps": steps, "warmup": warmup, "errors": [], "stopped": None}
        self.collectors: list = []  # objects with .to_json() -> (section name, dict)
        self._last_write = 0.0
        self.stopping = False

    def error(self, where: str, problem: BaseException) -> None:
        """An instrumentation problem: recorded, never raised into the script."""
        if len(self.facts["errors"]) < 20:
            self.facts["errors"].append(f"{where}: {type(problem).__name__}: {problem}")

    def stop(self, framework: str, reason: str, at: int) -> GraphProbeStop:
        self.facts["stopped"] = {"framework": framework, "reason": reason, "at": at}
        self.stopping = True
        self.write(force=True)
        return GraphProbeStop(reason)

    def maybe_write(self) -> None:
        if time.monotonic() - self._last_write >= WRITE_EVERY_S:
            self.write()

    def write(self, force: bool = False, final: bool = False) -> None:
        self._last_write = time.monotonic()
        data = dict(self.facts)
        for collector in self.collectors:
            try:
                name, section = collector.to_json(final=final)
                data[name] = section
            except Exception as problem:  # never let reporting break the script
                self.error("collect", problem)
        temporary = self.results_path + ".tmp"
        try:
            with open(temporary, "w", encoding="utf-8") as stream:
                json.dump(data, stream, default=str)
            os.replace(temporary, self.results_path)
        except OSError:
            pass


RECORDER: Recorder | None = None


def _library_prefixes() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    prefixes = {HERE}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            prefixes.add(os.path.realpath(paths[key]))
            prefixes.add(paths[key])
    for entry in sys.path:  # other site-packages (user site, --system-site-packages, conda)
        if entry.endswith(("site-packages", "dist-packages")):
            prefixes.add(entry)
            prefixes.add(os.path.realpath(entry))
    return tuple(sorted(p.rstrip(os.sep) + os.sep for p in prefixes))


_PREFIXES: tuple[str, ...] | None = None
_USER_CACHE: dict[str, bool] = {}


def is_user_file(filename: str) -> bool:
    """Code the user wrote: not the standard library, not an installed package, not us."""
    cached = _USER_CACHE.get(filename)
    if cached is not None:
        return cached
    global _PREFIXES
    if _PREFIXES is None:
        _PREFIXES = _library_prefixes()
    user = bool(filename) and not filename.startswith("<") and not filename.startswith(_PREFIXES)
    if user:
        real = os.path.realpath(filename)
        user = not real.startswith(_PREFIXES)
    _USER_CACHE[filename] = user
    return user


def site(filename: str, lineno: int, function: str) -> dict:
    return {"file": filename, "line": lineno, "function": function, "code": linecache.getline(filename, lineno).strip()}


def user_frames_of_stack(frames) -> list[dict]:
    """(filename, lineno, name) triples, outermost first -> the user's frames, innermost first."""
    found = []
    for filename, lineno, name in reversed(list(frames)):
        if is_user_file(filename):
            found.append(site(filename, lineno, name))
    return found


def caller_user_frames(limit: int = 4, skip: int = 2) -> list[dict]:
    """The user's frames on the current Python stack, innermost first."""
    found = []
    frame = sys._getframe(skip)
    while frame is not None and len(found) < limit:
        code = frame.f_code
        if is_user_file(code.co_filename):
            found.append(site(code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return found


def now() -> float:
    return time.perf_counter()
