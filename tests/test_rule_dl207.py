"""DL207 variable-scope-without-reuse: a variable-creating function called twice without reuse."""

from lintutil import lines, messages


def test_gan_discriminator_called_on_real_and_fake():
    source = '''
        import tensorflow.compat.v1 as tf

        def discriminator(images):
            with tf.variable_scope("D"):
                with tf.variable_scope("conv1"):
                    w = tf.get_variable("weights", [5, 5, 3, 64])
                    h = tf.nn.conv2d(images, w, [1, 2, 2, 1], "SAME")
                return tf.layers.flatten(h)

        D_real = discriminator(real_images)
        D_fake = discriminator(generator(z))
    '''
    assert lines(source, "DL207") == [12]
    (message,) = messages(source, "DL207")
    assert 'tf.variable_scope("D/conv1")' in message and "already exists" in message
    assert "reuse=tf.AUTO_REUSE" in message


def test_tower_function_in_a_gpu_loop_and_a_method():
    source = '''
        import tensorflow as tf

        class Model:
            def encoder(self, x):
                with tf.variable_scope("encoder"):
                    return tf.matmul(x, tf.get_variable("w", [128, 64]))

            def build(self):
                self.a = self.encoder(self.x1)
                self.b = self.encoder(self.x2)

        def tower_loss(images, labels):
            with tf.variable_scope("model"):
                logits = tf.matmul(images, tf.get_variable("w", [784, 10]))
            return tf.losses.sparse_softmax_cross_entropy(labels, logits)

        for i in range(num_gpus):
            with tf.device("/gpu:%d" % i):
                losses.append(tower_loss(images[i], labels[i]))
    '''
    assert lines(source, "DL207") == [11, 20]


def test_must_not_fire():
    sources = [
        # reuse given, in every form.
        '''
        import tensorflow.compat.v1 as tf
        def D(x, reuse=None):
            with tf.variable_scope("D", reuse=reuse):
                return tf.matmul(x, tf.get_variable("w", [4, 1]))
        a = D(x)
        b = D(y, reuse=True)
        ''',
        '''
        import tensorflow.compat.v1 as tf
        def D(x):
            with tf.variable_scope("D") as scope:
                scope.reuse_variables()
                return tf.matmul(x, tf.get_variable("w", [4, 1]))
        a = D(x)
        b = D(y)
        ''',
        '''
        import tensorflow.compat.v1 as tf
        def D(x):
            with tf.variable_scope("D"):
                return tf.matmul(x, tf.get_variable("w", [4, 1]))
        a = D(x)
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            b = D(y)
        ''',
        # The multi-GPU tower loop that reuses after the first tower.
        '''
        import tensorflow.compat.v1 as tf
        def tower_loss(images):
            with tf.variable_scope("model"):
                return tf.reduce_mean(tf.matmul(images, tf.get_variable("w", [784, 10])))
        with tf.variable_scope(tf.get_variable_scope()):
            for i in range(num_gpus):
                with tf.device("/gpu:%d" % i):
                    loss = tower_loss(batches[i])
                    tf.get_variable_scope().reuse_variables()
        ''',
        # A scope named by a parameter; layers that name themselves uniquely.
        '''
        import tensorflow.compat.v1 as tf
        def block(x, name):
            with tf.variable_scope(name):
                return tf.matmul(x, tf.get_variable("w", [4, 4]))
        a = block(x, "b1")
        b = block(a, "b2")
        ''',
        '''
        import tensorflow.compat.v1 as tf
        def head(x):
            with tf.variable_scope("head"):
                return tf.layers.dense(x, 10)
        a = head(x)
        b = head(y)
        ''',
        # One graph per call.
        '''
        import tensorflow.compat.v1 as tf
        def net(x):
            with tf.variable_scope("net"):
                return tf.matmul(x, tf.get_variable("w", [4, 4]))
        for ckpt in checkpoints:
            with tf.Graph().as_default():
                y = net(x)
        ''',
    ]
    for source in sources:
        assert lines(source, "DL207") == [], source
