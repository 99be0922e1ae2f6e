"""DL601 tf-contrib-removed: realistic cases and code that must not fire."""

import textwrap

import libcst as cst

from dldoctor.lint import installed
from dldoctor.lint.names import ImportTable, ImportTracker
from dldoctor.lint.registry import all_rules
from dldoctor.lint.rule import LintContext
from dldoctor.lint.walk import BatchedWalker
from dldoctor.rules import dl601_tf_contrib_removed
from lintutil import lines, lint, messages


def rendered_fixes(source: str) -> list[tuple[str, list[str]] | None]:
    """Each report's fix as (applicability, [the new nodes rendered by libcst])."""
    module = cst.parse_module(textwrap.dedent(source))
    names = ImportTable.from_module(module)
    context = LintContext("t.py", module, names)
    BatchedWalker([ImportTracker(names), all_rules()["DL601"](context)]).walk(module)
    return [
        (r.fix.applicability.value, [module.code_for_node(new) for _, new in r.fix.replacements]) if r.fix else None
        for r in context.reports
    ]


IMAGE_EMBEDDING = '''
"""Image embedding ops."""

from __future__ import absolute_import

import tensorflow as tf

from tensorflow.contrib.slim.python.slim.nets.inception_v3 import inception_v3_base
from tensorflow.contrib.slim.python.slim.nets.inception_v4 import inception_v4_base

slim = tf.contrib.slim


def inception_v4(images, trainable=True, is_training=True):
    with slim.arg_scope([slim.conv2d, slim.fully_connected], trainable=trainable):
        net, end_points = inception_v4_base(images, scope="InceptionV4")
    return net
'''


def test_im2txt_inception_v4_casebook_case(monkeypatch):
    monkeypatch.setattr(dl601_tf_contrib_removed, "installed_tensorflow", lambda: "2.16.1")
    assert lint(IMAGE_EMBEDDING, "DL601") == [(8, 1, "DL601"), (9, 1, "DL601"), (11, 8, "DL601")]
    v3, v4, attribute = messages(IMAGE_EMBEDDING, "DL601")
    assert "was removed in TensorFlow 2.0" in v3 and "tf_slim.nets" in v3
    assert "ModuleNotFoundError: No module named 'tensorflow.contrib.slim.python.slim.nets.inception_v4'" in v4
    assert "never shipped in `tensorflow.contrib`" in v4 and "research/slim" in v4 and "from nets import inception_v4" in v4
    assert "AttributeError: module 'tensorflow' has no attribute 'contrib'" in attribute
    # TensorFlow 1.12 still has contrib: only the network it never shipped is reported.
    monkeypatch.setattr(dl601_tf_contrib_removed, "installed_tensorflow", lambda: "1.12.0")
    assert lint(IMAGE_EMBEDDING, "DL601") == [(9, 1, "DL601")]


def test_the_seed_fix_is_clean():
    fixed = IMAGE_EMBEDDING.replace(
        "from tensorflow.contrib.slim.python.slim.nets.inception_v3 import inception_v3_base\n"
        "from tensorflow.contrib.slim.python.slim.nets.inception_v4 import inception_v4_base\n",
        "from nets.inception_v4 import inception_v4_base\n",
    ).replace("slim = tf.contrib.slim", "import tf_slim as slim")
    assert lint(fixed, "DL601") == []


def test_every_form_names_a_replacement(monkeypatch):
    monkeypatch.setattr(dl601_tf_contrib_removed, "installed_tensorflow", lambda: "2.16.1")
    cases = [
        ("import tensorflow.contrib.slim as slim\n", "tf_slim"),
        ("from tensorflow.contrib import slim\n", "tf_slim"),
        ("from tensorflow.contrib import rnn\n", "tf.keras.layers"),
        ("from tensorflow.contrib.data import TFRecordDataset\n", "`tf.data`"),
        ("import tensorflow as tf\nw = tf.contrib.layers.xavier_initializer()\n", "GlorotUniform"),
        ("import tensorflow as tf\nr = tf.contrib.layers.l2_regularizer(1e-4)\n", "tf.keras.regularizers.l2"),
        ("import tensorflow.compat.v1 as tf\ncell = tf.contrib.rnn.BasicLSTMCell(512)\n", "LSTMCell"),
        ("import tensorflow as tf\nds = tf.contrib.data.TFRecordDataset(files)\n", "`tf.data`"),
        ("from tensorflow import contrib\n", "core TensorFlow"),
        ("import tensorflow as tf\nfrom tensorflow.contrib.learn.python.learn.datasets.mnist import read_data_sets\n",
         "tf.keras.datasets"),
    ]
    for source, replacement in cases:
        found = lint(source, "DL601")
        assert len(found) == 1, source
        (message,) = messages(source, "DL601")
        assert replacement in message, (source, message)
        assert "TensorFlow 2.16.1 is installed here" in message


def test_one_finding_per_attribute_chain():
    source = "import tensorflow as tf\nnet = tf.contrib.layers.fully_connected(tf.contrib.layers.flatten(x), 10).shape\n"
    assert lint(source, "DL601") == [(2, 7, "DL601"), (2, 41, "DL601")]


def test_slim_import_gets_an_unsafe_fix():
    assert rendered_fixes("import tensorflow.contrib.slim as slim\n") == [("unsafe", ["tf_slim"])]
    assert rendered_fixes("import tensorflow as tf\nx = tf.contrib.layers.flatten(y)\n") == [None]


def test_not_tensorflow_contrib():
    sources = [
        "import tf_slim as slim\nnet = slim.conv2d(images, 64, [3, 3])\n",
        "from contrib import utils\n",
        "import mypkg.contrib.layers as layers\n",
        "from django.contrib import admin\n",
        "import tensorflow as tf\ncontrib = load()\nx = contrib.layers\n",
        "from . import contrib\nx = contrib.slim\n",
        "import tensorflow as tf\nx = tf.keras.layers.Dense(3)  # tf.contrib.layers.fully_connected before\n",
    ]
    for source in sources:
        assert lint(source, "DL601") == [], source


def test_installed_version_comes_from_metadata():
    installed.installed_version.cache_clear()
    version = dl601_tf_contrib_removed.installed_tensorflow()
    assert version is None or version[0].isdigit()
    assert lines("import tensorflow.contrib.slim as slim\n", "DL601") == [1]


def test_optional_imports_are_not_reported():
    source = '''
        import tensorflow as tf

        try:
            from tensorflow.contrib.tensorrt.ops.gen_trt_engine_op import *
        except ImportError:
            pass
    '''
    assert lint(source, "DL601") == []


def test_version_guards_guard_contrib(monkeypatch):
    monkeypatch.setattr(dl601_tf_contrib_removed, "installed_tensorflow", lambda: "2.16.1")
    guarded = [
        """
        import tensorflow as tf

        if tf.__version__.startswith("1."):
            slim = tf.contrib.slim
        else:
            import tf_slim as slim
        """,
        """
        import tensorflow as tf

        TF2 = int(tf.__version__.split(".")[0]) >= 2

        def xavier():
            if TF2:
                return tf.keras.initializers.GlorotUniform()
            return tf.contrib.layers.xavier_initializer() if not TF2 else None
        """,
        """
        import tensorflow as tf

        try:
            rnn = tf.contrib.rnn
        except AttributeError:
            rnn = tf.compat.v1.nn.rnn_cell
        """,
    ]
    for source in guarded:
        assert lint(source, "DL601") == [], source
    # Mentioning the version guards nothing.
    source = """
        import tensorflow as tf

        print("TensorFlow", tf.__version__)
        initializer = tf.contrib.layers.xavier_initializer()
    """
    assert lines(source, "DL601") == [5]
