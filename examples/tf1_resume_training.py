"""Fine-tune a small classifier and resume it from its checkpoint (TF1 graph style)."""

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

CHECKPOINT = "train/model.ckpt"


def dense(inputs, units, name):
    with tf.variable_scope(name):
        weights = tf.get_variable("weights", [inputs.shape[-1], units])
        biases = tf.get_variable("biases", [units], initializer=tf.zeros_initializer())
        return tf.matmul(inputs, weights) + biases


def build_model(images):
    is_training = tf.placeholder_with_default(False, [], name="is_training")
    net = tf.nn.relu(dense(images, 64, "hidden"))
    if is_training == True:
        net = tf.nn.dropout(net, rate=0.5)
    return dense(net, 10, "logits"), is_training


def build_loss(images, labels):
    logits, is_training = build_model(images)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    return loss, is_training


def train(batches):
    images = tf.placeholder(tf.float32, [None, 784])
    labels = tf.placeholder(tf.int64, [None])
    loss, is_training = build_loss(images, labels)
    init = tf.global_variables_initializer()
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(init)
        for x, y in batches:
            sess.run(train_op, feed_dict={images: x, labels: y, is_training: True})
        saver.save(sess, CHECKPOINT)


def resume(batches):
    images = tf.placeholder(tf.float32, [None, 784])
    labels = tf.placeholder(tf.int64, [None])
    loss, is_training = build_loss(images, labels)
    train_op = tf.train.GradientDescentOptimizer(1e-3).minimize(loss)
    init = tf.global_variables_initializer()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        saver.restore(sess, CHECKPOINT)
        sess.run(init)
        for x, y in batches:
            sess.run(train_op, feed_dict={images: x, labels: y, is_training: True})


def train_supervised(batches, logdir):
    images = tf.placeholder(tf.float32, [None, 784])
    labels = tf.placeholder(tf.int64, [None])
    loss, _ = build_loss(images, labels)
    train_op = tf.train.GradientDescentOptimizer(1e-3).minimize(loss)
    sv = tf.train.Supervisor(logdir=logdir, summary_op=None)
    with sv.managed_session() as sess:
        loss_summary = tf.summary.scalar("loss", loss)
        for x, y in batches:
            _, summary = sess.run([train_op, loss_summary], feed_dict={images: x, labels: y})
            sv.summary_computed(sess, summary)


if __name__ == "__main__":
    train([(np.zeros((8, 784), np.float32), np.zeros(8, np.int64))] * 10)
