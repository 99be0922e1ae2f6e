"""DL210 op-after-graph-finalized."""

from __future__ import annotations

import re

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import code_of, keyword_argument
from dldoctor.rules.dl202_graph_op_in_loop import _BUILDER_METHODS, _BUILDER_MODULES, _NOT_BUILDERS, GRAPH_BUILDERS
from dldoctor.lint.branches import exclusive
from dldoctor.rules.dl208_initializer_before_variables import Event, Frame, GraphTimeline

# Sessions whose construction finalizes the default graph (or the one they are given).
FINALIZING_SESSIONS = frozenset(
    {"train.Supervisor", "train.MonitoredTrainingSession", "train.MonitoredSession", "train.SingularMonitoredSession"}
)
_GRAPH_MAKERS = frozenset({"Graph", "get_default_graph"})
# Receivers of `.assign(...)` that are data frames, not variables.
_FRAME_NAMES = frozenset({"df", "data", "frame", "pd"})


class OpAfterGraphFinalized(GraphTimeline, Rule):
    """
    ## What it does
    In TensorFlow 1 graph code, finds an op created after the graph was finalized, in
    the same function and the same graph: after `graph.finalize()`
    (`tf.get_default_graph().finalize()`, `sess.graph.finalize()`, a name bound to a
    `tf.Graph()`), `scaffold.finalize()`, or the creation of a session that finalizes the
    graph itself (`tf.train.Supervisor(...)`, and with it everything inside
    `sv.managed_session()`; `tf.train.MonitoredTrainingSession(...)`,
    `MonitoredSession`, `SingularMonitoredSession`). The ops are those DL202 knows: the
    `tf.summary.*` ops, `tf.train.Saver()`, initializers, `tf.assign` and
    `var.assign(...)`, `tf.constant`, `tf.placeholder`, `tf.Variable`, `minimize` and
    `apply_gradients`, and the functions of `tf.nn`, `tf.math`, `tf.image`, `tf.losses`,
    `tf.layers`, ... (not their classes, which build nothing until called).

    Not reported: the arguments of the session's own construction (`Supervisor(saver=
    tf.train.Saver())` builds the saver first), ops in another graph (`with
    tf.Graph().as_default():`, after `tf.reset_default_graph()`, or the default graph
    when the session was given `graph=` outside any `as_default()` block), and ops in
    the other branch of the `if` that finalizes.

    ## Why is this bad
    A finalized graph refuses new ops. The first one raises, often deep in the training
    loop, after the time spent starting the session and restoring a checkpoint:

        RuntimeError: Graph is finalized and cannot be modified.

    `Supervisor` and `MonitoredTrainingSession` finalize the graph when they are created
    so that a loop that adds ops by accident (see DL202) fails at once instead of growing
    the graph; code ported from a plain `tf.Session` that builds a summary, a saver or an
    assign op inside `with sv.managed_session() as sess:` meets this error.

    ## Example
    ```python
    sv = tf.train.Supervisor(logdir=logdir)
    with sv.managed_session() as sess:
        for step in range(steps):
            sess.run(train_op)
        sess.run(tf.assign(learning_rate, 0.1 * lr))
    ```

    ## Use instead
    ```python
    decay_lr = tf.assign(learning_rate, 0.1 * lr)  # built with the rest of the graph
    sv = tf.train.Supervisor(logdir=logdir)
    with sv.managed_session() as sess:
        for step in range(steps):
            sess.run(train_op)
        sess.run(decay_lr)
    ```

    ## Fix safety
    No automatic fix: the op has to move to where the graph is built, before the values
    it reads may exist.
    """

    code = "DL210"
    name = "op-after-graph-finalized"
    severity = Severity.ERROR
    summary = "op created after the graph is finalized (Supervisor, MonitoredTrainingSession): RuntimeError"
    triggers = ("finalize", "Supervisor", "MonitoredTrainingSession", "MonitoredSession")
    trigger_pattern = re.compile("tensorflow")  # TF1 symbols resolve through an import of it

    VALID = (
        "import tensorflow as tf\nsummary = tf.summary.scalar('loss', loss)\nsv = tf.train.Supervisor(logdir=d)\n"
        "with sv.managed_session() as sess:\n    sess.run([train_op, summary])\n",
        # The session's own arguments are built before it finalizes the graph.
        "import tensorflow as tf\nsv = tf.train.Supervisor(logdir=d, saver=tf.train.Saver(max_to_keep=3))\n"
        "with sv.managed_session() as sess:\n    sess.run(train_op)\n",
        # A new graph after the finalized one.
        "import tensorflow as tf\ntf.get_default_graph().finalize()\nwith tf.Graph().as_default():\n"
        "    x = tf.constant(1.0)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nsv = tf.train.Supervisor(logdir=d)\nwith sv.managed_session() as sess:\n"
        "    sess.run(train_op)\n    sess.run(tf.assign(lr, 0.1))\n",
        "import tensorflow.compat.v1 as tf\nwith tf.train.MonitoredTrainingSession() as sess:\n"
        "    saver = tf.train.Saver()\n",
        "import tensorflow.compat.v1 as tf\ngraph = tf.get_default_graph()\ngraph.finalize()\n"
        "merged = tf.summary.merge_all()\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._outermost: cst.Call | None = None  # an op reported, whose arguments are not reported again

    def visit_Call(self, node: cst.Call) -> None:
        super().visit_Call(node)
        if self._outermost is None and self._builds_op(node):
            self._outermost = node
            self.add("op", node, code_of(node.func))

    def leave_Call(self, original_node: cst.Call) -> None:
        if original_node is self._outermost:
            self._outermost = None
        label = self._finalizes(original_node)
        if label is not None:
            self.add("finalize", original_node, label)  # after its arguments were built

    def _finalizes(self, call: cst.Call) -> str | None:
        symbol = self.symbol(call.func)
        if symbol in FINALIZING_SESSIONS:
            if keyword_argument(call, "graph") is not None and not self._graph_withs:
                return None  # it finalizes the graph it is given, not the default one
            return f"`{code_of(call.func)}(...)`"
        func = call.func
        if not (type(func) is cst.Attribute and func.attr.value == "finalize" and not call.args):
            return None
        receiver = func.value
        if type(receiver) is cst.Call and self.symbol(receiver.func) in _GRAPH_MAKERS:
            return f"`{code_of(func)}()`"
        name = dotted_name(receiver)
        if name is None:
            return None
        bound = any(name in frame.graphs or name in frame.scaffolds for frame in (self.frames[-1], self.frames[0]))
        if bound or name.rsplit(".", 1)[-1] == "graph":
            return f"`{code_of(func)}()`"
        return None

    def _builds_op(self, call: cst.Call) -> bool:
        symbol = self.symbol(call.func)
        if symbol is None:
            func = call.func
            return (
                type(func) is cst.Attribute and func.attr.value in _BUILDER_METHODS
                and not (type(func.value) is cst.Name and func.value.value in _FRAME_NAMES)
                and self._is_tf_receiver(func.value)
            )
        if symbol in _NOT_BUILDERS or symbol.startswith(tuple(_NOT_BUILDERS)):
            return False
        if symbol in GRAPH_BUILDERS:
            return True
        last = symbol.rsplit(".", 1)[-1]
        return symbol.startswith(_BUILDER_MODULES) and last[:1].islower()

    def _is_tf_receiver(self, receiver: cst.BaseExpression) -> bool:
        """Whether a method's receiver is a TensorFlow object: an optimizer construction,
        or a name the module never binds to something else (a variable, an optimizer)."""
        if type(receiver) is cst.Call:
            symbol = self.symbol(receiver.func)
            return symbol is not None and symbol.startswith("train.")
        return dotted_name(receiver) is not None

    def judge(self, frames: list[Frame]) -> None:
        for frame in frames:
            finalized: list[Event] = []
            for event in frame.events:
                if event.kind == "finalize":
                    finalized.append(event)
                elif event.kind == "op":
                    cause = next(
                        (f for f in finalized if f.graph == event.graph and not exclusive(f.branches, event.branches)),
                        None,
                    )
                    if cause is not None:
                        self.report(
                            event.node,
                            f"`{event.label}(...)` adds an op to a graph that {cause.label} has finalized: it raises "
                            "`RuntimeError: Graph is finalized and cannot be modified.`; build it with the rest of "
                            "the graph, before the graph is finalized, and only run it here",
                        )
