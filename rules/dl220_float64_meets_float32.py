"""DL220 float64-meets-float32."""

from __future__ import annotations

import libcst as cst

from dldoctor.lint.bindings import Bindings
from dldoctor.lint.finding import Severity
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, unplaceable
from dldoctor.rules.dl218_wrong_call_signature import GraphValues

# Ops whose two tensor inputs must have one dtype: (position, keyword) of each, and the
# names TensorFlow's error gives them.
_BINARY_OPS = {
    "matmul": ((0, "a"), (1, "b"), "MatMul", "a", "b"),
    "linalg.matmul": ((0, "a"), (1, "b"), "MatMul", "a", "b"),
    "nn.conv2d": ((0, "input"), (1, "filter"), "Conv2D", "input", "filter"),
    "nn.conv1d": ((0, "value"), (1, "filters"), "Conv2D", "input", "filter"),
    "nn.conv3d": ((0, "input"), (1, "filter"), "Conv3D", "input", "filter"),
    "nn.depthwise_conv2d": ((0, "input"), (1, "filter"), "DepthwiseConv2dNative", "input", "filter"),
    "nn.conv2d_transpose": ((0, "value"), (1, "filter"), "Conv2DBackpropInput", "input", "filter"),
    "nn.xw_plus_b": ((0, "x"), (1, "weights"), "MatMul", "a", "b"),
}
_FLOATS = frozenset({"float16", "bfloat16", "float32", "float64"})


class Float64MeetsFloat32(GraphValues, Rule):
    """
    ## What it does
    Finds `tf.matmul`, `tf.nn.conv2d` (and `conv1d`, `conv3d`, `depthwise_conv2d`,
    `conv2d_transpose`, `xw_plus_b`) applied to a placeholder and a variable whose
    dtypes are both written in the file and differ: a `tf.placeholder(tf.float64, ...)`
    multiplied by weights made by `tf.Variable(tf.random_normal(...))`,
    `tf.get_variable(...)` or with `dtype=tf.float32`. A dtype the file does not spell
    out (a variable made from a NumPy array, a `tf.cast`) is not guessed.

    ## Why is this bad
    TensorFlow never converts between float dtypes on its own; the graph is refused when
    the op is built:

        TypeError: Input 'b' of 'MatMul' Op has type float32 that does not match type float64 of argument 'a'.
        TypeError: Input 'filter' of 'Conv2D' Op has type float32 that does not match type float64 of argument 'input'.

    (TensorFlow 2.21's `tf.compat.v1` in graph mode, checked.) It usually comes from
    declaring the placeholder as `tf.float64` because the NumPy data is float64, while the
    weights take TensorFlow's default float32.

    ## Example
    ```python
    x = tf.placeholder(tf.float64, [None, 784])
    W = tf.Variable(tf.random_normal([784, 10]))
    logits = tf.matmul(x, W)
    ```

    ## Use instead
    ```python
    x = tf.placeholder(tf.float32, [None, 784])
    W = tf.Variable(tf.random_normal([784, 10]))
    logits = tf.matmul(x, W)
    ...
    sess.run(train_op, feed_dict={x: images.astype(np.float32)})
    ```
    (feeding float64 arrays into a float32 placeholder converts them; the op cannot).

    ## Fix safety
    No automatic fix: which dtype the model should use is the author's choice.
    """

    code = "DL220"
    name = "float64-meets-float32"
    severity = Severity.ERROR
    summary = "tf.matmul/conv2d of a placeholder and a variable of different literal float dtypes: TypeError: Input 'b' of 'MatMul' Op has type float32 that does not match type float64"
    triggers = ("placeholder",)
    also_triggers = ("matmul", "conv", "xw_plus_b")

    VALID = (
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float32, [None, 3])\n"
        "W = tf.Variable(tf.random_normal([3, 2]))\ny = tf.matmul(x, W)\n",
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float64, [None, 3])\n"
        "W = tf.Variable(tf.random_normal([3, 2], dtype=tf.float64))\ny = tf.matmul(x, W)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float64, [None, 3])\n"
        "W = tf.Variable(tf.random_normal([3, 2]))\ny = tf.matmul(x, W)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.bindings = Bindings()

    def visit_Call(self, node: cst.Call) -> None:
        symbol = self.tf_call(node)
        if symbol not in _BINARY_OPS or unplaceable(node):
            return
        first, second, op, first_name, second_name = _BINARY_OPS[symbol]
        left, right = call_argument(node, *first), call_argument(node, *second)
        values = self.value_of(left), self.value_of(right)
        if any(value is None or value.dtype not in _FLOATS for value in values):
            return
        if {value.kind for value in values} != {"placeholder", "variable"} or values[0].dtype == values[1].dtype:
            return
        placeholder = left if values[0].kind == "placeholder" else right
        wide, narrow = (values[0].dtype, values[1].dtype)
        self.report(
            node,
            f"`tf.{symbol}({code_of(left, 20)}, {code_of(right, 20)})` combines {values[0].dtype} "
            f"(`{code_of(left, 20)}`, a {values[0].kind}) with {values[1].dtype} (`{code_of(right, 20)}`, a "
            f"{values[1].kind}), and TensorFlow does not convert float dtypes: `TypeError: Input '{second_name}' of "
            f"'{op}' Op has type {narrow} that does not match type {wide} of argument '{first_name}'.`; declare "
            f"`{code_of(placeholder, 20)}` with the weights' dtype (and feed arrays cast to it), or make the "
            "variable with `dtype=`",
        )
