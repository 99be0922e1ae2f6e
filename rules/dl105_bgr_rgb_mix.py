"""DL105 bgr-rgb-mix."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from dldoctor.lint.bindings import Bindings, BlockHooks
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, keyword_argument

_BGR, _RGB = "BGR", "RGB"
# OpenCV reads colour images as BGR.
_CV2_READS = {"cv2.imread", "cv2.imdecode"}
_CV2_COLOR_FLAGS = {"cv2.IMREAD_COLOR", "cv2.IMREAD_ANYCOLOR"}
# These read RGB (arrays of PIL images, imageio, scikit-image, matplotlib).
_RGB_READS = {"imageio.imread", "imageio.v2.imread", "imageio.v3.imread", "skimage.io.imread", "matplotlib.pyplot.imread",
              "scipy.misc.imread"}
_PIL_OPEN = {"PIL.Image.open"}
_TO_ARRAY = {"numpy.array", "numpy.asarray", "numpy.ascontiguousarray", "numpy.float32", "numpy.uint8"}
# Consumers that take RGB, and OpenCV's, which take BGR: name -> (order expected, position of the image).
_CONSUMERS = {
    "PIL.Image.fromarray": (_RGB, 0), "matplotlib.pyplot.imshow": (_RGB, 0), "imageio.imwrite": (_RGB, 1),
    "imageio.imsave": (_RGB, 1), "imageio.v2.imwrite": (_RGB, 1), "skimage.io.imsave": (_RGB, 1),
    "scipy.misc.imsave": (_RGB, 1), "matplotlib.pyplot.imsave": (_RGB, 1),
    "torchvision.transforms.functional.to_pil_image": (_RGB, 0),
    "cv2.imwrite": (_BGR, 1), "cv2.imshow": (_BGR, 1), "cv2.imencode": (_BGR, 1),
}
# OpenCV and NumPy calls whose result keeps the channel order of their first argument.
_KEEPS_ORDER = {"cv2.resize", "cv2.GaussianBlur", "cv2.blur", "cv2.medianBlur", "cv2.flip", "cv2.warpAffine",
                "cv2.warpPerspective", "cv2.copyMakeBorder", "cv2.rectangle", "cv2.putText", "cv2.circle",
                "numpy.array", "numpy.asarray", "numpy.ascontiguousarray", "numpy.copy", "numpy.float32", "numpy.uint8",
                "numpy.clip", "numpy.pad"}
_KEEPS_ORDER_METHODS = {"astype", "copy", "clip"}
_SWAPS = {"COLOR_BGR2RGB", "COLOR_RGB2BGR", "COLOR_BGRA2RGBA", "COLOR_RGBA2BGRA", "COLOR_BGR2RGBA", "COLOR_RGB2BGRA"}


@dataclass(frozen=True)
class _Image:
    order: str  # "BGR" or "RGB"
    origin: str  # for the message
    line_source: cst.CSTNode


class BgrRgbMix(BlockHooks, Rule):
    """
    ## What it does
    Finds an OpenCV image, whose channels are in BGR order, handed to code that takes
    RGB, with no conversion between: the result of `cv2.imread` (in colour) or
    `cv2.imdecode`, or a frame of `cv2.VideoCapture(...).read()`, passed to
    `Image.fromarray`, `plt.imshow`, `imageio.imwrite`, `skimage.io.imsave` or
    torchvision's `to_pil_image`. And the reverse: an RGB array (`np.array(Image.open(p))`,
    `imageio.imread`, `plt.imread`) passed to `cv2.imwrite`, `cv2.imshow` or `cv2.imencode`.

    The image is followed through local names (where the assignment surely ran),
    crops (`img[y0:y1, x0:x1]`) and calls that keep the channel order (`cv2.resize`,
    `cv2.flip`, `.astype(...)`, `np.asarray`). A conversion ends it:
    `cv2.cvtColor(img, cv2.COLOR_BGR2RGB)` (any `cvtColor`), `img[..., ::-1]`,
    `img[:, :, (2, 1, 0)]`, `np.flip(img, 2)`. A grayscale read
    (`cv2.imread(path, 0)`, `cv2.IMREAD_GRAYSCALE`) is not an RGB/BGR image.

    ## Why is this bad
    Nothing fails: red and blue are swapped. Saved or displayed images look wrong
    (faces turn blue), and a model trained on RGB (any ImageNet-pretrained
    torchvision or Keras model, or one trained on PIL-loaded data) given BGR input
    loses accuracy quietly.

    ## Example
    ```python
    img = cv2.imread(path)
    Image.fromarray(img).save(out_path)
    ```

    ## Use instead
    ```python
    img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
    Image.fromarray(img).save(out_path)
    ```

    ## Fix safety
    No automatic fix: where the conversion belongs (once after reading, or before each
    consumer) depends on what else uses the image.
    """

    code = "DL105"
    name = "bgr-rgb-mix"
    severity = Severity.WARNING
    summary = "OpenCV BGR image handed to an RGB consumer (PIL, matplotlib, imageio), or RGB to cv2.imwrite/imshow"
    triggers = ("cv2",)
    also_triggers = ("imread", "imdecode", "videocapture", "image.open", "imwrite", "imshow", "fromarray", "imsave")

    VALID = (
        "import cv2\nfrom PIL import Image\nimg = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)\nImage.fromarray(img).save(out)\n",
        "import cv2\nimport matplotlib.pyplot as plt\nim = cv2.imread(path)\nplt.imshow(im[:, :, ::-1])\n",
        "import cv2\nfrom PIL import Image\ngray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)\nImage.fromarray(gray).save(out)\n",
        "import cv2\nimg = cv2.imread(path)\ncv2.imwrite(out, cv2.resize(img, (224, 224)))\n",
    )
    INVALID = (
        "import cv2\nfrom PIL import Image\nimg = cv2.imread(path)\nif img is None:\n    raise IOError(path)\n"
        "Image.fromarray(img).save(out)\n",
        "import cv2\nimport numpy as np\nfrom PIL import Image\nimg = np.array(Image.open(path).convert('RGB'))\n"
        "cv2.imwrite('out.jpg', img)\n",
        "import cv2\nimport matplotlib.pyplot as plt\ncap = cv2.VideoCapture(0)\nok, frame = cap.read()\nplt.imshow(frame)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.bindings = Bindings()
        self._captures: set[str] = set()  # names bound to `cv2.VideoCapture(...)`

    # -- scopes and bindings -----------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.bindings.bind(node.name.value, None)
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)]
        self.bindings.enter_function(params)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.bindings.leave_function()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.bindings.enter_function([p.name.value for p in node.params.params])

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.bindings.leave_function()

    def leave_Assign(self, original_node: cst.Assign) -> None:
        value = original_node.value
        for target in original_node.targets:
            self._bind(target.target, value)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        if type(original_node.target) is cst.Name:
            self.bindings.bind(original_node.target.value, None)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, None)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if type(target) is cst.Name:
            if type(value) is cst.Call and self.names.qualify(value.func) == "cv2.VideoCapture":
                self._captures.add(target.value)
            self.bindings.bind(target.value, self._image(value) if value is not None else None)
        elif type(target) in (cst.Tuple, cst.List):
            frame = self._frame(value) if value is not None else None
            for index, element in enumerate(target.elements):
                if type(element.value) is cst.Name:
                    self.bindings.bind(element.value.value, frame if index == 1 and len(target.elements) == 2 else None)

    def _frame(self, value: cst.BaseExpression) -> _Image | None:
        """The frame of `ok, frame = cap.read()`."""
        if (type(value) is cst.Call and type(value.func) is cst.Attribute and value.func.attr.value == "read"
                and type(value.func.value) is cst.Name and value.func.value.value in self._captures):
            return _Image(_BGR, f"a frame of `{code_of(value, 30)}`", value)
        return None

    # -- values ------------------------------------------------------------------------------
    def _image(self, expr: cst.BaseExpression | None) -> _Image | None:
        if expr is None:
            return None
        if type(expr) is cst.Name:
            meaning = self.bindings.lookup(expr.value)
            return meaning if isinstance(meaning, _Image) else None
        if type(expr) is cst.Subscript:
            if _swaps_channels(expr):
                return None
            if type(expr.value) is cst.Call:
                frame = self._frame(expr.value)
                if frame is not None and _index(expr) == 1:
                    return frame
            return self._image(expr.value) if _is_crop(expr) else None
        if type(expr) is not cst.Call:
            return None
        qualified = self.names.qualify(expr.func)
        if qualified in _CV2_READS:
            flags = call_argument(expr, 1, "flags")
            if flags is None or self.names.qualify(flags) in _CV2_COLOR_FLAGS or _is_integer(flags, 1):
                return _Image(_BGR, f"`{code_of(expr, 40)}`", expr)
            return None
        if qualified in _RGB_READS:
            return _Image(_RGB, f"`{code_of(expr, 40)}`", expr)
        if qualified in _TO_ARRAY and expr.args and self._pil_rgb(expr.args[0].value):
            return _Image(_RGB, f"`{code_of(expr, 50)}`", expr)
        if qualified in _KEEPS_ORDER and expr.args:
            return self._image(expr.args[0].value)
        if type(expr.func) is cst.Attribute and expr.func.attr.value in _KEEPS_ORDER_METHODS and qualified is None:
            return self._image(expr.func.value)
        return None

    def _pil_rgb(self, expr: cst.BaseExpression) -> bool:
        """`Image.open(p)`, `Image.open(p).convert("RGB")`: a colour PIL image (RGB)."""
        if type(expr) is cst.Call and type(expr.func) is cst.Attribute and expr.func.attr.value == "convert":
            mode = call_argument(expr, 0, "mode")
            return type(mode) is cst.SimpleString and mode.evaluated_value in ("RGB", "RGBA") and self._pil_open(expr.func.value)
        return False

    def _pil_open(self, expr: cst.BaseExpression) -> bool:
        return type(expr) is cst.Call and self.names.qualify(expr.func) in _PIL_OPEN

    # -- consumers ---------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.names.qualify(node.func)
        if qualified is None and type(node.func) is cst.Attribute and node.func.attr.value == "imshow":
            receiver = dotted_name(node.func.value) or ""
            if receiver.rpartition(".")[2] in ("ax", "axes", "axis", "subplot") or receiver.startswith("ax"):
                qualified = "matplotlib.pyplot.imshow"  # `ax.imshow(img)` on a matplotlib Axes
        if qualified not in _CONSUMERS:
            return
        expected, position = _CONSUMERS[qualified]
        keyword = {0: "obj", 1: "im"}.get(position)
        argument = call_argument(node, position, None) or (keyword_argument(node, keyword) if keyword else None)
        if argument is None:
            return
        image = self._image(argument)
        if image is None or image.order == expected:
            return
        consumer = code_of(node.func, 30)
        if image.order == _BGR:
            convert = "`cv2.cvtColor(img, cv2.COLOR_BGR2RGB)` (or `img[..., ::-1]`)"
        else:
            convert = "`cv2.cvtColor(img, cv2.COLOR_RGB2BGR)` (or `img[..., ::-1]`)"
        self.report(
            node,
            f"`{consumer}` takes {expected} images, but `{code_of(argument, 40)}` is {image.order}, from "
            f"{image.origin}: red and blue come out swapped, with no error; convert it first with {convert}",
        )


def _is_integer(expr: cst.BaseExpression, value: int) -> bool:
    return type(expr) is cst.Integer and expr.evaluated_value == value


def _index(subscript: cst.Subscript) -> int | None:
    if len(subscript.slice) == 1 and type(subscript.slice[0].slice) is cst.Index:
        value = subscript.slice[0].slice.value
        if type(value) is cst.Integer:
            return value.evaluated_value
    return None


def _is_crop(subscript: cst.Subscript) -> bool:
    """`img[y0:y1, x0:x1]`, `img[10:]`: slices of rows and columns, the channels untouched."""
    elements = subscript.slice
    return 1 <= len(elements) <= 2 and all(type(element.slice) is cst.Slice and element.slice.step is None
                                           for element in elements)


def _swaps_channels(subscript: cst.Subscript) -> bool:
    """`img[..., ::-1]`, `img[:, :, ::-1]`, `img[:, :, (2, 1, 0)]`, `img[:, :, [2, 1, 0]]`."""
    if not subscript.slice:
        return False
    last = subscript.slice[-1].slice
    if type(last) is cst.Slice and last.step is not None:
        return True
    if type(last) is cst.Index and type(last.value) in (cst.Tuple, cst.List):
        return True
    return False
