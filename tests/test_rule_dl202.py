"""DL202 graph-op-in-loop: realistic cases and code that must not fire."""

import pytest

from lintutil import lines, lint, messages
from tf1run import run_tf1

GAN_SAMPLES = '''
import tensorflow as tf

def train(model, epochs, iterations, k):
    saver = tf.train.Saver()
    writer = tf.summary.FileWriter("logs")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(epochs):
            for it in range(iterations):
                _, loss = sess.run([model.train_op, model.loss])
                if it % k == 0:
                    saver.save(sess, "ckpt/model", global_step=it)
                    image_summary = tf.summary.image("sample_%d_%d" % (epoch, it), model.fake_images)
                    writer.add_summary(sess.run(image_summary), it)
'''


def test_summary_image_per_step_casebook_case():
    assert lint(GAN_SAMPLES, "DL202") == [(14, 37, "DL202")]
    (message,) = messages(GAN_SAMPLES, "DL202")
    assert "tf.summary.image" in message and ".meta" in message and "2 GB" in message
    assert "graph.finalize()" in message


def test_the_seed_fix_is_clean():
    fixed = GAN_SAMPLES.replace(
        '    saver = tf.train.Saver()\n',
        '    saver = tf.train.Saver()\n    image_summary = tf.summary.image("sample", model.fake_images)\n',
    ).replace(
        '                    image_summary = tf.summary.image("sample_%d_%d" % (epoch, it), model.fake_images)\n', ""
    )
    assert lint(fixed, "DL202") == []


def test_ops_in_an_evaluation_loop():
    source = '''
        import tensorflow.compat.v1 as tf

        def evaluate(sess, logits, labels, batches):
            for images, y in batches:
                correct = tf.equal(tf.argmax(logits, 1), tf.argmax(labels, 1))
                accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
                print(sess.run(accuracy, feed_dict={"x:0": images, "y:0": y}))
    '''
    # Nested ops are reported once, at the outermost call.
    assert lint(source, "DL202") == [(6, 19, "DL202"), (7, 20, "DL202")]


def test_assign_in_the_loop_every_spelling():
    cases = [
        "import tensorflow as tf\nsess = tf.Session()\nfor w in weights:\n    sess.run(tf.assign(v, w))\n",
        "import tensorflow as tf\nsess = tf.Session()\nfor w in weights:\n    sess.run(v.assign(w))\n",
        "import tensorflow as tf\nsess = tf.InteractiveSession()\nfor w in weights:\n    v.assign(w).eval(session=sess)\n",
        "import tensorflow as tf\nwith tf.Session() as s:\n    while True:\n        s.run(tf.compat.v1.assign_add(step, 1))\n",
        "import tensorflow as tf\nsess = tf.Session()\nfor i in range(9):\n    c = tf.constant(i)\n    sess.run(c)\n",
        "import tensorflow as tf\nsess = tf.Session()\nfor i in range(9):\n    op = tf.train.AdamOptimizer(lr).minimize(loss)\n    sess.run(op)\n",
        "import tensorflow as tf\nsess = tf.Session()\nfor i in range(9):\n    p = tf.nn.softmax(logits)\n    run_step(sess, p)\n",
        "import tensorflow.compat.v1 as tf\nfor i in range(9):\n    x = tf.placeholder(tf.float32)\n    train_step.run(feed_dict={x: 1.0})\n",
    ]
    for source in cases:
        assert len(lines(source, "DL202")) == 1, source


def test_build_time_loops_and_eager_code_are_fine():
    sources = [
        # The graph is built before the loop that runs it.
        "import tensorflow as tf\nacc = tf.reduce_mean(x)\nsess = tf.Session()\nfor i in range(9):\n    sess.run(acc)\n",
        # Towers and per-variable summaries: loops that only build.
        "import tensorflow as tf\ngrads = []\nfor i in range(4):\n    with tf.device('/gpu:%d' % i):\n"
        "        grads.append(tf.reduce_mean(tower(i)))\nsess = tf.Session()\nsess.run(grads)\n",
        "import tensorflow as tf\nfor v in tf.trainable_variables():\n    tf.summary.histogram(v.op.name, v)\n"
        "with tf.Session() as sess:\n    sess.run(tf.global_variables_initializer())\n",
        # Eager TensorFlow 2: no session at all.
        "import tensorflow as tf\nfor x, y in ds:\n    with tf.GradientTape() as tape:\n"
        "        loss = tf.reduce_mean(tf.square(model(x) - y))\n",
        # A fresh graph on each pass.
        "import tensorflow as tf\nfor path in ckpts:\n    with tf.Graph().as_default():\n        x = tf.constant(1)\n"
        "        with tf.Session() as sess:\n            sess.run(x)\n",
        "import tensorflow as tf\nfor path in ckpts:\n    tf.reset_default_graph()\n    x = tf.constant(1)\n"
        "    sess = tf.Session()\n    sess.run(x)\n",
        # The iterable is evaluated once.
        "import tensorflow as tf\nsess = tf.Session()\nfor part in sess.run(tf.split(x, 4)):\n    print(part)\n",
        # Per-step values logged with a Summary protocol buffer: no op.
        "import tensorflow as tf\nsess = tf.Session()\nfor step in range(9):\n    l = sess.run(loss)\n"
        "    s = tf.Summary(value=[tf.Summary.Value(tag='loss', simple_value=l)])\n    writer.add_summary(s, step)\n",
        # PyTorch: torch ops are not graph ops, `model.eval()` is not a session.
        "import torch\nfor x in loader:\n    model.eval()\n    y = torch.argmax(model(x), 1)\n",
        # Not TF1 graph code: no session, no placeholder, no compat.v1.
        "import tensorflow as tf\nfor i in range(3):\n    x = tf.constant(i)\n    print(x.numpy())\n",
    ]
    for source in sources:
        assert lint(source, "DL202") == [], source


# -- loops whose ops do not pile up step after step ---------------------------------

WEIGHT_LOADER = '''
import numpy as np
import tensorflow as tf
from six import iteritems


class Network(object):
    def load(self, data_path, session, ignore_missing=False):
        weights = np.load(data_path, encoding="latin1", allow_pickle=True).item()
        for layer in weights:
            with tf.variable_scope(layer, reuse=True):
                for name, value in iteritems(weights[layer]):
                    try:
                        session.run(tf.get_variable(name).assign(value))
                    except ValueError:
                        if not ignore_missing:
                            raise


def main():
    x = tf.placeholder(tf.float32, [None, 224, 224, 3])
    net = Network(x)
    with tf.Session() as sess:
        net.load("weights.npy", sess)
'''


def test_a_one_time_loop_over_weights_read_from_a_file_is_not_reported():
    assert lint(WEIGHT_LOADER, "DL202") == []


@pytest.mark.parametrize(
    "source",
    [
        "weights = pickle.load(open(path, 'rb'))\nfor name, value in weights.items():",
        "f = h5py.File(path, 'r')\nfor name in f:",
        "reader = tf.train.NewCheckpointReader(path)\nfor name in sorted(reader.get_variable_to_shape_map()):",
        "for name, value in np.load(path).item().items():",
    ],
)
def test_other_weight_files(source):
    src = (
        "import pickle\nimport h5py\nimport numpy as np\nimport tensorflow as tf\n"
        "sess = tf.Session()\n" + source + "\n    sess.run(tf.assign(variables[name], value))\n"
    )
    assert lint(src, "DL202") == []
    # The same assignment in a loop over something else: per pass.
    per_pass = src.replace(source.splitlines()[-1], "for name, value in updates:")
    assert len(lint(per_pass, "DL202")) == 1, per_pass


def test_a_weight_loading_loop_inside_the_training_loop_is_reported():
    source = '''
        import numpy as np
        import tensorflow as tf

        sess = tf.Session()
        for epoch in range(epochs):
            sess.run(train_op)
            weights = np.load("teacher_%d.npy" % epoch).item()
            for name in weights:
                sess.run(tf.assign(variables[name], weights[name]))
    '''
    assert lines(source, "DL202") == [10]


LR_DROPS = '''
import tensorflow as tf

def train(sess, net, train_op, lr, rate, stepsizes, max_iters):
    stepsizes.append(max_iters)
    stepsizes.reverse()
    next_stepsize = stepsizes.pop()
    iter = 1
    while iter < max_iters + 1:
        if iter == next_stepsize + 1:
            rate *= 0.1
            sess.run(tf.assign(lr, rate))
            next_stepsize = stepsizes.pop()
        sess.run(train_op, feed_dict=net.next_feed())
        iter += 1


with tf.Session() as session:
    train(session, net, train_op, lr, 0.001, [30000], 40000)
'''


def test_an_op_built_on_the_pass_a_counter_matches_is_not_reported():
    assert lint(LR_DROPS, "DL202") == []
    first_step = (
        "import tensorflow as tf\nsess = tf.Session()\nfor step in range(n):\n    if step == 0:\n"
        "        merged = tf.summary.merge_all()\n    sess.run(train_op)\n"
    )
    assert lint(first_step, "DL202") == []


@pytest.mark.parametrize(
    "test",
    [
        "iter % 1000 == 0",  # every 1000 passes: grows all along
        "rate > 0.0001",  # a condition that holds pass after pass
        "mode == 'train'",  # equality, but not with the loop's counter
        "iter == next_stepsize + 1 or iter > warmup",
    ],
)
def test_an_op_built_on_many_passes_is_reported(test):
    source = LR_DROPS.replace("iter == next_stepsize + 1", test)
    assert lines(source, "DL202") == [12], source


def test_the_else_of_a_counter_test_runs_on_the_other_passes():
    source = LR_DROPS.replace(
        "            rate *= 0.1\n            sess.run(tf.assign(lr, rate))\n",
        "            pass\n        else:\n            sess.run(tf.assign(lr, rate))\n",
    )
    assert lines(source, "DL202") == [13]


def test_a_counter_test_of_the_inner_loop_does_not_cover_the_outer_one():
    source = '''
        import tensorflow as tf

        with tf.Session() as sess:
            for epoch in range(epochs):
                for step in range(steps):
                    sess.run(train_op)
                    if step == 0:
                        sess.run(epoch_var.assign(epoch))
    '''
    assert lines(source, "DL202") == [9]


def test_a_load_loop_over_the_graphs_variables_is_not_a_training_loop():
    # Restoring Keras-saved weights by hand: one assign per variable, once, before training.
    source = (
        "import h5py\nimport tensorflow as tf\n\n"
        "def restore(path):\n"
        "    sess = tf.Session()\n"
        "    with h5py.File(path, 'r') as f:\n"
        "        for var in tf.global_variables():\n"
        "            sess.run(var.assign(f[var.op.name][()]))\n"
        "    return sess\n"
    )
    assert lint(source, "DL202") == []


def test_a_training_loop_around_the_variables_loop_is_still_reported():
    source = (
        "import tensorflow as tf\n\n"
        "def train(steps):\n"
        "    with tf.Session() as sess:\n"
        "        for step in range(steps):\n"
        "            for var in tf.trainable_variables():\n"
        "                sess.run(var.assign(var * 0.99))\n"
    )
    assert lines(source, "DL202") == [7]


# -- growth through Python operators and through functions of the module ----------

# Stack Overflow's "my variable does not increase": an operator on a variable, each step.
COUNTER = '''
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

x = tf.Variable(0, name="x")
model = tf.global_variables_initializer()
with tf.Session() as session:
    session.run(model)
    sizes = []
    for i in range(5):
        x = x + 1
        print(session.run(x))
        sizes.append(len(session.graph.get_operations()))
    print(sizes)
'''
COUNTER_FIXED = COUNTER.replace(
    'model = tf.global_variables_initializer()\n',
    'increment = tf.assign_add(x, 1)\nmodel = tf.global_variables_initializer()\n',
).replace("        x = x + 1\n        print(session.run(x))\n", "        print(session.run(increment))\n")


def test_an_operator_rebinding_a_tensor_in_the_loop_is_reported_and_really_grows_the_graph():
    assert lint(COUNTER, "DL202") == [(12, 13, "DL202")]
    (message,) = messages(COUNTER, "DL202")
    assert "`x + 1`" in message and "Python operator" in message and "tf.assign_add" in message
    done = run_tf1(COUNTER)
    assert done.returncode == 0, done.stderr[-2000:]
    *values, sizes = done.stdout.split("\n")[:-1]
    assert values == ["1", "2", "3", "4", "5"]
    sizes = eval(sizes)
    assert sizes == sorted(sizes) and len(set(sizes)) == 5  # one op more on every pass


def test_the_op_built_once_is_silent_and_the_graph_stays_the_same_size():
    assert lint(COUNTER_FIXED, "DL202") == []
    done = run_tf1(COUNTER_FIXED)
    assert done.returncode == 0, done.stderr[-2000:]
    sizes = eval(done.stdout.split("\n")[-2])
    assert len(set(sizes)) == 1


def test_operators_slices_and_augmented_assignments_on_tensors():
    base = (
        "import tensorflow as tf\nx = tf.placeholder(tf.float32, [None, 250])\nW = tf.Variable(tf.zeros([250, 15]))\n"
        "y = tf.matmul(x, W)\nloss = tf.reduce_mean(y)\nsess = tf.Session()\nfor i in range(100):\n"
    )
    cases = {
        "    sess.run(train_op)\n    loss = loss * 0.9\n": "`loss * 0.9`",
        "    ytest = sess.run(y[:1000, :], feed_dict={x: X})\n": "slices the tensor `y`",
        "    loss += 0.1\n    sess.run(loss)\n": "`loss += 0.1`",
        "    print(sess.run(-y, feed_dict={x: X}))\n": "`-y`",
    }
    for body, expected in cases.items():
        (message,) = messages(base + body, "DL202")
        assert expected in message, body


def test_operators_that_build_no_op_each_pass_are_fine():
    base = "import tensorflow as tf\nloss = tf.reduce_mean(y)\nx = tf.placeholder(tf.float32)\nsess = tf.Session()\n"
    sources = [
        # Python numbers from the session, string formatting, a name rebound to a NumPy value.
        base + "total = 0.0\nfor i in range(9):\n    total = total + sess.run(loss)\n",
        base + "for i in range(9):\n    print('loss %s' % loss)\n    sess.run(loss)\n",
        base + "for i in range(9):\n    l = sess.run(loss)\n    loss_value = l * 100\n",
        base + "h = tf.nn.relu(x)\nfor i in range(9):\n    out = h * 2\n    h = sess.run(out)\n",
        # Built once, before the loop.
        base + "scaled = loss * 0.5\nfor i in range(9):\n    sess.run(scaled)\n",
        # A loop that does not run the session: building towers.
        base + "losses = []\nfor i in range(4):\n    losses.append(loss * i)\n",
    ]
    for source in sources:
        assert lint(source, "DL202") == [], source


# CCM-13's evaluation, with the accuracy in a function of the module called on every step.
HELPER = '''
import numpy as np
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 250])
y_ = tf.placeholder(tf.float32, [None, 15])
W = tf.Variable(tf.random_normal([250, 15]))
y = tf.matmul(x, W)
train_step = tf.train.GradientDescentOptimizer(0.01).minimize(tf.reduce_mean(tf.square(y - y_)))


def accuracy(predictions, labels):
    correct = tf.equal(tf.argmax(predictions, 1), tf.argmax(labels, 1))
    return tf.reduce_mean(tf.cast(correct, tf.float32))


sess = tf.Session()
sess.run(tf.global_variables_initializer())
for i in range(1000):
    sess.run(train_step, feed_dict={x: X, y_: Y})
    ytest = sess.run(y, feed_dict={x: X_test})
    print(sess.run(accuracy(ytest, Y_test)))
'''
HELPER_FIXED = HELPER.replace(
    "sess = tf.Session()\n", "test_accuracy = accuracy(y, y_)\nsess = tf.Session()\n"
).replace(
    "    ytest = sess.run(y, feed_dict={x: X_test})\n    print(sess.run(accuracy(ytest, Y_test)))\n",
    "    print(sess.run(test_accuracy, feed_dict={x: X_test, y_: Y_test}))\n",
)


def test_a_function_that_builds_ops_called_on_every_step_is_reported():
    assert lint(HELPER, "DL202") == [(22, 20, "DL202")]
    (message,) = messages(HELPER, "DL202")
    assert "`accuracy(...)` builds ops" in message and "NumPy array" in message and "tf.equal" in message
    assert lint(HELPER_FIXED, "DL202") == []


@pytest.mark.parametrize(
    "definition",
    [
        # Caches its op: builds it once.
        "_ops = {}\ndef accuracy(p, l):\n    if 'acc' not in _ops:\n        _ops['acc'] = tf.reduce_mean(p)\n"
        "    return _ops['acc']\n",
        "def accuracy(p, l):\n    if p is None:\n        return None\n    return tf.reduce_mean(p)\n",
        # Its own graph on each call.
        "def accuracy(p, l):\n    with tf.Graph().as_default():\n        return tf.reduce_mean(p)\n",
        # A job: builds an objective, then steps it (facenet's feature visualization).
        "def accuracy(p, l):\n    score = tf.reduce_mean(p)\n    for _ in range(20):\n        sess.run(score)\n"
        "    return score\n",
        # Decorated, or no op at all.
        "@tf.function\ndef accuracy(p, l):\n    return tf.reduce_mean(p)\n",
        "def accuracy(p, l):\n    return float((p.argmax(1) == l.argmax(1)).mean())\n",
    ],
)
def test_functions_that_do_not_build_ops_on_every_call_are_fine(definition):
    source = HELPER.replace(
        "def accuracy(predictions, labels):\n    correct = tf.equal(tf.argmax(predictions, 1), tf.argmax(labels, 1))\n"
        "    return tf.reduce_mean(tf.cast(correct, tf.float32))\n",
        definition,
    )
    assert "def accuracy(predictions" not in source
    assert lint(source, "DL202") == [], definition


def test_an_op_inside_a_reported_call_is_reported_once():
    source = (
        "import tensorflow as tf\ndef unprocess(image):\n    return tf.multiply(image, 0.5)\n"
        "sess = tf.Session()\nfor path in paths:\n    out = sess.run(tf.squeeze(unprocess(images), 0), {p: path})\n"
    )
    assert lines(source, "DL202") == [6]
