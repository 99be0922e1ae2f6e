"""DL502 unsafe-deserialization: realistic cases, the torch version rule, fixes, and code that must not fire."""

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata

from lintutil import fixes, lines, lint, messages

from dldoctor.rules.dl502_unsafe_deserialization import (
    installed_torch_version,
    load_is_unsafe_by_default,
    torch_release,
)


def findings_with_torch(tmp_path, version, source):
    """Lint `source` in a subprocess whose installed torch (package metadata) is `version`."""
    dist = tmp_path / f"torch-{version}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "dldoctor", "lint", "-", "--stdin-filename", "train.py",
         "--select", "DL502", "--output-format", "json"],
        input=textwrap.dedent(source), capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert run.stderr == "", run.stderr
    return json.loads(run.stdout)


def test_weights_only_false_is_an_error_with_an_unsafe_fix():
    source = '''
        import torch

        def resume(args, model, optimizer):
            checkpoint = torch.load(args.resume, map_location="cpu", weights_only=False)
            model.load_state_dict(checkpoint["state_dict"])
            optimizer.load_state_dict(checkpoint["optimizer"])
    '''
    assert lint(source, "DL502") == [(5, 75, "DL502")]
    (message,) = messages(source, "DL502")
    assert "weights_only=True" in message and "arbitrary" in message
    ((applicability, (replacement,), fixed),) = fixes(source, "DL502")
    assert (applicability, replacement) == ("unsafe", "True")
    assert 'torch.load(args.resume, map_location="cpu", weights_only=True)' in fixed
    assert lint(fixed, "DL502") == []


def test_version_rule():
    for version in ["1.13.1", "2.0.0", "2.5.1+cu121", "2.5.0a0+git1234", "0.4.1", "", "garbage", None]:
        assert load_is_unsafe_by_default(version), version
    for version in ["2.6.0", "2.6.0+cpu", "2.6.0a0+gitabc", "2.7.1", "2.13.0", "3.0.0", "10.1"]:
        assert not load_is_unsafe_by_default(version), version
    assert torch_release("2.13.0+cpu") == (2, 13)
    assert torch_release(None) is None


def test_the_installed_torch_is_read_from_metadata():
    assert installed_torch_version() == metadata.version("torch")
    assert torch_release(installed_torch_version()) >= (2, 6)
    # Here torch 2.13 is installed: its default is already weights_only=True.
    assert lint("import torch\nstate = torch.load(path, map_location='cpu')\n", "DL502") == []


def test_missing_weights_only_on_old_torch_is_a_warning(tmp_path):
    source = '''
        import torch
        state = torch.load(path, map_location="cpu")
    '''
    (finding,) = findings_with_torch(tmp_path, "2.5.1", source)
    assert (finding["location"]["row"], finding["severity"]) == (3, "warning")
    assert "the installed torch is 2.5.1" in finding["message"]
    assert "weights_only=True" in finding["message"]
    fix = finding["fix"]
    assert fix["applicability"] == "unsafe"
    assert [edit["content"] for edit in fix["edits"]] == ['torch.load(path, map_location="cpu", weights_only=True)']


def test_missing_weights_only_with_an_unreadable_version_is_a_warning(tmp_path):
    (finding,) = findings_with_torch(tmp_path, "unknown", "import torch\nstate = torch.load(path, map_location=dev)\n")
    assert finding["severity"] == "warning" and "unknown" in finding["message"]


def test_weights_only_false_stays_an_error_on_old_torch(tmp_path):
    source = "import torch\nstate = torch.load(path, map_location=dev, weights_only=False)\n"
    (finding,) = findings_with_torch(tmp_path, "2.4.0", source)
    assert finding["severity"] == "error"


def test_numpy_allow_pickle():
    source = '''
        import numpy as np

        def load_captions(path):
            data = np.load(path, allow_pickle=True).item()
            return data["captions"]
    '''
    assert lint(source, "DL502") == [(5, 39, "DL502")]


def test_pickle_and_joblib_of_model_files():
    cases = [
        "import pickle\nwith open('checkpoints/model.pkl', 'rb') as f:\n    model = pickle.load(f)\n",
        "import pickle\nf = open(os.path.join(out_dir, 'best.pth'), 'rb')\nstate = pickle.load(f)\n",
        "import pickle\nmodel = pickle.load(open(args.model_path, 'rb'))\n",
        "import _pickle as cPickle\nparams = cPickle.load(open(ckpt_file, 'rb'))\n",
        "import joblib\nclf = joblib.load('svm.joblib')\n",
        "from sklearn.externals import joblib\nclf = joblib.load(f'{out}/clf.pkl')\n",
        "import dill\nwith open(checkpoint, 'rb') as fh:\n    net = dill.load(fh)\n",
    ]
    for source in cases:
        result = lines(source, "DL502")
        assert len(result) == 1, source


def test_pickle_findings_are_warnings(tmp_path):
    (finding,) = findings_with_torch(tmp_path, "2.13.0", "import joblib\nclf = joblib.load('svm.joblib')\n")
    assert finding["severity"] == "warning"


def test_must_not_fire():
    sources = [
        "import torch\nstate = torch.load(path, map_location='cpu', weights_only=True)\n",
        "import torch\nstate = torch.load(path, weights_only=trusted)\n",
        "import torch\nstate = torch.load(path, **kwargs)\n",
        "import numpy as np\nx = np.load('feats.npy')\n",
        "import numpy as np\nx = np.load('feats.npy', allow_pickle=False)\n",
        "import numpy as np\nx = np.load('feats.npy', allow_pickle=allow)\n",
        "import pickle\nwith open('vocab.json', 'rb') as f:\n    vocab = pickle.load(f)\n",
        "import pickle\nwith open(cache_file, 'rb') as f:\n    data = pickle.load(f)\n",
        "import pickle\nobj = pickle.loads(payload)\n",
        # A round trip in memory within one function.
        "import io, torch\ndef copy(m):\n    b = io.BytesIO()\n    torch.save(m, b)\n    b.seek(0)\n"
        "    return torch.load(b, weights_only=False)\n",
        # A project's own pickle module.
        "from . import pickle\nm = pickle.load(open('model.pkl', 'rb'))\n",
    ]
    for source in sources:
        assert lint(source, "DL502") == [], source
