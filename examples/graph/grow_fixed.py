"""grow.py, fixed: the summary op is built once, before the loop, and the graph is finalized.

    python examples/graph/grow_fixed.py TRAIN_DIR

`dldoctor graph run` reports the graph as stable, and any op created in the loop by mistake
would now raise `RuntimeError: Graph is finalized and cannot be modified` at the line that creates it.
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
loss_summary = tf.summary.scalar("loss", loss)  # once, on the loss tensor
saver = tf.train.Saver(max_to_keep=None)
writer = tf.summary.FileWriter(train_dir)
init = tf.global_variables_initializer()
tf.get_default_graph().finalize()

rng = np.random.default_rng(0)
true_weights = rng.normal(size=(8, 1)).astype(np.float32)
with tf.Session() as sess:
    sess.run(init)
    for step in range(200):
        batch = rng.normal(size=(32, 8)).astype(np.float32)
        feed = {features: batch, labels: batch @ true_weights}
        sess.run(train_op, feed_dict=feed)
        if step % 10 == 0:
            writer.add_summary(sess.run(loss_summary, feed_dict=feed), global_step=step)
        if step % 40 == 0:
            saver.save(sess, os.path.join(train_dir, "model.ckpt"), global_step=step)
    print("final loss", sess.run(loss, feed_dict=feed))
