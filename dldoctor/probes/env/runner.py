"""Run probe scripts in subprocesses, concurrently, each with a timeout.

A probe script is a stdlib-only Python file of this package (it may import the
framework it probes) run as `python -c SOURCE ARGS`, so it also runs under an
interpreter that has no dldoctor installed. It prints its facts as one line
`@@dldoctor-probe@@ {json}` on stdout. Whatever happens to it — a hang, a
segfault, an exception, garbage on stdout — becomes data: a `ProbeRun` dict,
never an exception here.

Two environment variables point the probes elsewhere (used by the tests to
inject real faults, and by users to diagnose another interpreter):

    DLDOCTOR_ENV_PYTHON       the interpreter that runs the probes (default: this one)
    DLDOCTOR_ENV_PYTHONPATH   directories put first on the probes' PYTHONPATH
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

from dldoctor import lifetime

MARKER = "@@dldoctor-probe@@"
TAIL_CHARS = 4000
HERE = Path(__file__).resolve().parent


def interpreter() -> str:
    return os.environ.get("DLDOCTOR_ENV_PYTHON") or sys.executable


def probe_environment() -> dict[str, str]:
    env = dict(os.environ)
    extra = os.environ.get("DLDOCTOR_ENV_PYTHONPATH")
    if extra:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (extra, env.get("PYTHONPATH", "")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    env.setdefault("PYTHONFAULTHANDLER", "1")  # a segfault leaves a Python stack on stderr
    return env


def script_source(module: str) -> str:
    """The text of a probe script of this package, e.g. 'torch_probe'."""
    return (HERE / f"{module}.py").read_text(encoding="utf-8")


def _tail(text: str) -> str:
    return text if len(text) <= TAIL_CHARS else "..." + text[-TAIL_CHARS:]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Probe:
    """One started probe subprocess, under dldoctor's supervisor (dldoctor/lifetime.py): its own
    session, killed with everything it started when it ends, at its deadline, on SIGINT/SIGTERM
    of dldoctor, or when dldoctor dies. Its stdout and stderr go to files, never pipes: a daemon
    that the probed framework starts and that inherits them cannot make us wait."""

    def __init__(self, name: str, module: str, args: tuple[str, ...] = (), cwd: Optional[str] = None,
                 directory: Optional[str] = None):
        self.name = name
        self.started = time.monotonic()
        self.error: Optional[str] = None
        self.child: Optional[lifetime.Supervised] = None
        self._directory = directory or tempfile.mkdtemp(prefix="dldoctor-env-")
        self._own_directory = directory is None
        base = os.path.join(self._directory, name)
        self._out_path, self._err_path, self._pid_path = base + ".stdout", base + ".stderr", base + ".pid"
        command = [interpreter(), "-c", script_source(module), *args]
        if not _executable(command[0]):
            self.error = f"cannot start {command[0]}: no such executable file"
            return
        try:
            with open(self._out_path, "wb") as out, open(self._err_path, "wb") as err:
                self.child = lifetime.Supervised(command, pid_file=self._pid_path, stdin=subprocess.DEVNULL,
                                                 stdout=out, stderr=err, env=probe_environment(), cwd=cwd)
        except OSError as error:
            self.error = f"cannot start {command[0]}: {error}"

    @property
    def pid(self) -> Optional[int]:
        return self.child.pid if self.child else None

    @property
    def pids(self) -> list[int]:
        """The supervisor's pid and the probe's own."""
        if not self.child:
            return []
        return [pid for pid in (self.child.pid, self.child.command_pid) if pid]

    def _read(self, path: str) -> str:
        try:
            with open(path, "rb") as handle:
                return handle.read().decode("utf-8", "backslashreplace")
        except OSError:
            return ""

    def wait(self, deadline: float) -> dict:
        """Wait until `deadline` (time.monotonic()); a probe still running then is killed, with its tree.
        The deadline bounds the probe, whatever its children do with its stdout and stderr."""
        result: dict = {"probe": self.name, "interpreter": interpreter()}
        if self.child is None:
            return {**result, "outcome": "error", "error": self.error, "seconds": 0.0}
        timed_out = False
        try:
            returncode = self.child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
            self.child.stop()
            returncode = self.child.process.returncode
        seconds = round(time.monotonic() - self.started, 3)
        stdout, stderr = self._read(self._out_path), self._read(self._err_path)
        if returncode is not None and returncode == 127 and stderr.startswith("cannot start "):
            self.cleanup()
            return {**result, "outcome": "error", "error": stderr.strip().splitlines()[0], "seconds": seconds}
        facts = None
        for line in reversed(stdout.splitlines()):
            if line.startswith(MARKER):
                try:
                    facts = json.loads(line[len(MARKER):])
                except ValueError:
                    facts = None
                break
        result.update(seconds=seconds, returncode=returncode, stderr_tail=_tail(stderr))
        if timed_out:
            result.update(returncode=None, outcome="timeout", error=f"no answer after {seconds:.1f} s; the probe was killed")
        elif returncode is not None and returncode < 0:
            result.update(outcome="crashed", signal=_signal_name(-returncode),
                          error=f"the probe process died of {_signal_name(-returncode)}")
        elif facts is None:
            result.update(outcome="error", error=f"the probe exited with status {returncode} and no answer",
                          stdout_tail=_tail(stdout))
        else:
            result.update(outcome="ok", facts=facts)
        return result

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()

    def cleanup(self) -> None:
        if self._own_directory:
            shutil.rmtree(self._directory, ignore_errors=True)


def _executable(path: str) -> bool:
    if os.sep in path or (os.altsep and os.altsep in path):
        return os.path.isfile(path) and os.access(path, os.X_OK)
    return shutil.which(path) is not None


def run_all(probes: dict[str, tuple[str, tuple[str, ...]]], timeout: float) -> dict[str, dict]:
    """Start every probe {name: (module, args)} at once; collect each within `timeout` seconds.

    Total wall time is that of the slowest probe (at most `timeout`), not the sum.
    """
    return Running(probes, timeout).collect()


class Running:
    """Probes started now, collected later (so in-process work overlaps them)."""

    def __init__(self, probes: dict[str, tuple[str, tuple[str, ...]]], timeout: float):
        self._names = list(probes)
        self._directory = tempfile.mkdtemp(prefix="dldoctor-env-")
        self._started = [Probe(name, module, args, directory=self._directory) for name, (module, args) in probes.items()]
        self._deadline = time.monotonic() + timeout
        self._pids: list[int] = []

    @property
    def pids(self) -> list[int]:
        """Every pid of ours: supervisors and probes (an NVML process list names the probes)."""
        return self._pids or [pid for probe in self._started for pid in probe.pids]

    def collect(self) -> dict[str, dict]:
        results: dict[str, dict] = {}

        def collect(probe: Probe) -> None:
            results[probe.name] = probe.wait(self._deadline)

        threads = [threading.Thread(target=collect, args=(probe,), daemon=True) for probe in self._started]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self._pids = [pid for probe in self._started for pid in probe.pids]
        finally:  # an interruption (Ctrl-C, SIGTERM) or an error: no probe outlives this
            for probe in self._started:
                probe.stop()
            shutil.rmtree(self._directory, ignore_errors=True)
        return {name: results[name] for name in self._names}
