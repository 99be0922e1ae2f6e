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
        cwd=tmp_path,  # away from this repository's own pins (torch==2.13.0 in pyproject.toml)
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


def test_a_projects_own_data_pickle_is_not_a_model_file():
    # tf-faster-rcnn's reval: the detections test_net wrote; progressive GAN's dataset tool: SVHN batches.
    sources = [
        "import os, pickle\nwith open(os.path.join(output_dir, 'detections.pkl'), 'rb') as f:\n    dets = pickle.load(f)\n",
        "import os, pickle\nfor batch in range(1, 4):\n"
        "    with open(os.path.join(svhn_dir, 'train_%d.pkl' % batch), 'rb') as file:\n"
        "        data = pickle.load(file, encoding='latin1')\n",
        "import pickle\nwith open(model_dir + '/vocab.pkl', 'rb') as f:\n    vocab = pickle.load(f)\n",
    ]
    for source in sources:
        assert lint(source, "DL502") == [], source
    # A pickle named as a model, a classifier or a network is one.
    models = [
        "import os, pickle\nwith open(os.path.join(output_dir, 'model.pkl'), 'rb') as f:\n    m = pickle.load(f)\n",
        "import pickle\nwith open('checkpoints/svm_clf.pkl', 'rb') as f:\n    clf = pickle.load(f)\n",
        "import pickle\nwith open(model_path + '.pkl', 'rb') as f:\n    m = pickle.load(f)\n",
    ]
    for source in models:
        assert len(lint(source, "DL502")) == 1, source
    (message,) = messages(models[0], "DL502")
    assert "unpickles a model file (`os.path.join(output_dir, 'model.pkl')`)" in message


def test_a_pickled_classifier_is_a_model_file():
    # facenet's classifier.py: an sklearn SVC pickled with its class names, loaded back to classify.
    source = """
        import os, pickle
        import numpy as np

        def classify(args, emb_array):
            classifier_filename_exp = os.path.expanduser(args.classifier_filename)
            with open(classifier_filename_exp, 'rb') as infile:
                (model, class_names) = pickle.load(infile)
            return np.argmax(model.predict_proba(emb_array), axis=1)
    """
    assert lines(source, "DL502") == [8]
    (message,) = messages(source, "DL502")
    # No torch in this module: the advice is a format that holds no code, not torch.load.
    assert "safetensors, NumPy `.npz`" in message and "torch.load" not in message
    with_torch = "import torch\n" + textwrap.dedent(source)
    (message,) = messages(with_torch, "DL502")
    assert "torch.load(..., weights_only=True)" in message
    # The same code reading a label map is not a model.
    labels = source.replace("args.classifier_filename", "args.label_map").replace("classifier_filename_exp", "label_file")
    assert lint(labels, "DL502") == []


def test_an_unpickler_subclass_given_a_network_snapshot_is_reported():
    # progressive_growing_of_gans' misc.load_pkl: a project Unpickler, given network
    # snapshots by a caller in the same module.
    source = """
        import legacy

        def load_pkl(filename):
            with open(filename, 'rb') as file:
                return legacy.LegacyUnpickler(file, encoding='latin1').load()

        def load_network_pkl(run_id, snapshot=None):
            return load_pkl(locate_network_pkl(run_id, snapshot))
    """
    assert lint(source, "DL502") == [(6, 16, "DL502")]
    (message,) = messages(source, "DL502")
    assert "`filename`, which `load_pkl(locate_network_pkl(run_id, snapshot))` passes" in message
    assert "legacy.LegacyUnpickler(...).load" in message
    # Called only with data, the helper loads no model.
    data_only = source.replace("locate_network_pkl(run_id, snapshot)", "os.path.join(cache_dir, 'index.pkl')")
    assert lint(data_only, "DL502") == []
    # The standard Unpickler on a model path, directly.
    direct = "import pickle\nwith open(args.model_path, 'rb') as f:\n    net = pickle.Unpickler(f).load()\n"
    assert lines(direct, "DL502") == [3]
    assert lint(direct.replace("args.model_path", "args.samples"), "DL502") == []


def test_a_downloaded_pickle_is_reported():
    # PyTorch-GAN's MNIST-M download(): fetch a .pkl.gz from a release URL, gunzip it, unpickle it.
    source = """
        import gzip, os, pickle, urllib.request

        def download(self):
            filename = self.url.rpartition("/")[2]
            file_path = os.path.join(self.root, self.raw_folder, filename)
            data = urllib.request.urlopen(self.url)
            with open(file_path, "wb") as f:
                f.write(data.read())
            with open(file_path.replace(".gz", ""), "wb") as out_f, gzip.GzipFile(file_path) as zip_f:
                out_f.write(zip_f.read())
            with open(file_path.replace(".gz", ""), "rb") as f:
                mnist_m_data = pickle.load(f, encoding="bytes")
            return mnist_m_data
    """
    assert lines(source, "DL502") == [13]
    (message,) = messages(source, "DL502")
    assert "a file this code downloads" in message and "SHA-256" in message
    # urlretrieve to the path that is then unpickled.
    retrieved = """
        import pickle
        from urllib.request import urlretrieve
        def fetch(url, dest):
            urlretrieve(url, dest)
            with open(dest, "rb") as f:
                return pickle.load(f)
    """
    assert lines(retrieved, "DL502") == [7]
    # Without a download in the function, the same file is the project's own.
    local = source.replace("data = urllib.request.urlopen(self.url)", "data = open(self.source, 'rb')")
    assert lint(local, "DL502") == []
    # A download of another file does not make every pickle a download.
    other = retrieved.replace("open(dest,", "open(cache_index,")
    assert lint(other, "DL502") == []


def test_a_numpy_array_saved_with_torch_is_not_told_to_use_weights_only():
    # time_sequence_prediction's shape: `weights_only=True` refuses a NumPy array
    # (`Unsupported global: GLOBAL numpy.core.multiarray._reconstruct`), so that fix would break it.
    source = """
        import torch
        data = torch.load('traindata.pt', weights_only=False)
        input = torch.from_numpy(data[3:, :-1])
    """
    ((line, _, _),) = lint(source, "DL502")
    assert line == 3
    (message,) = messages(source, "DL502")
    assert "np.save" in message and "np.load" in message and "refuses" in message
    assert fixes(source, "DL502") == []
    # A checkpoint keeps the weights_only fix.
    checkpoint = source.replace("input = torch.from_numpy(data[3:, :-1])", "model.load_state_dict(data)")
    ((applicability, _, _),) = fixes(checkpoint, "DL502")
    assert applicability == "unsafe"


def test_a_numpy_array_on_old_torch_gets_the_numpy_advice(tmp_path):
    source = """
        import torch
        data = torch.load('traindata.pt')
        target = torch.from_numpy(data[3:, 1:])
    """
    (finding,) = findings_with_torch(tmp_path, "2.5.1", source)
    assert "np.save" in finding["message"] and finding.get("fix") is None
