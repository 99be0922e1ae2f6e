"""DL102 str-of-bytes-feature: realistic cases and code that must not fire."""

from lintutil import lines, lint, messages


def test_im2txt_bytes_feature_casebook_case():
    source = '''
        import tensorflow as tf

        def _bytes_feature(value):
          return tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(value)]))
    '''
    assert lint(source, "DL102") == [(5, 64, "DL102")]
    (message,) = messages(source, "DL102")
    assert "has type str, but expected one of: bytes" in message
    assert "b'...'" in message


def test_the_seed_fix_is_clean():
    source = '''
        import tensorflow as tf

        def _bytes_feature(value):
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode() if type(value) == str else value]))
    '''
    assert lint(source, "DL102") == []


def test_text_in_every_form_and_import_style():
    cases = [
        "import tensorflow as tf\ntf.train.BytesList(value=[str(v)])\n",
        "import tensorflow as tf\ntf.train.BytesList(value=(str(a), b))\n",
        "import tensorflow.compat.v1 as tf\ntf.train.BytesList(value=[str(w) for w in caption])\n",
        "import tensorflow as tf\ntf.train.BytesList(value=list(str(w) for w in caption))\n",
        'import tensorflow as tf\ntf.train.BytesList(value=[f"{image_id:08d}"])\n',
        'import tensorflow as tf\ntf.train.BytesList(value=["%s" % label])\n',
        'import tensorflow as tf\ntf.train.BytesList(value=["{}".format(label)])\n',
        "from tensorflow.train import BytesList\nBytesList(value=[str(v)])\n",
        "from tensorflow.core.example.feature_pb2 import BytesList\nBytesList(value=[str(v)])\n",
        "import tensorflow as tf\ntf.train.BytesList([str(v)])\n",
    ]
    expected_silent = {3}  # `list(generator)` is not a display: out of reach, documented
    for index, source in enumerate(cases):
        found = lines(source, "DL102")
        assert found == ([] if index in expected_silent else [2]), source


def test_each_text_element_is_reported():
    assert lines("import tensorflow as tf\ntf.train.BytesList(value=[str(a),\n    str(b)])\n", "DL102") == [2, 3]


def test_must_not_fire():
    sources = [
        "import tensorflow as tf\ntf.train.BytesList(value=[encoded_image])\n",
        "import tensorflow as tf\ntf.train.BytesList(value=[str(v).encode('utf-8')])\n",
        "import tensorflow as tf\ntf.train.BytesList(value=[c.encode('utf-8') for c in captions])\n",
        "import tensorflow as tf\ntf.train.Int64List(value=[int(str(v))])\n",
        "import tensorflow as tf\ntf.train.FloatList(value=[float(v)])\n",
        "import tensorflow as tf\ntf.train.BytesList(value=[tf.compat.as_bytes(str(v))])\n",
        # Not TensorFlow's BytesList.
        "class BytesList:\n    def __init__(self, value): pass\nBytesList(value=[str(v)])\n",
        # str() elsewhere in the call, not as an element.
        "import tensorflow as tf\nprint(str(x), tf.train.BytesList(value=[x]))\n",
    ]
    for source in sources:
        assert lint(source, "DL102") == [], source
