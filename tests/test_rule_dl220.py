"""DL220 float64-meets-float32: a float64 placeholder against float32 weights, the fixed
versions, the dtypes the rule must not guess, and TensorFlow's real error."""

import subprocess
import sys

import pytest

from lintutil import lint, messages

# facenet-style test code: the placeholder declared float64 like the NumPy data.
MODEL = '''
import numpy as np
import tensorflow.compat.v1 as tf

x = tf.placeholder(tf.float64, shape=(None, 128), name="embeddings")
W = tf.Variable(tf.truncated_normal([128, 10], stddev=0.1))
b = tf.Variable(tf.zeros([10]))
logits = tf.matmul(x, W) + b

images = tf.placeholder("float64", [None, 28, 28, 1])
kernel = tf.get_variable("conv1", [5, 5, 1, 32])
conv = tf.nn.conv2d(images, kernel, strides=[1, 1, 1, 1], padding="SAME")
'''
FIXED = MODEL.replace("tf.placeholder(tf.float64", "tf.placeholder(tf.float32").replace(
    'tf.placeholder("float64"', 'tf.placeholder("float32"')


def test_float64_placeholder_against_float32_weights():
    assert lint(MODEL, "DL220") == [(8, 10, "DL220"), (12, 8, "DL220")]
    first, second = messages(MODEL, "DL220")
    assert "Input 'b' of 'MatMul' Op has type float32 that does not match type float64" in first
    assert "Input 'filter' of 'Conv2D' Op has type float32 that does not match type float64" in second
    assert lint(FIXED, "DL220") == []


def test_matching_or_unknown_dtypes_are_silent():
    sources = [
        # Both float64.
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float64, [None, 3])\n"
        "W = tf.get_variable('W', [3, 2], dtype=tf.float64)\ny = tf.matmul(x, W)\n",
        # A variable made from a NumPy array (float64 by NumPy's default): not guessed.
        "import numpy as np\nimport tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float64, [None, 3])\n"
        "W = tf.Variable(np.random.randn(3, 2))\ny = tf.matmul(x, W)\n",
        # Cast first.
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float64, [None, 3])\n"
        "W = tf.Variable(tf.zeros([3, 2]))\ny = tf.matmul(tf.cast(x, tf.float32), W)\n",
        # Rebound in between.
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float64, [None, 3])\nx = tf.cast(x, tf.float32)\n"
        "W = tf.Variable(tf.zeros([3, 2]))\ny = tf.matmul(x, W)\n",
        # Two placeholders: no variable to blame.
        "import tensorflow.compat.v1 as tf\na = tf.placeholder(tf.float64)\nb = tf.placeholder(tf.float32)\n"
        "y = tf.matmul(a, b)\n",
    ]
    for source in sources:
        assert lint(source, "DL220") == [], source


REAL = '''
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
v1 = tf.compat.v1
v1.disable_eager_execution()
x = v1.placeholder(tf.float64, [None, 3])
W = v1.Variable(v1.truncated_normal([3, 2], stddev=0.1))
try:
    v1.matmul(x, W)
except TypeError as error:
    print(error)
'''


def test_tensorflow_really_refuses_it():
    pytest.importorskip("tensorflow")
    run = subprocess.run([sys.executable, "-c", REAL], capture_output=True, text=True, timeout=300)
    assert "Input 'b' of 'MatMul' Op has type float32 that does not match type float64 of argument 'a'." in run.stdout, run.stderr
