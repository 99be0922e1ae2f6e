"""Shared helpers for the foundation tests: run the real CLI in a subprocess, write files.

The finding-producing code everywhere is DL201's canonical case, `BAD`; `CLEAN`
is the same code with the switch off. Columns are computed from the text, never
typed in, so a test checks dldoctor against the real position.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

BAD = "import tensorflow.compat.v1 as tf\ntf.ConfigProto(log_device_placement=True)\n"
CLEAN = "import tensorflow.compat.v1 as tf\ntf.ConfigProto(log_device_placement=False)\n"
BAD_LINE = 2
BAD_COLUMN = BAD.splitlines()[1].index("True") + 1  # 1-based, like every dldoctor column
BAD_END_COLUMN = BAD_COLUMN + len("True")  # exclusive, as ruff's end_location

# Variables that make rich (or click) colour, size or wrap output whatever the
# stream is; a developer's shell or a CI runner may set any of them.
_OUTPUT_VARIABLES = (
    "NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "PY_COLORS", "TTY_COMPATIBLE",
    "TTY_INTERACTIVE", "COLUMNS", "LINES", "TERM", "JUPYTER_COLUMNS", "JUPYTER_LINES",
)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of the test run, without colour/size overrides and git's hook variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _OUTPUT_VARIABLES and not key.startswith("GIT_")
    }
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


@dataclass
class Run:
    """A finished `dldoctor` process: its exit status and decoded output."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def json(self):
        return json.loads(self.stdout)

    def assert_no_traceback(self) -> None:
        assert "Traceback" not in self.stderr and "Traceback" not in self.stdout, self.stderr
        assert "internal error" not in self.stderr, self.stderr


def run_dldoctor(
    *args: str | os.PathLike,
    cwd: str | os.PathLike,
    stdin: bytes | str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Run:
    """`python -m dldoctor ARGS` as a user runs it, in `cwd`, with stdout and stderr piped."""
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "dldoctor", *map(str, args)],
        cwd=cwd,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=env if env is not None else clean_env(),
        timeout=timeout,
    )
    return Run(
        completed.returncode,
        completed.stdout.decode("utf-8", "backslashreplace"),
        completed.stderr.decode("utf-8", "backslashreplace"),
    )


def write(path: Path, content: str | bytes) -> Path:
    """Write `content` (str as UTF-8, bytes as is) to `path`, creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


# The summary lines `--output-format concise` ends with (none under --quiet), as ruff's.
CONCISE_SUMMARY = re.compile(r"(Found \d+ findings?\.|All checks passed!|Fixed \d+ findings?\.|\[\*\] \d+ fixable with |No fixes available \()")


def concise_codes(run: Run) -> list[tuple[str, int, int, str]]:
    """(path, line, column, code) of each line of `--output-format concise`."""
    found = []
    for line in run.lines:
        if CONCISE_SUMMARY.match(line):  # ruff's summary after the findings
            continue
        # The message may hold colons, so split at the code, then the position off the right.
        head, separator, rest = line.partition(": DL")
        assert separator, f"not a concise finding line: {line!r}"
        path, line_no, column = head.rsplit(":", 2)
        found.append((path, int(line_no), int(column), "DL" + rest.split(" ", 1)[0]))
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty directory to lint in, with no pyproject.toml of its own."""
    root = tmp_path / "project"
    root.mkdir()
    return root


# Runs dldoctor's command line (or the `main` of the module named third) with the given argv,
# then reports which modules under the given roots it imported, whatever way it exited.
_IMPORTS_WRAPPER = """
import importlib, json, sys
argv, roots, entry = json.loads(sys.argv[1]), set(json.loads(sys.argv[2])), sys.argv[3]
sys.argv = ["dldoctor", *argv]
status = None
try:
    importlib.import_module(entry).main()
except SystemExit as exit:
    status = exit.code
finally:
    imported = sorted(m for m in sys.modules if m.split(".")[0] in roots)
    sys.stdout.flush()
    print("\\n@@" + json.dumps({"status": status, "imported": imported,
                               "libcst": "libcst" in sys.modules}), flush=True)
"""


def run_reporting_imports(
    args: list[str], roots: list[str], cwd: Path, timeout: int = 300, env: dict | None = None, entry: str = "dldoctor.cli",
):
    """Run `dldoctor ARGS` in a fresh interpreter: (its stdout before the report, the report, the process).

    The report is {"status": exit code, "imported": modules under `roots`, "libcst": bool}.
    `entry` is the module whose `main` runs: the full command line, or the console script's
    `dldoctor.entry`.
    """
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORTS_WRAPPER, json.dumps(list(args)), json.dumps(list(roots)), entry],
        cwd=cwd, capture_output=True, text=True, env=env if env is not None else clean_env(), timeout=timeout,
    )
    head, marker, tail = completed.stdout.rpartition("\n@@")
    assert marker, completed.stdout + completed.stderr
    return head, json.loads(tail), completed


# Property tests explore new examples on every local run; in CI they run a fixed sequence,
# so a red CI is a change's doing, not the draw's.
try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # the linter's own install has no test extra
    pass
else:
    _hypothesis_settings.register_profile("ci", derandomize=True)
    if os.environ.get("CI"):
        _hypothesis_settings.load_profile("ci")
