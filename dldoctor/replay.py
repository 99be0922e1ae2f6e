"""A `dldoctor lint` run repeated with nothing it depends on changed is answered from its record.

A pre-commit hook, an editor's save hook or a user at the prompt runs the same lint again
and again on files that have not changed. The lint cache makes each file a hash, but the
run still loads its settings, its reporters and their modules, most of its time. So the
console entry point (`entry`) records each plain lint (no fixes, no stdin, the cache on):
its output, its exit code, and every input its answer rested on, as Python's audit hooks
see them while it runs: each file opened (sources, settings, pins, ignore files, the lint
cache, dldoctor's own modules), each directory listed, each path only tested for
(`dldoctor.lint.inputs`), and the directories above the paths named and the working
directory (where a settings or ignore file could appear). The next run with the same
arguments, working directory, interpreter, `sys.path` and environment (the variables
dldoctor or Python read) first checks those inputs: files by their content (a digest) and
their `stat`, directories by theirs, absent paths by their absence. If all are as recorded,
it prints the recorded output and exits with the recorded code, without loading the
linter; if anything differs, it runs the lint (and records it again).

Runs not recorded: fixes, `--diff`, `--watch`, stdin, `--no-cache`, `--verbose` (its
timings would be replayed), a run that linted a file rather than take its findings from the
cache (it writes the cache; worker processes may have read what the hook never saw), started
another process or wrote any file, a run whose exit
code is 2, and a run whose lint cache is neither `--cache-dir` nor `.dldoctor_cache` in the
working directory (where the record is looked for before any setting is read). Records live
in `runs/` inside that cache (at most `MAX_RECORDS`, the oldest pruned), are written
atomically, and carry a digest of themselves: a damaged record is never replayed.
`DLDOCTOR_NO_REPLAY=1` turns replaying off.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time

try:  # hashlib's own BLAKE2, without loading OpenSSL first (as the lint cache)
    from _blake2 import blake2b
except ImportError:
    from hashlib import blake2b

import dldoctor
from dldoctor.lint.inputs import EVENT as CONSULTED

CACHE_DIRECTORY = ".dldoctor_cache"
# `DLDOCTOR_NO_REPLAY=1`: every run lints (from the lint cache), none is answered from a record.
NO_REPLAY = "DLDOCTOR_NO_REPLAY"
RECORDS = "runs"
MAX_RECORDS = 32
MAX_RECORD_BYTES = 16 * 1024 * 1024
# File times come from a clock that may lag the real one by a scheduler tick: an input whose
# change time is this close to the run's start may have changed after the run read it.
_CLOCK_TICK_NS = 50_000_000
# Larger files read by a run (one over --max-file-size, refused) are checked by `stat` alone.
_MAX_DIGESTED_BYTES = 16 * 1024 * 1024
# What no recorded run may use: these options change files, read stdin, or print timings.
_NOT_RECORDED = ("fix", "unsafe_fixes", "diff", "fix_only", "no_cache", "verbose", "watch")
# Environment variables the answer depends on besides DLDOCTOR_* and PYTHON* (colours, the terminal).
_ENVIRONMENT = ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LINES", "LANG", "LC_ALL", "LC_CTYPE", "VIRTUAL_ENV")
# Audit events of a run that can not be replayed: another process did part of its work.
_OTHER_PROCESS = frozenset({"subprocess.Popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system"})


def _digest(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


def recordable(options: dict) -> bool:
    """Whether a plain lint with these `lint_command.run` keywords may be recorded and replayed."""
    paths = options.get("paths") or []
    if os.environ.get(NO_REPLAY, "") not in ("", "0"):
        return False
    return not any(options.get(name) for name in _NOT_RECORDED) and "-" not in paths


def run_key(argv: list[str]) -> str:
    """What must be equal for two runs to be one: arguments, place, interpreter, environment, console."""
    environment = {
        name: value for name, value in os.environ.items()
        if name.startswith(("DLDOCTOR_", "PYTHON")) or name in _ENVIRONMENT
    }
    streams = []
    for stream in (sys.stdout, sys.stderr):
        try:
            streams.append([stream.isatty(), getattr(stream, "encoding", None)])
        except (AttributeError, ValueError, OSError):
            streams.append(None)
    facts = [dldoctor.__version__, argv, os.getcwd(), sys.executable, sys.version, sys.path, environment, streams]
    return _digest(json.dumps(facts, sort_keys=True).encode())


def _cache_directory(cache_dir: str | None) -> str:
    """The lint cache this run is recorded beside: `--cache-dir`, else `.dldoctor_cache` here."""
    return os.path.abspath(cache_dir) if cache_dir else os.path.join(os.getcwd(), CACHE_DIRECTORY)


def _state(path: str, with_content: bool) -> list | None:
    """What a path is now: None when absent; else its type, size, times, inode and, for a regular
    file read by the run, the digest of its content (a same-size edit within a clock tick shows there)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    found = [stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
    if with_content and stat.S_ISREG(info.st_mode) and info.st_size <= _MAX_DIGESTED_BYTES:
        try:  # non-blocking: a file swapped for a fifo since the stat is not waited on
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(descriptor, "rb") as handle:
                hashed = blake2b(digest_size=16)
                while chunk := handle.read(1 << 20):
                    hashed.update(chunk)
            found.append(hashed.hexdigest())
        except OSError:
            return None
    return found


def _record_check(record: dict) -> str:
    return _digest(json.dumps([record["inputs"], record["stdout"], record["stderr"], record["code"]]).encode())


def replayed(key: str, cache_dir: str | None = None) -> int | None:
    """Print the recorded run of `key` and give its exit code, if every input is as recorded; else None."""
    path = os.path.join(_cache_directory(cache_dir), RECORDS, f"{key}.json")
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_RECORD_BYTES:
                return None
            record = json.loads(handle.read())
        if record.get("check") != _record_check(record):
            return None
        for input_path, with_content, state in record["inputs"]:
            if _state(input_path, with_content) != state:
                return None
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return None  # an unreadable or damaged record: run the lint
    sys.stdout.write(record["stdout"])
    sys.stdout.flush()
    sys.stderr.write(record["stderr"])
    sys.stderr.flush()
    return int(record["code"])


class _Tee:
    """A standard stream that keeps a copy of what is written to it."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return self._stream.write(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    @property
    def buffer(self):  # bytes would bypass the copy: a run that writes them is not recorded
        raise AttributeError("buffer")

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class Recorder:
    """Watches one run through an audit hook: the paths it opened, listed and tested, whether it
    wrote a file or started a process; then stores the run if it can be replayed."""

    def __init__(self, paths: list[str] | None, cache_dir: str | None = None) -> None:
        self.started_ns = time.time_ns()
        self.cache_directory = _cache_directory(cache_dir)
        self.records = os.path.join(self.cache_directory, RECORDS)
        self.read: set[str] = set()  # opened for reading: content digested
        self.looked_at: set[str] = set()  # listed or tested: stat only
        self.unrecordable = False
        self.used_cache = False
        self.active = True
        self.named = [os.path.abspath(path) for path in paths or ["."]]
        sys.addaudithook(self._hook)  # hooks cannot be removed: `active` ends it

    def _hook(self, event: str, arguments: tuple) -> None:
        if not self.active:
            return
        if event == "open":
            path, mode, flags = arguments
            if not isinstance(path, (str, bytes, os.PathLike)):
                return  # a descriptor already open: its path was seen when it was opened
            path = os.path.abspath(os.fsdecode(path))
            writing = (mode is not None and any(letter in mode for letter in "wax+")) or (
                mode is None and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND)
            )
            if path.startswith(self.records + os.sep):
                return
            inside_cache = path.startswith(self.cache_directory + os.sep)
            self.used_cache = self.used_cache or (inside_cache and os.path.dirname(path) == self.cache_directory)
            if writing:
                # Writing its cache, the run linted something, perhaps in worker processes whose
                # reads (a project module a finding rests on) this hook never sees: only a run
                # answered wholly from the cache is recorded.
                self.unrecordable = True
            else:
                self.read.add(path)  # the cache's findings and its state are part of the answer
        elif event in ("os.scandir", "os.listdir", CONSULTED):
            path = arguments[0] if arguments else "."
            if path is None:
                path = "."
            if not isinstance(path, (str, bytes, os.PathLike)):
                self.unrecordable = True  # listed through a descriptor: no path to check again
                return
            path = os.path.abspath(os.fsdecode(path))
            if not (path == self.records or path.startswith(self.records + os.sep)):
                self.looked_at.add(path)
        elif event in _OTHER_PROCESS:
            self.unrecordable = True

    def capture(self) -> tuple[_Tee, _Tee]:
        sys.stdout, sys.stderr = _Tee(sys.stdout), _Tee(sys.stderr)
        return sys.stdout, sys.stderr

    def _inputs(self) -> list:
        read = set(self.read)
        for path in list(read):
            # A module's compiled file is checked against its source by a stat the hook does not see.
            head, name = os.path.split(path)
            if os.path.basename(head) == "__pycache__" and name.endswith(".pyc"):
                self.looked_at.add(os.path.join(os.path.dirname(head), name.partition(".")[0] + ".py"))
                read.discard(path)
                self.looked_at.add(path)
        around = {os.getcwd(), *self.named, *(os.path.dirname(path) for path in self.named)}
        for path in list(around):  # where a settings or ignore file above the paths could appear
            while True:
                around.add(path)
                parent = os.path.dirname(path)
                if parent == path:
                    break
                path = parent
        looked_at = (self.looked_at | around) - read
        inputs = [[path, True, _state(path, True)] for path in sorted(read)]
        inputs += [[path, False, _state(path, False)] for path in sorted(looked_at)]
        # Changed while the run read it (or just before, within the clock's coarse tick): the
        # output may rest on the old content, the state is the new one; record nothing.
        if any(state is not None and state[3] > self.started_ns - _CLOCK_TICK_NS for _, _, state in inputs):
            return None
        return inputs

    def save(self, key: str, code: int, out: _Tee, err: _Tee) -> None:
        """Store the run under `key` if it can be replayed (see the module docstring); never fails the run."""
        self.active = False
        sys.stdout, sys.stderr = out._stream, err._stream
        if self.unrecordable or not self.used_cache or code not in (0, 1):
            return
        try:
            inputs = self._inputs()
            if inputs is None:
                return
            record = {"inputs": inputs, "stdout": "".join(out.parts), "stderr": "".join(err.parts), "code": code}
            record["check"] = _record_check(record)
            data = json.dumps(record, separators=(",", ":")).encode()
            if len(data) > MAX_RECORD_BYTES:
                return
            directory = self.records
            os.makedirs(directory, exist_ok=True)
            import tempfile

            handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                os.replace(temporary, os.path.join(directory, f"{key}.json"))
            except BaseException:
                os.unlink(temporary)
                raise
            _prune(directory)
        except (OSError, ValueError, UnicodeError):
            pass  # a record that cannot be written is a run that is not replayed, nothing more


def _prune(directory: str) -> None:
    """Keep the `MAX_RECORDS` newest records."""
    with os.scandir(directory) as entries:
        records = [(entry.stat().st_mtime_ns, entry.path) for entry in entries if entry.name.endswith(".json")]
    for _, path in sorted(records)[:-MAX_RECORDS]:
        try:
            os.unlink(path)
        except OSError:
            pass
