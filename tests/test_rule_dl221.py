"""DL221 swapped-loss-arguments: code moved from `tf.contrib.losses` (logits first) and from
TensorFlow 0.x's sampled losses, its fixed versions, and what TensorFlow does with each."""

from conftest import run_dldoctor, write
from lintutil import lines, lint, messages
from tf1run import run_tf1

CLASSIFIER = '''
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

images = tf.placeholder(tf.float32, [None, 784])
onehot_labels = tf.placeholder(tf.float32, [None, 10])
w = tf.get_variable("w", [784, 10])
b = tf.get_variable("b", [10], initializer=tf.zeros_initializer())
logits = tf.matmul(images, w) + b
loss = tf.losses.softmax_cross_entropy(logits, onehot_labels)
try:
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    print("built")
except ValueError as error:
    print(str(error).split(",")[0])
'''
FIXED = CLASSIFIER.replace("softmax_cross_entropy(logits, onehot_labels)",
                           "softmax_cross_entropy(onehot_labels=onehot_labels, logits=logits)")


def test_logits_first_is_reported_and_gives_the_model_no_gradient():
    assert lint(CLASSIFIER, "DL221") == [(11, 8, "DL221")]
    (message,) = messages(CLASSIFIER, "DL221")
    assert "onehot_labels=onehot_labels, logits=logits" in message and "No gradients" in message
    done = run_tf1(CLASSIFIER)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "No gradients provided for any variable"


def test_the_named_call_is_silent_and_trains():
    assert lint(FIXED, "DL221") == []
    done = run_tf1(FIXED)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "built"


def test_other_labels_first_losses():
    base = "import tensorflow as tf\nlogits = tf.matmul(h, w) + b\nids = tf.placeholder(tf.int64, [None])\n"
    assert lines(base + "loss = tf.losses.sparse_softmax_cross_entropy(logits, ids)\n", "DL221") == [4]
    assert lines(base + "loss = tf.compat.v1.losses.sigmoid_cross_entropy(logits, targets)\n", "DL221") == [4]


def test_unknown_or_right_orders_are_silent():
    sources = [
        # The labels first: right.
        "import tensorflow as tf\nlogits = tf.layers.dense(h, 10)\nloss = tf.losses.softmax_cross_entropy(y, logits)\n",
        # tf.contrib.losses took the logits first.
        "import tensorflow as tf\nlogits = tf.layers.dense(h, 10)\n"
        "loss = tf.contrib.losses.softmax_cross_entropy(logits, y)\n",
        # Nothing known of the arguments.
        "import tensorflow as tf\ndef loss_fn(a, b):\n    return tf.losses.softmax_cross_entropy(a, b)\n",
        # A softmax output first is no linear layer's output.
        "import tensorflow as tf\np = tf.layers.dense(h, 10, activation=tf.nn.softmax)\n"
        "loss = tf.losses.softmax_cross_entropy(p, y)\n",
        # TensorFlow-Examples' word2vec: named arguments.
        "import tensorflow as tf\nloss = tf.reduce_mean(tf.nn.nce_loss(weights=nce_weights, biases=nce_biases, "
        "labels=y, inputs=embed, num_sampled=64, num_classes=50000))\n",
    ]
    for source in sources:
        assert lint(source, "DL221") == [], source


# The TensorFlow 0.x translate tutorial's sampled loss.
SAMPLED = '''
import tensorflow as tf

decoder_outputs = tf.placeholder(tf.float32, [None, 512])
target_ids = tf.placeholder(tf.int64, [None, 1])
w_t = tf.get_variable("proj_w", [40000, 512])
b = tf.get_variable("proj_b", [40000])
loss = tf.nn.sampled_softmax_loss(w_t, b, decoder_outputs, target_ids, 512, 40000)
'''


def test_sampled_losses_in_the_tensorflow_0_order():
    assert lines(SAMPLED, "DL221") == [8]
    (message,) = messages(SAMPLED, "DL221")
    assert "labels=target_ids, inputs=decoder_outputs" in message
    assert lines(SAMPLED.replace("sampled_softmax_loss", "nce_loss"), "DL221") == [8]
    right = SAMPLED.replace("b, decoder_outputs, target_ids,", "b, target_ids, decoder_outputs,")
    assert lint(right, "DL221") == []


def test_a_project_on_tensorflow_0_keeps_its_order(tmp_path):
    write(tmp_path / "requirements.txt", "tensorflow==0.12.1\n")
    write(tmp_path / "seq2seq.py", SAMPLED)
    run = run_dldoctor("lint", "--no-cache", "--select", "DL221", "seq2seq.py", cwd=tmp_path)
    run.assert_no_traceback()
    assert "DL221" not in run.stdout


# Stack Overflow 43601526: a softmax output first, the labels placeholder second.
SOFTMAX_FIRST = '''
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

x = tf.placeholder(tf.float32, shape=[None, 784])
y_ = tf.placeholder(tf.float32, shape=[None, 10])
W = tf.get_variable("W", [784, 10])
b = tf.get_variable("b", [10], initializer=tf.zeros_initializer())
y_conv = tf.nn.softmax(tf.matmul(x, W) + b)
tf.losses.softmax_cross_entropy(y_conv, y_)
total_loss = tf.losses.get_total_loss()
try:
    train_op = tf.train.AdamOptimizer(0.01).minimize(total_loss)
    print("built")
except ValueError as error:
    print(str(error).split(",")[0])
'''


def test_a_softmax_output_before_the_fed_labels():
    assert lines(SOFTMAX_FIRST, "DL221") == [11]
    (message,) = messages(SOFTMAX_FIRST, "DL221")
    assert "passes the model's output first" in message and "onehot_labels=y_, logits=y_conv" in message
    done = run_tf1(SOFTMAX_FIRST)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "No gradients provided for any variable"
    fixed = SOFTMAX_FIRST.replace("(y_conv, y_)", "(logits=y_conv, onehot_labels=y_)")
    assert lint(fixed, "DL221") == []
    # The fed labels first is the right order, whatever the second is.
    assert lint(SOFTMAX_FIRST.replace("(y_conv, y_)", "(y_, y_conv)"), "DL221") == []


# google/spatially-adaptive-computation-time's cifar_main.py: the model comes from another
# module, and the names say which is which.
NAMED = '''
import tensorflow as tf

def train(images, one_hot_labels, labels, num_classes):
    logits, end_points = cifar_model.resnet(images, num_classes=num_classes)
    tf.losses.softmax_cross_entropy(logits, one_hot_labels)
    tf.losses.softmax_cross_entropy(logits, labels, label_smoothing=0.1, weights=1.0)
'''


def test_arguments_named_after_the_other_parameter():
    assert lines(NAMED, "DL221") == [6, 7]
    for right in ("(one_hot_labels, logits)", "(onehot_labels=one_hot_labels, logits=logits)"):
        assert lint(NAMED.replace("(logits, one_hot_labels)", right).replace(
            "(logits, labels, ", "(labels, logits, "), "DL221") == [], right
    silent = [
        # Names that say nothing, or both things.
        "import tensorflow as tf\ntf.losses.softmax_cross_entropy(out, y)\n",
        "import tensorflow as tf\ntf.losses.softmax_cross_entropy(logits, label_logits)\n",
        # tf.contrib.losses took the logits first.
        "import tensorflow as tf\ntf.contrib.losses.softmax_cross_entropy(logits, one_hot_labels)\n",
    ]
    for source in silent:
        assert lint(source, "DL221") == [], source


# tensorflow/models textsum: the sampled loss function hands its parameters on in the 0.x order.
TEXTSUM = '''
import tensorflow as tf

def sampled_loss_func(inputs, labels):
    labels = tf.reshape(labels, [-1, 1])
    return tf.nn.sampled_softmax_loss(w_t, v, inputs, labels, hps.num_softmax_samples, vsize)
'''


def test_sampled_loss_parameters_passed_in_the_0_x_places(tmp_path):
    assert lines(TEXTSUM, "DL221") == [6]
    assert lint(TEXTSUM.replace("v, inputs, labels,", "v, labels, inputs,"), "DL221") == []
    write(tmp_path / "requirements.txt", "tensorflow==0.12.1\n")
    write(tmp_path / "model.py", TEXTSUM)
    run = run_dldoctor("lint", "--no-cache", "--select", "DL221", "model.py", cwd=tmp_path)
    run.assert_no_traceback()
    assert "DL221" not in run.stdout
