"""DL222 batch-norm-updates-never-run: the batch-norm MNIST model with and without its update
ops, and the corpus' correct variants. (`tf.layers` needs Keras 2, which the TensorFlow here
does not have, so these sources are linted, not run.)"""

from lintutil import lines, lint, messages

# DeepLearningZeroToAll's batch-norm lab, as it is often written before the fix.
MODEL = '''
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

X = tf.placeholder(tf.float32, [None, 4])
y = tf.placeholder(tf.float32, [None, 1])
mode = tf.placeholder(tf.bool, name="train_mode")
net = tf.layers.dense(X, 8)
net = tf.layers.batch_normalization(net, training=mode)
loss = tf.losses.mean_squared_error(y, tf.layers.dense(tf.nn.relu(net), 1))
train_op = tf.train.AdamOptimizer(0.01).minimize(loss)
moving_mean = [v for v in tf.global_variables() if "moving_mean" in v.name][0]
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    data = np.random.RandomState(0).normal(5.0, 1.0, (32, 4))
    for _ in range(5):
        sess.run(train_op, feed_dict={X: data, y: data[:, :1], mode: True})
    print(bool(np.abs(sess.run(moving_mean)).max() > 0))
'''
FIXED = MODEL.replace(
    "train_op = tf.train.AdamOptimizer(0.01).minimize(loss)\n",
    "update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)\nwith tf.control_dependencies(update_ops):\n"
    "    train_op = tf.train.AdamOptimizer(0.01).minimize(loss)\n",
)
GATHERED_UNUSED = MODEL.replace(
    "train_op = tf.train.AdamOptimizer(0.01).minimize(loss)\n",
    "update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)\ntrain_op = tf.train.AdamOptimizer(0.01).minimize(loss)\n",
)


def test_update_ops_never_gathered_are_reported():
    assert lint(MODEL, "DL222") == [(13, 12, "DL222")]
    (message,) = messages(MODEL, "DL222")
    assert "UPDATE_OPS" in message and "control_dependencies" in message and "training=False" in message


def test_the_train_op_under_the_update_ops_is_silent():
    assert lint(FIXED, "DL222") == []


def test_update_ops_gathered_and_never_used():
    assert lines(GATHERED_UNUSED, "DL222") == [13]
    (message,) = messages(GATHERED_UNUSED, "DL222")
    assert "`update_ops` gathers" in message


def test_correct_or_fixed_mode_code_is_silent():
    sources = [
        # TensorFlow-Examples' DCGAN: update ops per network, by scope.
        "import tensorflow as tf\nx = tf.layers.batch_normalization(x, training=is_training)\n"
        "gen_update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS, scope='Generator')\n"
        "with tf.control_dependencies(gen_update_ops):\n    train_gen = optimizer_gen.minimize(gen_loss)\n",
        # pix2pix: always in training mode, the moving averages are never read.
        "import tensorflow as tf\nx = tf.layers.batch_normalization(x, axis=3, training=True)\n"
        "train = tf.train.AdamOptimizer(2e-4).minimize(loss)\n",
        # DCGAN-tensorflow: updates in place.
        "import tensorflow as tf\nx = tf.contrib.layers.batch_norm(x, decay=0.9, updates_collections=None, "
        "is_training=train)\nd_optim = tf.train.AdamOptimizer(2e-4).minimize(d_loss)\n",
        # slim gathers them itself.
        "import tensorflow as tf\nslim = tf.contrib.slim\nnet = tf.contrib.layers.batch_norm(net, is_training=t)\n"
        "train_op = slim.learning.create_train_op(loss, tf.train.AdamOptimizer(1e-3))\n",
        # No train op in this module (the model file of a project).
        "import tensorflow as tf\ndef model(x, is_training):\n"
        "    return tf.layers.batch_normalization(x, training=is_training)\n",
        # The train op wrapped in a dependency block on the updates, by another name.
        "import tensorflow as tf\nx = tf.layers.batch_normalization(x, training=t)\nbn = tf.get_collection('bn')\n"
        "with tf.control_dependencies(bn):\n    train = opt.minimize(loss)\n",
    ]
    for source in sources:
        assert lint(source, "DL222") == [], source
