"""DL103 np-resize-on-image: images resized with np.resize, and resizes that are fine."""

from lintutil import lines, lint, messages


def test_cv2_pipeline_casebook_case():
    source = '''
        import cv2
        import numpy as np

        def preprocess(path, size=224):
            img = cv2.imread(path)
            if img is None:
                raise FileNotFoundError(path)
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            img = np.resize(img, (size, size, 3))
            return img.astype(np.float32) / 255.0
    '''
    assert lint(source, "DL103") == [(10, 11, "DL103")]
    (message,) = messages(source, "DL103")
    assert "cv2.imread" in message and "does not interpolate" in message and "cv2.resize" in message


def test_the_cv2_resize_fix_is_clean():
    source = '''
        import cv2
        import numpy as np

        def preprocess(path, size=224):
            img = cv2.imread(path)
            if img is None:
                raise FileNotFoundError(path)
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            img = cv2.resize(img, (size, size))
            return img.astype(np.float32) / 255.0
    '''
    assert lint(source, "DL103") == []


def test_images_from_every_reader():
    readers = [
        ("import cv2", "cv2.imread(p)"),
        ("import cv2", "cv2.imdecode(buf, cv2.IMREAD_COLOR)"),
        ("import imageio", "imageio.imread(p)"),
        ("import imageio.v3 as iio", "iio.imread(p)"),
        ("from skimage import io", "io.imread(p)"),
        ("import matplotlib.pyplot as plt", "plt.imread(p)"),
        ("from PIL import Image", "np.array(Image.open(p).convert('RGB'))"),
        ("from PIL import Image", "Image.open(p)"),
    ]
    for import_line, reader in readers:
        source = f"{import_line}\nimport numpy as np\nimg = {reader}\nsmall = np.resize(img, (32, 32))\n"
        assert lines(source, "DL103") == [4], reader


def test_image_through_conversions():
    steps = ["img = img[:, :, ::-1]", "img = img.astype('float32')", "img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)",
             "img = np.asarray(img)", "img = img / 255.0"]
    for step in steps:
        source = f"import cv2\nimport numpy as np\nimg = cv2.imread(p)\n{step}\nimg = np.resize(img, (64, 64))\n"
        assert lines(source, "DL103") == [5], step


def test_image_shapes_and_names():
    cases = [
        "import numpy as np\nx = np.resize(batch[i], (227, 227, 3))\n",
        "import numpy as np\nx = np.resize(arr, [28, 28, 1])\n",
        "import numpy as np\nx = np.resize(arr, (img_size, img_size, 3))\n",
        "import numpy as np\nx = np.resize(arr, (args.height, args.width, 4))\n",
        "import numpy\nx = numpy.resize(data, (H, W, 3))\n",
        "from numpy import resize\ndef prep(image):\n    return resize(image, (28, 28))\n",
        "import numpy as np\nfor frame in frames:\n    out.append(np.resize(frame, (120, 160, 3)))\n",
        "import numpy as np\nx = np.resize(self.images[idx], (64, 64))\n",
        "import numpy as np\nx = np.resize(a=img, new_shape=(64, 64))\n",
    ]
    for source in cases:
        assert len(lint(source, "DL103")) == 1, source


def test_ndarray_resize_on_an_image_array():
    source = '''
        import imageio
        frame = imageio.imread(path)
        frame.resize((128, 128, 3), refcheck=False)
    '''
    assert lint(source, "DL103") == [(4, 1, "DL103")]
    (message,) = messages(source, "DL103")
    assert "pads with zeros" in message


def test_must_not_fire():
    sources = [
        # PIL's own resize interpolates.
        "from PIL import Image\nimg = Image.open(p).convert('RGB')\nimg = img.resize((224, 224))\n",
        "from PIL import Image\nimg = Image.open(p).resize((224, 224), Image.BILINEAR)\n",
        "import cv2\nimg = cv2.imread(p)\nimg = cv2.resize(img, (224, 224))\n",
        "import tensorflow as tf\nimg = tf.image.resize(img, [224, 224])\n",
        # Not images: 1-D and 2-D arrays of other data, point clouds.
        "import numpy as np\nw = np.resize(weights, (n_classes,))\n",
        "import numpy as np\nmask = np.resize(pattern, (batch_size, seq_len))\n",
        "import numpy as np\npts = np.resize(points, (batch, n_points, 3))\n",
        "import numpy as np\nidx = np.resize(np.arange(n), (2, 3))\n",
        "import numpy as np\nbuf = np.zeros(10)\nbuf.resize(20, refcheck=False)\n",
        # An image name rebound to something else.
        "import cv2\nimport numpy as np\nimg = cv2.imread(p)\nimg = embed(img)\nv = np.resize(img, (16,))\n",
        # A project's own resize.
        "def resize(a, shape):\n    return a\nimg = resize(img, (224, 224, 3))\n",
    ]
    for source in sources:
        assert lint(source, "DL103") == [], source
