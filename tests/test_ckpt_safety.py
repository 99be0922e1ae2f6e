"""Untrusted checkpoints: a planted `__reduce__` payload is reported, never run.

dldoctor reads PyTorch files only with `torch.load(weights_only=True)`; the globals a
file needs are listed from its pickle opcodes. The payload here would create a
marker file; the tests prove the file does not appear and the global is named.
"""

from __future__ import annotations

import os
import pickle
import pickletools

import pytest

from conftest import run_dldoctor
from dldoctor.probes.ckpt.safety import pickle_globals

torch = pytest.importorskip("torch")


class Payload:
    """Unpickling this calls os.system(...): it would create the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy-pickle"])
def test_planted_payload_is_reported_and_not_run(tmp_path, legacy):
    marker = tmp_path / "PAYLOAD_RAN"
    torch.save({"weight": torch.zeros(3), "extra": Payload(marker)}, tmp_path / "evil.pt", _use_new_zipfile_serialization=not legacy)
    assert not marker.exists()
    # the payload is real: plain pickle semantics would run it (checked on a copy of the object, not the file)
    pickle.loads(pickle.dumps(Payload(tmp_path / "control")))
    assert (tmp_path / "control").exists()

    run = run_dldoctor("ckpt", "evil.pt", cwd=tmp_path)
    run.assert_no_traceback()
    assert run.returncode == 1
    assert not marker.exists(), "dldoctor ran the checkpoint's payload"
    system = f"{os.system.__module__}.system"  # posix.system on Linux
    assert f"✗ Unsafe to load: the file needs the globals {system} (it calls {system} when unpickled: a code-execution payload)" in run.stdout
    assert run.lines[-1] == "verdict: FAIL: UNSAFE to load: do not load this file: it runs code when unpickled"
    fix = next(line for line in run.lines if line.startswith("  → "))
    assert fix.startswith("  → do not load this file") and "weights_only=False" not in run.stdout

    with_model = run_dldoctor("ckpt", "evil.pt", "--json", "--model", "nowhere.py:build", cwd=tmp_path)
    assert with_model.returncode == 1 and not marker.exists()
    data = with_model.json()
    assert data["facts"]["checkpoint"]["safety"] == {"safe": False, "unsafe_globals": [system], "note": f"it calls {system} when unpickled: a code-execution payload"}


def test_whole_model_pickle_lists_its_classes(tmp_path):
    """torch.save(model) pickles classes: not a weights file; the classes are named."""
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), tmp_path / "whole.pt")
    run = run_dldoctor("ckpt", "whole.pt", "--json", cwd=tmp_path)
    assert run.returncode == 1
    unsafe = run.json()["facts"]["checkpoint"]["safety"]["unsafe_globals"]
    assert "torch.nn.modules.container.Sequential" in unsafe and "torch.nn.modules.linear.Linear" in unsafe


def test_weights_only_files_are_safe(tmp_path):
    torch.save({"w": torch.ones(2, 2), "step": 3}, tmp_path / "ok.pt")
    run = run_dldoctor("ckpt", "ok.pt", cwd=tmp_path)
    assert run.returncode == 0 and run.lines[-1] == "verdict: OK: readable and safe to load (1 tensor)"


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_opcode_scan_finds_globals_in_every_protocol(protocol, tmp_path):
    data = pickle.dumps({"a": Payload(tmp_path / "never"), "b": [pickletools.dis]}, protocol=protocol)
    found = pickle_globals(data)
    assert f"{os.system.__module__}.system" in found and "pickletools.dis" in found
    assert not (tmp_path / "never").exists()


def test_opcode_scan_stops_at_raw_bytes():
    data = pickle.dumps(1) + pickle.dumps({"x": 2}) + b"\x00\xff raw storage bytes"
    assert pickle_globals(data) == []
