"""DL212 variable-initialized-from-variable: realistic cases, code that must not fire, and the
error itself, reproduced with TensorFlow's graph mode."""

from lintutil import lines, lint, messages
from tf1run import run_tf1

# A layer initialized from a pretrained one, and a copy of it for a target network.
REGRESSION = '''
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

pretrained = tf.Variable(tf.random_normal([4, 4], stddev=0.1), name="pretrained")
online = tf.Variable(pretrained * 0.5, name="online")
target = tf.Variable(online + 0.0, name="target")
x = tf.placeholder(tf.float32, [None, 4])
q = tf.matmul(x, target)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(sess.run(q, feed_dict={x: np.ones((2, 4))}))
'''
FIXED = REGRESSION.replace("tf.Variable(pretrained * 0.5", "tf.Variable(pretrained.initialized_value() * 0.5").replace(
    "tf.Variable(online + 0.0", "tf.Variable(online.initialized_value() + 0.0"
)


def test_a_chain_of_two_is_reported_and_really_fails():
    assert lint(REGRESSION, "DL212") == [(9, 10, "DL212")]
    (message,) = messages(REGRESSION, "DL212")
    assert "`online`" in message and "`pretrained`" in message and "initialized_value()" in message
    done = run_tf1(REGRESSION)
    assert done.returncode != 0 and "FailedPreconditionError" in done.stderr, done.stderr[-2000:]
    assert "Attempting to use uninitialized value" in done.stderr


def test_the_fixed_chain_is_silent_and_runs():
    assert lint(FIXED, "DL212") == []
    done = run_tf1(FIXED)
    assert done.returncode == 0, done.stderr[-2000:]


def test_one_link_is_guarded_since_tensorflow_1_3():
    source = REGRESSION.replace('target = tf.Variable(online + 0.0, name="target")\n', "target = online\n")
    assert lint(source, "DL212") == []
    done = run_tf1(source)
    assert done.returncode == 0, done.stderr[-2000:]


def test_one_link_under_tensorflow_older_than_1_3():
    source = '''
        import tensorflow as tf
        assert tf.__version__ == "1.2.1"
        w1 = tf.Variable(tf.random_normal([3, 3]))
        w2 = tf.Variable(tf.matmul(w1, w1))
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
    '''
    assert lines(source, "DL212") == [5]
    (message,) = messages(source, "DL212")
    assert "TensorFlow 1.2.1" in message and "w1.initialized_value()" in message


def test_every_way_to_read_a_variable_in_a_chain():
    head = (
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nsess.run(tf.global_variables_initializer())\n"
        "w0 = tf.get_variable('w0', [3, 3])\n"
    )
    chains = [
        "w1 = tf.Variable(w0)\nw2 = tf.Variable(w1)\n",
        "w1 = tf.Variable(initial_value=-w0)\nw2 = tf.Variable(initial_value=w1[0])\n",
        "w1 = tf.get_variable('w1', initializer=tf.matmul(w0, w0))\nw2 = tf.get_variable('w2', initializer=w1 * 2)\n",
        "w1 = tf.Variable(tf.concat([w0, w0], 0))\nw2 = tf.Variable(tf.nn.relu(w1))\n",
    ]
    for chain in chains:
        assert lines(head + chain, "DL212") == [6], chain


def test_a_chain_on_self_in_a_model_class():
    source = '''
        import tensorflow.compat.v1 as tf

        class Model:
            def __init__(self):
                self.w = tf.Variable(tf.truncated_normal([10, 10]))
                self.w_avg = tf.Variable(self.w * 1.0, trainable=False)
                self.w_target = tf.Variable(self.w_avg, trainable=False)

        model = Model()
        with tf.train.MonitoredTrainingSession() as sess:
            sess.run(model.w_target)
    '''
    assert lines(source, "DL212") == [8]


def test_what_does_not_read_the_value_stays_silent():
    head = (
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nsess.run(tf.global_variables_initializer())\n"
        "w0 = tf.Variable(tf.ones([3]))\nw1 = tf.Variable(w0 * 2)\n"
    )
    sources = [
        head + "w2 = tf.Variable(w1.initialized_value() + 1)\n",
        head + "w2 = tf.Variable(w1.initial_value + 1)\n",
        head + "w2 = tf.Variable(tf.zeros_like(w1))\n",
        head + "w2 = tf.Variable(tf.zeros(w1.shape))\n",
        head + "w2 = tf.Variable(tf.zeros(tf.shape(w1)))\n",
        head + "w2 = tf.Variable(scale(w1))\n",  # the project's own function: not known
        head + "w1 = tf.constant([1.0, 2.0, 3.0])\nw2 = tf.Variable(w1 + 1)\n",  # rebound to a constant
        head + "if warm:\n    w1 = tf.Variable(w0 * 3)\nw2 = tf.Variable(w0 + 1)\n",
        # The middle link is not a variable.
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float32, [3])\nw1 = tf.Variable(tf.ones([3]))\n"
        "h = x * 2\nw2 = tf.Variable(h + w1)\nsess = tf.Session()\nsess.run(tf.global_variables_initializer())\n",
    ]
    for source in sources:
        assert lint(source, "DL212") == [], source


def test_eager_code_and_code_that_initializes_nothing_stay_silent():
    chain = "w0 = tf.Variable(tf.ones([3]))\nw1 = tf.Variable(w0 * 2)\nw2 = tf.Variable(w1 + 1)\n"
    sources = [
        "import tensorflow as tf\n" + chain + "print(w2.numpy())\n",
        "import tensorflow.compat.v1 as tf\n" + chain + "sess = tf.Session()\nsess.run(w0.initializer)\n",
    ]
    for source in sources:
        assert lint(source, "DL212") == [], source
