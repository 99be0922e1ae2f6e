"""DL210 op-after-graph-finalized: realistic cases, code that must not fire, and the
error itself, reproduced with TensorFlow's graph mode."""

import pytest

from lintutil import lines, lint, messages

SUPERVISED = '''
import tensorflow.compat.v1 as tf

def train(logdir, steps):
    step = tf.train.get_or_create_global_step()
    learning_rate = tf.Variable(0.1, trainable=False)
    train_op = tf.assign_add(step, 1)
    sv = tf.train.Supervisor(logdir=logdir, save_model_secs=0, save_summaries_secs=0)
    with sv.managed_session() as sess:
        for _ in range(steps):
            sess.run(train_op)
        sess.run(tf.assign(learning_rate, 0.01))
'''
FIXED = SUPERVISED.replace(
    "    sv = tf.train.Supervisor(",
    "    decay = tf.assign(learning_rate, 0.01)\n    sv = tf.train.Supervisor(",
).replace("sess.run(tf.assign(learning_rate, 0.01))", "sess.run(decay)")


@pytest.fixture(scope="module")
def graph_mode():
    tf = pytest.importorskip("tensorflow")

    def train(source, logdir):
        namespace = {"__name__": "t"}
        exec(compile(source, "t.py", "exec"), namespace)
        with tf.Graph().as_default():
            namespace["train"](str(logdir), 2)

    return train


def test_an_assign_inside_managed_session_is_reported_and_really_raises(graph_mode, tmp_path):
    assert lint(SUPERVISED, "DL210") == [(12, 18, "DL210")]
    (message,) = messages(SUPERVISED, "DL210")
    assert "tf.train.Supervisor(...)" in message and "Graph is finalized" in message
    with pytest.raises(RuntimeError, match="Graph is finalized"):
        graph_mode(SUPERVISED, tmp_path)


def test_the_op_built_before_the_supervisor_is_silent_and_runs(graph_mode, tmp_path):
    assert lint(FIXED, "DL210") == []
    graph_mode(FIXED, tmp_path)


def test_every_finalizer():
    op = "    summary = tf.summary.scalar('loss', loss)\n"
    sources = [
        "import tensorflow.compat.v1 as tf\nwith tf.train.MonitoredTrainingSession(checkpoint_dir=d) as sess:\n" + op,
        "import tensorflow.compat.v1 as tf\nsess = tf.train.MonitoredSession()\nif True:\n" + op,
        "import tensorflow.compat.v1 as tf\ntf.get_default_graph().finalize()\nif True:\n" + op,
        "import tensorflow.compat.v1 as tf\ng = tf.Graph()\ng.finalize()\nif True:\n" + op,
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nsess.graph.finalize()\nif True:\n" + op,
        "import tensorflow.compat.v1 as tf\nscaffold = tf.train.Scaffold()\nscaffold.finalize()\nif True:\n" + op,
    ]
    for source in sources:
        assert len(lines(source, "DL210")) == 1, source


def test_ops_in_the_training_loop_after_finalize():
    source = '''
        import tensorflow.compat.v1 as tf
        saver = tf.train.Saver()
        tf.get_default_graph().finalize()
        with tf.Session() as sess:
            for step in range(steps):
                _, l = sess.run([train_op, loss])
                if step % 100 == 0:
                    saver = tf.train.Saver(max_to_keep=5)
                    opt_step = tf.train.AdamOptimizer(lr).minimize(loss)
    '''
    assert lines(source, "DL210") == [9, 10]


def test_what_builds_nothing_or_elsewhere_is_silent():
    sources = [
        # The session's own arguments are built first.
        "import tensorflow.compat.v1 as tf\nsv = tf.train.Supervisor(logdir=d, saver=tf.train.Saver(),\n"
        "                         summary_op=tf.summary.merge_all())\n",
        "import tensorflow.compat.v1 as tf\nwith tf.train.MonitoredTrainingSession(\n"
        "        hooks=[tf.train.StopAtStepHook(last_step=tf.constant(10))]) as sess:\n    sess.run(train_op)\n",
        # Nothing added to the graph: running, reading, classes, options.
        "import tensorflow.compat.v1 as tf\nsv = tf.train.Supervisor(logdir=d)\nwith sv.managed_session() as sess:\n"
        "    sess.run(train_op)\n    ckpt = tf.train.latest_checkpoint(d)\n    dense = tf.layers.Dense(10)\n"
        "    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)\n    sv.saver.save(sess, d)\n",
        # A new graph.
        "import tensorflow.compat.v1 as tf\ntf.get_default_graph().finalize()\ntf.reset_default_graph()\n"
        "x = tf.placeholder(tf.float32)\n",
        "import tensorflow.compat.v1 as tf\nsv = tf.train.Supervisor(logdir=d)\nwith tf.Graph().as_default():\n"
        "    x = tf.constant(1.0)\n",
        # The other branch.
        "import tensorflow.compat.v1 as tf\nif supervised:\n    sv = tf.train.Supervisor(logdir=d)\nelse:\n"
        "    saver = tf.train.Saver()\n",
        # Not a graph.
        "import hashlib\nimport tensorflow.compat.v1 as tf\ndigest = hashlib.sha256()\ndigest.finalize()\n"
        "x = tf.constant(1.0)\n",
        # Another function, called who knows when.
        "import tensorflow.compat.v1 as tf\ntf.get_default_graph().finalize()\ndef build():\n    return tf.constant(1.0)\n",
    ]
    for source in sources:
        assert lint(source, "DL210") == [], source


def test_a_session_given_another_graph_finalizes_that_one():
    other = (
        "import tensorflow.compat.v1 as tf\ng = build_graph()\nsv = tf.train.Supervisor(graph=g, logdir=d)\n"
        "x = tf.constant(1.0)\n"
    )
    assert lint(other, "DL210") == []
    same = (
        "import tensorflow.compat.v1 as tf\ng = tf.Graph()\nwith g.as_default():\n"
        "    sv = tf.train.Supervisor(graph=g, logdir=d)\n    x = tf.constant(1.0)\n"
    )
    assert lines(same, "DL210") == [5]
