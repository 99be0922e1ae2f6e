"""`dldoctor ckpt` on real PyTorch checkpoints: DDP prefixes, a new head, missing and
unexpected keys, dtype changes, a Lightning-style wrapper, safetensors.

The suggested fixes are not just printed: the tests run the one-line code dldoctor
gives and load the result into the real model with `load_state_dict`.
"""

from __future__ import annotations

import re
import sys

import pytest

from conftest import clean_env, run_dldoctor

torch = pytest.importorskip("torch")

NETS = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, num_classes=1000, extra=False, in_size=16):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(nn.Conv2d(8, 8, 3), nn.BatchNorm2d(8))
        self.layer2 = nn.Sequential(nn.Conv2d(8, 16, 3), nn.BatchNorm2d(16))
        if extra:
            self.layer3 = nn.Sequential(nn.Conv2d(16, 16, 3), nn.BatchNorm2d(16))
        self.fc = nn.Linear(in_size, num_classes)


def build():
    return Net()


def build_10_classes():
    return Net(num_classes=10)


def build_with_layer3():
    return Net(extra=True)


def build_bigger_input():
    return Net(in_size=64)
'''


@pytest.fixture(scope="module")
def pt(tmp_path_factory):
    root = tmp_path_factory.mktemp("torch")
    (root / "nets.py").write_text(NETS)
    sys.path.insert(0, str(root))
    try:
        import nets
    finally:
        sys.path.remove(str(root))
    torch.manual_seed(0)
    state = nets.Net().state_dict()
    torch.save(state, root / "resnet.pt")
    torch.save({"module." + k: v for k, v in state.items()}, root / "ddp.pth")
    torch.save({k: v.double() if v.is_floating_point() else v for k, v in state.items()}, root / "double.pt")
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, root / "half.pt")
    # A checkpoint from an older model: no layer3 of the new one, an `aux` head it dropped.
    older = dict(state)
    older["aux.weight"] = torch.zeros(10, 16)
    older["aux.bias"] = torch.zeros(10)
    torch.save({"model": older, "optimizer": {"state": {}, "param_groups": []}, "epoch": 7, "step": 4200}, root / "older.pt")
    lightning = {
        "epoch": 3,
        "global_step": 1200,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": {"model." + k: v for k, v in state.items()},
        "optimizer_states": [{"state": {}, "param_groups": [{"lr": 0.1}]}],
        "lr_schedulers": [],
    }
    torch.save(lightning, root / "last.ckpt")
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in state.items()}, str(root / "model.safetensors"), metadata={"format": "pt"})
    return root, nets


def _fixes(run) -> list[str]:
    return [line.split("→ ", 1)[1].split("  #")[0] for line in run.lines if line.strip().startswith("→ ")]


def _fix(run) -> str:
    lines = [line.split("→ ", 1)[1] for line in run.lines if line.strip().startswith("→ ")]
    assert lines, run.stdout
    return lines[0].split("  #")[0]


def test_ddp_module_prefix(pt):
    root, nets = pt
    run = run_dldoctor("ckpt", "ddp.pth", "--model", "nets.py:build", cwd=root)
    run.assert_no_traceback()
    assert run.returncode == 1
    assert (
        "✗ Renamed scope/prefix: the checkpoint's names carry the prefix 'module.' "
        "(saved from a DataParallel/DistributedDataParallel-wrapped model) that the model's names lack; "
        "renamed, 23 of 23 entries match." in run.lines
    ), run.stdout
    fix = _fix(run)
    assert fix == "state_dict = {k.removeprefix('module.'): v for k, v in state_dict.items()}"
    # the fix works on the real checkpoint and model
    scope = {"state_dict": torch.load(root / "ddp.pth", weights_only=True)}
    exec(fix, scope)
    nets.Net().load_state_dict(scope["state_dict"])  # strict: raises if the fix were wrong


def test_new_head_fine_tuning(pt):
    root, nets = pt
    run = run_dldoctor("ckpt", "resnet.pt", "--model", "nets.py:build_10_classes", cwd=root)
    run.assert_no_traceback()
    assert run.returncode == 1
    assert "✗ Fine-tuning: everything matches except the head scope fc (2 with another shape)" in run.stdout
    assert "✗ Shape mismatch in the head: the number of classes changed from 1000 to 10 (fc.weight, fc.bias)." in run.lines
    fix = _fix(run)
    state = torch.load(root / "resnet.pt", weights_only=True)
    model = nets.Net(num_classes=10)
    with pytest.raises(RuntimeError, match="size mismatch"):
        model.load_state_dict(state, strict=False)  # why the fix filters keys first
    scope = {"state_dict": state, "model": model}
    exec(fix, scope)  # filters fc.* and loads with strict=False
    assert torch.equal(model.conv1.weight, state["conv1.weight"])


def test_missing_and_unexpected_keys_grouped(pt):
    root, _ = pt
    run = run_dldoctor("ckpt", "older.pt", "--model", "nets.py:build_with_layer3", "--json", cwd=root)
    run.assert_no_traceback()
    assert run.returncode == 1
    data = run.json()
    groups = data["facts"]["groups"]
    assert [(g["scope"], g["count"]) for g in groups["missing"]] == [("layer3", 7)]
    assert [(g["scope"], g["count"]) for g in groups["unexpected"]] == [("aux", 2)]
    messages = [f["title"] for f in data["checks"]]
    assert messages[0].startswith("The weights are under ckpt['model'] (a wrapper dict beside optimizer, epoch, step)"), messages
    assert ("Changed layers: everything matches except the added layer layer3 (7 missing) and the removed layer aux "
            "(2 unexpected): restore all the rest and train the new layer from scratch.") in messages, messages
    assert data["facts"]["checkpoint"]["wrapper"] == 'a wrapper dict: weights under "model"'
    assert data["facts"]["inventory"]["epoch"] == 7 and data["facts"]["inventory"]["global_step"] == 4200 and data["facts"]["inventory"]["optimizer"] is True


def test_input_size_change(pt):
    root, _ = pt
    run = run_dldoctor("ckpt", "resnet.pt", "--model", "nets.py:build_bigger_input", cwd=root)
    assert run.returncode == 1
    assert "fc.weight takes 16 inputs in the checkpoint and 64 in the model: the input size" in run.stdout
    assert "Fine-tuning" not in run.stdout


def test_dtype_changes(pt):
    root, _ = pt
    lossy = run_dldoctor("ckpt", "double.pt", "--model", "nets.py:build", cwd=root)
    assert lossy.returncode == 1
    assert re.search(r"✗ 20 dtype changes that lose information: conv1.weight float64 -> float32, .*load_state_dict casts them silently", lossy.stdout)
    widened = run_dldoctor("ckpt", "half.pt", "--model", "nets.py:build", cwd=root)
    assert widened.returncode == 0, widened.stdout
    assert "✓ 20 tensors widened on load: conv1.weight float16 -> float32" in widened.stdout


def test_lightning_checkpoint(pt):
    root, nets = pt
    inventory = run_dldoctor("ckpt", "last.ckpt", cwd=root)
    inventory.assert_no_traceback()
    assert inventory.returncode == 0
    assert '  Lightning checkpoint (version 2.4.0): weights under "state_dict"' in inventory.lines
    assert "  global step 1200, epoch 3, optimizer state present" in inventory.lines
    assert any(line.split()[:4] == ["total", "23", "19,107", "74.6"] for line in inventory.lines if line.strip()), inventory.stdout
    run = run_dldoctor("ckpt", "last.ckpt", "--model", "nets.py:build", cwd=root)
    assert run.returncode == 1
    assert "the checkpoint's names carry the prefix 'model.' (saved from a wrapper such as a LightningModule" in run.stdout
    assert "✗ The weights are under ckpt['state_dict'] (a Lightning checkpoint beside" in run.stdout
    scope = {"torch": torch, "path": str(root / "last.ckpt")}
    for fix in _fixes(run):  # take the entry, then strip the prefix: the fixes in order
        exec(fix, scope)
    nets.Net().load_state_dict(scope["state_dict"])


def test_safetensors_with_a_package_spec(pt):
    """`--model nets:build` (module name) is imported from the current directory / PYTHONPATH."""
    root, _ = pt
    run = run_dldoctor("ckpt", root / "model.safetensors", "--model", "nets:build", cwd=root.parent, env=clean_env(PYTHONPATH=str(root)))
    run.assert_no_traceback()
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.lines[-1] == "verdict: OK: loads cleanly: all 23 model entries found with matching shapes and dtypes"
    assert "  metadata: format=pt" in run.lines


def test_safetensors_header_only(pt, tmp_path):
    """The header is all dldoctor reads: tensor bytes replaced by garbage change nothing."""
    root, _ = pt
    data = bytearray((root / "model.safetensors").read_bytes())
    header_end = 8 + int.from_bytes(data[:8], "little")
    data[header_end:] = b"\xff" * (len(data) - header_end)
    (tmp_path / "garbage.safetensors").write_bytes(bytes(data))
    run = run_dldoctor("ckpt", "garbage.safetensors", "--json", cwd=tmp_path)
    assert run.returncode == 0
    inventory = run.json()["facts"]["inventory"]
    assert inventory["tensors"] == 23 and inventory["params"] == 19107


def test_against_two_checkpoints(pt):
    root, _ = pt
    run = run_dldoctor("ckpt", "ddp.pth", "--against", "resnet.pt", cwd=root)
    assert run.returncode == 1 and "prefix 'module.'" in run.stdout
    same = run_dldoctor("ckpt", "model.safetensors", "--against", "resnet.pt", cwd=root)
    assert same.returncode == 0, same.stdout
