"""A TF1 graph-mode toolbox: towers, a small GAN, a target network and a queue reader."""

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()


def dense(inputs, units, name):
    with tf.variable_scope(name):
        weights = tf.get_variable("weights", [inputs.shape[-1], units])
        return tf.matmul(inputs, weights)


def tower_loss(images, labels):
    logits = dense(tf.nn.relu(dense(images, 64, "hidden")), 10, "logits")
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def train_towers(batches, num_towers=2):
    images = tf.placeholder(tf.float32, [num_towers, None, 784])
    labels = tf.placeholder(tf.int64, [num_towers, None])
    opt = tf.train.AdamOptimizer(1e-3)
    tower_grads = []
    for i in range(num_towers):
        with tf.name_scope("tower_%d" % i):
            loss = tower_loss(images[i], labels[i])
            tf.get_variable_scope().reuse_variables()
            tower_grads.append(opt.compute_gradients(loss))
    grads = [(tf.add_n([g for g, _ in pairs]) / num_towers, pairs[0][1]) for pairs in zip(*tower_grads)]
    train_op = opt.apply_gradients(grads)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for x, y in batches:
            sess.run(train_op, feed_dict={images: x, labels: y})


def train_gan(real_batches, z_dim=16):
    z = tf.placeholder(tf.float32, [None, z_dim])
    real = tf.placeholder(tf.float32, [None, 784])
    fake = tf.nn.tanh(dense(z, 784, "generator"))
    with tf.variable_scope("discriminator", reuse=tf.AUTO_REUSE):
        d_real = dense(real, 1, "out")
        d_fake = dense(fake, 1, "out")
    d_loss = tf.reduce_mean(tf.nn.softplus(-d_real) + tf.nn.softplus(d_fake))
    g_loss = tf.reduce_mean(tf.nn.softplus(-d_fake))
    d_vars = tf.trainable_variables("discriminator")
    g_vars = tf.trainable_variables("generator")
    d_optim = tf.train.AdamOptimizer(2e-4, beta1=0.5).minimize(d_loss, var_list=d_vars)
    g_optim = tf.train.AdamOptimizer(2e-4, beta1=0.5).minimize(g_loss, var_list=g_vars)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for batch in real_batches:
            noise = np.random.uniform(-1, 1, (len(batch), z_dim))
            _, d_err = sess.run([d_optim, d_loss], feed_dict={z: noise, real: batch})
            g_err = sess.run(g_loss, feed_dict={z: noise})
            print("d_loss %.4f g_loss %.4f" % (d_err, g_err))


def target_network(states):
    online = tf.Variable(tf.truncated_normal([4, 2], stddev=0.1), name="online")
    averaged = tf.Variable(online * 1.0, trainable=False, name="averaged")
    target = tf.Variable(averaged + 0.0, trainable=False, name="target")
    q_values = tf.matmul(states, target)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(q_values)


def cumulative_rewards(rewards):
    totals = tf.TensorArray(tf.float32, size=len(rewards))
    running = tf.constant(0.0)
    for i, reward in enumerate(rewards):
        running = running + reward
        totals.write(i, running)
    with tf.Session() as sess:
        return sess.run(totals.stack())


def read_rows(filenames):
    sess = tf.Session()
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess=sess, coord=coord)
    filename_queue = tf.train.string_input_producer(filenames)
    _, line = tf.TextLineReader().read(filename_queue)
    rows = [sess.run(line) for _ in range(4)]
    coord.request_stop()
    coord.join(threads)
    return rows


if __name__ == "__main__":
    print(target_network(np.ones((1, 4), np.float32)))
