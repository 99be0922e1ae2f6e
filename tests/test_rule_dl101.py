"""DL101 binary-read-in-text-mode: realistic cases and code that must not fire."""

from lintutil import lines, lint, messages


def test_im2txt_builder_casebook_case():
    source = '''
        import tensorflow as tf

        def _to_sequence_example(image, decoder, vocab):
            with tf.gfile.FastGFile(image.filename, "r") as f:
                encoded_image = f.read()
            try:
                decoder.decode_jpeg(encoded_image)
            except (tf.errors.InvalidArgumentError, AssertionError):
                return None
    '''
    assert lint(source, "DL101") == [(5, 10, "DL101")]
    (message,) = messages(source, "DL101")
    assert "decoder.decode_jpeg" in message
    assert "UnicodeDecodeError" in message and "'rb'" in message


def test_the_fixed_builder_is_clean():
    source = '''
        import tensorflow as tf

        def _to_sequence_example(image, decoder, vocab):
            with tf.gfile.FastGFile(image.filename, "rb") as f:
                encoded_image = f.read()
            decoder.decode_jpeg(encoded_image)
    '''
    assert lint(source, "DL101") == []


def test_every_import_style_of_gfile():
    styles = [
        ("import tensorflow as tf", "tf.gfile.FastGFile"),
        ("import tensorflow.compat.v1 as tf", "tf.gfile.GFile"),
        ("import tensorflow as tf", "tf.compat.v1.gfile.Open"),
        ("import tensorflow as tf", "tf.io.gfile.GFile"),
        ("from tensorflow.compat.v1 import gfile as G", "G.FastGFile"),
        ("from tensorflow.python.platform import gfile", "gfile.FastGFile"),
        ("from tensorflow.io import gfile", "gfile.GFile"),
        ("from tensorflow.io.gfile import GFile", "GFile"),
        ("from io import open", "open"),
        ("import io", "io.open"),
    ]
    for import_line, opener in styles:
        source = f'{import_line}\ndata = {opener}("/data/train/0001.jpg", "r").read()\n'
        assert lines(source, "DL101") == [2], (import_line, opener)


def test_extension_evidence_in_every_path_form():
    paths = [
        '"cat.JPG"',
        'f"{root}/{name}.png"',
        'root + "/x.npy"',
        '"%s/model.pt" % out_dir',
        'os.path.join(out_dir, "model.ckpt")',
        'pathlib.Path(root) / "weights.h5"',
        '"train.tfrecord"',
        '"labels.pkl"',
    ]
    for path in paths:
        source = f"import os, pathlib\nwith open({path}) as f:\n    f.read()\n"
        assert lines(source, "DL101") == [2], path


def test_flow_into_decoders_and_handle_sinks():
    cases = [
        "import tensorflow as tf\ndef f(p):\n    raw = open(p).read()\n    return tf.image.decode_png(raw)\n",
        "import tensorflow as tf\ndef f(p):\n    return tf.io.decode_raw(tf.gfile.GFile(p).read(), tf.uint8)\n",
        "import cv2, numpy as np\ndef f(p):\n    with open(p) as h:\n        return cv2.imdecode(np.frombuffer(h.read(), np.uint8), 1)\n",
        "import io\nfrom PIL import Image\ndef f(p):\n    with open(p, 'r') as h:\n        data = h.read()\n    return Image.open(io.BytesIO(data))\n",
        "from PIL import Image\ndef f(p):\n    with open(p) as h:\n        return Image.open(h)\n",
        "import numpy as np\ndef f(p):\n    with open(p) as h:\n        return np.load(h)\n",
        "import torch\ndef f(p):\n    with open(p, 'r') as h:\n        return torch.load(h)\n",
        "import pickle\ndef f(p):\n    return pickle.loads(open(p).read())\n",
        "import tensorflow as tf\ndef f(p):\n    with tf.gfile.GFile(p, 'r') as h:\n        b = h.read()\n    return tf.train.BytesList(value=[b])\n",
    ]
    for source in cases:
        assert len(lint(source, "DL101")) == 1, source


def test_writing_bytes_to_a_text_mode_file():
    source = 'import pickle\nwith open("vocab.pkl", "w") as f:\n    pickle.dump(vocab, f)\n'
    (message,) = messages(source, "DL101")
    assert "TypeError: write() argument must be str, not bytes" in message and "'wb'" in message


def test_image_names_in_the_path_expression():
    for path in ["image.filename", "img_path", "jpeg_file", "self.image_paths[i]", "os.path.join(d, image_name)"]:
        assert lines(f"import os\nf = open({path})\n", "DL101") == [2], path


def test_must_not_fire_on_text_binary_modes_or_unknown_content():
    sources = [
        'with open("captions.txt") as f:\n    lines = f.readlines()\n',
        'with open(image_list_file) as f:\n    names = f.read().split()\n',
        'with open(os.path.join(d, "Flickr8k.token.txt")) as f:\n    pass\n',
        'with open("annotations/captions_train2014.json") as f:\n    data = json.load(f)\n',
        'import tensorflow as tf\nwith tf.gfile.FastGFile(captions_file, "r") as f:\n    lines = f.readlines()\n',
        'with open(image.filename, "rb") as f:\n    data = f.read()\n',
        'with open("cat.jpg", mode) as f:\n    data = f.read()\n',
        'with open(path) as f:\n    text = f.read()\nprint(text)\n',
        'with open(image_captions_path) as f:\n    pass\n',
        # A project's own `open` is not the builtin.
        'def open(path, mode="r"):\n    return None\nopen("x.jpg")\n',
        # Decoding the text of another file does not make this one binary.
        'import tensorflow as tf\ndef f(p, q):\n    names = open(p).read()\n    img = tf.gfile.GFile(q, "rb").read()\n    return tf.image.decode_jpeg(img)\n',
        # TF GFile writing bytes is fine.
        'import tensorflow as tf\nwith tf.gfile.GFile("out.jpg", "w") as f:\n    f.write(encoded)\n',
    ]
    for source in sources:
        assert lint(source, "DL101") == [], source


def test_flow_is_per_function():
    source = '''
        import tensorflow as tf

        def read_names(path):
            with open(path) as f:
                data = f.read()
            return data

        def decode(data):
            return tf.image.decode_jpeg(data)
    '''
    assert lint(source, "DL101") == []


def test_noqa_silences_it():
    assert lint('f = open("cat.jpg")  # noqa: DL101\n', "DL101") == []


def test_an_explicit_encoding_is_text_on_purpose_and_gets_no_harmful_fix():
    # nanoGPT's sample.py shape: a binary meta pickle, then a prompt file read as UTF-8
    # text through a handle of the same name. "rb" with encoding= would raise ValueError.
    sources = [
        'import pickle\nwith open(meta_path, "rb") as f:\n    meta = pickle.load(f)\n'
        'with open(prompt_file, "r", encoding="utf-8") as f:\n    start = f.read()\n',
        'with open("frame_0001.jpg", encoding="latin-1") as f:\n    header = f.read(16)\n',
        'with open(image_path, "r", -1, "utf-8") as f:\n    pass\n',
        'with open("labels.npy", newline="") as f:\n    pass\n',
    ]
    for source in sources:
        assert lint(source, "DL101") == [], source
    # Without the encoding, the same image read is still reported.
    assert lint('with open("frame_0001.jpg") as f:\n    header = f.read(16)\n', "DL101") == [(1, 6, "DL101")]


def test_a_reused_handle_name_carries_no_consumer_to_the_next_file():
    # tf-faster-rcnn's voc_eval shape: a pickle cache written through `f` in text mode
    # (the bug: pickle.dump needs "wb"), then a text detections file read through `f`.
    source = """
        import pickle
        def voc_eval(detpath, cachefile, classname):
            with open(cachefile, 'w') as f:
                pickle.dump(recs, f)
            detfile = detpath.format(classname)
            with open(detfile, 'r') as f:
                lines = f.readlines()
            return lines
    """
    assert lint(source, "DL101") == [(4, 10, "DL101")]
    # Data read from the first handle keeps its own file, whatever `f` means later.
    read_then_rebind = """
        import pickle
        with open(meta_path) as f:
            meta = f.read()
        with open(prompt_path) as f:
            prompt = f.read()
        vocab = pickle.loads(meta)
    """
    assert lint(read_then_rebind, "DL101") == [(3, 6, "DL101")]


def test_a_path_name_is_followed_to_its_value():
    # tf-faster-rcnn's pascal_voc shape: the name says "image", the value is a .txt list of ids.
    text_list = """
        import os
        def load_image_set_index(self):
            image_set_file = os.path.join(self._data_path, 'ImageSets', 'Main', self._image_set + '.txt')
            with open(image_set_file) as f:
                return [x.strip() for x in f.readlines()]
    """
    assert lint(text_list, "DL101") == []
    # A neutral name whose value is an image is reported.
    image = """
        import os
        def first_frame(root):
            path = os.path.join(root, "frames", "0001.jpg")
            with open(path) as f:
                return f.read()
    """
    assert lint(image, "DL101") == [(5, 10, "DL101")]


def test_a_path_held_in_a_variable_is_followed_to_the_list_or_glob_it_comes_from():
    # The builder's shape with the image paths gathered first: the path is a loop
    # variable, its value an element of a glob of JPEGs.
    builder = '''
        import os
        import tensorflow as tf

        def build(image_dir, writer):
            filenames = tf.gfile.Glob(os.path.join(image_dir, "*.jpg"))
            for filename in filenames:
                with tf.gfile.FastGFile(filename, "r") as f:
                    image_data = f.read()
                writer.write(image_data)
    '''
    assert lint(builder, "DL101") == [(8, 14, "DL101")]
    (message,) = messages(builder, "DL101")
    assert "the path ends in '.jpg'" in message and "byte 0xff in position 0" in message
    cases = [
        "import glob\ndef f(root):\n    for path in sorted(glob.glob(f'{root}/*.png')):\n        yield open(path).read()\n",
        "import os\ndef f(d):\n    names = [n for n in os.listdir(d) if n.endswith(('.jpg', '.jpeg'))]\n"
        "    for n in names:\n        yield open(os.path.join(d, n)).read()\n",
        "import os\ndef f(d, ids):\n    frames = [os.path.join(d, i + '.jpg') for i in ids]\n    return open(frames[0], 'r').read()\n",
        "from pathlib import Path\ndef f(d):\n    return [open(p).read() for p in Path(d).glob('*.npy')]\n",
        "import glob\ndef f(d):\n    for i, path in enumerate(glob.glob(d + '/*.jpg')):\n        yield i, open(path).read()\n",
        "import glob\ndef f(pattern):\n    for i, path in enumerate(glob.glob('*.pkl')):\n        pass\n    paths = list(glob.glob('shards/*.tfrecord'))\n"
        "    return open(str(paths[0])).read()\n",
    ]
    for source in cases:
        assert len(lint(source, "DL101")) == 1, source
    (png,) = messages(cases[0], "DL101")
    assert "byte 0x89 in position 0" in png


def test_a_followed_value_that_is_text_or_unknown_is_not_reported():
    sources = [
        # A glob of text lists, whatever the loop variable is called.
        "import glob\nfor image_list in glob.glob('lists/*.txt'):\n    names = open(image_list).read().split()\n",
        "import glob\nfor img_file in glob.glob('annotations/*.json'):\n    data = open(img_file).read()\n",
        # Unfiltered directory listings say nothing about the content.
        "import os\ndef f(d):\n    for n in os.listdir(d):\n        yield open(os.path.join(d, n)).read()\n",
        # A mix of text and binary extensions is not evidence either way.
        "import os\ndef f(d):\n    for n in [n for n in os.listdir(d) if n.endswith(('.jpg', '.txt'))]:\n        yield open(os.path.join(d, n)).read()\n",
        # The loop variable rebound to a text file before the open.
        "import glob\nfor filename in glob.glob('*.jpg'):\n    pass\nfilename = 'notes.txt'\nwith open(filename) as f:\n    notes = f.read()\n",
        # Opened in binary mode.
        "import glob\nfor filename in glob.glob('*.jpg'):\n    data = open(filename, 'rb').read()\n",
    ]
    for source in sources:
        assert lint(source, "DL101") == [], source


def test_the_value_decides_not_the_name():
    # Image-sounding names whose values are text files: a log, a CSV of labels, a JSON
    # of boxes, an SVG drawing (XML), held directly or through a name.
    sources = [
        "import os\nimage_log = os.path.join(out_dir, 'images.log')\nwith open(image_log, 'w') as f:\n    f.write(line)\n",
        "img_labels_path = root + '/train.csv'\nrows = open(img_labels_path).readlines()\n",
        "import os\ndef boxes(img_dir, name):\n    img_boxes = os.path.join(img_dir, name + '.json')\n    return open(img_boxes).read()\n",
        "import os\ndef drawing(img_dir, name):\n    img_path = os.path.join(img_dir, name + '.svg')\n    return open(img_path).read()\n",
        "import os\nEXT = '.txt'\ndef ids(image_set):\n    image_file = image_set + EXT\n    return open(image_file).read().split()\n",
    ]
    for source in sources:
        assert lint(source, "DL101") == [], source
    # The same names holding an image are reported.
    assert lines("import os\ndef f(img_dir, name):\n    img_path = os.path.join(img_dir, name + '.png')\n"
                 "    return open(img_path).read()\n", "DL101") == [4]


def test_text_handles_given_to_readers_of_bytes():
    cases = {
        "import wave\ndef read_wav(path):\n    with open(path) as f:\n        w = wave.open(f)\n"
        "        return w.readframes(w.getnframes())\n": "wave.open",
        "import tarfile\ndef unpack(path, dest):\n    with open(path) as fh:\n"
        "        tarfile.open(fileobj=fh, mode='r:gz').extractall(dest)\n": "tarfile.open",
        "import pickle\ndef load(path):\n    with open(path) as f:\n        return pickle.Unpickler(f).load()\n": "pickle.Unpickler",
    }
    for source, sink in cases.items():
        (message,) = messages(source, "DL101")
        assert f"goes to `{sink}`, which wants bytes" in message and "UnicodeDecodeError" in message, source
    writer = "import wave\ndef save(path, pcm):\n    with open(path, 'w') as f:\n        w = wave.open(f, 'wb')\n        w.writeframes(pcm)\n"
    (message,) = messages(writer, "DL101")
    assert "TypeError: write() argument must be str, not bytes" in message and "'wb'" in message


def test_readers_that_do_not_need_a_binary_handle():
    sources = [
        # np.fromfile reads the descriptor, whose bytes Python never translates: a
        # text-mode handle gives the same array (MNIST idx files, DCGAN's loader).
        "import os\nimport numpy as np\ndef load(d):\n    fd = open(os.path.join(d, 'train-images-idx3-ubyte'))\n"
        "    return np.fromfile(file=fd, dtype=np.uint8)\n",
        # A tar archive opened by name; the text file is another one.
        "import tarfile\ndef unpack(path, dest):\n    with open(os.path.join(dest, 'README')) as f:\n        notes = f.read()\n"
        "    tarfile.open(path, 'r:gz').extractall(dest)\n",
        # wave given the path, not the handle.
        "import wave\ndef length(path):\n    with open(path + '.meta') as f:\n        meta = f.read()\n    return wave.open(path).getnframes()\n",
    ]
    for source in sources:
        assert lint(source, "DL101") == [], source


def test_a_format_template_says_what_the_file_is():
    # bamos/dcgan-completion.tensorflow: one text log per image index, `img` an int.
    log = '''
        import os

        def start_logs(out_dir, batch_size):
            for img in range(batch_size):
                with open(os.path.join(out_dir, 'logs/hats_{:02d}.log'.format(img)), 'a') as f:
                    f.write('iter loss\\n')
    '''
    assert lint(log, "DL101") == []
    # The template's extension is evidence the other way too.
    image = "import os\nwith open(os.path.join(d, '{:04d}.png'.format(i)), 'w') as f:\n    f.write(data)\n"
    assert lines(image, "DL101") == [2]
