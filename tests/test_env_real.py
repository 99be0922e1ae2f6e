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
    return {v["id"]: v for v in document["verdicts"]}


def test_exit_zero_and_no_framework_imported_in_dldoctor_itself(real_run):
    document, report, _ = real_run
    failures = [v for v in document["verdicts"] if v["status"] == "FAIL"]
    assert report["status"] == 0 and not failures, failures
    assert report["imported"] == [], "torch/tensorflow/pynvml must only be imported in probe subprocesses"


def test_real_pynvml_reports_no_driver(real_run):
    document, _, _ = real_run
    nvml = document["snapshot"]["nvml"]
    if nvml["status"] == "ok":  # a machine with a driver: the facts must be there
        assert nvml["driver_version"] and isinstance(nvml["gpus"], list)
        return
    assert nvml["status"] == "library_not_found", nvml
    assert nvml["error_class"] == "NVMLError_LibraryNotFound"
    v = _verdicts(document)["nvidia.driver"]
    assert (v["status"], v["summary"]) == ("SKIP", "no NVIDIA driver: CPU only")
    assert _verdicts(document)["gpu"]["status"] == "SKIP"


def test_real_torch_probe(real_run):
    _require("torch")
    document, _, _ = real_run
    probe = document["snapshot"]["torch"]["probe"]
    assert probe["outcome"] == "ok", probe
    facts = probe["facts"]
    assert facts["version"] == metadata.version("torch")
    assert document["snapshot"]["packages"]["versions"]["torch"] == metadata.version("torch")
    build = _verdicts(document)["torch.build"]
    assert build["status"] == "OK" and facts["version"] in build["summary"]
    if facts["cuda"] is None:
        assert "CPU-only build" in build["summary"] and facts["cuda_available"] is False


def test_real_tensorflow_probe(real_run):
    _require("tensorflow")
    document, _, _ = real_run
    probe = document["snapshot"]["tensorflow"]["probe"]
    assert probe["outcome"] == "ok", probe
    facts = probe["facts"]
    versions = document["snapshot"]["packages"]["versions"]
    installed = [versions[name] for name in ("tensorflow", "tensorflow-cpu", "tensorflow-intel") if versions.get(name)]
    assert facts["version"] in installed
    assert "is_cuda_build" in facts["build_info"]
    verdicts = _verdicts(document)
    assert verdicts["tensorflow.build"]["status"] == "OK"
    assert verdicts["tensorflow.tested"]["status"] in ("OK", "WARN", "SKIP")
    if verdicts["tensorflow.tested"]["status"] == "OK":
        assert f"{sys.version_info[0]}." in verdicts["tensorflow.tested"]["summary"]


def test_real_tensorboard_and_versions(real_run):
    document, _, _ = real_run
    verdicts = _verdicts(document)
    installed = importlib.util.find_spec("tensorboard") is not None
    assert document["snapshot"]["tensorboard"]["probe"]["facts"]["installed"] is installed
    assert verdicts["tensorboard"]["status"] in (("OK",) if installed else ("SKIP", "FAIL"))
    numpy = metadata.version("numpy") if importlib.util.find_spec("numpy") else None
    if numpy:
        assert numpy in (verdicts.get("versions") or {}).get("summary", numpy)


def test_probes_run_concurrently(real_run):
    document, _, wall = real_run
    snap = document["snapshot"]
    seconds = [snap[name]["probe"]["seconds"] for name in ("torch", "tensorflow", "tensorboard")]
    assert snap["seconds"] < sum(seconds), (snap["seconds"], seconds)
    assert snap["seconds"] <= max(seconds) + 1.5, "bounded by the slowest probe, not the sum"
    assert wall < 60


def test_the_saved_snapshot_gives_the_same_verdicts_anywhere(real_run, tmp_path):
    document, _, _ = real_run
    saved = tmp_path / "env.json"
    saved.write_text(json.dumps(document), encoding="utf-8")
    run = run_dldoctor("env", "--from", saved, "--json", cwd=tmp_path)
    assert run.returncode == 0 and run.json()["verdicts"] == document["verdicts"]
    bare = tmp_path / "snapshot.json"
    bare.write_text(json.dumps(document["snapshot"]), encoding="utf-8")
    text = run_dldoctor("env", "--from", bare, cwd=tmp_path)
    text.assert_no_traceback()
    assert text.returncode == 0
    for section in ("Python and platform", "NVIDIA driver", "GPUs", "PyTorch", "TensorFlow", "TensorBoard",
                    "Version sanity", "Distributed"):
        assert section in text.lines
    assert text.lines[-1].startswith("no failures: ")
    assert "\x1b[" not in text.stdout, "plain text when stdout is not a terminal"


def test_quick_is_quick_and_still_checks_the_port(tmp_path):
    started = time.monotonic()
    run = run_dldoctor("env", "--quick", "--json", cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stdout + run.stderr
    snap = run.json()["snapshot"]
    assert snap["torch"]["probe"] == {"outcome": "skipped", "reason": "--quick"}
    assert snap["tensorflow"]["probe"]["outcome"] == "skipped"
    assert snap["port"]["port"] and snap["port"]["free"] in (True, False)
    assert snap["nvml"]["status"] in ("ok", "library_not_found", "not_installed")
    assert elapsed < 3.0, f"--quick took {elapsed:.1f} s"
