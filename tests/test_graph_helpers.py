"""Helpers of the `dldoctor graph` tests (no tests here): write a tiny script, run `dldoctor graph ...` on it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import run_dldoctor

TF1_HEADER = """\
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()
"""


def script(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line of `path` containing `needle` (never typed in by hand)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def graph(*args, cwd: Path, timeout: float = 120):
    return run_dldoctor("graph", *args, cwd=cwd, timeout=timeout)
