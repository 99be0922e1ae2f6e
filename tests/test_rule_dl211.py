"""DL211 python-branch-on-placeholder: realistic cases, code that must not fire, and what
graph mode really does with such a test."""

import pytest

from lintutil import lines, lint, messages

DROPOUT = '''
import tensorflow.compat.v1 as tf

def model(x):
    is_training = tf.placeholder(tf.bool, name="is_training")
    net = tf.matmul(x, tf.ones([4, 16]))
    if is_training == True:
        net = tf.nn.dropout(net, keep_prob=0.5)
    return net, is_training
'''
FIXED = DROPOUT.replace(
    "    if is_training == True:\n        net = tf.nn.dropout(net, keep_prob=0.5)\n",
    "    net = tf.cond(is_training, lambda: tf.nn.dropout(net, keep_prob=0.5), lambda: net)\n",
)


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def _ops_of(tf, source):
    namespace = {"__name__": "t"}
    exec(compile(source, "t.py", "exec"), namespace)
    with tf.Graph().as_default() as graph:
        namespace["model"](tf.zeros([2, 4]))
        return {op.type for op in graph.get_operations()}


def test_comparing_a_placeholder_is_reported_and_really_never_true(tf):
    assert lint(DROPOUT, "DL211") == [(7, 8, "DL211")]
    (message,) = messages(DROPOUT, "DL211")
    assert "always False" in message and "never runs" in message and "tf.cond" in message
    assert not {"RandomUniform", "If", "Switch"} & _ops_of(tf, DROPOUT)  # no dropout in the graph, at all


def test_the_tf_cond_version_is_silent_and_has_dropout(tf):
    assert lint(FIXED, "DL211") == []
    assert {"If", "Switch"} & _ops_of(tf, FIXED)  # the choice is in the graph (cond v2 or v1)


def test_ordering_and_truth_tests_raise(tf):
    source = '''
        import tensorflow.compat.v1 as tf
        def model(x):
            steps = tf.placeholder(tf.int32)
            while steps > 0:
                x = x * 2
    '''
    assert lines(source, "DL211") == [5]
    (message,) = messages(source, "DL211")
    assert "TypeError" in message
    with pytest.raises(TypeError, match="as a Python `bool` is not allowed"):
        _ops_of(tf, source.replace("\n        ", "\n"))


def test_every_shape_of_test():
    head = "import tensorflow.compat.v1 as tf\nflag = tf.placeholder(tf.bool)\nk = tf.placeholder_with_default(0, [])\n"
    tests = [
        "if flag:\n    pass\n",
        "if not flag:\n    pass\n",
        "if ready and k != 0:\n    pass\n",
        "if x:\n    pass\nelif 0 < k:\n    pass\n",
        "y = 1 if k >= 3 else 2\n",
        "while k == 0:\n    pass\n",
    ]
    for test in tests:
        assert len(lines(head + test, "DL211")) == 1, test


def test_what_is_not_the_fed_value_is_silent():
    sources = [
        # Static properties, identity.
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float32, [None, 3])\n"
        "if x.shape[1] == 3 and x.dtype == tf.float32 and x is not None:\n    pass\n",
        # Rebound to the value.
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float32)\nx = sess.run(x, feed)\nif x > 0:\n    pass\n",
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float32)\nfor x in values:\n    if x > 0:\n        pass\n",
        # A parameter of the same name.
        "import tensorflow.compat.v1 as tf\nis_training = tf.placeholder(tf.bool)\ndef block(net, is_training):\n"
        "    if is_training:\n        net = tf.nn.dropout(net, 0.5)\n    return net\n",
        # Another function's placeholder.
        "import tensorflow.compat.v1 as tf\ndef inputs():\n    x = tf.placeholder(tf.float32)\n    return x\n"
        "def loop(x):\n    while x > 0:\n        x -= 1\n",
        # Not TensorFlow's.
        "import tensorflow.compat.v1 as tf\nx = placeholder()\nif x:\n    pass\n",
    ]
    for source in sources:
        assert lint(source, "DL211") == [], source
