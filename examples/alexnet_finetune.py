"""Fine-tunes AlexNet's last layers (written against TensorFlow 0.x, as the 2016 tutorial was)."""

import numpy as np
import tensorflow as tf
from PIL import Image

from alexnet import AlexNet

LOG_DIR = "/tmp/finetune_alexnet/tensorboard"


def load_image(path):
    img = Image.open(path).convert("RGB")
    img.thumbnail((227, 227), Image.ANTIALIAS)
    return np.asarray(img, dtype=np.float32)


def train(x, y, keep_prob, train_layers, batches):
    model = AlexNet(x, keep_prob, 2, train_layers)
    score = model.fc8
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=score, labels=y))
    train_op = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    correct_pred = tf.equal(tf.argmax(score, 1), tf.argmax(y, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))
    tf.scalar_summary("cross_entropy", loss)
    tf.scalar_summary("accuracy", accuracy)
    merged_summary = tf.merge_all_summaries()
    with tf.Session() as sess:
        writer = tf.train.SummaryWriter(LOG_DIR, sess.graph)
        sess.run(tf.initialize_all_variables())
        for step, (images, labels) in enumerate(batches):
            labels = labels.astype(np.int)
            _, summary = sess.run([train_op, merged_summary], feed_dict={x: images, y: labels, keep_prob: 0.5})
            writer.add_summary(summary, step)
