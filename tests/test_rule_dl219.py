"""DL219 tensor-fed-as-value: the batch tensors fed in place of their arrays, the fixed
input pipelines of real TF1 tutorials that must stay silent, and TensorFlow's real error."""

import subprocess
import sys

import pytest

from lintutil import lines, lint, messages

# hunkim/DeepLearningZeroToAll lab-04-4, as a beginner first writes it: the queue's batch
# tensors fed straight into the placeholders.
QUEUE = '''
import tensorflow as tf

filename_queue = tf.train.string_input_producer(["data-01-test-score.csv"], shuffle=False)
reader = tf.TextLineReader()
key, value = reader.read(filename_queue)
xy = tf.decode_csv(value, record_defaults=[[0.], [0.], [0.], [0.]])
train_x_batch, train_y_batch = tf.train.batch([xy[0:-1], xy[-1:]], batch_size=10)

X = tf.placeholder(tf.float32, shape=[None, 3])
Y = tf.placeholder(tf.float32, shape=[None, 1])
W = tf.Variable(tf.random_normal([3, 1]))
hypothesis = tf.matmul(X, W)
cost = tf.reduce_mean(tf.square(hypothesis - Y))
train = tf.train.GradientDescentOptimizer(learning_rate=1e-5).minimize(cost)

sess = tf.Session()
sess.run(tf.global_variables_initializer())
coord = tf.train.Coordinator()
threads = tf.train.start_queue_runners(sess=sess, coord=coord)
for step in range(2001):
    cost_val, _ = sess.run([cost, train], feed_dict={X: train_x_batch, Y: train_y_batch})
'''
# The lab as published: the batch is run first and its arrays are fed.
QUEUE_FIXED = QUEUE.replace(
    "    cost_val, _ = sess.run([cost, train], feed_dict={X: train_x_batch, Y: train_y_batch})\n",
    "    x_batch, y_batch = sess.run([train_x_batch, train_y_batch])\n"
    "    cost_val, _ = sess.run([cost, train], feed_dict={X: x_batch, Y: y_batch})\n",
)

# kratzert/finetune_alexnet_with_tensorflow, with a tf.data iterator.
ITERATOR = '''
import tensorflow as tf

def train(dataset, x, y, keep_prob, train_op, steps):
    iterator = dataset.make_one_shot_iterator()
    img_batch, label_batch = iterator.get_next()
    with tf.Session() as sess:
        for step in range(steps):
            sess.run(train_op, feed_dict={x: img_batch, y: label_batch, keep_prob: 0.5})
'''
ITERATOR_FIXED = ITERATOR.replace(
    "    img_batch, label_batch = iterator.get_next()\n", "    next_batch = iterator.get_next()\n"
).replace(
    "        for step in range(steps):\n",
    "        for step in range(steps):\n            img_batch, label_batch = sess.run(next_batch)\n",
)


def test_batch_tensors_fed_as_values():
    assert lines(QUEUE, "DL219") == [22, 22]
    first = messages(QUEUE, "DL219")[0]
    assert "tf.train.batch" in first and "The value of a feed cannot be a tf.Tensor object" in first
    assert lint(QUEUE_FIXED, "DL219") == []


def test_iterator_outputs_fed_as_values():
    assert lint(ITERATOR, "DL219") == [(9, 46, "DL219"), (9, 60, "DL219")]
    assert "iterator.get_next()" in messages(ITERATOR, "DL219")[0]
    assert lint(ITERATOR_FIXED, "DL219") == []


def test_eval_and_run_feeds_and_placeholders_as_values():
    source = '''
        import tensorflow.compat.v1 as tf
        x = tf.placeholder(tf.float32, [None, 784])
        image = tf.image.decode_jpeg(tf.read_file(path), channels=3)
        labels = tf.one_hot(label_ids, 10)
        print(accuracy.eval(feed_dict={x: image}))
        train_op.run(feed_dict={y_: labels})
        sess.run(logits, {x: x})
    '''
    assert lines(source, "DL219") == [6, 7, 8]


def test_values_that_are_data_are_silent():
    source = '''
        import numpy as np
        import tensorflow.compat.v1 as tf
        from tensorflow.examples.tutorials.mnist import input_data
        mnist = input_data.read_data_sets("MNIST_data/", one_hot=True)
        x = tf.placeholder(tf.float32, [None, 784])
        batch_x, batch_y = mnist.train.next_batch(100)
        images = np.zeros([1, 784])
        for images in batches:
            sess.run(train_op, feed_dict={x: images, y: batch_y, keep_prob: 0.5})
        def step(sess, x, batch):
            return sess.run(loss, feed_dict={x: batch})
    '''
    assert lint(source, "DL219") == []


def test_constant_of_a_tensor_only_in_graph_code():
    graph = '''
        import tensorflow.compat.v1 as tf
        x = tf.placeholder(tf.float32, [None, 3])
        mean = tf.reduce_mean(x, axis=0)
        centered = x - tf.constant(mean)
        stacked = tf.constant([mean, mean])
    '''
    assert lines(graph, "DL219") == [5, 6]
    # Eagerly (TensorFlow 2, no graph), tf.constant copies a tensor: fine.
    eager = "import tensorflow as tf\nmean = tf.reduce_mean(tf.ones([3, 3]), axis=0)\nc = tf.constant(mean)\n"
    assert lint(eager, "DL219") == []


REAL = '''
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
v1 = tf.compat.v1
v1.disable_eager_execution()
x = v1.placeholder(tf.float32, [None, 3])
batch = v1.ones([2, 3])
for attempt in (lambda: v1.Session().run(x, feed_dict={x: batch}), lambda: v1.constant(v1.reduce_mean(x))):
    try:
        attempt()
    except TypeError as error:
        print(str(error).splitlines()[0][:60])
'''


def test_tensorflow_really_refuses_both():
    pytest.importorskip("tensorflow")
    run = subprocess.run([sys.executable, "-c", REAL], capture_output=True, text=True, timeout=300)
    assert run.stdout.splitlines() == [
        "The value of a feed cannot be a tf.Tensor object. Acceptable",
        "Expected any non-tensor type, but got a tensor instead.",
    ], run.stderr
