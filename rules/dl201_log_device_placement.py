"""DL201 log-device-placement."""

from __future__ import annotations

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import tf_symbol
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import call_argument, is_true_literal, keyword_argument

_CONFIG_PROTOS = {"ConfigProto", "compat.v1.ConfigProto"}
_SETTER = "debugging.set_log_device_placement"


class LogDevicePlacement(Rule):
    """
    ## What it does
    Finds `log_device_placement` switched on with a literal: in a `ConfigProto`
    (`tf.ConfigProto(log_device_placement=True)`, any TensorFlow module path), by
    assignment (`config.log_device_placement = True`), or with
    `tf.debugging.set_log_device_placement(True)`.

    ## Why is this bad
    TensorFlow then logs the device of every op, on every step, to stderr:

        Device mapping: /job:localhost/replica:0/task:0/device:GPU:0 -> device: 0 ...
        gradients/tower_0/conv1/Conv2D_grad/Conv2DBackpropFilter: (Conv2DBackpropFilter): /job:localhost/replica:0/task:0/device:GPU:0

    A multi-GPU training script left with this debug option on floods its log
    with thousands of placement lines ("it keeps printing variable info"), which
    buries the loss lines and slows the run. It is a debugging switch, not a
    setting to ship.

    ## Example
    ```python
    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=True)
    sess = tf.Session(config=config)
    ```

    ## Use instead
    ```python
    config = tf.ConfigProto(allow_soft_placement=True,
                            log_device_placement=FLAGS.log_device_placement)
    sess = tf.Session(config=config)
    ```
    Leave it off, or put it behind a command-line flag that defaults to off. A
    flag or a variable is never reported.

    ## Fix safety
    Safe: `--fix` drops the `log_device_placement=True` keyword, and sets an assigned
    `log_device_placement` or `set_log_device_placement(...)` to `False`. Only logging
    changes.
    """

    code = "DL201"
    name = "log-device-placement"
    severity = Severity.WARNING
    summary = "log_device_placement switched on: every op's device is logged on every step"
    triggers = ("log_device_placement",)

    VALID = (
        "import tensorflow as tf\nconfig = tf.ConfigProto(log_device_placement=False)\n",
        "import tensorflow as tf\nconfig = tf.ConfigProto(log_device_placement=FLAGS.log_device_placement)\n",
        "import tensorflow as tf\nconfig = tf.ConfigProto()\nconfig.log_device_placement = args.debug\n",
        "import tensorflow as tf\ntf.debugging.set_log_device_placement(False)\n",
        # Not TensorFlow's ConfigProto: a project's own class.
        "class ConfigProto:\n    pass\nc = ConfigProto(log_device_placement=True)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nsess = tf.Session(config=tf.ConfigProto(log_device_placement=True))\n",
        "import tensorflow.compat.v1 as tf\nconfig = tf.ConfigProto(allow_soft_placement=True, log_device_placement=True)\n",
        "from tensorflow.core.protobuf.config_pb2 import ConfigProto\nc = ConfigProto(log_device_placement=1)\n",
        "config = tf.compat.v1.ConfigProto()\nconfig.log_device_placement = True\n",
        "import tensorflow as tf\ntf.debugging.set_log_device_placement(True)\n",
    )

    def visit_Call(self, node: cst.Call) -> None:
        symbol = tf_symbol(self.names.qualify(node.func))
        if symbol in _CONFIG_PROTOS:
            value = keyword_argument(node, "log_device_placement")
            if is_true_literal(value):
                self.report(
                    value,
                    "`log_device_placement=True` in a ConfigProto logs the device of every op on every "
                    "step and floods the training log; leave it off or gate it behind a flag",
                    Fix("drop `log_device_placement=True`", Applicability.SAFE, ((node, _without_keyword(node)),)),
                )
        elif symbol == _SETTER:
            value = call_argument(node, 0, "enabled")
            if is_true_literal(value):
                self.report(
                    node,
                    "`set_log_device_placement(True)` logs the device of every op on every step and floods "
                    "the log; remove it or gate it behind a flag",
                    Fix("switch it off", Applicability.SAFE, ((value, cst.Name("False")),)),
                )

    def visit_Assign(self, node: cst.Assign) -> None:
        if not is_true_literal(node.value):
            return
        for target in node.targets:
            if type(target.target) is cst.Attribute and target.target.attr.value == "log_device_placement":
                self.report(
                    node,
                    "`log_device_placement = True` logs the device of every op on every step and floods "
                    "the training log; leave it off or gate it behind a flag",
                    Fix("switch it off", Applicability.SAFE, ((node.value, cst.Name("False")),)),
                )


def _without_keyword(call: cst.Call, keyword: str = "log_device_placement") -> cst.Call:
    """The call without that keyword argument; a trailing comma moves to the new last argument."""
    args = list(call.args)
    index = next(i for i, arg in enumerate(args) if arg.keyword is not None and arg.keyword.value == keyword)
    removed = args.pop(index)
    if index == len(args) and index > 0:
        args[-1] = args[-1].with_changes(comma=removed.comma)
    return call.with_changes(args=args)
