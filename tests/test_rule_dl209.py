"""DL209 initializer-after-restore: realistic cases, code that must not fire, and the
silent overwrite itself, reproduced with TensorFlow's graph mode."""

import pytest

from lintutil import lines, lint, messages

EVALUATE = '''
import tensorflow.compat.v1 as tf

def evaluate(checkpoint):
    w = tf.get_variable("w", initializer=tf.zeros([2]))
    saver = tf.train.Saver()
    with tf.Session() as sess:
        saver.restore(sess, checkpoint)
        sess.run(tf.global_variables_initializer())
        return sess.run(w)
'''
FIXED = EVALUATE.replace(
    "        saver.restore(sess, checkpoint)\n        sess.run(tf.global_variables_initializer())\n",
    "        sess.run(tf.global_variables_initializer())\n        saver.restore(sess, checkpoint)\n",
)


@pytest.fixture(scope="module")
def graph_mode():
    """Runs `evaluate` from a source against a checkpoint whose `w` is [5, 5]."""
    tf = pytest.importorskip("tensorflow")

    def evaluate(source, directory):
        with tf.Graph().as_default():
            w = tf.compat.v1.get_variable("w", initializer=tf.constant([5.0, 5.0]))
            with tf.compat.v1.Session() as sess:
                sess.run(tf.compat.v1.global_variables_initializer())
                path = tf.compat.v1.train.Saver().save(sess, str(directory / "model"))
        namespace = {"__name__": "t"}
        exec(compile(source, "t.py", "exec"), namespace)
        with tf.Graph().as_default():
            return list(namespace["evaluate"](path))

    return evaluate


def test_initializer_after_restore_is_reported_and_really_discards_the_weights(graph_mode, tmp_path):
    assert lint(EVALUATE, "DL209") == [(9, 9, "DL209")]
    (message,) = messages(EVALUATE, "DL209")
    assert "saver.restore(...)" in message and "replaced with fresh" in message
    assert graph_mode(EVALUATE, tmp_path) == [0.0, 0.0]  # the checkpoint said [5, 5]


def test_the_fixed_order_is_silent_and_keeps_the_weights(graph_mode, tmp_path):
    assert lint(FIXED, "DL209") == []
    assert graph_mode(FIXED, tmp_path) == [5.0, 5.0]


def test_a_conditional_restore_then_an_unconditional_initializer():
    source = '''
        import tensorflow.compat.v1 as tf
        init = tf.group(tf.global_variables_initializer(), tf.local_variables_initializer())
        saver = tf.train.Saver()
        sess = tf.Session()
        ckpt = tf.train.get_checkpoint_state(train_dir)
        if ckpt and ckpt.model_checkpoint_path:
            saver.restore(sess, ckpt.model_checkpoint_path)
            print("restored")
        sess.run(init)
        init.run()
    '''
    assert lines(source, "DL209") == [10, 11]


def test_restore_then_initialize_in_a_loop_over_checkpoints():
    source = '''
        import tensorflow.compat.v1 as tf
        with tf.Session() as sess:
            for path in checkpoints:
                saver.restore(sess, path)
                sess.run(tf.initialize_all_variables())
                print(sess.run(accuracy))
    '''
    assert lines(source, "DL209") == [6]


def test_one_or_the_other_is_silent():
    sources = [
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nif ckpt:\n    saver.restore(sess, ckpt)\n"
        "else:\n    sess.run(tf.global_variables_initializer())\n",
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\ntry:\n    saver.restore(sess, ckpt)\n"
        "except tf.errors.NotFoundError:\n    sess.run(tf.global_variables_initializer())\n",
        # Leaves before the initializer.
        "import tensorflow.compat.v1 as tf\ndef load(sess):\n    if ckpt:\n        saver.restore(sess, ckpt)\n"
        "        return True\n    sess.run(tf.global_variables_initializer())\n",
        # Its own condition.
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nsaver.restore(sess, ckpt)\nif reinitialize:\n"
        "    sess.run(tf.global_variables_initializer())\n",
    ]
    for source in sources:
        assert lint(source, "DL209") == [], source


def test_partial_initializers_other_sessions_and_functions_are_silent():
    sources = [
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nsaver.restore(sess, ckpt)\n"
        "sess.run(tf.local_variables_initializer())\n",
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nsaver.restore(sess, ckpt)\n"
        "sess.run(tf.variables_initializer(new_vars))\n",
        "import tensorflow.compat.v1 as tf\nsaver.restore(teacher_sess, ckpt)\nstudent_sess = tf.Session()\n"
        "student_sess.run(tf.global_variables_initializer())\n",
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\ndef load():\n    saver.restore(sess, ckpt)\n"
        "sess.run(tf.global_variables_initializer())\nload()\n",
        # A TensorFlow 2 checkpoint's restore takes the path only.
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\ncheckpoint.restore(path)\n"
        "sess.run(tf.global_variables_initializer())\n",
    ]
    for source in sources:
        assert lint(source, "DL209") == [], source
