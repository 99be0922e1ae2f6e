"""Run a TensorFlow 1 graph-mode script for real, in its own interpreter.

`tf.disable_v2_behavior()` changes process-wide defaults (reference variables, control
flow v1) that the rest of the test session must not inherit, and those defaults are
what TF1 code meets; so each source runs in a fresh process, with a time limit for the
cases that hang.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run_tf1(source: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `source` (dedented) with `python -c`; skips the test when TensorFlow is absent."""
    pytest.importorskip("tensorflow")
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True, text=True, timeout=timeout,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin"},
    )
