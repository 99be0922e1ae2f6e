"""DL213 reuse-before-slot-variables: realistic cases, code that must not fire, and the
error itself, reproduced with TensorFlow's graph mode."""

from lintutil import lines, lint, messages
from tf1run import run_tf1

# A two-tower trainer in the style of TensorFlow's multi-GPU CIFAR-10 tutorial, moved to Adam.
REGRESSION = '''
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()


def tower_loss(images, labels):
    weights = tf.get_variable("weights", [8, 2])
    logits = tf.matmul(images, weights)
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


images = tf.placeholder(tf.float32, [2, None, 8])
labels = tf.placeholder(tf.int64, [2, None])
opt = tf.train.AdamOptimizer(1e-3)
tower_grads = []
for i in range(2):
    with tf.device("/cpu:0"), tf.name_scope("tower_%d" % i):
        loss = tower_loss(images[i], labels[i])
        tf.get_variable_scope().reuse_variables()
        tower_grads.append(opt.compute_gradients(loss))
grads = [(tf.add_n([g for g, _ in pairs]) / 2.0, pairs[0][1]) for pairs in zip(*tower_grads)]
train_op = opt.apply_gradients(grads)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(train_op, feed_dict={images: np.ones((2, 4, 8)), labels: np.zeros((2, 4))})
'''
FIXED = REGRESSION.replace(
    '''for i in range(2):
    with tf.device("/cpu:0"), tf.name_scope("tower_%d" % i):
        loss = tower_loss(images[i], labels[i])
        tf.get_variable_scope().reuse_variables()
        tower_grads.append(opt.compute_gradients(loss))
''',
    '''with tf.variable_scope(tf.get_variable_scope()):
    for i in range(2):
        with tf.device("/cpu:0"), tf.name_scope("tower_%d" % i):
            loss = tower_loss(images[i], labels[i])
            tf.get_variable_scope().reuse_variables()
            tower_grads.append(opt.compute_gradients(loss))
''',
)
AUTO_REUSE = REGRESSION.replace(
    "train_op = opt.apply_gradients(grads)\n",
    "with tf.variable_scope(tf.get_variable_scope(), reuse=tf.AUTO_REUSE):\n    train_op = opt.apply_gradients(grads)\n",
)


def test_the_tower_loop_is_reported_and_really_fails():
    assert lint(REGRESSION, "DL213") == [(24, 12, "DL213")]
    (message,) = messages(REGRESSION, "DL213")
    assert "AdamOptimizer.apply_gradients(...)" in message and "Variable .../Adam/ does not exist" in message
    done = run_tf1(REGRESSION)
    assert done.returncode != 0 and "ValueError: Variable weights/Adam/ does not exist" in done.stderr, done.stderr[-2000:]


def test_the_fixed_forms_are_silent_and_run():
    for source in (FIXED, AUTO_REUSE):
        assert lint(source, "DL213") == [], source
        done = run_tf1(source)
        assert done.returncode == 0, done.stderr[-2000:]


def test_a_fresh_named_scope_does_not_end_the_reuse():
    source = REGRESSION.replace(
        "train_op = opt.apply_gradients(grads)\n",
        "with tf.variable_scope('train', reuse=False):\n    train_op = opt.apply_gradients(grads)\n",
    )
    assert lines(source, "DL213") == [25]


def test_every_slot_maker_and_every_kind_of_reuse():
    head = "import tensorflow.compat.v1 as tf\nloss = tower(x)\n"
    reuses = [
        "tf.get_variable_scope().reuse_variables()\n",
        "scope = tf.get_variable_scope()\nscope.reuse_variables()\n",
    ]
    makers = [
        "train_op = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)\n",
        "opt = tf.train.RMSPropOptimizer(0.1)\ntrain_op = opt.minimize(loss)\n",
        "train_op = tf.train.AdagradOptimizer(0.1).apply_gradients(grads)\n",
        "ema = tf.train.ExponentialMovingAverage(0.999)\naverages_op = ema.apply(tf.trainable_variables())\n",
    ]
    for reuse in reuses:
        for maker in makers:
            source = head + reuse + maker
            assert len(lines(source, "DL213")) == 1, source


def test_a_model_function_that_reuses_its_callers_scope():
    source = '''
        import tensorflow.compat.v1 as tf

        def discriminator(x):
            h = tf.layers.dense(x, 128, name="d_h1")
            logits = tf.layers.dense(h, 1, name="d_out")
            tf.get_variable_scope().reuse_variables()
            return logits

        d_real = discriminator(real_images)
        d_fake = discriminator(fake_images)
        d_loss = tf.reduce_mean(d_real - d_fake)
        d_optim = tf.train.AdamOptimizer(2e-4).minimize(d_loss)
    '''
    assert lines(source, "DL213") == [13]


def test_reuse_confined_to_a_block_or_another_graph_is_silent():
    sources = [
        # The reuse belongs to the discriminator's own scope.
        '''
        import tensorflow.compat.v1 as tf
        def discriminator(x, reuse=False):
            with tf.variable_scope("discriminator") as scope:
                if reuse:
                    scope.reuse_variables()
                return tf.layers.dense(x, 1)
        d_loss = discriminator(a) + discriminator(b, reuse=True)
        d_optim = tf.train.AdamOptimizer(2e-4).minimize(d_loss)
        ''',
        '''
        import tensorflow.compat.v1 as tf
        with tf.variable_scope("model"):
            logits = net(x)
            tf.get_variable_scope().reuse_variables()
            eval_logits = net(x_eval)
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
        ''',
        # A reuse that depends on a parameter: not known to run.
        '''
        import tensorflow.compat.v1 as tf
        def tower(x, share):
            if share:
                tf.get_variable_scope().reuse_variables()
            return net(x)
        loss = tower(a, False) + tower(b, True)
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
        ''',
        # A new graph.
        '''
        import tensorflow.compat.v1 as tf
        loss = tower(x)
        tf.get_variable_scope().reuse_variables()
        tf.reset_default_graph()
        train_op = tf.train.AdamOptimizer(1e-3).minimize(build())
        ''',
        # The two branches of an `if`.
        '''
        import tensorflow.compat.v1 as tf
        if evaluate:
            tf.get_variable_scope().reuse_variables()
            logits = net(x)
        else:
            train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
        ''',
        # Built before the reuse.
        '''
        import tensorflow.compat.v1 as tf
        train_op = tf.train.AdamOptimizer(1e-3).minimize(net(x))
        tf.get_variable_scope().reuse_variables()
        eval_logits = net(x_eval)
        ''',
        # A reuse that is not a literal: not known.
        '''
        import tensorflow.compat.v1 as tf
        tf.get_variable_scope().reuse_variables()
        with tf.variable_scope(tf.get_variable_scope(), reuse=share):
            train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
        ''',
    ]
    for source in sources:
        assert lint(source, "DL213") == [], source
