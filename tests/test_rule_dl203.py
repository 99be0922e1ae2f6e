"""DL203 queue-runners-not-started: realistic cases and code that must not fire."""

from lintutil import lines, lint, messages

TFRECORD_READER = '''
import tensorflow as tf

reader = tf.TFRecordReader()
# load the file name queue
filename_queue = tf.train.string_input_producer(["./demo.tfrecord"])
_, serialized_example = reader.read(filename_queue)
features = tf.parse_single_example(serialized_example, features={
    "image_raw": tf.FixedLenFeature([], tf.string),
    "label": tf.FixedLenFeature([], tf.int64),
})
image = tf.decode_raw(features["image_raw"], tf.uint8)
label = tf.cast(features["label"], tf.int32)

with tf.Session() as sess:
    for i in range(10):
        print(sess.run([image, label]))
'''


def test_tfrecord_reader_casebook_case():
    assert lint(TFRECORD_READER, "DL203") == [(6, 18, "DL203")]
    (message,) = messages(TFRECORD_READER, "DL203")
    assert "tf.train.string_input_producer" in message and "blocks forever" in message
    assert "tf.train.start_queue_runners(sess=sess, coord=coord)" in message and "tf.data" in message


def test_the_seed_fix_is_clean():
    fixed = TFRECORD_READER.replace(
        "with tf.Session() as sess:\n",
        "with tf.Session() as sess:\n    coord = tf.train.Coordinator()\n"
        "    threads = tf.train.start_queue_runners(sess=sess, coord=coord)\n",
    )
    assert lint(fixed, "DL203") == []


def test_batches_in_a_training_function():
    source = '''
        import tensorflow.compat.v1 as tf

        def train(files):
            queue = tf.train.string_input_producer(files, num_epochs=5)
            image, label = read_and_decode(queue)
            images, labels = tf.train.shuffle_batch([image, label], batch_size=32, capacity=2000,
                                                    min_after_dequeue=1000)
            loss = model(images, labels)
            sess = tf.Session()
            sess.run(tf.global_variables_initializer())
            for step in range(1000):
                sess.run(loss)
    '''
    # The first queue of the function only.
    assert lint(source, "DL203") == [(5, 13, "DL203")]


def test_queue_in_one_function_session_in_another():
    source = '''
        import tensorflow as tf

        def inputs(files, batch_size):
            queue = tf.train.string_input_producer(files)
            return tf.train.batch([read(queue)], batch_size)

        def main():
            batch = inputs(["a.tfrecord"], 32)
            with tf.Session() as sess:
                print(sess.run(batch))
    '''
    assert lines(source, "DL203") == [5]
    assert "elsewhere in this module" in messages(source, "DL203")[0]
    started = source.replace("with tf.Session() as sess:\n", "with tf.Session() as sess:\n"
                             "                tf.train.start_queue_runners(sess)\n")
    assert lint(started, "DL203") == []


def test_sessions_that_start_the_runners():
    sources = [
        "import tensorflow as tf\nb = tf.train.batch([x], 32)\nwith tf.train.MonitoredTrainingSession(checkpoint_dir=d) as sess:\n"
        "    while not sess.should_stop():\n        sess.run(b)\n",
        "import tensorflow as tf\nb = tf.train.batch([x], 32)\nsv = tf.train.Supervisor(logdir=d)\n"
        "with sv.managed_session() as sess:\n    sess.run(b)\n",
        "import tensorflow as tf\nimport tf_slim as slim\nb = tf.train.batch([x], 32)\nslim.learning.train(train_op, logdir)\n"
        "sess = tf.Session()\nsess.run(b)\n",
        "import tensorflow as tf\nb = tf.train.batch([x], 32)\nsess = tf.Session()\nsv.start_queue_runners(sess)\nsess.run(b)\n",
        "import tensorflow as tf\nb = tf.train.batch([x], 32)\nsess = tf.Session()\nqr = tf.train.QueueRunner(q, [enq])\n"
        "qr.create_threads(sess, start=True)\nsess.run(b)\n",
    ]
    for source in sources:
        assert lint(source, "DL203") == [], source


def test_no_session_or_no_queue_is_fine():
    sources = [
        # An input library: whoever runs the session starts the runners.
        "import tensorflow as tf\ndef distorted_inputs(files):\n    q = tf.train.string_input_producer(files)\n"
        "    return tf.train.shuffle_batch([read(q)], 128, 20000, 10000)\n",
        # tf.data needs no runners.
        "import tensorflow as tf\nds = tf.data.TFRecordDataset(files).batch(32)\nbatch = tf.data.make_one_shot_iterator(ds).get_next()\n"
        "with tf.Session() as sess:\n    sess.run(batch)\n",
        # A batch() that is not TensorFlow's queue.
        "import tensorflow as tf\nds = dataset.batch(32)\nsess = tf.Session()\nsess.run(x)\n",
        "from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=32)\nfor b in loader:\n    model.eval()\n",
    ]
    for source in sources:
        assert lint(source, "DL203") == [], source


def test_a_bare_eval_under_an_interactive_session_runs_the_graph():
    source = '''
        import tensorflow as tf

        files = tf.train.match_filenames_once("data/*.csv")
        queue = tf.train.string_input_producer(["data/train.csv"], shuffle=False)
        key, value = tf.TextLineReader().read(queue)
        x, y = tf.decode_csv(value, record_defaults=[[0.0], [0.0]])
        sess = tf.InteractiveSession()
        tf.global_variables_initializer().run()
        print(x.eval())
    '''
    assert lines(source, "DL203") == [5]
    started = source.replace("tf.global_variables_initializer().run()\n",
                             "tf.global_variables_initializer().run()\n        tf.train.start_queue_runners()\n")
    assert lint(started, "DL203") == []
    # With a plain Session, `x.eval()` needs a default session: it raises, it does not hang.
    plain = source.replace("sess = tf.InteractiveSession()", "sess = tf.Session()")
    assert lint(plain, "DL203") == []


def test_code_that_runs_in_a_session_made_elsewhere_is_not_reported():
    sources = [
        # A training step module: the trainer makes the session (and its Supervisor starts the runners).
        '''
        import tensorflow as tf

        def build_inputs(files, batch_size):
            queue = tf.train.string_input_producer(files)
            return tf.train.shuffle_batch([decode(queue)], batch_size, 10000, 1000)

        def train_step(sess, train_op, global_step):
            _, step = sess.run([train_op, global_step])
            return step
        ''',
        # An evaluation helper handed the session by its caller.
        '''
        import tensorflow as tf

        def evaluate(sess, files):
            images, labels = tf.train.batch([read(tf.train.string_input_producer(files))], 100)
            return sess.run(accuracy(images, labels))
        ''',
        # A session from `tf.get_default_session()`: made, and maybe started, elsewhere.
        '''
        import tensorflow as tf

        batch = tf.train.batch([example], 32)
        sess = tf.get_default_session()
        sess.run(batch)
        ''',
    ]
    for source in sources:
        assert lint(source, "DL203") == [], source
        own = source.replace("import tensorflow as tf\n", "import tensorflow as tf\n        SESSION = tf.Session()\n")
        assert len(lint(own, "DL203")) == 1, own


def test_a_helper_anywhere_in_the_module_counts_as_starting_them():
    source = '''
        import tensorflow as tf
        import tf_slim as slim

        def evaluate(files):
            images, labels = tf.train.batch([read(tf.train.string_input_producer(files))], 100)
            with tf.Session() as sess:
                return sess.run(accuracy(images, labels))

        def main():
            slim.learning.train(train_op, "logs")
    '''
    assert lint(source, "DL203") == []
    assert len(lint(source.replace("slim.learning.train(train_op, \"logs\")", "evaluate(FILES)"), "DL203")) == 1
