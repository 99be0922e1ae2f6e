"""DL504 np-load-needs-allow-pickle: object arrays that NumPy >= 1.16.3 refuses to load by default."""

import subprocess
import sys

from lintutil import lines, messages


def test_pretrained_weight_dict_loader():
    source = '''
        import numpy as np
        import tensorflow.compat.v1 as tf

        def load_initial_weights(session, weights_path, skip_layers):
            weights_dict = np.load(weights_path).item()
            for op_name in weights_dict:
                if op_name in skip_layers:
                    continue
                with tf.variable_scope(op_name, reuse=True):
                    for data in weights_dict[op_name]:
                        var = tf.get_variable("biases" if data.ndim == 1 else "weights")
                        session.run(var.assign(data))
    '''
    assert lines(source, "DL504") == [6]
    (message,) = messages(source, "DL504")
    assert "ValueError: Object arrays cannot be loaded when allow_pickle=False" in message
    assert "allow_pickle=True" in message and "`.item()`" in message


def test_python2_encoding_is_evidence_by_itself():
    source = '''
        import numpy as np
        data_dict = np.load(data_path, encoding="latin1")
        other = np.load(path, encoding="ASCII")
    '''
    assert lines(source, "DL504") == [3]


def test_unwrapped_with_an_empty_index_and_an_attribute():
    source = '''
        import numpy as np

        class Vgg16:
            def __init__(self, npy_path):
                self.data_dict = np.load(npy_path)[()]

            def get_conv_filter(self, name):
                return self.data_dict[name][0]
    '''
    assert lines(source, "DL504") == [6]


def test_the_module_saves_a_dict_to_the_same_path():
    source = '''
        import numpy as np
        META = "cache/meta.npy"

        def save_meta(classes, mean):
            meta = dict(classes=classes, mean=mean)
            np.save(META, meta)

        def load_meta():
            return np.load(META)
    '''
    assert lines(source, "DL504") == [10]
    assert "saves a dict to `META`" in messages(source, "DL504")[0]


def test_must_not_fire():
    sources = [
        # allow_pickle given, by keyword, positionally, or maybe through **kwargs.
        "import numpy as np\nw = np.load('vgg16.npy', allow_pickle=True).item()\nprint(w['conv1_1'])\n",
        "import numpy as np\nw = np.load('vgg16.npy', None, True).item()\nprint(w['conv1_1'])\n",
        "import numpy as np\nw = np.load('vgg16.npy', **load_kwargs).item()\nprint(w['conv1_1'])\n",
        # A saved scalar, unwrapped and used as a number.
        "import numpy as np\nbest = np.load('best_acc.npy').item()\nif acc > best:\n    np.save('best_acc.npy', acc)\n",
        # An .npz archive read by key, and a plain array indexed.
        "import numpy as np\nwith np.load('mnist.npz') as f:\n    x_train, y_train = f['x_train'], f['y_train']\n",
        "import numpy as np\nlabels = np.load('labels.npy')\nfirst = labels[0]\n",
        # The array saved is not a dict.
        "import numpy as np\nnp.save('emb.npy', embeddings)\nemb = np.load('emb.npy')\n",
        # Another name's `.item()` (a tensor's), not the loaded array's.
        "import numpy as np\nx = np.load('x.npy')\nloss = criterion(out, y).item()\nd = {}\nd[loss] = 1\n",
        # The name is rebound before it is used as a container.
        "import numpy as np\nw = np.load('w.npy').item()\nw = {'scale': w}\nprint(w['scale'])\n",
    ]
    for source in sources:
        assert lines(source, "DL504") == [], source


def test_a_target_numpy_older_than_1_16_3_is_quiet(tmp_path):
    (tmp_path / "requirements.txt").write_text("numpy==1.14.5\ntensorflow==1.8.0\n")
    (tmp_path / "load.py").write_text("import numpy as np\nweights = np.load('vgg16.npy', encoding='latin1').item()\n")
    run = subprocess.run(
        [sys.executable, "-m", "dldoctor", "lint", "--no-cache", "--select", "DL504", "--output-format", "concise", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert "DL504" not in run.stdout, run.stdout
    (tmp_path / "requirements.txt").write_text("numpy==1.16.4\n")
    run = subprocess.run(
        [sys.executable, "-m", "dldoctor", "lint", "--no-cache", "--select", "DL504", "--output-format", "concise", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert "DL504" in run.stdout and "the target NumPy, 1.16.4 (requirements.txt:1)" in run.stdout, run.stdout
