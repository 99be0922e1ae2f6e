"""DL214 train-op-never-run: realistic cases, code that must not fire, and the silent
wrong result itself, reproduced with TensorFlow's graph mode."""

from lintutil import lines, lint, messages
from tf1run import run_tf1

# A small GAN in the style of the TF1 tutorials: the generator's train op is built and
# the loop only ever runs the discriminator's.
REGRESSION = '''
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

z = tf.placeholder(tf.float32, [None, 4])
x = tf.placeholder(tf.float32, [None, 4])
with tf.variable_scope("G"):
    g_w = tf.get_variable("w", [4, 4])
fake = tf.matmul(z, g_w)
with tf.variable_scope("D"):
    d_w = tf.get_variable("w", [4, 1])
d_real, d_fake = tf.matmul(x, d_w), tf.matmul(fake, d_w)
d_loss = tf.reduce_mean(tf.nn.softplus(-d_real) + tf.nn.softplus(d_fake))
g_loss = tf.reduce_mean(tf.nn.softplus(-d_fake))
d_optim = tf.train.AdamOptimizer(0.1).minimize(d_loss, var_list=[d_w])
g_optim = tf.train.AdamOptimizer(0.1).minimize(g_loss, var_list=[g_w])
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    before = sess.run(g_w)
    for step in range(3):
        _, d_err = sess.run([d_optim, d_loss], feed_dict={z: np.ones((2, 4)), x: np.ones((2, 4))})
        g_err = sess.run(g_loss, feed_dict={z: np.ones((2, 4))})
    print("generator trained" if not np.allclose(before, sess.run(g_w)) else "generator unchanged")
'''
FIXED = REGRESSION.replace(
    "        g_err = sess.run(g_loss, feed_dict={z: np.ones((2, 4))})\n",
    "        _, g_err = sess.run([g_optim, g_loss], feed_dict={z: np.ones((2, 4))})\n",
)


def test_the_generator_that_never_trains_is_reported_and_really_does_not():
    assert lint(REGRESSION, "DL214") == [(18, 1, "DL214")]
    (message,) = messages(REGRESSION, "DL214")
    assert "`g_optim" in message and "fetches `d_optim`" in message
    done = run_tf1(REGRESSION)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "generator unchanged" in done.stdout


def test_the_fixed_loop_is_silent_and_trains_it():
    assert lint(FIXED, "DL214") == []
    done = run_tf1(FIXED)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "generator trained" in done.stdout


def test_inside_a_training_function():
    source = '''
        import tensorflow.compat.v1 as tf

        def train(model, batches):
            d_optim = tf.train.AdamOptimizer(2e-4, beta1=0.5).minimize(model.d_loss, var_list=model.d_vars)
            g_optim = tf.train.AdamOptimizer(2e-4, beta1=0.5).apply_gradients(model.g_grads)
            sess = tf.Session()
            sess.run(tf.global_variables_initializer())
            for batch in batches:
                d_optim.run(session=sess, feed_dict={model.x: batch})
    '''
    assert lines(source, "DL214") == [6]


def test_any_other_use_keeps_it_silent():
    head = (
        "import tensorflow.compat.v1 as tf\nd_optim = opt.minimize(d_loss)\ng_optim = opt.minimize(g_loss)\n"
        "sess = tf.Session()\nsess.run(d_optim)\n"
    )
    uses = [
        "sess.run(g_optim)\n",
        "g_optim.run(session=sess)\n",
        "ops = {'g': g_optim}\n",
        "with tf.control_dependencies([g_optim]):\n    train_op = tf.no_op()\n",
        "trainer.fit(sess, g_optim)\n",
        "def step():\n    sess.run(g_optim)\n",
        "print(locals())\n",
    ]
    for use in uses:
        assert lint(head + use, "DL214") == [], use
    sources = [
        # Fetched by its name.
        "import tensorflow.compat.v1 as tf\nd_optim = opt.minimize(d_loss)\ng_optim = opt.minimize(g_loss, name='g_train')\n"
        "sess = tf.Session()\nsess.run(d_optim)\nsess.run('g_train')\n",
        # Stored on the model.
        "import tensorflow.compat.v1 as tf\nclass GAN:\n    def build(self):\n        self.d_optim = opt.minimize(d_loss)\n"
        "        self.g_optim = opt.minimize(g_loss)\n        self.sess.run(self.d_optim)\n",
        # No train op is run here: the session may be elsewhere.
        "import tensorflow.compat.v1 as tf\nd_optim = opt.minimize(d_loss)\ng_optim = opt.minimize(g_loss)\n",
        # In another function than the one that runs.
        "import tensorflow.compat.v1 as tf\ndef build():\n    unused = opt.minimize(loss)\n"
        "def train():\n    train_op = opt.minimize(loss)\n    sess = tf.Session()\n    sess.run(train_op)\n",
    ]
    for source in sources:
        assert lint(source, "DL214") == [], source
