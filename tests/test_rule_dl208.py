"""DL208 initializer-before-variables: realistic cases, code that must not fire, and the
error itself, reproduced with TensorFlow's graph mode."""

import pytest

from lintutil import lines, lint, messages

REGRESSION = '''
import numpy as np
import tensorflow.compat.v1 as tf

x = tf.placeholder(tf.float32, [None, 3])
y = tf.placeholder(tf.float32, [None, 1])
w = tf.Variable(tf.zeros([3, 1]))
b = tf.Variable(tf.zeros([1]))
loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
init = tf.global_variables_initializer()
train_op = tf.train.AdamOptimizer(0.01).minimize(loss)
with tf.Session() as sess:
    sess.run(init)
    for step in range(3):
        sess.run(train_op, feed_dict={x: np.ones((4, 3)), y: np.ones((4, 1))})
'''
FIXED = REGRESSION.replace(
    "init = tf.global_variables_initializer()\ntrain_op = tf.train.AdamOptimizer(0.01).minimize(loss)\n",
    "train_op = tf.train.AdamOptimizer(0.01).minimize(loss)\ninit = tf.global_variables_initializer()\n",
)


@pytest.fixture(scope="module")
def graph_mode():
    """Runs a source in a fresh TensorFlow graph (graph mode without touching eager globally)."""
    tf = pytest.importorskip("tensorflow")

    def run(source):
        with tf.Graph().as_default():
            exec(compile(source, "t.py", "exec"), {"__name__": "t"})

    return run, tf


def test_initializer_before_adam_slots_is_reported_and_really_fails(graph_mode):
    assert lint(REGRESSION, "DL208") == [(10, 8, "DL208")]
    (message,) = messages(REGRESSION, "DL208")
    assert "AdamOptimizer.minimize(...)" in message and "FailedPreconditionError" in message
    run, tf = graph_mode
    with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized"):
        run(REGRESSION)


def test_the_fixed_order_is_silent_and_runs(graph_mode):
    assert lint(FIXED, "DL208") == []
    run, _ = graph_mode
    run(FIXED)


def test_every_kind_of_late_variable():
    head = "import tensorflow.compat.v1 as tf\nsess = tf.Session()\ninit = tf.global_variables_initializer()\n"
    late = [
        "w = tf.Variable(tf.zeros([3]))\n",
        "w = tf.get_variable('w', [3])\n",
        "h = tf.layers.dense(x, 10)\n",
        "opt = tf.train.MomentumOptimizer(0.1, 0.9)\ntrain = opt.minimize(loss)\n",
        "train = tf.train.RMSPropOptimizer(0.1).apply_gradients(grads)\n",
        "ema = tf.train.ExponentialMovingAverage(0.99)\naverages = ema.apply(tf.trainable_variables())\n",
        "step = tf.train.get_or_create_global_step()\n",
    ]
    for creation in late:
        source = head + creation + "sess.run(init)\n"
        assert lines(source, "DL208") == [3], creation


def test_an_initializer_run_inline_before_a_variable():
    source = '''
        import tensorflow.compat.v1 as tf
        sess = tf.InteractiveSession()
        sess.run(tf.global_variables_initializer())
        global_step = tf.Variable(0, trainable=False, name="global_step")
        print(sess.run(global_step))
    '''
    assert lines(source, "DL208") == [4]


def test_an_initializer_built_in_a_method_and_run_in_another():
    source = '''
        import tensorflow.compat.v1 as tf

        class Model:
            def __init__(self, loss):
                self.init_op = tf.global_variables_initializer()
                self.train_op = tf.train.AdamOptimizer(1e-4).minimize(loss)

            def fit(self, sess):
                sess.run(self.init_op)
                sess.run(self.train_op)
    '''
    assert lines(source, "DL208") == [6]


def test_what_covers_the_late_variables_keeps_it_silent():
    head = "import tensorflow.compat.v1 as tf\nsess = tf.Session()\ninit = tf.global_variables_initializer()\n"
    adam = "opt = tf.train.AdamOptimizer(0.1)\ntrain = opt.minimize(loss)\n"
    sources = [
        # A second initializer after the optimizer.
        head + adam + "sess.run(init)\nsess.run(tf.global_variables_initializer())\n",
        # The optimizer's variables initialized on their own.
        head + adam + "sess.run(init)\nsess.run(tf.variables_initializer(opt.variables()))\n",
        head + "v = tf.Variable(1.0)\nsess.run(init)\nsess.run(v.initializer)\n",
        # Restored from a checkpoint.
        head + adam + "sess.run(init)\nsaver = tf.train.Saver()\nsaver.restore(sess, path)\n",
        # A Supervisor initializes whatever it finds.
        head + adam + "sv = tf.train.Supervisor(logdir=d, init_op=init)\n",
    ]
    for source in sources:
        assert lint(source, "DL208") == [], source


def test_no_variables_made_after_it_keeps_it_silent():
    sources = [
        # Plain gradient descent has no slots.
        "import tensorflow.compat.v1 as tf\nw = tf.Variable(1.0)\ninit = tf.global_variables_initializer()\n"
        "train = tf.train.GradientDescentOptimizer(0.5).minimize(w * w)\nsess = tf.Session()\nsess.run(init)\n",
        # Layers under a reuse scope only look their variables up.
        "import tensorflow.compat.v1 as tf\nlogits = tf.layers.dense(x, 10, name='fc')\n"
        "init = tf.global_variables_initializer()\nwith tf.variable_scope(tf.get_variable_scope(), reuse=True):\n"
        "    eval_logits = tf.layers.dense(x_eval, 10, name='fc')\nsess = tf.Session()\nsess.run(init)\n",
        "import tensorflow.compat.v1 as tf\nw = tf.get_variable('w', [3])\ninit = tf.global_variables_initializer()\n"
        "tf.get_variable_scope().reuse_variables()\nw2 = tf.get_variable('w', [3])\nsess = tf.Session()\nsess.run(init)\n",
        # Local variables are not the global initializer's business.
        "import tensorflow.compat.v1 as tf\ninit = tf.global_variables_initializer()\n"
        "count = tf.Variable(0, collections=[tf.GraphKeys.LOCAL_VARIABLES])\nsess = tf.Session()\nsess.run(init)\n",
    ]
    for source in sources:
        assert lint(source, "DL208") == [], source


def test_branches_graphs_and_unused_initializers():
    sources = [
        # The two sit in the two branches of one `if`.
        "import tensorflow.compat.v1 as tf\nif restore:\n    init = tf.global_variables_initializer()\n"
        "else:\n    w = tf.Variable(1.0)\nsess = tf.Session()\nsess.run(init)\n",
        # A new graph after the initializer.
        "import tensorflow.compat.v1 as tf\ninit = tf.global_variables_initializer()\nsess = tf.Session()\n"
        "sess.run(init)\ntf.reset_default_graph()\nw = tf.Variable(1.0)\n",
        "import tensorflow.compat.v1 as tf\nwith tf.Graph().as_default():\n    init = tf.global_variables_initializer()\n"
        "    sess = tf.Session()\n    sess.run(init)\nwith tf.Graph().as_default():\n    w = tf.Variable(1.0)\n",
        # Created, never run.
        "import tensorflow.compat.v1 as tf\ninit = tf.global_variables_initializer()\n"
        "train = tf.train.AdamOptimizer(0.1).minimize(loss)\nsess = tf.Session()\n"
        "sess.run(tf.global_variables_initializer())\n",
        # Another function's variables.
        "import tensorflow.compat.v1 as tf\ndef build():\n    return tf.Variable(1.0)\n"
        "init = tf.global_variables_initializer()\nsess = tf.Session()\nsess.run(init)\n",
    ]
    for source in sources:
        assert lint(source, "DL208") == [], source
