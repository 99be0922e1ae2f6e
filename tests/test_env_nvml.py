"""The NVML probe against the real pynvml (nvidia-ml-py): no driver here, and no pynvml in a bare venv."""

from __future__ import annotations

import ctypes.util
import json
import subprocess
import sys
import venv

import pytest

from conftest import clean_env, run_dldoctor
from dldoctor.probes.env import nvml, runner


def test_real_pynvml_without_a_driver():
    pytest.importorskip("pynvml")
    result = runner.run_all({"nvml": ("nvml", ())}, timeout=30)["nvml"]
    assert result["outcome"] == "ok", result
    facts = result["facts"]
    if ctypes.util.find_library("nvidia-ml"):  # a machine with a driver
        assert facts["status"] == "ok" and facts["driver_version"]
        return
    assert facts["status"] == "library_not_found"
    assert facts["error_class"] == "NVMLError_LibraryNotFound"
    assert "Not Found" in facts["error"]


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> str:
    """An interpreter with nothing installed: no pynvml, no torch, no tensorflow."""
    root = tmp_path_factory.mktemp("bare-venv")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    python = root / "bin" / "python"
    assert subprocess.run([str(python), "-c", "import pynvml"], capture_output=True).returncode != 0
    return str(python)


def test_pynvml_not_installed_is_a_skip_with_advice(tmp_path, bare_python):
    run = run_dldoctor("env", "--quick", "--json", cwd=tmp_path, env=clean_env(DLDOCTOR_ENV_PYTHON=bare_python))
    assert run.returncode == 0, run.stdout + run.stderr
    document = run.json()
    assert document["facts"]["nvml"]["status"] == "not_installed"
    v = next(v for v in document["checks"] if v["id"] == "env.nvidia-driver")
    assert v["status"] == "skip" and "pynvml not installed" in v["title"]
    assert v["fix"] == ["pip install nvidia-ml-py"]


def test_frameworks_missing_from_the_probed_interpreter(tmp_path, bare_python):
    """The probes run under the named interpreter: there torch is not importable."""
    run = run_dldoctor("env", "--json", cwd=tmp_path, env=clean_env(DLDOCTOR_ENV_PYTHON=bare_python))
    document = run.json()
    error = document["facts"]["torch"]["probe"]["facts"]["import_error"]
    assert error["type"] == "ModuleNotFoundError" and "'torch'" in error["message"]
    tb = document["facts"]["tensorboard"]["probe"]["facts"]
    assert tb == {"installed": False}


def test_throttle_reason_bits():
    assert nvml.throttle_names(0x1 | 0x8 | 0x40) == ["gpu_idle", "hw_slowdown", "hw_thermal_slowdown"]
    assert nvml.throttle_names(0) == []


def test_the_probe_script_runs_standalone():
    """The file is its own probe script: stdlib only at module level, one answer line."""
    completed = subprocess.run([sys.executable, "-I", "-c", runner.script_source("nvml")], capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    line = completed.stdout.strip().splitlines()[-1]
    assert line.startswith(runner.MARKER)
    assert json.loads(line[len(runner.MARKER):])["status"] in ("ok", "library_not_found", "not_installed")
