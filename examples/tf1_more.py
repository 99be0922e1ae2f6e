"""A TF1 classifier with batch norm, a warm-up switch and a step counter, ported from tf.contrib."""

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

NUM_CLASSES = 10


def features(images, is_training):
    net = tf.layers.dense(images, 256)
    net = tf.layers.batch_normalization(net, training=is_training)
    return tf.nn.relu(net)


def main(batches):
    images = tf.placeholder(tf.float32, [None, 784])
    onehot_labels = tf.placeholder(tf.float32, [None, NUM_CLASSES])
    is_training = tf.placeholder(tf.bool)
    warming_up = tf.placeholder(tf.bool)
    logits = tf.layers.dense(features(images, is_training), NUM_CLASSES)
    loss = tf.losses.softmax_cross_entropy(logits, onehot_labels)

    learning_rate = tf.Variable(0.1, trainable=False)
    warm_up_rate = tf.assign(learning_rate, 0.01)

    def warm_up():
        with tf.control_dependencies([warm_up_rate]):
            return tf.identity(learning_rate)

    rate = tf.cond(warming_up, warm_up, lambda: tf.identity(learning_rate))
    train_op = tf.train.GradientDescentOptimizer(rate).minimize(loss)
    step = tf.Variable(0, trainable=False)
    init = tf.global_variables_initializer()

    with tf.Session() as sess:
        sess.run(init)
        for i, (x, y) in enumerate(batches):
            feed = {images: x, onehot_labels: y, is_training: True, warming_up: i < 100}
            _, loss_value = sess.run([train_op, loss], feed_dict=feed)
            step = step + 1
            print(sess.run(step), np.mean(loss_value))
