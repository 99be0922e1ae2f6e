"""Run the user's script in a subprocess with the instrumentation, and collect the facts.

The `inject_*` modules are copied into a temporary directory as the package
`_dldoctor_graph_probe` and the script runs as `python -c LAUNCH ...`, so the
interpreter that runs it (`--python`, default: this one) needs no dldoctor. The
script's stdout and stderr go to files (their tails are kept); a script still
running at the timeout is killed with its process group. Whatever happens
becomes a facts dict, never an exception here.
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

HERE = Path(__file__).resolve().parent
PACKAGE = "_dldoctor_graph_probe"
INJECTED = ("inject_state.py", "inject_tf1.py", "inject_tf2.py", "inject_torch.py", "inject_bootstrap.py")
TAIL_CHARS = 6000
WARMUP_RUNS = 3
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


def run_script(script: str, args: list[str], *, steps: int, timeout: Optional[float], python: Optional[str] = None,
               cwd: Optional[str] = None) -> dict:
    """Run `script ARGS` instrumented. Returns {script, args, python, seconds, returncode, signal,
    timed_out, stdout_tail, stderr_tail, probe (the instrumentation's facts or None), error}."""
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
        config.write_text(json.dumps({"results": str(results), "steps": steps, "warmup": WARMUP_RUNS}), encoding="utf-8")
        out_path, err_path = root / "stdout.txt", root / "stderr.txt"
        command = [interpreter, "-c", LAUNCH, str(root), str(config), os.path.abspath(script), *args]
        env = dict(os.environ)
        env.setdefault("PYTHONFAULTHANDLER", "1")  # a segfault leaves a stack on stderr
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd, env=env,
                                           start_new_session=(os.name == "posix"))
            except OSError as problem:
                facts["error"] = f"cannot start {interpreter}: {problem}"
                return facts
            try:
                process.wait(timeout=timeout if timeout and timeout > 0 else None)
            except subprocess.TimeoutExpired:
                facts["timed_out"] = True
                _kill(process)
                process.wait()
            except KeyboardInterrupt:
                _kill(process)
                process.wait()
                raise
        facts["seconds"] = round(time.monotonic() - started, 3)
        facts["returncode"] = process.returncode
        if process.returncode is not None and process.returncode < 0 and not facts["timed_out"]:
            facts["signal"] = _signal_name(-process.returncode)
        facts["stdout_tail"] = _tail(out_path)
        facts["stderr_tail"] = _tail(err_path)
        if results.is_file():
            try:
                facts["probe"] = json.loads(results.read_text(encoding="utf-8"))
            except ValueError:
                facts["probe"] = None
    return facts


def _kill(process: subprocess.Popen) -> None:
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass
