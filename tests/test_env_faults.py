"""Probe faults injected for real: a framework whose import raises, one that segfaults, one that hangs.

Fake `torch` / `tensorflow` packages are put first on the probes' PYTHONPATH
(DLDOCTOR_ENV_PYTHONPATH); the probes are real subprocesses that really raise,
crash with SIGSEGV, or sleep until killed.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from conftest import clean_env, run_dldoctor, write
from dldoctor.probes.env import frameworks, snapshot

CUDNN = 'raise ImportError("libcudnn.so.8: cannot open shared object file: No such file or directory")\n'
SEGFAULT = "import ctypes\nctypes.string_at(0)\n"
# Hangs, and starts a child that hangs too: a timeout must kill both.
HANG = """import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(os.environ["DLDOCTOR_TEST_PIDS"], "a") as handle:
    handle.write(f"{os.getpid()} {child.pid}\\n")
time.sleep(600)
"""


def fakes(root: Path, **packages: str) -> Path:
    for name, source in packages.items():
        write(root / "fakes" / name / "__init__.py", source)
    return root / "fakes"


def alive(pid: int) -> bool:
    """Running (a killed zombie that init has not reaped yet does not count)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def verdicts(run) -> dict[str, dict]:
    """The checks of the JSON report, by id and subject (`env.framework-import[torch]`)."""
    return {v["id"] + (f"[{v['subject']}]" if v.get("subject") else ""): v for v in run.json()["checks"]}


def test_import_error_and_segfault(tmp_path):
    path = fakes(tmp_path, torch=CUDNN, tensorflow=SEGFAULT)
    run = run_dldoctor("env", "--json", "--timeout", "30", cwd=tmp_path, env=clean_env(DLDOCTOR_ENV_PYTHONPATH=str(path)))
    assert "Traceback" not in run.stderr, run.stderr  # the captured traceback is data inside the JSON
    assert run.returncode == 1
    found = verdicts(run)
    torch = found["env.framework-import[torch]"]
    assert torch["status"] == "fail"
    assert "libcudnn.so.8: cannot open shared object file" in torch["title"]
    assert "cuDNN 8" in torch["detail"], "the verdict explains the error"
    assert any("LD_LIBRARY_PATH" in a for a in torch["fix"])
    tf = found["env.framework-import[tensorflow]"]
    assert tf["status"] == "fail" and "SIGSEGV" in tf["title"]
    probe = run.json()["facts"]["tensorflow"]["probe"]
    assert probe["outcome"] == "crashed" and probe["returncode"] == -signal.SIGSEGV
    assert "Segmentation fault" in probe["stderr_tail"], "faulthandler's report is kept"


def test_the_text_report_explains_it(tmp_path):
    path = fakes(tmp_path, torch=CUDNN, tensorflow=SEGFAULT)
    run = run_dldoctor("env", cwd=tmp_path, env=clean_env(DLDOCTOR_ENV_PYTHONPATH=str(path)))
    run.assert_no_traceback()
    assert run.returncode == 1
    assert "  ✗ import torch fails: ImportError: libcudnn.so.8: cannot open shared object file" in run.stdout
    assert "  ✗ importing TensorFlow crashed the Python process (SIGSEGV)" in run.stdout
    assert run.lines[-1].startswith("verdict: FAIL: ")


def test_hanging_probes_time_out_together_and_are_killed(tmp_path):
    path = fakes(tmp_path, torch=HANG, tensorflow=HANG)
    pids = tmp_path / "pids"
    started = time.monotonic()
    run = run_dldoctor("env", "--json", "--timeout", "3", cwd=tmp_path,
                       env=clean_env(DLDOCTOR_ENV_PYTHONPATH=str(path), DLDOCTOR_TEST_PIDS=str(pids)))
    elapsed = time.monotonic() - started
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1
    found = verdicts(run)
    for name in ("torch", "tensorflow"):
        assert found[f"env.framework-import[{name}]"]["status"] == "fail"
        assert f"import {name} did not finish within 3.0 s" in found[f"env.framework-import[{name}]"]["title"]
        assert run.json()["facts"][name]["probe"]["outcome"] == "timeout"
    assert elapsed < 3 + 3 - 0.5, f"two 3 s timeouts took {elapsed:.1f} s: the probes did not run concurrently"
    time.sleep(0.2)
    recorded = [int(pid) for line in pids.read_text().split("\n") if line for pid in line.split()]
    assert len(recorded) == 4
    for pid in recorded:
        assert not alive(pid), f"process {pid} of a timed-out probe is still running"


def test_collect_directly_with_a_fake(tmp_path, monkeypatch):
    """The collector itself, in-process, limited to one probe: no mocks, a real crashing subprocess."""
    path = fakes(tmp_path, torch="import os, signal\nos.kill(os.getpid(), signal.SIGABRT)\n")
    monkeypatch.setenv("DLDOCTOR_ENV_PYTHONPATH", str(path))
    snap = snapshot.collect(timeout=20, probes=("torch",))
    probe = snap["torch"]["probe"]
    assert probe["outcome"] == "crashed" and probe["signal"] == "SIGABRT"
    assert snap["tensorflow"]["probe"]["outcome"] == "skipped"
    assert snap["nvml"] == {"status": "skipped"}


def test_a_missing_interpreter_is_a_verdict_not_a_crash(tmp_path):
    run = run_dldoctor("env", "--json", cwd=tmp_path, env=clean_env(DLDOCTOR_ENV_PYTHON=str(tmp_path / "no-python")))
    assert "Traceback" not in run.stderr, run.stderr
    found = verdicts(run)
    assert found["env.framework-import[torch]"]["status"] == "fail" and "cannot start" in found["env.framework-import[torch]"]["title"]
    assert found["env.nvidia-driver"]["status"] == "fail"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ImportError: libcudart.so.11.0: cannot open shared object file", "CUDA 11.0 runtime"),
        ("ImportError: DLL load failed while importing _pywrap_tensorflow_internal", "Windows could not load a DLL"),
        ("ImportError: No module named '_pywrap_tensorflow'", "_pywrap_tensorflow"),
        ("A module that was compiled using NumPy 1.x cannot be run in\nNumPy 2.0.0 as it may crash.", "NumPy ABI"),
        ("ImportError: numpy.core.multiarray failed to import", "NumPy ABI"),
        ("TypeError: Descriptors cannot be created directly.", "protobuf"),
        ("ModuleNotFoundError: No module named 'torch._C'", "'torch._C', which is missing"),
        ("ImportError: /lib/x86_64-linux-gnu/libm.so.6: version `GLIBC_2.29' not found", "C/C++ runtime"),
    ],
)
def test_import_errors_are_explained_from_their_text(text, expected):
    framework = "torch" if "torch" in text else "tensorflow"
    what, advice = frameworks.explain_import_error(framework, text)
    assert expected in what and advice


def test_sigill_means_missing_cpu_features():
    what, _ = frameworks.explain_crash("tensorflow", "SIGILL", "")
    assert "AVX" in what
