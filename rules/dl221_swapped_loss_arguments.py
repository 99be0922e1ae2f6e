"""DL221 swapped-loss-arguments."""

from __future__ import annotations

import libcst as cst

from dldoctor.lint.bindings import Bindings
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import code_of, unplaceable
from dldoctor.rules.dl218_wrong_call_signature import TENSORFLOW, GraphValues, target_phrase, tensorflow_release

# `tf.losses` functions: their labels parameter comes first, the logits second (in every
# release since `tf.losses` appeared in TensorFlow 1.0; `tf.contrib.losses` had them the
# other way round, which is where the swapped calls come from).
_LABELS_FIRST = {
    "losses.softmax_cross_entropy": "onehot_labels",
    "losses.sparse_softmax_cross_entropy": "labels",
    "losses.sigmoid_cross_entropy": "multi_class_labels",
    "losses.hinge_loss": "labels",
}
# Sampled losses: `(weights, biases, labels, inputs, ...)` since TensorFlow 1.0,
# `(weights, biases, inputs, labels, ...)` before.
_SAMPLED = frozenset({"nn.sampled_softmax_loss", "nn.nce_loss"})
_INTEGER = frozenset({"int32", "int64", "int16", "int8", "uint8"})
# What a model's output is made by when it is probabilities: passed first, with the fed
# labels second, it is in the logits' place just as much as the logits are.
_PROBABILITIES = frozenset({"nn.softmax", "nn.sigmoid", "sigmoid", "math.sigmoid", "layers.dense"})


def _says(expr: cst.BaseExpression, word: str, other: str) -> bool:
    """Whether the name `expr` is (`logits`, `self.one_hot_labels`) names `word` and not `other`.

    An argument called after the parameter of the other slot is what code moved from the
    old order looks like (`softmax_cross_entropy(logits, one_hot_labels)`): the names are
    the author's own statement of which is which.
    """
    name = dotted_name(expr)
    if name is None:
        return False
    last = name.rsplit(".", 1)[-1].lower()
    return word in last and other not in last


class SwappedLossArguments(GraphValues, Rule):
    """
    ## What it does
    Finds TensorFlow loss calls whose positional arguments are in the order of an older
    API, where the values show it:

    - `tf.losses.softmax_cross_entropy(logits, onehot_labels)`,
      `sparse_softmax_cross_entropy(logits, labels)`, `sigmoid_cross_entropy(logits,
      labels)`, `hinge_loss(logits, labels)` (also through `tf.compat.v1.losses`): the
      labels come first, and the first argument here is known to be the logits (the
      output of `tf.matmul`, `tf.layers.dense` without activation, `xw_plus_b`, `matmul(...)
      + b`), or a softmax/sigmoid of the model with a placeholder or one-hot (the fed
      labels) second, or the arguments are named after each other's parameters
      (`softmax_cross_entropy(logits, one_hot_labels)`, where the model comes from
      another module);
    - `tf.nn.sampled_softmax_loss(weights, biases, inputs, labels, ...)` and
      `tf.nn.nce_loss(...)` in the same TensorFlow 0.x order, on a target TensorFlow 1.0 or
      later: the third argument is known to be the logits-like input (a linear layer's
      output or a float placeholder) or the fourth an integer placeholder (the class ids),
      or they are named `inputs` and `labels` (a `sampled_loss(inputs, labels)` callback
      handing its parameters on in the 0.x places).

    Not reported: keyword arguments, `tf.contrib.losses` (whose order was logits first),
    arguments whose values the module does not show, and the sampled losses on a target
    TensorFlow 0.x.

    ## Why is this bad
    `tf.contrib.losses.softmax_cross_entropy(logits, onehot_labels)` became
    `tf.losses.softmax_cross_entropy(onehot_labels, logits)`; code moved from one to the
    other with its arguments unchanged passes the logits as the labels. The two have the
    same shape, so nothing fails where the loss is built: the cross entropy is computed
    against the labels taken as logits, and since no gradient flows into the labels, the
    model's own logits get none:

        ValueError: No gradients provided for any variable, check your graph for ops that do not support gradients

    and with any other term in the loss (weight decay), that error goes away and the
    network trains on the other term alone, silently. The sparse version fails at once,
    `ValueError: `labels.shape.rank` must equal `logits.shape.rank - 1``. TensorFlow 1.0
    swapped `inputs` and `labels` in `sampled_softmax_loss` and `nce_loss` (its release
    notes); the old order fails with `ValueError: Dimensions must be equal` or a dtype
    error in the sampled matmul. (All checked with TensorFlow 2.21's `tf.compat.v1`.)

    ## Example
    ```python
    logits = tf.layers.dense(hidden, num_classes)
    loss = tf.losses.softmax_cross_entropy(logits, onehot_labels)
    ```

    ## Use instead
    ```python
    logits = tf.layers.dense(hidden, num_classes)
    loss = tf.losses.softmax_cross_entropy(onehot_labels=onehot_labels, logits=logits)
    ```

    ## Fix safety
    No automatic fix: naming the arguments is the fix, and which is which is the
    author's to confirm.
    """

    code = "DL221"
    name = "swapped-loss-arguments"
    severity = Severity.ERROR
    summary = "a TensorFlow loss called with logits and labels (or inputs and labels) in an older API's order"
    triggers = ("tensorflow",)
    also_triggers = ("losses.", "sampled_softmax_loss", "nce_loss")
    reads_installed = (TENSORFLOW,)

    VALID = (
        "import tensorflow.compat.v1 as tf\nlogits = tf.layers.dense(h, 10)\n"
        "loss = tf.losses.softmax_cross_entropy(onehot_labels=y, logits=logits)\n",
        "import tensorflow.compat.v1 as tf\nlogits = tf.layers.dense(h, 10)\n"
        "loss = tf.losses.softmax_cross_entropy(y, logits)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nlogits = tf.layers.dense(h, 10)\n"
        "loss = tf.losses.softmax_cross_entropy(logits, y)\n",
        "import tensorflow.compat.v1 as tf\nlabels = tf.placeholder(tf.int64, [None, 1])\n"
        "loss = tf.nn.sampled_softmax_loss(w, b, outputs, labels, 64, vocabulary_size)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.bindings = Bindings()

    def visit_Call(self, node: cst.Call) -> None:
        symbol = self.tf_call(node)
        if symbol is None or unplaceable(node):
            return
        positional = [arg.value for arg in node.args if arg.keyword is None]
        if symbol in _LABELS_FIRST and len(positional) >= 2:
            self._check_labels_first(node, symbol, positional)
        elif symbol in _SAMPLED and len(positional) >= 4:
            self._check_sampled(node, symbol, positional)

    def _check_labels_first(self, node: cst.Call, symbol: str, positional: list[cst.BaseExpression]) -> None:
        first, second = (self.value_of(expr) for expr in positional[:2])
        second_is_logits = second is not None and second.kind == "linear"
        linear_first = first is not None and first.kind == "linear" and not second_is_logits
        # `tf.losses.softmax_cross_entropy(y_conv, y_)`: a softmax of the model, then the fed labels.
        output_first = (
            first is not None and first.made_by in _PROBABILITIES and first.kind != "placeholder"
            and second is not None and second.kind in ("placeholder", "onehot")
        )
        named = _says(positional[0], "logit", "label") and _says(positional[1], "label", "logit")
        if not (linear_first or output_first or named):
            return
        what = "the model's output" if output_first and not (linear_first or named) else "the logits"
        labels = _LABELS_FIRST[symbol]
        logits, given = code_of(positional[0], 30), code_of(positional[1], 30)
        self.report(
            node,
            f"`tf.{symbol}({logits}, {given})` passes {what} first: the signature is `({labels}, logits, ...)` "
            f"(the logits-first order was `tf.contrib.losses`'), so `{logits}` is taken as the labels and `{given}` "
            "as the logits; no gradient reaches the model through the labels (`ValueError: No gradients provided "
            "for any variable`, or, with another term in the loss, training on that term alone, silently); write "
            f"`tf.{symbol}({labels}={given}, logits={logits})`",
        )

    def _check_sampled(self, node: cst.Call, symbol: str, positional: list[cst.BaseExpression]) -> None:
        release = tensorflow_release()
        if release is not None and release < (1, 0):
            return  # TensorFlow 0.x: `(weights, biases, inputs, labels, ...)` was the signature
        third, fourth = (self.value_of(expr) for expr in positional[2:4])
        inputs_third = third is not None and (
            third.kind == "linear" or (third.kind == "placeholder" and third.dtype in ("float32", "float16", "float64")))
        labels_fourth = fourth is not None and fourth.kind == "placeholder" and fourth.dtype in _INTEGER
        labels_third = third is not None and third.kind == "placeholder" and third.dtype in _INTEGER
        # `sampled_loss(inputs, labels)` handing its parameters on in their 0.x places
        named = _says(positional[2], "input", "label") and _says(positional[3], "label", "input")
        if not (inputs_third or labels_fourth or named) or labels_third:
            return
        inputs, labels = code_of(positional[2], 30), code_of(positional[3], 30)
        function = symbol.rsplit(".", 1)[-1]
        self.report(
            node,
            f"`tf.{symbol}(weights, biases, {inputs}, {labels}, ...)` passes the inputs before the labels: the "
            f"TensorFlow 0.x order. Since TensorFlow 1.0 ({target_phrase()}) the signature is `(weights, biases, "
            "labels, inputs, ...)`, and this call fails on the sampled matmul (`ValueError: Dimensions must be "
            f"equal` or a dtype error); write `{function}(weights, biases, labels={labels}, inputs={inputs}, ...)`",
        )
