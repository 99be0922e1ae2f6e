"""Run the user's script in a subprocess with the instrumentation, and collect the facts.

The `inject_*` modules are copied into a temporary directory as the package
`_dldoctor_graph_probe` and the script runs as `python -c LAUNCH ...`, so the
interpreter that runs it (`--python`, default: this one) needs no dldoctor. The
script's stdout and stderr go to files (their tails are kept), and are copied to
the user's streams as they are written (`echo`): files, not pipes, so a daemon
the script leaves behind can never hold dldoctor's output open, and a script
that writes faster than a terminal reads is never blocked by us. The script
reads the user's stdin unless told otherwise. A script still running at the
timeout is killed with every process it started. Whatever happens becomes a
facts dict, never an exception here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from dldoctor import lifetime

HERE = Path(__file__).resolve().parent
PACKAGE = "_dldoctor_graph_probe"
INJECTED = ("inject_state.py", "inject_tf1.py", "inject_tf2.py", "inject_torch.py", "inject_bootstrap.py")
TAIL_CHARS = 6000
WARMUP_RUNS = 3
POLL_S = 0.1  # how often the script's new output is copied out
PROGRESS_S = 1.0  # how often the observations are read for `on_progress`
LAUNCH = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    f"from {PACKAGE}.inject_bootstrap import main; main()"
)


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as stream:
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            stream.seek(max(0, size - TAIL_CHARS))
            text = stream.read().decode("utf-8", "backslashreplace")
    except OSError:
        return ""
    return ("..." + text) if size > TAIL_CHARS else text


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _Echo:
    """Copies what the script appends to one of its output files to a stream of ours."""

    def __init__(self, path: Path, stream):
        self.path, self.stream, self.handle = path, stream, None

    def copy(self) -> None:
        if self.stream is None:
            return
        try:
            if self.handle is None:
                self.handle = open(self.path, "rb")
            data = self.handle.read()
            if data:
                self.stream.write(data)
                self.stream.flush()
        except (OSError, ValueError):  # our stream closed (a pager quit, a broken pipe): stop copying, keep running
            self.stream = None

    def close(self) -> None:
        self.copy()
        if self.handle is not None:
            self.handle.close()


def _observations(path: Path) -> Optional[dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_script(script: str, args: list[str], *, steps: int, timeout: Optional[float], python: Optional[str] = None,
               cwd: Optional[str] = None, stdin: bool = True, echo: Optional[tuple] = None, on_progress=None) -> dict:
    """Run `script ARGS` instrumented. Returns {script, args, python, seconds, returncode, signal,
    timed_out, stdout_tail, stderr_tail, probe (the instrumentation's facts or None), error}.

    `stdin`: the script reads ours (False: it reads an empty stdin). `echo`: (stream, stream),
    binary streams the script's stdout and stderr are copied to while it runs (None: kept
    only). `on_progress(observations or None, seconds)` is called about once a second."""
    interpreter = python or sys.executable
    started = time.monotonic()
    facts: dict = {"script": script, "args": list(args), "python": interpreter, "steps": steps, "timeout": timeout,
                   "returncode": None, "signal": None, "timed_out": False, "error": None, "probe": None}
    with tempfile.TemporaryDirectory(prefix="dldoctor-graph-") as temporary:
        root = Path(temporary)
        package = root / PACKAGE
        package.mkdir()
        (package / "__init__.py").write_text("", encoding="utf-8")
        for name in INJECTED:
            shutil.copyfile(HERE / name, package / name)
        results = root / "results.json"
        config = root / "config.json"
        config.write_text(json.dumps({"results": str(results), "steps": steps, "warmup": WARMUP_RUNS,
                                      "line_buffered": echo is not None}), encoding="utf-8")
        out_path, err_path = root / "stdout.txt", root / "stderr.txt"
        command = [interpreter, "-c", LAUNCH, str(root), str(config), os.path.abspath(script), *args]
        env = dict(os.environ)
        env.setdefault("PYTHONFAULTHANDLER", "1")  # a segfault leaves a stack on stderr
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            # Under the supervisor (dldoctor/lifetime.py): the script, and every process it starts
            # (children, daemons, double-forked ones), die when it ends, at the timeout, on
            # SIGINT/SIGTERM/SIGHUP of dldoctor, and when dldoctor dies, SIGKILL included.
            try:
                child = lifetime.Supervised(command, pid_file=str(root / "script.pid"),
                                            stdin=None if stdin else subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd, env=env)
            except OSError as problem:
                facts["error"] = f"cannot start {interpreter}: {problem}"
                return facts
            echoes = [_Echo(out_path, echo[0]), _Echo(err_path, echo[1])] if echo else []
            deadline = started + timeout if timeout and timeout > 0 else None
            progress_at = started + PROGRESS_S
            try:
                while True:
                    try:
                        returncode = child.wait(timeout=POLL_S)
                        break
                    except subprocess.TimeoutExpired:
                        pass
                    for stream in echoes:
                        stream.copy()
                    now = time.monotonic()
                    if on_progress is not None and now >= progress_at:
                        progress_at = now + PROGRESS_S
                        on_progress(_observations(results), now - started)
                    if deadline is not None and now >= deadline:
                        facts["timed_out"] = True
                        child.stop()
                        returncode = child.process.returncode
                        break
            finally:
                child.stop()  # an interruption, or after the script's end: nothing of it is left
                for stream in echoes:
                    stream.close()
        if returncode == 127 and not results.is_file() and _tail(err_path).startswith("cannot start "):
            facts["error"] = f"cannot start {interpreter}: " + _tail(err_path).split(": ", 1)[-1].strip()
            return facts
        facts["seconds"] = round(time.monotonic() - started, 3)
        facts["returncode"] = -signal.SIGKILL if facts["timed_out"] else returncode
        if returncode is not None and returncode < 0 and not facts["timed_out"]:
            facts["signal"] = _signal_name(-returncode)
        facts["stdout_tail"] = _tail(out_path)
        facts["stderr_tail"] = _tail(err_path)
        if results.is_file():
            try:
                facts["probe"] = json.loads(results.read_text(encoding="utf-8"))
            except ValueError:
                facts["probe"] = None
    return facts
