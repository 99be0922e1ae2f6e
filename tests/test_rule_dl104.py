"""DL104 unchecked-imread: the AlexNet input pipeline, realistic variations, and checks that count."""

from lintutil import lines, lint, messages


def test_alexnet_finetune_casebook_case():
    source = '''
        import cv2
        import numpy as np

        MEAN = np.array([104., 117., 124.])

        def read_batch(paths, scale_size=227):
            images = np.ndarray([len(paths), scale_size, scale_size, 3])
            for i, path in enumerate(paths):
                img = cv2.imread(path)
                print(img.shape)
                img = cv2.resize(img, (scale_size, scale_size))
                images[i] = img - MEAN
            return images
    '''
    assert lint(source, "DL104") == [(10, 15, "DL104")]
    (message,) = messages(source, "DL104")
    assert "'NoneType' object has no attribute 'shape'" in message and "if img is None" in message


def test_the_checked_pipeline_is_clean():
    source = '''
        import cv2

        def read(path):
            img = cv2.imread(path)
            if img is None:
                raise FileNotFoundError(f"cv2.imread could not read {path!r}")
            return cv2.resize(img, (227, 227))
    '''
    assert lint(source, "DL104") == []


def test_every_kind_of_use():
    uses = [
        "h, w = img.shape[:2]",
        "img = img[:, :, ::-1]",
        "img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)",
        "x = img / 255.0",
        "img = img.astype(np.float32)",
        "batch.append(img)",
        "img += 10",
    ]
    for use in uses:
        source = f"import cv2\nimport numpy as np\nimg = cv2.imread(path)\n{use}\n"
        assert lines(source, "DL104") == [3], use


def test_direct_uses_and_import_styles():
    cases = [
        "import cv2\nh, w, _ = cv2.imread(path).shape\n",
        "import cv2\nrgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)\n",
        "from cv2 import imread\nimg = imread(path)[..., ::-1]\n",
        "import cv2 as cv\nimg = cv.imread(path, cv.IMREAD_GRAYSCALE)\nimg = cv.equalizeHist(img)\n",
        "import cv2\ndef load(p):\n    image = cv2.imread(p)\n    return image.transpose(2, 0, 1)\n",
    ]
    for source in cases:
        assert len(lint(source, "DL104")) == 1, source


def test_checks_that_count():
    checks = [
        "if img is None:\n    raise IOError(path)",
        "assert img is not None, path",
        "size = img.shape if img is not None else None",
        "if img is not None and img.size:\n    pass",
        "if None is img:\n    pass",
        "if not isinstance(img, np.ndarray):\n    raise IOError(path)",
        "check_image(img, path)",
        "validate(img)",
    ]
    for check in checks:
        source = f"import cv2\nimport numpy as np\nimg = cv2.imread(path)\n{check}\nh, w = img.shape[:2]\n"
        assert lint(source, "DL104") == [], check


def test_must_not_fire():
    sources = [
        # Returned: the caller checks.
        "import cv2\ndef load(path):\n    return cv2.imread(path)\n",
        # A walrus checked on the spot.
        "import cv2\nif (img := cv2.imread(path)) is None:\n    raise IOError(path)\nprint(img.shape)\n",
        # Rebound to something else before the use.
        "import cv2\nimg = cv2.imread(path)\nimg = load_fallback(path) if img is None else img\nprint(img.shape)\n",
        # Printing None is harmless.
        "import cv2\nimg = cv2.imread(path)\nprint(img)\n",
        # Other readers raise instead of returning None.
        "import imageio\nimg = imageio.imread(path)\nprint(img.shape)\n",
        "from PIL import Image\nimg = Image.open(path)\nprint(img.size)\n",
        "import matplotlib.pyplot as plt\nimg = plt.imread(path)\nprint(img.shape)\n",
        # A project's own imread.
        "def imread(p):\n    return load(p)\nimg = imread(path)\nprint(img.shape)\n",
        # A use in another function is about another variable.
        "import cv2\nimg = cv2.imread(path)\nif img is None:\n    raise IOError\ndef f(img):\n    return img.shape\n",
    ]
    for source in sources:
        assert lint(source, "DL104") == [], source


def test_each_read_is_reported_once():
    source = '''
        import cv2
        left = cv2.imread(left_path)
        right = cv2.imread(right_path)
        disparity = stereo.compute(left, right)
        print(left.shape, right.shape)
    '''
    assert lines(source, "DL104") == [3, 4]
