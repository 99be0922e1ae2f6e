"""DL104 unchecked-imread: the AlexNet input pipeline, realistic variations, and checks that count."""

import os

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


def test_a_read_in_each_branch_of_an_if_is_reported_where_it_reaches_a_use():
    # A dataset loader that reads from a RAM cache, a disk cache or the file: every
    # branch that reads the file leaves an unchecked image for the shared use below.
    source = '''
        import cv2
        import numpy as np

        def load(self, i):
            path, npy, img = self.samples[i]
            if self.cache_ram and img is None:
                img = self.samples[i][2] = cv2.imread(path)
            elif self.cache_disk:
                img = np.load(npy)
            else:
                img = cv2.imread(path)
            return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    '''
    assert lines(source, "DL104") == [8, 12]
    (first, second) = messages(source, "DL104")
    assert "`cv2.cvtColor` gets None in place of an image and raises a `cv2.error`" in first
    # A grey/colour switch: both reads reach the shape.
    switch = '''
        import cv2

        def read(path, gray):
            if gray:
                img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
            else:
                img = cv2.imread(path)
            return img.shape[:2]
    '''
    assert lines(switch, "DL104") == [6, 8]


def test_branches_that_check_or_leave_are_clean():
    sources = [
        # Each branch checks its own read.
        '''
        import cv2

        def read(path, gray):
            if gray:
                img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
                if img is None:
                    raise FileNotFoundError(path)
            else:
                img = cv2.imread(path)
                assert img is not None, path
            return img.shape[:2]
        ''',
        # The branch that reads returns the result to its caller; the other decodes.
        '''
        import cv2
        import numpy as np

        def read(path, data=None):
            if data is None:
                return cv2.imread(path)
            img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            return img
        ''',
        # A read that does not fall through (the branch skips the sample).
        '''
        import cv2

        def shapes(paths):
            found = []
            for p in paths:
                img = cv2.imread(p)
                if img is None:
                    continue
                found.append(img.shape)
            return found
        ''',
        # A second read only when the first failed, then checked.
        '''
        import cv2

        def read(path, fallback):
            img = cv2.imread(path)
            if img is None:
                img = cv2.imread(fallback)
                if img is None:
                    raise FileNotFoundError(path)
            return img.shape
        ''',
    ]
    for source in sources:
        assert lint(source, "DL104") == [], source


def test_a_check_in_one_branch_only_leaves_the_other_unchecked():
    source = '''
        import cv2

        def read(path, strict):
            img = cv2.imread(path)
            if strict:
                assert img is not None, path
            return img[:, :, ::-1]
    '''
    assert lines(source, "DL104") == [5]
    (message,) = messages(source, "DL104")
    assert "`TypeError: 'NoneType' object is not subscriptable`" in message


def _project(tmp_path, general: str, importer: str, importer_path: str = "utils/dataloaders.py"):
    """A project laid out like YOLOv5's: `utils/general.py` beside the importing module."""
    (tmp_path / "utils").mkdir(exist_ok=True)
    (tmp_path / "utils" / "__init__.py").write_text("")
    (tmp_path / "utils" / "general.py").write_text(general)
    path = tmp_path / importer_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(importer)
    return str(path)


_IMPORTER = '''
from utils.general import LOGGER, cv2


def cache_ratio(files, size):
    im = cv2.imread(files[0])
    return size / max(im.shape[0], im.shape[1])
'''


def test_opencv_reexported_by_a_project_module(tmp_path):
    general = "import logging\n\nimport cv2\nimport numpy as np\n\nLOGGER = logging.getLogger('x')\ncv2.setNumThreads(0)\n"
    path = _project(tmp_path, general, _IMPORTER)
    assert lint(_IMPORTER, "DL104", path=path) == [(6, 10, "DL104")]
    # From a module in a subpackage, and through a relative import.
    nested = _project(tmp_path, general, _IMPORTER, "utils/loggers/__init__.py")
    (tmp_path / "utils" / "loggers" / "__init__.py").write_text(_IMPORTER)
    assert lint(_IMPORTER, "DL104", path=nested) == [(6, 10, "DL104")]
    relative = _IMPORTER.replace("from utils.general import", "from .general import")
    assert lint(relative, "DL104", path=path) == [(6, 10, "DL104")]


def test_a_project_replacement_of_imread_that_decodes_keeps_the_none(tmp_path):
    general = '''
import cv2
import numpy as np

LOGGER = None


def imread(filename, flags=cv2.IMREAD_COLOR):
    return cv2.imdecode(np.fromfile(filename, np.uint8), flags)


def imwrite(filename, img):
    try:
        cv2.imencode(".png", img)[1].tofile(filename)
        return True
    except Exception:
        return False


cv2.imread, cv2.imwrite = imread, imwrite
'''
    path = _project(tmp_path, general, _IMPORTER)
    assert lint(_IMPORTER, "DL104", path=path) == [(6, 10, "DL104")]
    with open(path) as handle:
        source = handle.read()
    from lintutil import lint_checked

    (finding,) = lint_checked(source, frozenset({"DL104"}), path).findings
    assert "replaced in `utils.general` by a function that returns `cv2.imdecode(...)`" in finding.message
    assert "cannot be decoded" in finding.message and "a wrong path" not in finding.message


def test_names_from_a_project_module_that_are_not_opencv_are_not_reported(tmp_path):
    cases = {
        # The module binds `cv2` twice (OpenCV or None): not known to be OpenCV.
        "optional": "try:\n    import cv2\nexcept ImportError:\n    cv2 = None\nLOGGER = None\n",
        # A wrapper class of the project's own, named like the library.
        "wrapper": "class cv2:\n    @staticmethod\n    def imread(path):\n        return load(path)\nLOGGER = None\n",
        # OpenCV under another name.
        "renamed": "import cv2 as cv\nimport pathlib as cv2\nLOGGER = None\n",
        # imread replaced by something the module's text does not show.
        "unpacked": "import cv2\nLOGGER = None\ncv2.imread, cv2.imwrite = make_readers()\n",
        # imread replaced by a function that raises on failure.
        "raising": (
            "import cv2\nLOGGER = None\n\ndef imread(path):\n    img = cv2.imread(path)\n"
            "    if img is None:\n        raise FileNotFoundError(path)\n    return img\n\ncv2.imread = imread\n"
        ),
    }
    for label, general in cases.items():
        path = _project(tmp_path, general, _IMPORTER)
        assert lint(_IMPORTER, "DL104", path=path) == [], label
    # No module file beside the importer: nothing is assumed.
    assert lint(_IMPORTER, "DL104", path=str(tmp_path / "elsewhere" / "train.py")) == []


def test_the_cache_follows_an_edit_of_the_reexporting_module(tmp_path):
    """A finding that rests on `utils/general.py` is linted again once that file changes,
    not served from the cache: here the project stops re-exporting OpenCV."""
    from conftest import run_dldoctor

    general = tmp_path / "utils" / "general.py"
    _project(tmp_path, "import cv2\n", _IMPORTER)
    first = run_dldoctor("lint", "--select", "DL104", "--output-format", "json", ".", cwd=tmp_path)
    assert [(f["filename"].endswith("dataloaders.py"), f["code"]) for f in first.json()] == [(True, "DL104")]
    general.write_text("from PIL import Image as cv2  # no longer OpenCV\n")
    os.utime(general, ns=(general.stat().st_atime_ns, general.stat().st_mtime_ns + 10**9))
    again = run_dldoctor("lint", "--select", "DL104", "--output-format", "json", ".", cwd=tmp_path)
    assert again.json() == [], again.stdout
    general.write_text("import cv2\n")
    os.utime(general, ns=(general.stat().st_atime_ns, general.stat().st_mtime_ns + 2 * 10**9))
    assert len(run_dldoctor("lint", "--select", "DL104", "--output-format", "json", ".", cwd=tmp_path).json()) == 1
