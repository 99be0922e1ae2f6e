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
from lintutil import lines, lint, messages


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
    assert lint(ALEXNET_FINETUNE, "DL602") == [
        (5, 5, "DL602"), (6, 5, "DL602"), (7, 14, "DL602"), (9, 18, "DL602"), (10, 18, "DL602")
    ]
    first = messages(ALEXNET_FINETUNE, "DL602")[0]
    assert "AttributeError: module 'tensorflow' has no attribute 'scalar_summary'" in first
    assert "tf.summary.scalar" in first and "TensorFlow 1.2.0 is installed" in first


def test_alexnet_fixes_safe_then_unsafe(versions):
    versions["TensorFlow"] = "1.2.0"
    safe = fixed(ALEXNET_FINETUNE)
    assert "merged = tf.summary.merge_all()" in safe
    assert "writer = tf.summary.FileWriter(log_dir, sess.graph)" in safe
    assert "sess.run(tf.global_variables_initializer())" in safe
    assert 'tf.scalar_summary("loss", loss)' in safe  # a different op: only with unsafe fixes
    unsafe = fixed(ALEXNET_FINETUNE, unsafe=True)
    assert 'tf.summary.scalar("loss", loss)' in unsafe
    assert lint(unsafe, "DL602") == []


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
        ("import tensorflow as tf", "tf.compat.v1.initialize_all_variables()", "tf.compat.v1.global_variables_initializer()"),
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
            init = tf.initialize_all_variables()
    """
    assert [code for _, _, code in lint(other, "DL602")] == ["DL602"]
