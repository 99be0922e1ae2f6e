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
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Optional

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
    """One started probe subprocess."""

    def __init__(self, name: str, module: str, args: tuple[str, ...] = (), cwd: Optional[str] = None):
        self.name = name
        self.started = time.monotonic()
        self.error: Optional[str] = None
        self.process: Optional[subprocess.Popen] = None
        command = [interpreter(), "-c", script_source(module), *args]
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=probe_environment(),
                cwd=cwd,
                start_new_session=(os.name == "posix"),  # a timeout kills the probe's children too
            )
        except OSError as error:
            self.error = f"cannot start {command[0]}: {error}"

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid if self.process else None

    def wait(self, deadline: float) -> dict:
        """Wait until `deadline` (time.monotonic()); a probe still running then is killed."""
        result: dict = {"probe": self.name, "interpreter": interpreter()}
        if self.process is None:
            return {**result, "outcome": "error", "error": self.error, "seconds": 0.0}
        timed_out = False
        try:
            out, err = self.process.communicate(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
            self._kill()
            out, err = self.process.communicate()
        seconds = round(time.monotonic() - self.started, 3)
        stdout = out.decode("utf-8", "backslashreplace")
        stderr = err.decode("utf-8", "backslashreplace")
        facts = None
        for line in reversed(stdout.splitlines()):
            if line.startswith(MARKER):
                try:
                    facts = json.loads(line[len(MARKER):])
                except ValueError:
                    facts = None
                break
        returncode = self.process.returncode
        result.update(seconds=seconds, returncode=returncode, stderr_tail=_tail(stderr))
        if timed_out:
            result.update(outcome="timeout", error=f"no answer after {seconds:.1f} s; the probe was killed")
        elif returncode is not None and returncode < 0:
            result.update(outcome="crashed", signal=_signal_name(-returncode),
                          error=f"the probe process died of {_signal_name(-returncode)}")
        elif facts is None:
            result.update(outcome="error", error=f"the probe exited with status {returncode} and no answer",
                          stdout_tail=_tail(stdout))
        else:
            result.update(outcome="ok", facts=facts)
        return result

    def _kill(self) -> None:
        assert self.process is not None
        try:
            if os.name == "posix":
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.kill()
        except (ProcessLookupError, PermissionError):
            pass


def run_all(probes: dict[str, tuple[str, tuple[str, ...]]], timeout: float) -> dict[str, dict]:
    """Start every probe {name: (module, args)} at once; collect each within `timeout` seconds.

    Total wall time is that of the slowest probe (at most `timeout`), not the sum.
    """
    return Running(probes, timeout).collect()


class Running:
    """Probes started now, collected later (so in-process work overlaps them)."""

    def __init__(self, probes: dict[str, tuple[str, tuple[str, ...]]], timeout: float):
        self._names = list(probes)
        self._started = [Probe(name, module, args) for name, (module, args) in probes.items()]
        self._deadline = time.monotonic() + timeout

    @property
    def pids(self) -> list[int]:
        return [probe.pid for probe in self._started if probe.pid]

    def collect(self) -> dict[str, dict]:
        results: dict[str, dict] = {}

        def collect(probe: Probe) -> None:
            results[probe.name] = probe.wait(self._deadline)

        threads = [threading.Thread(target=collect, args=(probe,), daemon=True) for probe in self._started]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {name: results[name] for name in self._names}
