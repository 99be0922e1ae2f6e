"""DL201 log-device-placement: realistic cases and code that must not fire."""

from lintutil import lines, lint


def test_multi_gpu_casebook_case():
    source = '''
        import tensorflow as tf

        def train():
            sess = tf.Session(config=tf.ConfigProto(
                allow_soft_placement=True,
                log_device_placement=True))
            sess.run(tf.global_variables_initializer())
    '''
    assert lint(source, "DL201") == [(7, 30, "DL201")]


def test_every_form():
    cases = [
        "import tensorflow as tf\nc = tf.ConfigProto(log_device_placement=True)\n",
        "import tensorflow as tf\nc = tf.compat.v1.ConfigProto(log_device_placement=1)\n",
        "import tensorflow.compat.v1 as tf\nc = tf.ConfigProto(log_device_placement=True)\n",
        "from tensorflow import ConfigProto\nc = ConfigProto(log_device_placement=True)\n",
        "from tensorflow.compat.v1 import ConfigProto as CP\nc = CP(log_device_placement=True)\n",
        "c = make()\nc.log_device_placement = True\n",
        "import tensorflow as tf\ntf.debugging.set_log_device_placement(True)\n",
        "import tensorflow as tf\ntf.debugging.set_log_device_placement(enabled=True)\n",
    ]
    for source in cases:
        assert lines(source, "DL201") == [2], source


def test_flags_variables_and_off_are_fine():
    sources = [
        "import tensorflow as tf\nc = tf.ConfigProto(log_device_placement=FLAGS.log_device_placement)\n",
        "import tensorflow as tf\nc = tf.ConfigProto(log_device_placement=False)\n",
        "import tensorflow as tf\nc = tf.ConfigProto(log_device_placement=0)\n",
        "import tensorflow as tf\nc = tf.ConfigProto(allow_soft_placement=True)\n",
        "c.log_device_placement = args.log_device_placement\n",
        "c.log_device_placement = False\n",
        "import tensorflow as tf\ntf.debugging.set_log_device_placement(debug)\n",
        "parser.add_argument('--log_device_placement', action='store_true')\n",
        "settings = dict(log_device_placement=True)\n",
    ]
    for source in sources:
        assert lint(source, "DL201") == [], source
