"""DL215 stateful-result-discarded: realistic cases, code that must not fire, and the lost
updates themselves, reproduced with TensorFlow."""

from lintutil import lines, lint, messages
from tf1run import run_tf1

# Running sums collected in a TensorArray inside a `tf.function`.
REGRESSION = '''
import tensorflow as tf


@tf.function
def running_sums(values):
    sums = tf.TensorArray(tf.float32, size=3)
    total = tf.constant(0.0)
    for i in range(3):
        total += values[i]
        sums.write(i, total)
    return sums.stack()


print(running_sums(tf.constant([1.0, 2.0, 3.0])).numpy().tolist())
'''
FIXED = REGRESSION.replace("        sums.write(i, total)\n", "        sums = sums.write(i, total)\n")

# A vocabulary table filled in TF1 graph mode.
TABLE = '''
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

vocabulary = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, default_value=-1)
words = tf.constant(["the", "cat"])
vocabulary.insert(words, tf.constant([0, 1], tf.int64))
ids = vocabulary.lookup(tf.constant(["cat"]))
with tf.Session() as sess:
    print(sess.run(ids).tolist())
'''
TABLE_FIXED = TABLE.replace(
    "vocabulary.insert(words, tf.constant([0, 1], tf.int64))\n",
    "fill = vocabulary.insert(words, tf.constant([0, 1], tf.int64))\n",
).replace("with tf.Session() as sess:\n", "with tf.Session() as sess:\n    sess.run(fill)\n")


def test_a_discarded_write_in_a_tf_function_is_reported_and_really_lost():
    assert lint(REGRESSION, "DL215") == [(11, 9, "DL215")]
    (message,) = messages(REGRESSION, "DL215")
    assert "`sums = sums.write(i, total)`" in message and "tf.function" in message
    done = run_tf1(REGRESSION)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[0.0, 0.0, 0.0]" in done.stdout


def test_the_rebound_write_is_silent_and_keeps_the_values():
    assert lint(FIXED, "DL215") == []
    done = run_tf1(FIXED)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[1.0, 3.0, 6.0]" in done.stdout


def test_an_insert_never_run_in_graph_mode_is_reported_and_really_lost():
    assert lint(TABLE, "DL215") == [(8, 1, "DL215")]
    done = run_tf1(TABLE)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[-1]" in done.stdout
    assert lint(TABLE_FIXED, "DL215") == []
    done = run_tf1(TABLE_FIXED)
    assert "[1]" in done.stdout, done.stderr[-2000:]


def test_every_update_of_a_known_tensor_array_in_graph_mode():
    head = "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nta = tf.TensorArray(tf.float32, size=4)\n"
    updates = [
        "ta.write(0, x)\n",
        "ta.unstack(frames)\n",
        "ta.scatter([0, 1], pair)\n",
        "ta.split(x, [2, 2])\n",
        "ta = ta.write(0, x)\nta.write(1, y)\n",
    ]
    for update in updates:
        assert len(lines(head + update, "DL215")) == 1, update
    chained = "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nta = tf.TensorArray(tf.float32, size=4).unstack(x)\nta.write(0, y)\n"
    assert lines(chained, "DL215") == [4]


def test_what_keeps_the_result_or_runs_eagerly_is_silent():
    sources = [
        # Eager: the TensorArray changes in place, the insert runs.
        "import tensorflow as tf\nta = tf.TensorArray(tf.float32, size=2)\nta.write(0, 1.0)\nprint(ta.stack())\n",
        "import tensorflow as tf\nt = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, -1)\nt.insert(k, v)\n",
        # Inside a tf.function, stateful ops run by themselves.
        "import tensorflow as tf\nt = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, -1)\n"
        "@tf.function\ndef fill(k, v):\n    t.insert(k, v)\n",
        # A parameter: its value is not known here.
        "import tensorflow as tf\n@tf.function\ndef body(i, ta):\n    ta.write(i, 1.0)\n    return i + 1, ta\n",
        # Kept, returned, or not a TensorArray.
        "import tensorflow as tf\n@tf.function\ndef f(x):\n    ta = tf.TensorArray(tf.float32, size=2)\n"
        "    return ta.write(0, x).stack()\n",
        "import tensorflow as tf\n@tf.function\ndef f(out):\n    ta = tf.TensorArray(tf.float32, size=2)\n"
        "    ta = something_else()\n    ta.write(0, 1.0)\n",
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nlog = open('log.txt', 'w')\nlog.write('x')\n",
    ]
    for source in sources:
        assert lint(source, "DL215") == [], source
