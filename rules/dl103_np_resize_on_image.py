"""DL103 np-resize-on-image."""

from __future__ import annotations

import re

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, method_name
from dldoctor.lint.textscan import uses_any

NP_RESIZE = "numpy.resize"
# Readers that give an image as a NumPy array, and the ones that give a PIL image
# (whose own `.resize` interpolates and is fine; `np.resize` of it is not).
ARRAY_READERS = {
    "cv2.imread": "cv2.imread",
    "cv2.imdecode": "cv2.imdecode",
    "imageio.imread": "imageio.imread",
    "imageio.v2.imread": "imageio.imread",
    "imageio.v3.imread": "imageio.imread",
    "skimage.io.imread": "skimage.io.imread",
    "matplotlib.pyplot.imread": "plt.imread",
    "matplotlib.image.imread": "matplotlib.image.imread",
    "scipy.misc.imread": "scipy.misc.imread",
    "scipy.ndimage.imread": "scipy.ndimage.imread",
}
_RESIZE_OR_READERS = frozenset({NP_RESIZE, *ARRAY_READERS})
PIL_READERS = {"PIL.Image.open": "Image.open", "PIL.Image.fromarray": "Image.fromarray"}
# Calls that keep an image an image: array conversions and OpenCV's per-pixel operations.
_ARRAY_CONVERSIONS = {"numpy.array", "numpy.asarray", "numpy.float32", "numpy.uint8", "numpy.ascontiguousarray"}
_KEEPS_ARRAY_METHODS = {"astype", "copy", "transpose", "squeeze", "clip"}
_KEEPS_PIL_METHODS = {"convert", "copy", "rotate", "transpose", "crop"}
_CHANNELS = {"1", "3", "4"}
_IMAGE_WORDS = frozenset("image images img imgs photo picture pic frame rgb bgr".split())
_SPATIAL_WORDS = frozenset("h w height width size side rows cols resolution res img image crop input".split())
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


class NpResizeOnImage(Rule):
    """
    ## What it does
    Finds `np.resize(a, shape)` (any import of `numpy.resize`) applied to an image,
    and `img.resize(shape)` called on a NumPy array read from an image file. An
    image is: what `cv2.imread`, `imageio.imread`, `skimage.io.imread`,
    `plt.imread` or `Image.open` returned (directly, or through a local name,
    `np.array(...)`, `cv2.cvtColor(...)`, `.astype(...)`, slicing or arithmetic);
    a name that says so (`img`, `image`, `frame`) when the target shape has 2 or 3
    dimensions; or any array resized to a shape of 3 dimensions ending in 1, 3 or
    4 channels whose first two read as height and width, such as `(224, 224, 3)`
    or `(img_size, img_size, 3)` (not `(batch, n_points, 3)`).

    ## Why is this bad
    `np.resize` does not scale an image. It flattens the data and repeats it (or
    cuts it off) until the new shape is full, so a 480×640 photo "resized" to
    224×224×3 is the first 150,528 values of the photo's rows laid out again: a
    few stripes of the top of the picture, no error, no warning. `ndarray.resize`
    pads with zeros instead. A model trained on that learns from noise; the
    casebook's note is "do not mix `cv2.resize` and `np.resize`: an image read with
    `cv2.imread` must go through cv2 operations".

    ## Example
    ```python
    img = cv2.imread(path)
    img = np.resize(img, (224, 224, 3))
    ```

    ## Use instead
    ```python
    img = cv2.imread(path)
    img = cv2.resize(img, (224, 224))  # (width, height); interpolates
    ```
    or `PIL.Image.resize((w, h))`, `tf.image.resize(img, (h, w))`,
    `torch.nn.functional.interpolate`. When the sizes already match and only the
    layout changes, `img.reshape(...)` says so. A PIL image's own `.resize`
    interpolates and is not reported.

    ## Fix safety
    No automatic fix: `cv2.resize` takes `(width, height)` and no channel count, and
    which interpolation is right depends on the data.
    """

    code = "DL103"
    name = "np-resize-on-image"
    severity = Severity.WARNING
    summary = "np.resize on an image repeats or truncates its pixels instead of interpolating"
    triggers = ("resize",)
    also_triggers = ("numpy", "np.", "imread")

    @classmethod
    def could_fire(cls, text: str, lowered: str) -> bool:
        """`np.resize` as the imports reach it, or a reader whose arrays `.resize` would hit."""
        return super().could_fire(text, lowered) and uses_any(text, _RESIZE_OR_READERS)

    VALID = (
        "import cv2\nimg = cv2.imread(path)\nimg = cv2.resize(img, (224, 224))\n",
        "from PIL import Image\nimg = Image.open(path).convert('RGB')\nimg = img.resize((224, 224), Image.BILINEAR)\n",
        "import numpy as np\nweights = np.resize(weights, (n_classes,))\n",
        "import numpy as np\nmask = np.resize(pattern, (batch_size, seq_len))\n",
        "import numpy as np\nbuf = np.zeros(10)\nbuf.resize(20, refcheck=False)\n",
    )
    INVALID = (
        "import cv2\nimport numpy as np\nimg = cv2.imread(path)\nif img is None:\n    raise FileNotFoundError(path)\n"
        "img = np.resize(img, (224, 224, 3))\n",
        "import numpy as np\nx = np.resize(batch[i], (227, 227, 3))\n",
        "import numpy as np\nfrom PIL import Image\nimg = np.array(Image.open(path))\nimg = np.resize(img, (64, 64))\n",
        "import imageio\nframe = imageio.imread(path)\nframe.resize((128, 128, 3))\n",
        "from numpy import resize\ndef prep(image):\n    return resize(image, (28, 28))\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._scopes: list[dict[str, str]] = [{}]  # name -> "array:<reader>" or "pil:<reader>", per function

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes.append({})

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def leave_Assign(self, original_node: cst.Assign) -> None:
        kind = self._image_kind(original_node.value)
        for target in original_node.targets:
            if type(target.target) is cst.Name:
                if kind is None:
                    self._scopes[-1].pop(target.target.value, None)
                else:
                    self._scopes[-1][target.target.value] = kind

    def visit_Call(self, node: cst.Call) -> None:
        if self.names.qualify(node.func) == NP_RESIZE:
            image = call_argument(node, 0, "a")
            shape = call_argument(node, 1, "new_shape")
            if image is not None and shape is not None:
                evidence = self._evidence(image, shape)
                if evidence is not None:
                    self._report(node, evidence)
        elif method_name(node) == "resize" and type(node.func) is cst.Attribute:
            kind = self._image_kind(node.func.value)
            if kind is not None and kind.startswith("array:"):
                self._report(node, f"the array comes from `{kind[6:]}`", method=True)

    def _evidence(self, image: cst.BaseExpression, shape: cst.BaseExpression) -> str | None:
        kind = self._image_kind(image)
        if kind is not None:
            return f"`{code_of(image)}` is an image read by `{kind.split(':', 1)[1]}`"
        dims = _literal_shape(shape)
        if dims is not None and len(dims) == 3 and dims[-1] in _CHANNELS and all(_spatial(d) for d in shape.elements[:2]):
            return f"the target shape `{code_of(shape)}` is an image's (height, width, channels)"
        if dims is not None and len(dims) in (2, 3) and _names_an_image(image):
            return f"`{code_of(image)}` is an image"
        return None

    def _image_kind(self, expr: cst.BaseExpression) -> str | None:
        """`array:<reader>` / `pil:<reader>` when `expr` is an image read from a file."""
        if type(expr) is cst.Name:
            return self._scopes[-1].get(expr.value)
        if type(expr) is cst.Call:
            qualified = self.names.qualify(expr.func)
            if qualified in ARRAY_READERS:
                return "array:" + ARRAY_READERS[qualified]
            if qualified in PIL_READERS:
                return "pil:" + PIL_READERS[qualified]
            if (qualified in _ARRAY_CONVERSIONS or (qualified or "").startswith("cv2.")) and expr.args:
                inner = self._image_kind(expr.args[0].value)
                return "array:" + inner.split(":", 1)[1] if inner else None
            method = method_name(expr)
            if method is not None and type(expr.func) is cst.Attribute:
                inner = self._image_kind(expr.func.value)
                if inner is None:
                    return None
                if inner.startswith("array:") and method in _KEEPS_ARRAY_METHODS:
                    return inner
                if inner.startswith("pil:") and method in _KEEPS_PIL_METHODS:
                    return inner
            return None
        if type(expr) is cst.Subscript:
            inner = self._image_kind(expr.value)
            return inner if inner and inner.startswith("array:") else None
        if type(expr) is cst.BinaryOperation:
            for side in (expr.left, expr.right):
                inner = self._image_kind(side)
                if inner and inner.startswith("array:"):
                    return inner
        return None

    def _report(self, node: cst.Call, evidence: str, method: bool = False) -> None:
        what = "`ndarray.resize` pads with zeros or truncates" if method else "`np.resize` repeats or truncates"
        self.report(
            node,
            f"`{code_of(node)}` on an image: {evidence}; {what} the pixel data to fill the new shape, it "
            "does not interpolate, so the image silently becomes tiled or cut-off stripes; use "
            "`cv2.resize(img, (width, height))`, `PIL.Image.resize` or `tf.image.resize`",
        )


def _spatial(element: cst.BaseElement) -> bool:
    """Whether a dimension reads as an image's height or width: `224`, `img_size`, `h`, `args.width`."""
    value = element.value
    if type(value) is cst.Integer:
        try:
            return int(value.value, 0) >= 8
        except ValueError:
            return False
    identifier = value.attr.value if type(value) is cst.Attribute else value.value if type(value) is cst.Name else ""
    words = {w.lower() for w in _WORD.findall(identifier)}
    return bool(words & _SPATIAL_WORDS)


def _literal_shape(shape: cst.BaseExpression) -> list[str] | None:
    """The dimensions of a tuple or list display, as source text (`['224', '224', '3']`)."""
    if type(shape) not in (cst.Tuple, cst.List):
        return None
    dims = []
    for element in shape.elements:
        if type(element) is cst.StarredElement:
            return None
        value = element.value
        dims.append(value.value if type(value) is cst.Integer else "?")
    return dims


def _names_an_image(expr: cst.BaseExpression) -> bool:
    while type(expr) in (cst.Subscript, cst.Attribute):
        if type(expr) is cst.Attribute:
            words = {w.lower() for w in _WORD.findall(expr.attr.value)}
            if words & _IMAGE_WORDS:
                return True
        expr = expr.value
    if type(expr) is cst.Name:
        return bool({w.lower() for w in _WORD.findall(expr.value)} & _IMAGE_WORDS)
    return False
