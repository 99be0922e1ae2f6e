"""DL503 weights-only-refuses-checkpoint: checkpoints that torch >= 2.6 refuses with its default weights_only=True."""

import subprocess
import sys

from lintutil import lines, messages


def test_whole_model_saved_through_a_handle_and_loaded_back():
    source = '''
        import torch
        from model import RNNModel

        model = RNNModel(ntokens, emsize, nhid, nlayers).to(device)
        for epoch in range(epochs):
            train()
            if val_loss < best_val_loss:
                with open(args.save, "wb") as f:
                    torch.save(model, f)
        with open(args.save, "rb") as f:
            model = torch.load(f)
    '''
    assert lines(source, "DL503") == [12]
    (message,) = messages(source, "DL503")
    assert "an instance of `RNNModel`" in message and "Weights only load failed" in message
    assert "state_dict()" in message and "weights_only=False" in message


def test_args_and_numpy_arrays_in_a_checkpoint_dict():
    source = '''
        import argparse
        import numpy as np
        import torch

        parser = argparse.ArgumentParser()
        args = parser.parse_args()

        def save_checkpoint(path):
            torch.save({"model": model.state_dict(), "epoch": epoch, "args": args}, path)

        def resume(path):
            return torch.load(path, map_location="cpu")

        torch.save(dict(model=model.state_dict(), mean=np.mean(features, axis=0)), "stats.pt")
        stats = torch.load("stats.pt")
        save_checkpoint(CKPT)
        resume(CKPT)
    '''
    # `save_checkpoint(path)` and `resume(path)` take the path as a parameter: not matched.
    assert lines(source, "DL503") == [16]
    assert "a NumPy array (`np.mean(features, axis=0)`) under `mean`" in messages(source, "DL503")[0]


def test_same_path_args_in_one_script():
    source = '''
        import argparse
        import torch
        args = argparse.ArgumentParser().parse_args()
        torch.save({"state_dict": net.state_dict(), "args": args}, "checkpoint.pth")
        ckpt = torch.load("checkpoint.pth")
    '''
    assert lines(source, "DL503") == [6]
    assert "an `argparse.Namespace`" in messages(source, "DL503")[0]


def test_must_not_fire():
    sources = [
        # State dicts, numbers and strings load with weights_only=True.
        "import torch\nstate = {'net': net.state_dict(), 'acc': 91.2, 'epoch': 3, 'arch': 'resnet18'}\n"
        "torch.save(state, './checkpoint/ckpt.pth')\ncheckpoint = torch.load('./checkpoint/ckpt.pth')\n",
        "import torch\ntorch.save(vars(args), 'args.pt')\nloaded = torch.load('args.pt')\n",
        # weights_only given; the classes allowed.
        "import torch\nmodel = Net()\ntorch.save(model, 'm.pt')\nmodel = torch.load('m.pt', weights_only=False)\n",
        "import torch\nmodel = Net()\ntorch.save(model, 'm.pt')\nwith torch.serialization.safe_globals([Net]):\n"
        "    model = torch.load('m.pt')\n",
        "import torch\ntorch.serialization.add_safe_globals([Net])\nmodel = Net()\ntorch.save(model, 'm.pt')\n"
        "model = torch.load('m.pt')\n",
        # A model of unknown value (a parameter), and a different file loaded.
        "import torch\ndef save(model, path):\n    torch.save(model, path)\n    return torch.load(path)\n",
        "import torch\nmodel = Net()\ntorch.save(model, 'full.pt')\nsd = torch.load('weights.pt')\n",
        # The file is written again with a state dict before the load.
        "import torch\nmodel = Net()\ntorch.save(model, 'm.pt')\ntorch.save(model.state_dict(), 'm.pt')\n"
        "sd = torch.load('m.pt')\n",
        # A model bound in one branch only.
        "import torch\nif big:\n    model = Big()\nelse:\n    model = make_small()\ntorch.save(model, 'm.pt')\n"
        "model = torch.load('m.pt')\n",
    ]
    for source in sources:
        assert lines(source, "DL503") == [], source


def test_a_target_torch_before_2_6_is_left_to_dl502(tmp_path):
    (tmp_path / "train.py").write_text(
        "import torch\nmodel = Net()\ntorch.save(model, 'm.pt')\nmodel = torch.load('m.pt')\n"
    )
    for pin, expected in (("torch==2.5.1", False), ("torch==2.6.0", True)):
        (tmp_path / "requirements.txt").write_text(pin + "\n")
        run = subprocess.run(
            [sys.executable, "-m", "dldoctor", "lint", "--no-cache", "--select", "DL503", "--output-format",
             "concise", "."],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )
        assert ("DL503" in run.stdout) == expected, (pin, run.stdout)
        if expected:
            assert "the target torch is 2.6.0 (requirements.txt:1)" in run.stdout
