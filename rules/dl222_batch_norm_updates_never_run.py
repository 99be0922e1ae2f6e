"""DL222 batch-norm-updates-never-run."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import code_of, keyword_argument

# Batch normalization that puts its moving-average updates in the UPDATE_OPS collection,
# and the name of its training-mode parameter.
_BATCH_NORMS = {
    "layers.batch_normalization": "training",
    "contrib.layers.batch_norm": "is_training",
    "contrib.slim.batch_norm": "is_training",
    "contrib.layers.python.layers.layers.batch_norm": "is_training",
}
# Train-op builders that gather UPDATE_OPS themselves.
_GATHERING = ("create_train_op", "optimize_loss")
_TRAIN_METHODS = frozenset({"minimize", "apply_gradients"})
_UPDATE_OPS = "update_ops"


@dataclass(eq=False)
class _Scan:
    norms: list[cst.Call] = field(default_factory=list)  # batch norms in training mode chosen at run time
    train_ops: list[cst.Call] = field(default_factory=list)  # minimize/apply_gradients outside any dependency block
    gathered: list[tuple[str, cst.Assign]] = field(default_factory=list)  # `name = get_collection(UPDATE_OPS)`


class BatchNormUpdatesNeverRun(Rule):
    """
    ## What it does
    In TensorFlow 1 graph code, finds a module that builds batch normalization whose
    training mode is chosen at run time (`tf.layers.batch_normalization(x,
    training=is_training)`, `tf.contrib.layers.batch_norm(x, is_training=...)` or slim's,
    with the default `updates_collections`) and a train op (`opt.minimize(...)`,
    `opt.apply_gradients(...)`), but never runs the moving-average updates:

    - the module never mentions `UPDATE_OPS` (or `update_ops`), builds its train op
      outside any `tf.control_dependencies` block, and uses no train-op builder that
      gathers them (`slim.learning.create_train_op`, `tf.contrib.layers.optimize_loss`);
      reported at the train op;
    - or it gathers them, `update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)`, and
      never uses the name again; reported at the gathering.

    Not reported: `training=True` or `False` as a literal (the moving averages are then
    never read, or never meant to change), `updates_collections=None` (the updates run
    in place), and modules without a train op of their own.

    ## Why is this bad
    In graph mode the batch-norm layer only *adds* the ops that update its moving mean
    and variance to the `UPDATE_OPS` collection; nothing runs them unless the train op
    depends on them. Training looks fine, since in training mode the layer normalizes
    with the batch's own statistics, but the moving averages keep their initial values
    (mean 0, variance 1), and at inference (`training=False`) the network normalizes with
    those: its accuracy collapses to chance, with no error anywhere.

    ## Example
    ```python
    net = tf.layers.batch_normalization(net, training=is_training)
    ...
    train_op = tf.train.AdamOptimizer(lr).minimize(loss)
    ```

    ## Use instead
    ```python
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
        train_op = tf.train.AdamOptimizer(lr).minimize(loss)
    ```

    ## Fix safety
    No automatic fix: which update ops belong to which train op (a GAN's two networks,
    `scope=`) is the author's to say.
    """

    code = "DL222"
    name = "batch-norm-updates-never-run"
    severity = Severity.ERROR
    summary = "batch norm trained with its UPDATE_OPS never run: the moving mean and variance stay at their initial values"
    triggers = ("batch_norm",)
    also_triggers = ("minimize(", "apply_gradients(")
    trigger_pattern = re.compile("tensorflow")

    VALID = (
        "import tensorflow.compat.v1 as tf\nnet = tf.layers.batch_normalization(net, training=is_training)\n"
        "update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)\nwith tf.control_dependencies(update_ops):\n"
        "    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)\n",
        "import tensorflow.compat.v1 as tf\nnet = tf.layers.batch_normalization(net, training=True)\n"
        "train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nnet = tf.layers.batch_normalization(net, training=is_training)\n"
        "train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)\n",
        "import tensorflow.compat.v1 as tf\nnet = tf.layers.batch_normalization(net, training=is_training)\n"
        "update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)\n"
        "train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._scan = _Scan()
        self._dependency_blocks = 0
        self._uses: dict[str, int] = {}
        self._mentions_updates = False
        self._gathering = False

    def visit_With(self, node: cst.With) -> None:
        if any(type(item.item) is cst.Call and _callee(item.item) == "control_dependencies" for item in node.items):
            self._dependency_blocks += 1

    def leave_With(self, original_node: cst.With) -> None:
        if any(type(item.item) is cst.Call and _callee(item.item) == "control_dependencies"
               for item in original_node.items):
            self._dependency_blocks -= 1

    def visit_Name(self, node: cst.Name) -> None:
        self._uses[node.value] = self._uses.get(node.value, 0) + 1
        if node.value in _GATHERING:
            self._gathering = True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value.lower() == _UPDATE_OPS:
            self._mentions_updates = True
        if node.attr.value in _GATHERING:
            self._gathering = True

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if _UPDATE_OPS in node.value.lower():
            self._mentions_updates = True

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        if len(node.targets) != 1 or type(node.targets[0].target) is not cst.Name or type(value) is not cst.Call:
            return
        if tf_symbol(self.names.qualify(value.func)) == "get_collection" and value.args:
            key = value.args[0].value
            if type(key) is cst.Attribute and key.attr.value == "UPDATE_OPS":
                self._scan.gathered.append((node.targets[0].target.value, node))

    def visit_Call(self, node: cst.Call) -> None:
        symbol = tf_symbol(self.names.qualify(node.func))
        if symbol in _BATCH_NORMS:
            mode = keyword_argument(node, _BATCH_NORMS[symbol])
            if mode is None or (type(mode) is cst.Name and mode.value in ("True", "False")):
                return  # no training mode, or a fixed one
            if symbol != "layers.batch_normalization" and keyword_argument(node, "updates_collections") is not None:
                return  # `updates_collections=None` updates in place; another collection is the author's
            self._scan.norms.append(node)
        elif (type(node.func) is cst.Attribute and node.func.attr.value in _TRAIN_METHODS
              and not self._dependency_blocks):
            self._scan.train_ops.append(node)

    def leave_Module(self, original_node: cst.Module) -> None:
        scan = self._scan
        if not scan.norms or self._gathering:
            return
        norm = code_of(scan.norms[0], 50)
        consequence = (
            "in graph mode the moving mean and variance are updated only by the ops in `tf.GraphKeys.UPDATE_OPS`, "
            "which nothing runs, so they keep their initial values and inference (`training=False`) normalizes "
            "with mean 0 and variance 1: accuracy falls apart at test time, silently"
        )
        unused = [(name, assign) for name, assign in scan.gathered if self._uses.get(name, 0) == 1]
        for name, assign in unused:
            self.report(
                assign,
                f"`{name}` gathers the batch-norm update ops (for `{norm}`) and is never used: {consequence}; build "
                f"the train op under `with tf.control_dependencies({name}):`",
            )
        if self._mentions_updates or not scan.train_ops:
            return
        train = scan.train_ops[0]
        self.report(
            train,
            f"`{code_of(train, 50)}` builds the train op of a module whose batch norm (`{norm}`) chooses its "
            f"training mode at run time, and nothing here runs its update ops: {consequence}; build the train op "
            "under `with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):`",
        )


def _callee(call: cst.Call) -> str | None:
    func = call.func
    if type(func) is cst.Attribute:
        return func.attr.value
    return func.value if type(func) is cst.Name else None
