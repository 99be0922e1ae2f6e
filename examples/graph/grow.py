"""A tiny TF1-style training loop whose graph grows: a summary op is built at every logging step.

    python examples/graph/grow.py TRAIN_DIR       # trains 200 steps on CPU, saves a checkpoint every 40

Each `tf.summary.scalar(...)` call adds new ops to the graph, so every `Session.run` and every
`.meta` file written by `saver.save` gets a little larger; on a real model, with image summaries,
the GraphDef reaches protobuf's 2 GB limit and the job dies. `grow_fixed.py` is the same loop, fixed.
"""

import os
import sys

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()

train_dir = sys.argv[1] if len(sys.argv) > 1 else "train_dir"
os.makedirs(train_dir, exist_ok=True)

features = tf.placeholder(tf.float32, [None, 8], name="features")
labels = tf.placeholder(tf.float32, [None, 1], name="labels")
weights = tf.Variable(tf.zeros([8, 1]), name="weights")
prediction = tf.matmul(features, weights)
loss = tf.reduce_mean(tf.square(prediction - labels))
train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
saver = tf.train.Saver(max_to_keep=None)
writer = tf.summary.FileWriter(train_dir)

rng = np.random.default_rng(0)
true_weights = rng.normal(size=(8, 1)).astype(np.float32)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(200):
        batch = rng.normal(size=(32, 8)).astype(np.float32)
        feed = {features: batch, labels: batch @ true_weights}
        sess.run(train_op, feed_dict=feed)
        if step % 10 == 0:
            loss_summary = tf.summary.scalar("loss", loss)  # noqa: DL202  (the bug: a new op at every logging step)
            writer.add_summary(sess.run(loss_summary, feed_dict=feed), global_step=step)
        if step % 40 == 0:
            saver.save(sess, os.path.join(train_dir, "model.ckpt"), global_step=step)
    print("final loss", sess.run(loss, feed_dict=feed))
