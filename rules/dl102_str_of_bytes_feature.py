"""DL102 str-of-bytes-feature."""

from __future__ import annotations

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import tf_symbol
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import call_argument, code_of, string_value

_BYTES_LISTS = {"train.BytesList"}
# Arguments that can be evaluated twice without a side effect.
_PLAIN = (cst.Name, cst.Attribute, cst.Subscript)


class StrOfBytesFeature(Rule):
    """
    ## What it does
    Finds text (`str(...)`, an f-string, `"..." % x` or `"...".format(x)`) given as an
    element of `tf.train.BytesList(value=[...])`, in a list display or a comprehension.

    ## Why is this bad
    A `BytesList` holds `bytes`. On Python 3 protobuf refuses a `str`:

        TypeError: 'cat.jpg' has type str, but expected one of: bytes

    and `str()` of something that already is bytes does not convert it, it
    describes it: `str(b"abc")` is the text `"b'abc'"`, so a record written that way
    holds the characters `b'...'` instead of the data, and every reader decodes
    garbage. This is the im2txt TFRecord builder's `_bytes_feature` ported to
    Python 3 by wrapping the value in `str()`.

    ## Example
    ```python
    def _bytes_feature(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(value)]))
    ```

    ## Use instead
    ```python
    def _bytes_feature(value):
        if isinstance(value, str):
            value = value.encode("utf-8")
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
    ```

    ## Fix safety
    Safe: `--fix` writes `value if isinstance(value, bytes) else str(value).encode("utf-8")`
    for `str(value)` (when `value` is a name, attribute or subscript, which can be
    evaluated twice), and `(...).encode("utf-8")` for an f-string, `%` or `.format`. Bytes
    stay as they are and text is encoded, which is what the original code meant.
    """

    code = "DL102"
    name = "str-of-bytes-feature"
    severity = Severity.ERROR
    summary = "text (str(), f-string, % or .format) stored in a tf.train.BytesList, which holds bytes"
    triggers = ("BytesList",)

    VALID = (
        "import tensorflow as tf\ntf.train.BytesList(value=[value])\n",
        "import tensorflow as tf\ntf.train.BytesList(value=[str(value).encode('utf-8')])\n",
        "import tensorflow as tf\ntf.train.BytesList(value=[c.encode() for c in captions])\n",
        "import tensorflow as tf\ntf.train.Int64List(value=[int(str(v))])\n",
        "import tensorflow as tf\ntf.train.BytesList(value=[v if isinstance(v, bytes) else v.encode()])\n",
    )
    INVALID = (
        "import tensorflow as tf\ntf.train.Feature(bytes_list=tf.train.BytesList(value=[str(value)]))\n",
        "import tensorflow as tf\ntf.train.BytesList(value=[str(w) for w in words])\n",
        'import tensorflow.compat.v1 as tf\ntf.train.BytesList(value=[f"{image_id}"])\n',
        'from tensorflow.train import BytesList\nBytesList(value=["%d" % label])\n',
        'import tensorflow as tf\ntf.train.BytesList(value=["{}.jpg".format(name)])\n',
    )

    def visit_Call(self, node: cst.Call) -> None:
        if tf_symbol(self.names.qualify(node.func)) not in _BYTES_LISTS:
            return
        for element in _elements(call_argument(node, 0, "value")):
            kind = self._text_kind(element)
            if kind is not None:
                self.report(
                    element,
                    f"`{code_of(element)}` is {kind}, stored in a `tf.train.BytesList`, which holds bytes: "
                    "Python 3 protobuf raises `TypeError: ... has type str, but expected one of: bytes`, "
                    "and `str()` of bytes stores the text \"b'...'\"; use "
                    "`v if isinstance(v, bytes) else str(v).encode('utf-8')`",
                    self._fix(element),
                )

    def _fix(self, element: cst.BaseExpression) -> Fix | None:
        """Bytes in place of the text: encode formatted text, keep bytes that are bytes."""
        code = self.context.module.code_for_node(element)
        if type(element) is cst.Call and self.names.qualify(element.func) == "builtins.str":
            args = element.args
            if len(args) != 1 or args[0].keyword or args[0].star or not isinstance(args[0].value, _PLAIN):
                return None  # evaluating the argument twice could repeat a side effect
            value = self.context.module.code_for_node(args[0].value)
            text = f'{value} if isinstance({value}, bytes) else str({value}).encode("utf-8")'
        elif type(element) is cst.BinaryOperation:
            text = f'({code}).encode("utf-8")'
        else:
            text = f'{code}.encode("utf-8")'
        return Fix("encode the text to bytes", Applicability.SAFE, ((element, cst.parse_expression(text)),))

    def _text_kind(self, expr: cst.BaseExpression) -> str | None:
        if type(expr) is cst.Call:
            if self.names.qualify(expr.func) == "builtins.str":
                return "a str"
            func = expr.func
            if type(func) is cst.Attribute and func.attr.value == "format" and string_value(func.value) is not None:
                return "a formatted str"
        if type(expr) is cst.FormattedString:
            return "an f-string (a str)"
        if (
            type(expr) is cst.BinaryOperation
            and type(expr.operator) is cst.Modulo
            and string_value(expr.left) is not None
        ):
            return "a %-formatted str"
        return None


def _elements(value: cst.BaseExpression | None) -> list[cst.BaseExpression]:
    """The element expressions of `[a, b]`, `(a, b)` and `[expr for ...]`."""
    if type(value) in (cst.List, cst.Tuple):
        return [element.value for element in value.elements if type(element) is not cst.StarredElement]
    if type(value) in (cst.ListComp, cst.GeneratorExp):
        return [value.elt]
    return []
