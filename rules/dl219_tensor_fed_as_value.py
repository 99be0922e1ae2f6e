"""DL219 tensor-fed-as-value."""

from __future__ import annotations

import libcst as cst

from dldoctor.lint.bindings import Bindings
from dldoctor.lint.finding import Severity
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of
from dldoctor.rules.dl218_wrong_call_signature import TENSORFLOW, GraphValues, Value, tensorflow_release

# Calls that run the graph with a feed: `sess.run(fetches, feed_dict)`, `t.eval(feed_dict)`, `op.run(feed_dict)`.
_FEEDING = {"run": 1, "eval": 0}
# Signs that the module builds a TF1 graph: `tf.constant(tensor)` fails only there (eagerly it copies).
_GRAPH_MODE = frozenset({"Session", "InteractiveSession", "placeholder", "disable_eager_execution",
                         "disable_v2_behavior", "train.Saver"})


class TensorFedAsValue(GraphValues, Rule):
    """
    ## What it does
    Finds a TensorFlow tensor given where TF1 graph code needs a concrete value:

    - as a value of `feed_dict` (`sess.run(train_op, feed_dict={x: images})`, and
      `tensor.eval(feed_dict=...)`, `op.run(feed_dict=...)`), where `images` holds the
      output of a TensorFlow op: `tf.train.shuffle_batch(...)`, `iterator.get_next()`
      of a `make_one_shot_iterator()`, `tf.image.decode_jpeg(...)`, `tf.one_hot(...)`,
      a placeholder;
    - as the value of `tf.constant(...)` (alone or in a list) in a module that builds
      a graph (it runs a `tf.Session`, makes placeholders, or disables eager execution).

    The name must still hold the tensor where it is used: one rebound in between
    (`images = sess.run(images)`, a loop target, a parameter) is not reported.

    ## Why is this bad
    A feed replaces a tensor's value with data from Python; a tensor is not data, only a
    node of the graph that computes some:

        TypeError: The value of a feed cannot be a tf.Tensor object. Acceptable feed values include
        Python scalars, strings, lists, numpy ndarrays, or TensorHandles.

    It is the classic end of an input pipeline written with queues or `tf.data` and a
    model written with placeholders: the batch tensors are fed in place of the arrays
    they would produce. `tf.constant(t)` of a graph tensor fails the same way
    (`TypeError: Expected any non-tensor type, but got a tensor instead.` on TensorFlow
    2.21's `tf.compat.v1` in graph mode; both errors checked there).

    ## Example
    ```python
    images, labels = tf.train.shuffle_batch([image, label], batch_size=32, capacity=2000, min_after_dequeue=1000)
    x = tf.placeholder(tf.float32, [None, 28, 28, 1])
    y = tf.placeholder(tf.int64, [None])
    ...
    sess.run(train_op, feed_dict={x: images, y: labels})
    ```

    ## Use instead
    ```python
    images, labels = tf.train.shuffle_batch([image, label], batch_size=32, capacity=2000, min_after_dequeue=1000)
    logits = model(images)  # build the model on the batch tensors: nothing to feed
    ...
    sess.run(train_op)
    ```
    or run the batch first and feed its arrays: `batch_x, batch_y = sess.run([images,
    labels])`, then `feed_dict={x: batch_x, y: batch_y}`.

    ## Fix safety
    No automatic fix: either the model is rebuilt on the tensors or a `sess.run` is added.
    """

    code = "DL219"
    name = "tensor-fed-as-value"
    severity = Severity.ERROR
    summary = "a tf.Tensor fed as a feed_dict value or given to tf.constant: TypeError: The value of a feed cannot be a tf.Tensor object"
    triggers = ("tensorflow",)
    also_triggers = ("feed_dict", "constant", ".run(", ".eval(")
    reads_installed = (TENSORFLOW,)

    VALID = (
        "import tensorflow.compat.v1 as tf\nimages, labels = tf.train.batch([image, label], batch_size=32)\n"
        "batch_x, batch_y = sess.run([images, labels])\nsess.run(train_op, feed_dict={x: batch_x, y: batch_y})\n",
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float32)\nc = tf.constant([1.0, 2.0])\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nimages, labels = tf.train.batch([image, label], batch_size=32)\n"
        "sess.run(train_op, feed_dict={x: images, y: labels})\n",
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float32)\nscale = tf.reduce_max(x)\n"
        "c = tf.constant(scale)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.bindings = Bindings()
        self._graph_mode = False
        self._constants: list[tuple[cst.Call, list[tuple[cst.BaseExpression, Value]]]] = []

    def visit_Call(self, node: cst.Call) -> None:
        symbol = self.tf_call(node)
        if symbol in _GRAPH_MODE:
            self._graph_mode = True
        if symbol == "constant":
            value = call_argument(node, 0, "value")
            elements = value.elements if type(value) in (cst.List, cst.Tuple) else [value] if value else []
            found = []
            for element in elements:
                inner = element.value if isinstance(element, cst.BaseElement) else element
                known = self.value_of(inner)
                if known is not None and known.is_tensor:
                    found.append((inner, known))
            if found:
                self._constants.append((node, found))
            return
        if type(node.func) is not cst.Attribute or node.func.attr.value not in _FEEDING:
            return
        feed = call_argument(node, _FEEDING[node.func.attr.value], "feed_dict")
        if type(feed) is not cst.Dict:
            return
        for element in feed.elements:
            if type(element) is not cst.DictElement:
                continue
            value = self.value_of(element.value)
            if value is None or not value.is_tensor:
                continue
            self.report(
                element.value,
                f"`{code_of(element.value, 30)}` fed as the value of `{code_of(element.key, 30)}` holds a tensor "
                f"({_made(value)}), not data: `TypeError: The value of a feed cannot be a tf.Tensor object`; "
                f"build the model on `{code_of(element.value, 30)}` itself (no feed), or feed the array that "
                f"`sess.run({code_of(element.value, 30)})` returns",
            )

    def leave_Module(self, original_node: cst.Module) -> None:
        release = tensorflow_release()
        if not self._graph_mode and not (release is not None and release < (2, 0)):
            return  # eagerly, `tf.constant(tensor)` copies the tensor
        for node, found in self._constants:
            expr, value = found[0]
            self.report(
                node,
                f"`tf.constant(...)` of `{code_of(expr, 30)}`, a tensor ({_made(value)}): a constant holds data "
                "known when the graph is built, and graph mode refuses a tensor: `TypeError: Expected any "
                f"non-tensor type, but got a tensor instead.`; use `{code_of(expr, 30)}` itself (or "
                f"`tf.identity({code_of(expr, 30)})`), or `tf.constant` of the array `sess.run` returns",
            )


def _made(value: Value) -> str:
    if value.kind == "placeholder":
        return "a `tf.placeholder`"
    if value.made_by == "get_next":
        return "from `iterator.get_next()`"
    return f"the output of `tf.{value.made_by}`" if value.made_by else "the output of a TensorFlow op"
