"""DL204 session-run-config-kwarg: realistic cases and code that must not fire."""

from lintutil import lines, lint, messages


def test_soft_placement_in_run_casebook_case():
    source = '''
        import tensorflow as tf

        with tf.device("/gpu:0"):
            cost = build_model()
            optimizer = tf.train.AdamOptimizer(0.001).minimize(cost)

        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for epoch in range(10):
                sess.run(optimizer, allow_soft_placement=True)
    '''
    assert lint(source, "DL204") == [(11, 29, "DL204")]
    (message,) = messages(source, "DL204")
    assert "TypeError: run() got an unexpected keyword argument 'allow_soft_placement'" in message
    assert "tf.Session(config=tf.ConfigProto(allow_soft_placement=...))" in message


def test_the_seed_fix_is_clean():
    source = '''
        import tensorflow as tf

        config = tf.ConfigProto(allow_soft_placement=True)
        with tf.Session(config=config) as sess:
            sess.run(optimizer)
    '''
    assert lint(source, "DL204") == []


def test_receivers_by_construction_and_by_name():
    cases = [
        "import tensorflow as tf\ns = tf.Session()\ns.run(op, log_device_placement=True)\n",
        "import tensorflow as tf\nwith tf.compat.v1.Session() as s:\n    s.run(op, gpu_options=opts)\n",
        "import tensorflow as tf\nwith tf.train.MonitoredTrainingSession() as mon:\n    mon.run(op, feeds={x: 1})\n",
        "import tensorflow as tf\ntf.get_default_session().run(op, allow_soft_placement=True)\n",
        "import tensorflow as tf\nwith sv.managed_session(master) as s:\n    s.run(op, config=cfg)\n",
        "import tensorflow as tf\nclass Trainer:\n    def step(self, batch):\n        return self.sess.run(self.train_op, feed=batch)\n",
        "import tensorflow as tf\ndef evaluate(session, acc):\n    return session.run(acc, feed_dict=fd, timeout=10)\n",
    ]
    for source in cases:
        assert len(lines(source, "DL204")) == 1, source


def test_one_finding_per_wrong_keyword():
    source = "import tensorflow as tf\nsess = tf.Session()\nsess.run(op, allow_soft_placement=True, log_device_placement=True)\n"
    assert lint(source, "DL204") == [(3, 14, "DL204"), (3, 41, "DL204")]
    gpu = "import tensorflow as tf\nsess = tf.Session()\nsess.run(op, allow_growth=True)\n"
    assert "tf.GPUOptions(allow_growth=...)" in messages(gpu, "DL204")[0]


def test_valid_run_calls_and_other_run_methods():
    sources = [
        "import tensorflow as tf\nsess = tf.Session()\nsess.run(op, feed_dict={x: 1}, options=o, run_metadata=m)\n",
        "import tensorflow as tf\nsess = tf.Session()\nsess.run(fetches=op)\n",
        "import tensorflow as tf\nsess = tf.Session()\nsess.run(op, **kwargs)\n",
        "import subprocess\nsubprocess.run(['nvidia-smi'], check=True, capture_output=True)\n",
        "import onnxruntime as ort\nsess = ort.InferenceSession('model.onnx')\nsess.run(None, input_feed={'x': x})\n",
        "import asyncio\nasyncio.run(main(), debug=True)\n",
        "import tensorflow as tf\nrunner = make()\nrunner.run(steps=10)\n",
        "import tensorflow as tf\nstrategy.run(step_fn, args=(x,))\n",
    ]
    for source in sources:
        assert lint(source, "DL204") == [], source


def test_spaces_around_run_and_a_keyword_on_another_line():
    source = "import tensorflow as tf\nsess = tf.Session()\nsess . run (train_op,\n    allow_soft_placement=True)\n"
    assert lines(source, "DL204") == [4]  # at the keyword
