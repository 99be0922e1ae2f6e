"""DL218 wrong-call-signature: each signature checked against the target TensorFlow, buggy
and fixed versions of real TF1 code, and what TensorFlow 2.21 really does with each call."""

import subprocess
import sys
import textwrap

import pytest

from conftest import run_dldoctor, write
from lintutil import lines, lint, messages

TF1 = 'import tensorflow as tf\nassert tf.__version__.startswith("1.")\n'
TF0 = 'import tensorflow as tf\nassert tf.__version__.startswith("0.")\n'
TF2 = 'import tensorflow as tf\nassert tf.__version__.startswith("2.")\n'

# tensorflow/models' old MNIST tutorial and the LeNet labs, as written for TensorFlow 0.x.
LENET = '''
def lenet(x):
    w = tf.get_variable("w", [400, 10])
    b = tf.get_variable("b", [10], initializer=tf.zeros_initializer())
    logits = tf.matmul(x, w) + b
    return logits

x = tf.placeholder(tf.float32, [None, 400])
one_hot_y = tf.placeholder(tf.float32, [None, 10])
logits = lenet(x)
logits = tf.matmul(x, tf.get_variable("w2", [400, 10]))
cross_entropy = tf.nn.softmax_cross_entropy_with_logits(logits, one_hot_y)
loss = tf.reduce_mean(cross_entropy)
'''
LENET_FIXED = LENET.replace("(logits, one_hot_y)", "(labels=one_hot_y, logits=logits)")


def test_positional_cross_entropy_raises_on_tensorflow_1():
    assert lines(TF1 + LENET, "DL218") == [14]
    (message,) = messages(TF1 + LENET, "DL218")
    assert "named arguments" in message and "ValueError" in message
    assert lint(TF1 + LENET_FIXED, "DL218") == []


def test_any_positional_call_is_an_error_on_tensorflow_1_whatever_the_values():
    source = TF1 + "loss = tf.nn.sparse_softmax_cross_entropy_with_logits(logits, train_labels_node)\n"
    assert lines(source, "DL218") == [3]
    sigmoid = TF1 + "loss = tf.nn.sigmoid_cross_entropy_with_logits(d_logits, tf.ones_like(d))\n"
    assert lines(sigmoid, "DL218") == [3]


def test_tensorflow_0_took_logits_first():
    assert lint(TF0 + LENET, "DL218") == []


def test_on_tensorflow_2_only_known_logits_first_are_reported():
    assert lines(TF2 + LENET, "DL218") == [14]
    (message,) = messages(TF2 + LENET, "DL218")
    assert "swapped" in message and "labels=..., logits=logits" in message
    # TensorFlow 2's own positional order, (labels, logits): fine.
    assert lint(TF2 + "logits = tf.matmul(x, w)\nloss = tf.nn.softmax_cross_entropy_with_logits(y, logits)\n",
                "DL218") == []
    # Nothing known of the first argument: say nothing.
    assert lint(TF2 + "def f(a, b):\n    return tf.nn.softmax_cross_entropy_with_logits(a, b)\n", "DL218") == []


def test_a_project_pinned_to_tensorflow_1_is_judged_against_it(tmp_path):
    write(tmp_path / "requirements.txt", "tensorflow==1.7\n")
    write(tmp_path / "train.py", "import tensorflow as tf\n" + LENET)
    run = run_dldoctor("lint", "--no-cache", "--select", "DL218", "train.py", cwd=tmp_path)
    run.assert_no_traceback()
    assert "13:17" in run.stdout and "TensorFlow 1.7" in run.stdout and "requirements.txt" in run.stdout


# The im2txt-style image pipeline, written for TensorFlow 0.x's resize_images(images, h, w).
RESIZE = '''
import tensorflow as tf
IMAGE_SIZE = 299

def preprocess(encoded):
    image = tf.image.decode_jpeg(encoded, channels=3)
    image = tf.image.convert_image_dtype(image, dtype=tf.float32)
    image = tf.image.resize_images(image, IMAGE_SIZE, IMAGE_SIZE)
    small = tf.image.resize_images(image, IMAGE_SIZE // 2, IMAGE_SIZE // 2)
    return image, small
'''


def test_resize_images_with_height_and_width():
    assert lines(RESIZE, "DL218") == [8, 9]
    fixed = RESIZE.replace("IMAGE_SIZE, IMAGE_SIZE)", "[IMAGE_SIZE, IMAGE_SIZE])").replace(
        "IMAGE_SIZE // 2, IMAGE_SIZE // 2)", "[IMAGE_SIZE // 2, IMAGE_SIZE // 2])")
    assert lint(fixed, "DL218") == []


def test_resize_images_with_size_and_method_is_silent():
    source = '''
        import tensorflow as tf
        def resize(image, size, method, align_corners):
            a = tf.image.resize_images(image, size, method, align_corners)
            b = tf.image.resize_images(image, [224, 224], 1)
            c = tf.image.resize_images(image, (h, w), tf.image.ResizeMethod.BILINEAR, False)
            return a, b, c
    '''
    assert lint(source, "DL218") == []
    assert lint(TF0 + "image = tf.image.resize_images(image, 224, 224)\n", "DL218") == []


SAVER = '''
import tensorflow.compat.v1 as tf

class Trainer:
    def __init__(self, model):
        self.model = model
        self.saver = tf.train.Saver()

    def checkpoint(self, sess, step):
        self.saver.save(sess, "train/model.ckpt", global_step=step, max_to_keep=5)
'''


def test_saver_save_with_a_saver_argument():
    assert lint(SAVER, "DL218") == [(10, 69, "DL218")]
    (message,) = messages(SAVER, "DL218")
    assert "tf.train.Saver(max_to_keep=...)" in message
    fixed = SAVER.replace("tf.train.Saver()", "tf.train.Saver(max_to_keep=5)").replace(", max_to_keep=5)", ")")
    assert lint(fixed, "DL218") == []


def test_save_of_something_else_is_silent():
    source = '''
        import tensorflow.compat.v1 as tf
        class Checkpointer:
            def save(self, sess, path, max_to_keep=3):
                pass
        saver = Checkpointer()
        saver.save(sess, "m", max_to_keep=3)
        manager.save(checkpoint_number=1, max_to_keep=2)
    '''
    assert lint(source, "DL218") == []


def test_session_given_an_op_a_graph_or_a_config():
    source = '''
        import tensorflow.compat.v1 as tf
        init = tf.global_variables_initializer()
        sess = tf.Session(init)
        graph = tf.Graph()
        other = tf.Session(graph)
        config = tf.ConfigProto(allow_soft_placement=True)
        third = tf.InteractiveSession(config)
        ok = [tf.Session(graph=graph), tf.Session(config=config), tf.Session("grpc://worker:2222"), tf.Session(server.target)]
    '''
    assert lines(source, "DL218") == [4, 6, 8]
    assert "tf.Session(graph=graph)" in messages(source, "DL218")[1]


def test_concat_and_split_in_the_old_order_with_keywords():
    source = '''
        import tensorflow.compat.v1 as tf
        h = tf.concat(axis=[h_fw, h_bw], values=1)
        parts = tf.split(axis=x, num_or_size_splits=3, value=1)
        fine = tf.concat(values=[h_fw, h_bw], axis=1), tf.split(value=x, num_or_size_splits=3, axis=1)
    '''
    assert lines(source, "DL218") == [3, 4]


def test_keep_dims_in_tensorflow_2s_api():
    source = TF2 + "norm = tf.sqrt(tf.reduce_sum(tf.square(x), 1, keep_dims=True))\n"
    assert lint(source, "DL218") == [(3, 47, "DL218")]
    assert lint(source.replace("keep_dims", "keepdims"), "DL218") == []
    # tf.compat.v1 and TensorFlow 1.x still accept it, deprecated.
    assert lint("import tensorflow.compat.v1 as tf\ns = tf.reduce_sum(x, 1, keep_dims=True)\n", "DL218") == []
    assert lint(TF1 + "s = tf.reduce_sum(x, 1, keep_dims=True)\n", "DL218") == []


def test_values_rebound_in_between_are_not_judged():
    source = '''
        import tensorflow.compat.v1 as tf
        SIZE = 224
        SIZE = [224, 224]
        image = tf.image.resize_images(image, SIZE, 1)
        init = tf.global_variables_initializer()
        init = "grpc://localhost:2222"
        sess = tf.Session(init)
    '''
    assert lint(source, "DL218") == []


# What TensorFlow 2.21 really does with each call (graph mode, through tf.compat.v1).
REAL = '''
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
v1 = tf.compat.v1
v1.disable_eager_execution()
def attempt(fn):
    try:
        fn()
        print("OK")
    except Exception as error:
        print(type(error).__name__, str(error).splitlines()[0])
x = v1.placeholder(tf.float32, [None, 8, 8, 3])
a = v1.placeholder(tf.float32, [None, 3])
b = v1.placeholder(tf.float32, [None, 3])
v = v1.get_variable("v", [3])
saver = v1.train.Saver()
attempt(lambda: v1.image.resize_images(x, 4, 4))
attempt(lambda: v1.image.resize_images(x, [4, 4]))
attempt(lambda: saver.save(None, "m", max_to_keep=5))
attempt(lambda: v1.Session(v1.global_variables_initializer()))
attempt(lambda: v1.Session(v1.Graph()))
attempt(lambda: v1.concat(axis=[a, b], values=1))
attempt(lambda: v1.split(axis=a, num_or_size_splits=3, value=1))
attempt(lambda: tf.reduce_sum(a, 1, keep_dims=True))
attempt(lambda: v1.reduce_sum(a, 1, keep_dims=True))
'''


def test_tensorflow_2_21_really_raises_these():
    pytest.importorskip("tensorflow")
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(REAL)], capture_output=True, text=True, timeout=300)
    results = run.stdout.splitlines()
    assert results[0].startswith("ValueError 'size' must be a 1-D Tensor of 2 elements"), run.stderr
    assert results[1] == "OK"
    assert results[2].startswith("TypeError") and "max_to_keep" in results[2]
    assert results[3].startswith("TypeError") and "`target` must be a string" in results[3]
    assert results[4].startswith("TypeError") and "`target` must be a string" in results[4]
    assert results[5].startswith("ValueError Shape (2, None, 3) must have rank 0")
    assert results[6].startswith("TypeError")
    assert results[7] == "TypeError Got an unexpected keyword argument 'keep_dims'"
    assert results[8] == "OK"


CROSS_ENTROPY = '''
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
logits = tf.constant([[4.0, 1.0, 0.0]])
labels = tf.constant([[1.0, 0.0, 0.0]])
right = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
swapped = tf.nn.softmax_cross_entropy_with_logits(logits, labels)
v1 = tf.compat.v1.nn.softmax_cross_entropy_with_logits(logits, labels)
print(np.allclose(right, swapped), np.allclose(swapped, v1), float(right[0]) < 0.1 < float(swapped[0]))
'''


def test_on_tensorflow_2_the_logits_first_really_are_taken_as_labels():
    pytest.importorskip("tensorflow")
    run = subprocess.run([sys.executable, "-c", CROSS_ENTROPY], capture_output=True, text=True, timeout=300)
    assert run.stdout.split() == ["False", "True", "True"], run.stderr
