"""DL216 queue-runners-started-early: realistic cases, code that must not fire, and the
hang itself, reproduced with TensorFlow's graph mode (with a run timeout standing in for
"forever")."""

from lintutil import lines, lint, messages
from tf1run import run_tf1

# A reader whose session and runners are set up before its batching queue.
REGRESSION = '''
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

sess = tf.Session()
coord = tf.train.Coordinator()
threads = tf.train.start_queue_runners(sess=sess, coord=coord)
values = tf.train.batch([tf.constant([1.0, 2.0])], batch_size=2)
wait = tf.RunOptions(timeout_in_ms=3000)
print(sess.run(values, options=wait).tolist())
coord.request_stop()
'''
FIXED = REGRESSION.replace(
    "threads = tf.train.start_queue_runners(sess=sess, coord=coord)\n", ""
).replace(
    "wait = tf.RunOptions", "threads = tf.train.start_queue_runners(sess=sess, coord=coord)\nwait = tf.RunOptions"
)


def test_runners_started_before_the_queue_are_reported_and_really_hang():
    assert lint(REGRESSION, "DL216") == [(9, 10, "DL216")]
    (message,) = messages(REGRESSION, "DL216")
    assert "`tf.train.batch`" in message and "blocks forever" in message
    done = run_tf1(REGRESSION)
    assert done.returncode != 0 and "DeadlineExceededError" in done.stderr, done.stderr[-2000:]


def test_runners_started_after_the_pipeline_are_silent_and_run():
    assert lint(FIXED, "DL216") == []
    done = run_tf1(FIXED)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[[1.0, 2.0], [1.0, 2.0]]" in done.stdout


def test_an_input_function_called_after_the_start():
    source = '''
        import tensorflow.compat.v1 as tf

        def inputs(files, batch_size):
            queue = tf.train.string_input_producer(files)
            _, record = tf.TFRecordReader().read(queue)
            return tf.train.shuffle_batch([record], batch_size, 1000, 100)

        def main(files):
            with tf.Session() as sess:
                coord = tf.train.Coordinator()
                threads = tf.train.start_queue_runners(sess=sess, coord=coord)
                records = inputs(files, 32)
                for _ in range(10):
                    sess.run(records)
    '''
    assert lines(source, "DL216") == [13]


def test_a_start_after_the_queue_or_in_another_branch_or_graph_is_silent():
    sources = [
        # A second start once the queue exists.
        '''
        import tensorflow.compat.v1 as tf
        sess = tf.Session()
        tf.train.start_queue_runners(sess=sess)
        batch = tf.train.batch([x], 32)
        tf.train.start_queue_runners(sess=sess)
        sess.run(batch)
        ''',
        # A Supervisor starts the runners when the session is made.
        '''
        import tensorflow.compat.v1 as tf
        sess = tf.Session()
        tf.train.start_queue_runners(sess=sess)
        batch = tf.train.batch([x], 32)
        sv = tf.train.Supervisor(logdir=d)
        with sv.managed_session() as sess:
            sess.run(batch)
        ''',
        # Another graph.
        '''
        import tensorflow.compat.v1 as tf
        sess = tf.Session()
        tf.train.start_queue_runners(sess=sess)
        with tf.Graph().as_default():
            batch = tf.train.batch([x], 32)
            with tf.Session() as other:
                other.run(batch)
        ''',
        # The start only in one branch of an `if`.
        '''
        import tensorflow.compat.v1 as tf
        sess = tf.Session()
        if resume:
            tf.train.start_queue_runners(sess=sess)
        batch = tf.train.batch([x], 32)
        sess.run(batch)
        ''',
        # Nothing runs after the queue here.
        '''
        import tensorflow.compat.v1 as tf
        sess = tf.Session()
        tf.train.start_queue_runners(sess=sess)
        sess.run(step)
        batch = tf.train.batch([x], 32)
        ''',
    ]
    for source in sources:
        assert lint(source, "DL216") == [], source
