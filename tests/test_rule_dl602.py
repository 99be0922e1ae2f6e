"""DL602 removed-api: realistic cases, the fixes, version-aware messages, and code that must not fire."""

import textwrap

import libcst as cst
import pytest

from dldoctor.lint import installed
from dldoctor.lint.names import ImportTable, ImportTracker
from dldoctor.lint.registry import all_rules
from dldoctor.lint.rule import LintContext
from dldoctor.lint.walk import BatchedWalker
from dldoctor.rules import dl602_removed_api
from lintutil import fixes, lines, lint, messages


def fixed(source: str, code: str = "DL602", unsafe: bool = False) -> str:
    """The module after applying the rule's safe (and, with `unsafe`, unsafe) fixes, rendered by libcst."""
    module = cst.parse_module(textwrap.dedent(source))
    names = ImportTable.from_module(module)
    context = LintContext("t.py", module, names)
    BatchedWalker([ImportTracker(names), all_rules()[code](context)]).walk(module)
    replace = {}
    for report in context.reports:
        if report.fix is not None and (unsafe or report.fix.applicability.value == "safe"):
            replace.update({id(old): new for old, new in report.fix.replacements})

    class Apply(cst.CSTTransformer):
        def on_leave(self, original_node, updated_node):
            return replace.get(id(original_node), updated_node)

    return module.visit(Apply()).code


@pytest.fixture
def versions(monkeypatch):
    """Pretend these package versions are installed (None: not installed)."""
    installed = {}
    monkeypatch.setattr(dl602_removed_api, "installed_version", lambda package: installed.get(package))
    return installed


ALEXNET_FINETUNE = '''
import tensorflow as tf

def train(loss, accuracy, log_dir):
    tf.scalar_summary("loss", loss)
    tf.scalar_summary("accuracy", accuracy)
    merged = tf.merge_all_summaries()
    with tf.Session() as sess:
        writer = tf.train.SummaryWriter(log_dir, sess.graph)
        sess.run(tf.initialize_all_variables())
'''


def test_alexnet_finetune_casebook_case(versions):
    versions["TensorFlow"] = "1.2.0"
    # `tf.initialize_all_variables` is deprecated but still there in every TensorFlow 1.x.
    assert lint(ALEXNET_FINETUNE, "DL602") == [(5, 5, "DL602"), (6, 5, "DL602"), (7, 14, "DL602"), (9, 18, "DL602")]
    first = messages(ALEXNET_FINETUNE, "DL602")[0]
    assert "AttributeError: module 'tensorflow' has no attribute 'scalar_summary'" in first
    assert "was removed in TensorFlow 1.0" in first
    assert "use `tf.summary.scalar`" in first and "TensorFlow 1.2.0 is installed" in first


def test_alexnet_fixes_safe_then_unsafe(versions):
    versions["TensorFlow"] = "1.2.0"
    safe = fixed(ALEXNET_FINETUNE)
    assert "merged = tf.summary.merge_all()" in safe
    assert "writer = tf.summary.FileWriter(log_dir, sess.graph)" in safe
    assert 'tf.scalar_summary("loss", loss)' in safe  # a different op: only with unsafe fixes
    unsafe = fixed(ALEXNET_FINETUNE, unsafe=True)
    assert 'tf.summary.scalar("loss", loss)' in unsafe
    assert lint(unsafe, "DL602") == []


def test_alexnet_under_tensorflow_2_names_compat_v1_first(versions):
    versions["TensorFlow"] = "2.16.1"
    found = messages(ALEXNET_FINETUNE, "DL602")
    assert len(found) == 6  # the five uses and the module's TensorFlow 1 names, at the import
    scalar = next(m for m in found if "`tf.scalar_summary`" in m)
    assert "use `tf.compat.v1.summary.scalar`" in scalar and "needs a `step` and a default writer" in scalar
    init = next(m for m in found if "`tf.initialize_all_variables`" in m)
    assert "was removed from the API in TensorFlow 2.0" in init and "removed in TensorFlow 1.0" not in init
    assert init.index("`tf.compat.v1.global_variables_initializer`") < init.index("port the code to TensorFlow 2")
    assert "or `tf.compat.v1.initialize_all_variables`, which still exists" in init
    safe = fixed(ALEXNET_FINETUNE)
    # Under TensorFlow 2 the TensorFlow 1 replacements exist only under `tf.compat.v1`.
    assert "merged = tf.compat.v1.summary.merge_all()" in safe
    assert "writer = tf.compat.v1.summary.FileWriter(log_dir, sess.graph)" in safe
    assert "sess.run(tf.compat.v1.global_variables_initializer())" in safe


def test_names_tf_compat_v1_still_has_are_not_removed_there(versions):
    versions["TensorFlow"] = "2.16.1"
    sources = [
        "import tensorflow.compat.v1 as tf\nsess.run(tf.initialize_all_variables())\n",
        "import tensorflow as tf\ninit = tf.compat.v1.initialize_all_variables()\n",
        "import tensorflow as tf\ntf = tf.compat.v1\nnames = [v.name for v in tf.all_variables()]\n",
        "from tensorflow.compat import v1\nsess.run(v1.initialize_local_variables())\n",
    ]
    for source in sources:
        assert lint(source, "DL602") == [], source
    # What `tf.compat.v1` lacks is reported there too: TensorFlow 1.0 removed it.
    source = "import tensorflow.compat.v1 as tf\nmerged = tf.merge_all_summaries()\n"
    (message,) = messages(source, "DL602")
    assert "removed in TensorFlow 1.0" in message and "use `tf.summary.merge_all`" in message
    assert "tf.compat.v1.summary" not in message  # `tf` is compat.v1 already


def test_pil_exif_thumbnail_casebook_case(versions):
    source = '''
        from PIL import Image, ExifTags

        def thumb(image, size):
            image = image.rotate(180, expand=True)
            image.thumbnail(size, Image.ANTIALIAS)
            return image
    '''
    assert lint(source, "DL602") == [(6, 27, "DL602")]
    assert "AttributeError: module 'PIL.Image' has no attribute 'ANTIALIAS'" in messages(source, "DL602")[0]
    assert "image.thumbnail(size, Image.LANCZOS)" in fixed(source)
    versions["Pillow"] = "10.4.0"
    assert "Pillow 10.4.0 is installed here" in messages(source, "DL602")[0]
    versions["Pillow"] = "9.5.0"
    assert "the installed Pillow 9.5.0 still has it, deprecated" in messages(source, "DL602")[0]


def test_pil_spellings():
    cases = [
        ("import PIL.Image\nim = im.resize((8, 8), PIL.Image.ANTIALIAS)\n", "PIL.Image.LANCZOS"),
        ("from PIL import Image as I\nim = im.resize((8, 8), I.CUBIC)\n", "I.BICUBIC"),
        ("import PIL\nim = im.resize((8, 8), PIL.Image.LINEAR)\n", "PIL.Image.BILINEAR"),
    ]
    for source, replacement in cases:
        assert lines(source, "DL602") == [2], source
        assert replacement in fixed(source), source


def test_numpy_builtin_aliases(versions):
    versions["NumPy"] = "1.26.4"
    source = '''
        import numpy as np

        labels = np.array(raw, dtype=np.int)
        mask = np.zeros(shape, dtype=np.bool)
        scores = probs.astype(np.float)
        names = np.array(names, dtype=np.object)
    '''
    assert lines(source, "DL602") == [4, 5, 6, 7]
    assert "NumPy 1.26.4 is installed here" in messages(source, "DL602")[0]
    result = fixed(source)
    assert "dtype=int)" in result and "dtype=bool)" in result and "astype(float)" in result and "dtype=object)" in result


def test_np_bool_exists_again_in_numpy_2(versions):
    source = "import numpy as np\nmask = np.zeros(3, dtype=np.bool)\n"
    versions["NumPy"] = "2.1.0"
    assert lint(source, "DL602") == []
    versions["NumPy"] = "1.24.0"
    assert lines(source, "DL602") == [2]
    del versions["NumPy"]
    assert lines(source, "DL602") == [2]


def test_numpy_2_renames():
    source = "import numpy as N\nx = N.float_(1) + N.NaN + N.Inf\ny = N.product(x)\n"
    assert lines(source, "DL602") == [2, 2, 2, 3]
    assert fixed(source) == "import numpy as N\nx = N.float64(1) + N.nan + N.inf\ny = N.prod(x)\n"


def test_no_fix_when_the_builtin_is_shadowed():
    source = "import numpy as np\nint = 3\nx = np.int\n"
    assert lines(source, "DL602") == [3]
    assert fixed(source) == source


def test_from_import_is_reported_at_the_import():
    source = "from numpy import float, zeros\nx = float(3)\ny = float('1')\n"
    assert lint(source, "DL602") == [(1, 19, "DL602")]
    assert "ImportError: cannot import name 'float' from 'numpy'" in messages(source, "DL602")[0]


def test_scipy_misc_image_helpers():
    source = '''
        import numpy as np
        from scipy import misc
        import scipy.misc

        img = misc.imread(path)
        small = scipy.misc.imresize(img, (64, 64))
        misc.imsave("out.png", small)
    '''
    assert lines(source, "DL602") == [6, 7, 8]
    resize = messages(source, "DL602")[1]
    assert "removed in SciPy 1.3" in resize and "Image.fromarray" in resize and "(width, height)" in resize
    assert fixed(source) == textwrap.dedent(source)  # no drop-in replacement


def test_tf_renames_under_every_module_path():
    cases = [
        ("import tensorflow as tf", "tf.mul(a, b)", "tf.multiply(a, b)"),
        ("import tensorflow.compat.v1 as tf", "tf.train.SummaryWriter(d)", "tf.summary.FileWriter(d)"),
        ("import tensorflow as tf", "tf.compat.v1.merge_all_summaries()", "tf.compat.v1.summary.merge_all()"),
        ("import tensorflow", "tensorflow.pack([a, b])", "tensorflow.stack([a, b])"),
        ("import tensorflow as tf", "tf.select(c, a, b)", "tf.where(c, a, b)"),
    ]
    for import_line, old, new in cases:
        source = f"{import_line}\ny = {old}\n"
        assert lines(source, "DL602") == [2], source
        assert fixed(source) == f"{import_line}\ny = {new}\n", source


def test_tf_names_imported_from_a_submodule_get_no_fix():
    source = "from tensorflow import train\nw = train.SummaryWriter(d)\n"
    assert lines(source, "DL602") == [2]
    assert fixed(source) == source  # `summary` is not bound here


def test_concat_and_split_argument_order():
    source = '''
        import tensorflow as tf

        def tower(a, b, x):
            y = tf.concat(1, [a, b])
            z = tf.concat(-1, values)
            parts = tf.split(0, 2, x)
            w = tf.concat(concat_dim=0, values=[a, b])
            v = tf.split(split_dim=1, num_split=3, value=x)
    '''
    assert lines(source, "DL602") == [5, 6, 7, 8, 9]
    assert "Expected int32, got list containing Tensors of type '_Message'" in messages(source, "DL602")[0]
    assert "unexpected keyword argument 'concat_dim'" in messages(source, "DL602")[3]
    result = fixed(source)
    assert "y = tf.concat([a, b], 1)" in result
    assert "z = tf.concat(values, -1)" in result
    assert "parts = tf.split(x, 2, 0)" in result
    assert "w = tf.concat(axis=0, values=[a, b])" in result
    assert "v = tf.split(axis=1, num_or_size_splits=3, value=x)" in result
    assert lint(result, "DL602") == []


def test_new_style_concat_and_split_are_fine():
    sources = [
        "import tensorflow as tf\ny = tf.concat([a, b], 1)\n",
        "import tensorflow as tf\ny = tf.concat(values=[a, b], axis=1)\n",
        "import tensorflow as tf\ny = tf.concat(tensors, axis)\n",
        "import tensorflow as tf\ny = tf.split(x, 2, 0)\n",
        "import tensorflow as tf\ny = tf.split(x, [1, 2], axis=1)\n",
        "import tensorflow as tf\ny = tf.concat(*args)\n",
        # Not TensorFlow's.
        "import numpy as np\ny = np.concatenate([a, b], 0)\nz = np.split(x, 2, 0)\n",
        "def concat(a, b):\n    return a + b\ny = concat(0, [1])\n",
    ]
    for source in sources:
        assert lint(source, "DL602") == [], source


TF1_TRAINER = '''
import tensorflow as tf

FLAGS = tf.app.flags.FLAGS


def main(_):
    x = tf.placeholder(tf.float32, [None, 784])
    loss = build(x)
    train_op = tf.train.AdamOptimizer(1e-4).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.logging.info("started")
'''


def test_tf1_names_under_tf2_once_per_module(versions):
    versions["TensorFlow"] = "2.16.1"
    assert lint(TF1_TRAINER, "DL602") == [(2, 8, "DL602")]
    (message,) = messages(TF1_TRAINER, "DL602")
    assert "TensorFlow 2.16.1" in message
    assert "`tf.app`, `tf.placeholder`, `tf.train.AdamOptimizer`, `tf.Session`, `tf.global_variables_initializer` and 1 more" in message
    assert "AttributeError: module 'tensorflow' has no attribute 'app'" in message
    assert "import tensorflow.compat.v1 as tf" in message
    assert fixed(TF1_TRAINER) == textwrap.dedent(TF1_TRAINER)  # unsafe only
    assert "import tensorflow.compat.v1 as tf\n" in fixed(TF1_TRAINER, unsafe=True)
    assert lint(fixed(TF1_TRAINER, unsafe=True), "DL602") == []


def test_tf1_names_need_tf2_installed(versions):
    versions["TensorFlow"] = "1.15.5"
    assert lint(TF1_TRAINER, "DL602") == []
    del versions["TensorFlow"]  # not installed: unknown, not reported
    assert lint(TF1_TRAINER, "DL602") == []


def test_tf1_names_not_reported_for_compat_or_guarded_code(versions):
    versions["TensorFlow"] = "2.16.1"
    sources = [
        "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\nsess = tf.Session()\n",
        "from tensorflow.compat import v1 as tf\nsess = tf.Session()\n",
        "try:\n    import tensorflow.compat.v1 as tf\nexcept ImportError:\n    import tensorflow as tf\nsess = tf.Session()\n",
        "import tensorflow as tf\ntf = tf.compat.v1\nsess = tf.Session()\n",
        "import tensorflow as tf\nsess = tf.compat.v1.Session()\n",
        "import tensorflow as tf\nif tf.__version__.startswith('1.'):\n    sess = tf.Session()\n",
        # A snippet without imports: which TensorFlow it targets is unknown.
        "sess = tf.Session()\n",
        # TensorFlow 2 code.
        "import tensorflow as tf\nds = tf.data.TFRecordDataset(files)\nw = tf.summary.create_file_writer(d)\n"
        "x = tf.io.gfile.GFile(p)\nm = tf.keras.losses.MeanSquaredError()\n",
    ]
    for source in sources:
        assert lint(source, "DL602") == [], source


def test_tf1_name_imported_from_tensorflow(versions):
    versions["TensorFlow"] = "2.16.1"
    source = "from tensorflow import Session, constant\nsess = Session()\n"
    assert lint(source, "DL602") == [(1, 1, "DL602")]
    assert "cannot import name 'Session' from 'tensorflow'" in messages(source, "DL602")[0]


def test_names_that_are_not_the_removed_apis():
    sources = [
        "import numpy as np\nx = np.int64(3)\ny = np.float32(1)\nz = np.bool_(True)\nw = np.str_('a')\n",
        "import tensorflow as tf\nx = tf.summary.scalar('a', b)\ny = tf.math.multiply(a, b)\n",
        "import tensorflow as tf\nimport torch\nx = torch.sub(a, b)\ny = tf.subtract(a, b)\n",
        "from PIL import Image\nim = im.resize((8, 8), Image.Resampling.LANCZOS)\n",
        "image = load()\nimage.ANTIALIAS = 1\n",
        "import scipy.special\nx = scipy.special.logsumexp(a)\n",
    ]
    for source in sources:
        assert lint(source, "DL602") == [], source


def test_installed_version_reads_metadata_without_import():
    import sys

    before = {name for name in sys.modules if name.split(".")[0] in ("tensorflow", "numpy", "PIL", "scipy")}
    installed.installed_version.cache_clear()
    for package in ("TensorFlow", "NumPy", "Pillow", "SciPy"):
        version = dl602_removed_api.installed_version(package)
        assert version is None or version[0].isdigit()
    assert dl602_removed_api.installed_version("NoSuchPackage") is None
    after = {name for name in sys.modules if name.split(".")[0] in ("tensorflow", "numpy", "PIL", "scipy")}
    assert after == before


def test_code_that_handles_both_versions_is_left_alone():
    sources = [
        "import numpy as np\nif not hasattr(np, 'object'):\n    np.object = object\n",
        "import numpy as np\nif int(np.__version__.split('.')[0]) < 2:\n    float_ = np.float_\nelse:\n    float_ = np.float64\n",
        "import numpy as np\ntry:\n    BOOL = np.bool\nexcept AttributeError:\n    BOOL = bool\n",
        "try:\n    from PIL.Image import ANTIALIAS\nexcept ImportError:\n    from PIL.Image import LANCZOS as ANTIALIAS\n",
        "from PIL import Image\nRESAMPLE = getattr(Image, 'LANCZOS', None) or Image.ANTIALIAS if hasattr(Image, 'ANTIALIAS') else None\n"
        "if hasattr(Image, 'Resampling'):\n    f = Image.Resampling.LANCZOS\nelse:\n    f = Image.ANTIALIAS\n",
    ]
    for source in sources:
        assert lint(source, "DL602") == [], source
    # A guard elsewhere does not cover the rest of the module.
    source = "import numpy as np\nif hasattr(np, 'int'):\n    pass\nx = np.int\n"
    assert lines(source, "DL602") == [4]


def test_an_old_name_as_the_fallback_of_its_replacement_is_not_a_use():
    # DCGAN-tensorflow's shape: the new initializer first, the old one for old releases.
    source = """
        import tensorflow.compat.v1 as tf
        try:
            tf.global_variables_initializer().run()
        except:
            tf.initialize_all_variables().run()
    """
    assert lint(source, "DL602") == []
    # A fallback to some other removed API is still a use: it is what runs when the body fails.
    other = """
        import tensorflow.compat.v1 as tf
        try:
            import cv2
            init = cv2.imread
        except ImportError:
            merged = tf.merge_all_summaries()
    """
    assert [code for _, _, code in lint(other, "DL602")] == ["DL602"]


FACENET_SHAPED = '''
import tensorflow as tf


def read_images(filenames):
    contents = tf.read_file(filenames[0])
    image = tf.random_crop(tf.image.decode_png(contents), [160, 160, 3])
    return image


def optimizer(loss, lr):
    opt = tf.train.AdagradOptimizer(lr)
    return opt.minimize(loss, var_list=tf.get_collection("trainable"))


def write_arguments(args, path):
    with open(path, "w") as text_file:
        text_file.write("tensorflow version: %s\\n" % tf.__version__)
'''


def test_mentioning_the_version_does_not_silence_the_module(versions):
    versions["TensorFlow"] = "2.16.1"
    assert lint(FACENET_SHAPED, "DL602") == [(2, 8, "DL602")]
    (message,) = messages(FACENET_SHAPED, "DL602")
    assert "`tf.read_file`, `tf.random_crop`, `tf.train.AdagradOptimizer`, `tf.get_collection`" in message


def test_version_flags_and_probes_guard_what_they_guard(versions):
    versions["TensorFlow"] = "2.16.1"
    guarded = [
        # a flag made from the version
        "import tensorflow as tf\nIS_TF2 = int(tf.__version__.split('.')[0]) >= 2\n"
        "def session():\n    if IS_TF2:\n        return tf.compat.v1.Session()\n    else:\n        return tf.Session()\n",
        "import tensorflow as tf\nclass Runner:\n    def __init__(self):\n        self.tf1 = tf.__version__.startswith('1.')\n"
        "    def run(self, x):\n        return tf.placeholder(tf.float32) if self.tf1 else tf.constant(x)\n",
        # a probe: the TensorFlow 1 name raises first under TensorFlow 2
        "import tensorflow as tf\ntry:\n    tf.Session\n    GRAPH_MODE = True\nexcept Exception:\n    GRAPH_MODE = False\n"
        "if GRAPH_MODE:\n    sess = tf.Session()\n",
        # the error a missing name raises, caught
        "import tensorflow as tf\ntry:\n    sess = tf.Session()\nexcept AttributeError:\n    sess = None\n",
        # one side of a fork whose other side is the replacement
        "import tensorflow as tf\ntry:\n    scalar_summary = tf.scalar_summary\nexcept:\n"
        "    scalar_summary = tf.compat.v1.summary.scalar\n",
    ]
    for source in guarded:
        assert lint(source, "DL602") == [], source
    # The other side of that fork is still TensorFlow 1 code under TensorFlow 2.
    fork = "import tensorflow as tf\ntry:\n    merge = tf.merge_summary\nexcept:\n    merge = tf.summary.merge\n"
    assert lint(fork, "DL602") == [(1, 8, "DL602")]
    assert "`tf.summary.merge`" in messages(fork, "DL602")[0]


def test_a_bare_except_that_only_skips_is_no_guard():
    source = '''
        import numpy as np
        import scipy.misc

        def load(paths):
            images = []
            for p in paths:
                try:
                    img = scipy.misc.imread(p)
                except:
                    continue
                images.append(img.astype(np.float))
            return images
    '''
    assert lines(source, "DL602") == [9, 12]
    for handler in ("print('bad image', p)\n                    continue", "raise", "img = None"):
        assert 9 in lines(source.replace("continue\n", handler + "\n", 1), "DL602"), handler
    # A handler that reads the image another way is a fallback.
    fallback = source.replace("continue\n", "img = imageio.imread(p)\n", 1)
    assert lines(fallback, "DL602") == [12]


def test_numpy_2_3_binary_fromstring_and_tostring(versions):
    versions["NumPy"] = "2.4.6"
    source = '''
        import numpy as np

        def decode(record, shape):
            data = record.features.feature["data"].bytes_list.value[0]
            return np.fromstring(data, np.uint8).reshape(shape)

        def encode(img):
            quant = np.rint(img).clip(0, 255).astype(np.uint8)
            return quant.tostring()
    '''
    assert lines(source, "DL602") == [6, 10]
    binary, tostring = messages(source, "DL602")
    assert "The binary mode of fromstring is removed, use frombuffer instead" in binary and "NumPy 2.3" in binary
    assert "np.frombuffer" in binary and "read-only" in binary
    assert "'numpy.ndarray' object has no attribute 'tostring'" in tostring and "`.tobytes()`" in tostring
    assert "return quant.tobytes()" in fixed(source)
    assert "np.frombuffer(data, np.uint8)" in fixed(source, unsafe=True)
    assert "np.fromstring(data, np.uint8)" in fixed(source)  # a view, not a copy: unsafe only
    fine = '''
        import numpy as np
        import xml.etree.ElementTree as ET

        values = np.fromstring("1 2 3", dtype=int, sep=" ")
        legacy = np.fromstring(text, np.float32, -1, ",")
        xml = ET.tostring(root)
        blob = image.tostring()
        raw = np.frombuffer(data, np.uint8).tobytes()
    '''
    assert lint(fine, "DL602") == []


def test_matplotlib_tostring_rgb(versions):
    versions["matplotlib"] = "3.11.2"
    source = '''
        import matplotlib.pyplot as plt
        import numpy as np

        def figure_to_array(fig):
            fig.canvas.draw()
            buf = np.frombuffer(fig.canvas.tostring_rgb(), dtype=np.uint8)
            return buf.reshape(fig.canvas.get_width_height()[::-1] + (3,))
    '''
    assert lines(source, "DL602") == [7]
    (message,) = messages(source, "DL602")
    assert "removed in matplotlib 3.10 (matplotlib 3.11.2 is installed here)" in message
    assert "buffer_rgba()" in message
    assert lint(source.replace("tostring_rgb()", "buffer_rgba()"), "DL602") == []
    assert lint("class Canvas:\n    def tostring_rgb(self):\n        return b''\nCanvas().tostring_rgb()\n", "DL602") == []


def test_removed_torch_and_torchtext_modules(versions):
    versions["torch"] = "2.13.0"
    cases = [
        ("from torch._six import container_abcs, string_classes\n", "torch 2.0", "collections.abc"),
        ("import torch\nif isinstance(x, torch._six.string_classes):\n    pass\n", "torch 2.0", "`str`"),
        ("from torch.utils.ffi import create_extension\n", "torch 1.0", "cpp_extension"),
        ("from torchtext.legacy import data, datasets\n", "torchtext 0.12", "torchtext<0.12"),
        ("import torchtext.legacy.data as data\n", "torchtext 0.12", "DataLoader"),
        ("from torchtext.data import Field, BucketIterator\n", "torchtext 0.9", "torchtext.legacy.data.Field"),
    ]
    for source, version, advice in cases:
        found = messages(source, "DL602")
        assert len(found) >= 1, source
        assert version in found[0] and advice in found[0], (source, found[0])
    assert "No module named 'torch._six'" in messages(cases[0][0], "DL602")[0]
    fine = [
        "import collections.abc\nfrom torch.utils.cpp_extension import load\n",
        "from torchtext.data.utils import get_tokenizer\nfrom torchtext.vocab import build_vocab_from_iterator\n",
        "try:\n    from torch._six import inf\nexcept ImportError:\n    from math import inf\n",
    ]
    for source in fine:
        assert lint(source, "DL602") == [], source


LEGACY_FUNCTION = '''
import torch
from torch.autograd import Function


class GradReverse(Function):
    def __init__(self, lambd):
        self.lambd = lambd

    def forward(self, x):
        return x.view_as(x)

    def backward(self, grad_output):
        return grad_output * -self.lambd


def grad_reverse(x, lambd=1.0):
    return GradReverse(lambd)(x)
'''


def test_legacy_autograd_function_used_through_an_instance(versions):
    versions["torch"] = "2.13.0"
    assert lint(LEGACY_FUNCTION, "DL602") == [(18, 12, "DL602")]
    (message,) = messages(LEGACY_FUNCTION, "DL602")
    assert "Legacy autograd function with non-static forward method is deprecated" in message
    assert "PyTorch 1.5" in message and "GradReverse.apply(...)" in message
    new_style = '''
        import torch

        class GradReverse(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, lambd):
                ctx.lambd = lambd
                return x.view_as(x)

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output * -ctx.lambd, None

        def grad_reverse(x, lambd=1.0):
            return GradReverse.apply(x, lambd)

        class Scale(torch.nn.Module):
            def forward(self, x):
                return x * 2

        y = Scale()(x)
    '''
    assert lint(new_style, "DL602") == []


OLD_TRAINING_LOOP = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable


class Trainer:
    def __init__(self, model):
        self.model = model
        self.criterion = nn.CrossEntropyLoss()

    def step(self, images, labels):
        outputs = self.model(Variable(images))
        loss = self.criterion(outputs, Variable(labels))
        loss.backward()
        return loss.data[0]

    def evaluate(self, images, labels):
        outputs = self.model(Variable(images, volatile=True))
        nll = F.nll_loss(outputs, labels, size_average=False).data[0]
        _, predicted = torch.max(outputs.data, 1)
        first = predicted.data[0]
        per_sample = F.nll_loss(outputs, labels, reduction="none")
        return nll, first, per_sample.data[0], (loss_a + loss_b).data[0]
'''


def test_pytorch_0_3_training_loop(versions):
    versions["torch"] = "2.13.0"
    assert lines(OLD_TRAINING_LOOP, "DL602") == [17, 20, 21]
    data, volatile, nll = messages(OLD_TRAINING_LOOP, "DL602")
    assert "`loss.data[0]`" in data and "IndexError: invalid index of a 0-dim tensor" in data
    assert "use `loss.item()`" in data and "torch 2.13.0 is installed here" in data
    assert "volatile was removed and now has no effect" in volatile and "with torch.no_grad():" in volatile
    assert "`F.nll_loss(outputs, labels, size_average=False).data[0]`" in nll
    result = fixed(OLD_TRAINING_LOOP)
    assert "return loss.item()" in result
    assert "nll = F.nll_loss(outputs, labels, size_average=False).item()" in result
    assert "first = predicted.data[0]" in result  # a vector: indexing it is fine


def test_volatile_false_and_other_variables_are_fine():
    sources = [
        "import torch\nfrom torch.autograd import Variable\nx = Variable(t, volatile=False)\ny = Variable(t)\n",
        "import torch\nwith torch.no_grad():\n    out = model(x)\n",
        "class Variable:\n    def __init__(self, v, volatile=False):\n        pass\nx = Variable(1, volatile=True)\n",
    ]
    for source in sources:
        assert lint(source, "DL602") == [], source


def test_keras_3_removals(versions):
    versions["Keras"] = "3.15.1"
    source = '''
        import tensorflow as tf
        from tensorflow.keras.layers.experimental import preprocessing

        def build(num_classes):
            model = tf.keras.Sequential([
                tf.keras.layers.experimental.preprocessing.Rescaling(1.0 / 255),
                tf.keras.layers.Dense(num_classes),
            ])
            model.compile(optimizer=tf.keras.optimizers.Adam(lr=1e-3), loss="mse")
            return model

        model = build(10)
        model.save("saved_model")
        model.save(export_dir + "/final")
        model.save("model.keras")
        model.save("weights.h5")
        model.save(path)
    '''
    assert lines(source, "DL602") == [3, 7, 10, 14, 15]
    module, attribute, lr, save, joined = messages(source, "DL602")
    assert "`tf.keras.layers.experimental` was removed in Keras 3.0 (Keras 3.15.1 is installed here)" in module
    assert "No module named 'tensorflow.keras.layers.experimental'" in module and "Rescaling" in module
    assert "has no attribute 'experimental'" in attribute
    assert "Argument(s) not recognized: {'lr': 1e-3}" in lr and "learning_rate=" in lr
    assert "Invalid filepath extension for saving" in save and "model.export(path)" in save
    assert "`model.save(export_dir + \"/final\")`" in joined
    assert "tf.keras.optimizers.Adam(learning_rate=1e-3)" in fixed(source)


def test_not_keras_optimizers_or_models():
    sources = [
        # torch keeps `lr`
        "import torch\nopt = torch.optim.Adam(model.parameters(), lr=1e-3)\n",
        "from torch.optim import SGD\nopt = SGD(params, lr=0.1, momentum=0.9)\n",
        # not a Keras model: a torch module, a PIL image, a Saver
        "import torch\nimport tensorflow as tf\nmodel = torch.nn.Linear(2, 2)\nmodel.save('checkpoint')\n"
        "img = Image.open(p)\nimg.save('out')\nsaver = tf.compat.v1.train.Saver()\nsaver.save(sess, 'model')\n",
        # a Keras model saved the Keras 3 way, or exported
        "import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])\nmodel.save('m.keras')\nmodel.export('serving')\n",
        "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n",
    ]
    for source in sources:
        assert lint(source, "DL602") == [], source


# TensorFlow 0.12/1.0 removals from TensorFlow's 1.0 upgrade script and release notes.
OLD_TF = '''
import tensorflow as tf

def model(inputs, cell, m):
    net = tf.concat_v2([inputs, inputs], 1)
    outputs, state = tf.nn.rnn(cell, tf.unstack(net, axis=1), dtype=tf.float32)
    scale = tf.inv(tf.reduce_max(net))
    image = tf.image.per_image_whitening(inputs)
    return tf.batch_matrix_inverse(m), tf.batch_svd(m), tf.batch_fft(m), outputs, scale, image
'''


def test_tf_0_12_and_1_0_removals():
    found = messages(OLD_TF, "DL602")
    for name, version in (("concat_v2", "1.0"), ("nn.rnn", "1.0"), ("inv", "1.0"),
                          ("image.per_image_whitening", "0.12"), ("batch_matrix_inverse", "0.12"),
                          ("batch_svd", "0.12"), ("batch_fft", "0.12")):
        assert any(f"`tf.{name}` was removed in TensorFlow {version}" in message for message in found), name
    renamed = {tuple(rendered) for _, rendered, _ in fixes(OLD_TF, "DL602")}
    assert {("tf.concat",), ("tf.image.per_image_standardization",)} <= renamed


def test_a_dir_test_guards_the_old_name():
    # carpedm20/DCGAN-tensorflow ops.py
    source = '''
        import tensorflow as tf
        if "concat_v2" in dir(tf):
            def concat(tensors, axis, *args, **kwargs):
                return tf.concat_v2(tensors, axis, *args, **kwargs)
        else:
            def concat(tensors, axis, *args, **kwargs):
                return tf.concat(tensors, axis, *args, **kwargs)
    '''
    assert lint(source, "DL602") == []


def test_the_removed_names_are_really_gone_and_their_replacements_there():
    tf = pytest.importorskip("tensorflow")
    v1 = tf.compat.v1
    for module, name in ((v1, "concat_v2"), (v1, "inv"), (v1.nn, "rnn"), (v1.image, "per_image_whitening"),
                         (v1, "batch_matrix_inverse"), (v1, "batch_svd"), (v1, "batch_fft")):
        assert not hasattr(module, name), name
    for module, name in ((v1, "concat"), (v1, "reciprocal"), (v1.nn, "static_rnn"),
                         (v1.image, "per_image_standardization"), (v1, "matrix_inverse"), (v1, "svd"), (v1, "fft")):
        assert hasattr(module, name), name


def test_numpy_names_only_from_their_deprecation_on(versions):
    # DCGAN-tensorflow's utils.py, run in 2017 on NumPy 1.14: `np.float` was current API there.
    source = "import numpy as np\nimg = scipy_imread(path).astype(np.float)\nlabels = y.astype(np.int)\n"
    versions["NumPy"] = "1.14"
    assert lint(source, "DL602") == []
    versions["NumPy"] = "1.21.6"
    assert lines(source, "DL602") == [2, 3]
    assert "still has it, deprecated since NumPy 1.20" in messages(source, "DL602")[0]
    versions["NumPy"] = "1.24.0"
    assert "NumPy 1.24.0 is installed here" in messages(source, "DL602")[0]
    del versions["NumPy"]
    assert lines(source, "DL602") == [2, 3]  # the target unknown: reported, as the name is gone today


def test_numpy_2_removals_without_a_deprecation_are_current_in_1_x(versions):
    source = "import numpy as np\nbest = np.Inf\nmissing = np.NaN\nx = np.float_(1)\n"
    for version in ("1.14", "1.26.4"):
        versions["NumPy"] = version
        assert lint(source, "DL602") == [], version
    versions["NumPy"] = "2.0.0"
    assert lines(source, "DL602") == [2, 3, 4]
    # Deprecated first in 1.25: reported from there, as deprecated.
    product = "import numpy as np\nn = np.product(shape)\n"
    versions["NumPy"] = "1.24.4"
    assert lint(product, "DL602") == []
    versions["NumPy"] = "1.25.2"
    assert "still has it, deprecated since NumPy 1.25" in messages(product, "DL602")[0]


def test_pillow_and_scipy_names_before_their_deprecation(versions):
    versions["Pillow"] = "5.1.0"
    assert lint("from PIL import Image\nimg.thumbnail(size, Image.ANTIALIAS)\n", "DL602") == []
    versions["SciPy"] = "0.19.1"
    assert lint("import scipy.misc\nimg = scipy.misc.imread(path)\n", "DL602") == []
    versions["SciPy"] = "1.0.0"
    (message,) = messages("import scipy.misc\nimg = scipy.misc.imread(path)\n", "DL602")
    assert "still has it, deprecated since SciPy 1.0" in message


# carpedm20/DCGAN-tensorflow of December 2016, on TensorFlow 0.12: the 0.x order is right there.
DCGAN_0_12 = '''
import tensorflow as tf

def generator(z, y, h0, h1):
    z = tf.concat([z, y], 1)
    h0 = tf.concat(1, [h0, y])
    h1 = tf.concat(concat_dim=3, values=[h1, y])
    h2 = tf.concat(axis=3, values=[h1, y])
    a, b = tf.split(h2, 2, 3)
    c, d = tf.split(3, 2, h2)
    e, f = tf.split(split_dim=3, num_split=2, value=h2)
    g, h = tf.split(value=h2, num_or_size_splits=2, axis=3)
'''


def test_concat_and_split_on_tensorflow_0_x(versions):
    versions["TensorFlow"] = "0.12.1"
    assert lines(DCGAN_0_12, "DL602") == [5, 8, 9, 12]
    found = messages(DCGAN_0_12, "DL602")
    assert "TensorFlow 1.0's order" in found[0] and "`tf.concat(concat_dim, values)`" in found[0]
    assert "Expected int32, got list containing Tensors of type '_Message'" in found[0]
    assert "`tf.concat_v2(values, axis)`" in found[0]  # 0.12 has it
    assert "unexpected keyword argument 'axis'" in found[1]
    result = fixed(DCGAN_0_12)
    assert "z = tf.concat(1, [z, y])" in result
    assert "h2 = tf.concat(concat_dim=3, values=[h1, y])" in result
    assert "a, b = tf.split(3, 2, h2)" in result
    assert "g, h = tf.split(value=h2, num_split=2, split_dim=3)" in result
    assert lint(result, "DL602") == []
    # On TensorFlow 1.x the same file is the other way round.
    versions["TensorFlow"] = "1.8.0"
    assert lines(DCGAN_0_12, "DL602") == [6, 7, 10, 11]
    # `tf.concat_v2` is 0.12's own name for the new order, not deprecated there.
    versions["TensorFlow"] = "0.12.1"
    assert lint("import tensorflow as tf\nx = tf.concat_v2([a, b], 1)\n", "DL602") == []


def test_rnn_cells_on_tensorflow_1_0_and_1_1(versions):
    # tensorflow/models textsum, run on TensorFlow 1.0.
    source = '''
        import tensorflow as tf

        cell_fw = tf.nn.rnn_cell.LSTMCell(num_hidden, initializer=init, state_is_tuple=False)
        cell = tf.contrib.rnn.LSTMCell(num_hidden)
    '''
    for version in ("1.0.1", "1.1.0"):
        versions["TensorFlow"] = version
        assert lint(source, "DL602") == [(4, 11, "DL602")], version
    (message,) = messages(source, "DL602")
    assert "does not exist in TensorFlow 1.0 to 1.1" in message and "`tf.contrib.rnn`" in message
    assert "has no attribute 'rnn_cell'" in message
    for version in ("0.12.1", "1.2.0", "1.15.0", None):
        versions["TensorFlow"] = version
        assert lint(source, "DL602") == [], version
    versions["TensorFlow"] = "1.0.1"
    guarded = '''
        import tensorflow as tf
        try:
            cell = tf.nn.rnn_cell.LSTMCell(64)
        except AttributeError:
            cell = tf.contrib.rnn.LSTMCell(64)
    '''
    assert lint(guarded, "DL602") == []


def test_strided_slice_without_strides_on_tensorflow_0_x(versions):
    # Stack Overflow 41195121: the CIFAR-10 reader of TensorFlow 1.0's tutorial on 0.12.
    source = "import tensorflow as tf\nlabel = tf.cast(tf.strided_slice(record, [0], [label_bytes]), tf.int32)\n"
    versions["TensorFlow"] = "0.12.1"
    assert lint(source, "DL602") == [(2, 17, "DL602")]
    assert "missing 1 required positional argument: 'strides'" in messages(source, "DL602")[0]
    for right in ("[label_bytes], [1])", "[label_bytes], strides=[1])"):
        assert lint(source.replace("[label_bytes])", right), "DL602") == [], right
    for version in ("1.8.0", None):
        versions["TensorFlow"] = version
        assert lint(source, "DL602") == [], version


def test_sigmoid_cross_entropy_labels_keyword_on_tensorflow_0_x(versions):
    # carpedm20/DCGAN-tensorflow after its 1.0 update, run on 0.12.
    source = '''
        import tensorflow as tf

        d_loss_real = tf.reduce_mean(
            tf.nn.sigmoid_cross_entropy_with_logits(logits=D_logits, labels=tf.ones_like(D)))
    '''
    versions["TensorFlow"] = "0.12.1"
    assert lines(source, "DL602") == [5]
    assert "unexpected keyword argument 'labels'" in messages(source, "DL602")[0]
    assert "(logits=D_logits, targets=tf.ones_like(D))" in fixed(source)
    # The project's own fix: try the 1.0 keyword, fall back to 0.12's.
    both = '''
        import tensorflow as tf

        def sigmoid_cross_entropy_with_logits(x, y):
            try:
                return tf.nn.sigmoid_cross_entropy_with_logits(logits=x, labels=y)
            except:
                return tf.nn.sigmoid_cross_entropy_with_logits(logits=x, targets=y)
    '''
    assert lint(both, "DL602") == []
    for version in ("1.8.0", None):
        versions["TensorFlow"] = version
        assert lint(source, "DL602") == [], version
