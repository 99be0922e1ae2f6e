"""`dldoctor env` on this very machine: the real pynvml, the real torch and TensorFlow in subprocesses.

One real full run is shared by the tests (session fixture); it runs the console
entry point in a wrapper that also reports, after the JSON, which framework
modules the dldoctor process itself imported (none may be).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from importlib import metadata

import pytest

from conftest import run_dldoctor, run_reporting_imports



def _require(name: str) -> None:
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed here")


@pytest.fixture(scope="session")
def real_run(tmp_path_factory):
    """The real `dldoctor env --json` on this machine: (document, wrapper report, wall seconds)."""
    cwd = tmp_path_factory.mktemp("env-real")
    started = time.monotonic()
    body, report, completed = run_reporting_imports(
        ["env", "--json"], ["torch", "tensorflow", "pynvml", "tensorboard"], cwd
    )
    wall = time.monotonic() - started
    assert "Traceback" not in completed.stderr, completed.stderr
    return json.loads(body), report, wall


def _verdicts(document) -> dict[str, dict]:
    return {v["id"] + (f"[{v['subject']}]" if v.get("subject") else ""): v for v in document["checks"]}


def test_exit_zero_and_no_framework_imported_in_dldoctor_itself(real_run):
    document, report, _ = real_run
    failures = [v for v in document["checks"] if v["status"] == "fail"]
    assert report["status"] == 0 and not failures, failures
    assert report["imported"] == [], "torch/tensorflow/pynvml must only be imported in probe subprocesses"


def test_real_pynvml_reports_no_driver(real_run):
    document, _, _ = real_run
    nvml = document["facts"]["nvml"]
    if nvml["status"] == "ok":  # a machine with a driver: the facts must be there
        assert nvml["driver_version"] and isinstance(nvml["gpus"], list)
        return
    assert nvml["status"] == "library_not_found", nvml
    assert nvml["error_class"] == "NVMLError_LibraryNotFound"
    v = _verdicts(document)["env.nvidia-driver"]
    assert (v["status"], v["title"]) == ("skip", "no NVIDIA driver: CPU only")
    assert _verdicts(document)["env.gpu"]["status"] == "skip"


def test_real_torch_probe(real_run):
    _require("torch")
    document, _, _ = real_run
    probe = document["facts"]["torch"]["probe"]
    assert probe["outcome"] == "ok", probe
    facts = probe["facts"]
    assert facts["version"] == metadata.version("torch")
    assert document["facts"]["packages"]["versions"]["torch"] == metadata.version("torch")
    build = _verdicts(document)["env.torch-build"]
    assert build["status"] == "ok" and facts["version"] in build["title"]
    if facts["cuda"] is None:
        assert "CPU-only build" in build["title"] and facts["cuda_available"] is False


def test_real_tensorflow_probe(real_run):
    _require("tensorflow")
    document, _, _ = real_run
    probe = document["facts"]["tensorflow"]["probe"]
    assert probe["outcome"] == "ok", probe
    facts = probe["facts"]
    versions = document["facts"]["packages"]["versions"]
    installed = [versions[name] for name in ("tensorflow", "tensorflow-cpu", "tensorflow-intel") if versions.get(name)]
    assert facts["version"] in installed
    assert "is_cuda_build" in facts["build_info"]
    verdicts = _verdicts(document)
    assert verdicts["env.tensorflow-build"]["status"] == "ok"
    assert verdicts["env.tensorflow-tested-config"]["status"] in ("ok", "warn", "skip")
    if verdicts["env.tensorflow-tested-config"]["status"] == "ok":
        assert f"{sys.version_info[0]}." in verdicts["env.tensorflow-tested-config"]["title"]


def test_real_tensorboard_and_versions(real_run):
    document, _, _ = real_run
    verdicts = _verdicts(document)
    installed = importlib.util.find_spec("tensorboard") is not None
    assert document["facts"]["tensorboard"]["probe"]["facts"]["installed"] is installed
    assert verdicts["env.tensorboard"]["status"] in (("ok",) if installed else ("skip", "fail"))
    numpy = metadata.version("numpy") if importlib.util.find_spec("numpy") else None
    if numpy:
        assert numpy in (verdicts.get("env.requirement-unsatisfied") or {}).get("title", numpy)


def test_probes_run_concurrently(real_run):
    document, _, wall = real_run
    snap = document["facts"]
    seconds = [snap[name]["probe"]["seconds"] for name in ("torch", "tensorflow", "tensorboard")]
    assert snap["seconds"] < sum(seconds), (snap["seconds"], seconds)
    assert snap["seconds"] <= max(seconds) + 1.5, "bounded by the slowest probe, not the sum"
    assert wall < 60


def test_the_saved_snapshot_gives_the_same_verdicts_anywhere(real_run, tmp_path):
    document, _, _ = real_run
    saved = tmp_path / "env.json"
    saved.write_text(json.dumps(document), encoding="utf-8")
    run = run_dldoctor("env", "--from", saved, "--json", cwd=tmp_path)
    assert run.returncode == 0 and run.json()["checks"] == document["checks"]
    bare = tmp_path / "snapshot.json"
    bare.write_text(json.dumps(document["facts"]), encoding="utf-8")
    text = run_dldoctor("env", "--from", bare, cwd=tmp_path)
    text.assert_no_traceback()
    assert text.returncode == 0
    for section in ("Python and platform", "NVIDIA driver", "GPUs", "PyTorch", "TensorFlow", "TensorBoard",
                    "Version sanity", "Distributed"):
        assert section in text.lines
    assert text.lines[-1].startswith(("verdict: OK: ", "verdict: WARN: "))
    assert "\x1b[" not in text.stdout, "plain text when stdout is not a terminal"


def test_quick_is_quick_and_still_checks_the_port(tmp_path):
    started = time.monotonic()
    run = run_dldoctor("env", "--quick", "--json", cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stdout + run.stderr
    snap = run.json()["facts"]
    assert snap["torch"]["probe"] == {"outcome": "skipped", "reason": "--quick"}
    assert snap["tensorflow"]["probe"]["outcome"] == "skipped"
    assert snap["port"]["port"] and snap["port"]["free"] in (True, False)
    assert snap["nvml"]["status"] in ("ok", "library_not_found", "not_installed")
    assert elapsed < 3.0, f"--quick took {elapsed:.1f} s"
