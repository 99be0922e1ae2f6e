"""DL213 reuse-before-slot-variables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.branches import Branch, BranchPath, within
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import code_of, keyword_argument
from dldoctor.rules.dl208_initializer_before_variables import SLOT_OPTIMIZERS

_TRAIN_METHODS = frozenset({"minimize", "apply_gradients"})
_AVERAGE = "train.ExponentialMovingAverage"
_SCOPE = "variable_scope"
_GET_SCOPE = "get_variable_scope"
_AUTO_REUSE = frozenset({"AUTO_REUSE", "compat.v1.AUTO_REUSE"})



@dataclass(eq=False)
class _Event:
    kind: str  # "reuse", "call" (of a function of this module), "slots"
    node: cst.CSTNode
    order: int
    scopes: tuple[int, ...]  # the `with tf.variable_scope(...)` / graph blocks open here, outermost first
    branches: tuple[Branch, ...]
    resets: int  # `tf.reset_default_graph()` calls before it, in this function
    label: str = ""  # the callee of a "call", what makes slots for "slots"


@dataclass(eq=False)
class _Function:
    key: str | None
    events: list[_Event] = field(default_factory=list)
    scope_names: dict[str, tuple[int, ...]] = field(default_factory=dict)  # name -> the scopes its variable scope sits in
    optimizers: dict[str, str] = field(default_factory=dict)  # name -> the slot optimizer it holds
    averages: set[str] = field(default_factory=set)
    resets: int = 0


class ReuseBeforeSlotVariables(BranchPath, Rule):
    """
    ## What it does
    In TensorFlow 1 graph code, finds `tf.get_variable_scope().reuse_variables()` called
    on the scope the code is in (the root scope in a tower loop, a caller's scope from a
    model function) and, later in that same scope, an optimizer that creates slot
    variables building its train op (`AdamOptimizer`, `MomentumOptimizer`,
    `RMSPropOptimizer`, `Adagrad`, `Adadelta`, `Ftrl`, ... with `minimize` or
    `apply_gradients`; not `GradientDescentOptimizer`), or
    `ExponentialMovingAverage.apply`, which creates shadow variables the same way. The
    reuse is followed into a function of the module that calls it outside any
    `variable_scope` of its own, at the calls of that function.

    Not reported: a reuse confined to a block that has closed (`with
    tf.variable_scope(tf.get_variable_scope()):` around the tower loop, `with
    tf.variable_scope("D") as scope: scope.reuse_variables()`), an optimizer built under
    `reuse=tf.AUTO_REUSE` (or a `reuse=` that is not a literal), in another graph, or in
    the other branch of an `if`.

    ## Why is this bad
    Optimizers and moving averages create their variables with `tf.get_variable`, in a
    scope under the current one, which inherits its `reuse=True`: they may then only look
    variables up, and those do not exist yet. Building the graph fails:

        ValueError: Variable tower/w/Adam/ does not exist, or was not created with tf.get_variable().
        Did you mean to set reuse=tf.AUTO_REUSE in VarScope?

    A fresh `tf.variable_scope("train")` does not help (it inherits the reuse), and
    neither does `reuse=False` (which means "inherit"). Plain gradient descent has no
    slots, so the bug appears only when the optimizer is changed.

    ## Example
    ```python
    tower_grads = []
    for i in range(num_gpus):
        with tf.device("/gpu:%d" % i), tf.name_scope("tower_%d" % i):
            loss = tower_loss(images[i], labels[i])
            tf.get_variable_scope().reuse_variables()
            tower_grads.append(opt.compute_gradients(loss))
    train_op = tf.train.AdamOptimizer(1e-3).apply_gradients(average_gradients(tower_grads))
    ```

    ## Use instead
    ```python
    tower_grads = []
    with tf.variable_scope(tf.get_variable_scope()):
        for i in range(num_gpus):
            with tf.device("/gpu:%d" % i), tf.name_scope("tower_%d" % i):
                loss = tower_loss(images[i], labels[i])
                tf.get_variable_scope().reuse_variables()
                tower_grads.append(opt.compute_gradients(loss))
    train_op = tf.train.AdamOptimizer(1e-3).apply_gradients(average_gradients(tower_grads))
    ```
    The reuse ends with the `with` block; or build the optimizer under
    `tf.variable_scope(tf.get_variable_scope(), reuse=tf.AUTO_REUSE)`.

    ## Fix safety
    No automatic fix: the `with` block has to enclose exactly the towers that share
    variables, which only the author can delimit.
    """

    code = "DL213"
    name = "reuse-before-slot-variables"
    severity = Severity.ERROR
    summary = "reuse_variables() on the caller's scope, then Adam/Momentum/EMA creating slots there: ValueError: Variable .../Adam/ does not exist"
    triggers = ("reuse_variables",)
    also_triggers = ("minimize", "apply_gradients", "ExponentialMovingAverage")
    trigger_pattern = re.compile("tensorflow")  # TF1 symbols resolve through an import of it

    VALID = (
        "import tensorflow as tf\nwith tf.variable_scope(tf.get_variable_scope()):\n    for i in range(2):\n"
        "        losses.append(tower(x[i]))\n        tf.get_variable_scope().reuse_variables()\n"
        "train_op = tf.train.AdamOptimizer(0.1).minimize(tf.add_n(losses))\n",
        # Gradient descent creates no slots.
        "import tensorflow as tf\nloss = tower(x)\ntf.get_variable_scope().reuse_variables()\n"
        "train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss + tower(y))\n",
        "import tensorflow as tf\ndef discriminator(x, reuse=False):\n    with tf.variable_scope('D') as scope:\n"
        "        if reuse:\n            scope.reuse_variables()\n        return net(x)\n"
        "d_loss = discriminator(a) + discriminator(b, reuse=True)\nopt = tf.train.AdamOptimizer(0.1).minimize(d_loss)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nfor i in range(2):\n    with tf.name_scope('tower_%d' % i):\n"
        "        losses.append(tower(x[i]))\n        tf.get_variable_scope().reuse_variables()\n"
        "train_op = tf.train.AdamOptimizer(0.1).minimize(tf.add_n(losses))\n",
        "import tensorflow.compat.v1 as tf\nscope = tf.get_variable_scope()\nloss = tower(x)\nscope.reuse_variables()\n"
        "loss2 = tower(y)\nopt = tf.train.MomentumOptimizer(0.1, 0.9)\ntrain_op = opt.minimize(loss + loss2)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._functions: list[_Function] = [_Function(None)]
        self._finished: list[_Function] = []
        self._defined: dict[str, _Function] = {}
        self._classes: list[tuple[str, int]] = []  # (class name, function depth where it is defined)
        self._scopes: list[list[int]] = [[]]  # open variable-scope and graph blocks, per function
        self._kinds: dict[int, str] = {}  # block id -> "scope", "auto" (AUTO_REUSE or unknown) or "graph"
        self._withs: list[list[int]] = []  # the blocks each open `with` opened
        self._order = 0

    # -- structure -----------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append((node.name.value, len(self._functions)))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        if self._classes and self._classes[-1][1] == len(self._functions):
            key = f"{self._classes[-1][0]}.{name}"
        elif len(self._functions) == 1:
            key = name
        else:
            key = None
        function = _Function(key)
        if key is not None:
            self._defined[key] = function
        self._functions.append(function)
        self._scopes.append([])
        self.open_branch_scope()

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._finished.append(self._functions.pop())
        self._scopes.pop()
        self.close_branch_scope()


    def visit_With(self, node: cst.With) -> None:
        opened = []
        function = self._functions[-1]
        for item in node.items:
            kind = self._block_kind(item.item)
            if kind is None:
                continue
            block = id(item)
            self._kinds[block] = kind
            opened.append(block)
            self._scopes[-1].append(block)
            if kind != "graph" and item.asname is not None:
                name = dotted_name(item.asname.name)
                if name is not None:
                    function.scope_names[name] = tuple(self._scopes[-1])
        self._withs.append(opened)

    def leave_With(self, original_node: cst.With) -> None:
        for _ in self._withs.pop():
            self._scopes[-1].pop()

    def _block_kind(self, item: cst.BaseExpression) -> str | None:
        if type(item) is not cst.Call:
            return None
        symbol = tf_symbol(self.names.qualify(item.func))
        if symbol == "Graph" or (type(item.func) is cst.Attribute and item.func.attr.value == "as_default"):
            return "graph"
        if symbol != _SCOPE:
            return None
        reuse = keyword_argument(item, "reuse")
        if reuse is None and len(item.args) > 8:
            return "auto"  # passed by position: not known
        if reuse is None or (type(reuse) is cst.Name and reuse.value in ("True", "False", "None")):
            return "scope"
        return "auto"  # `tf.AUTO_REUSE`, or a value this rule cannot know

    # -- bindings ------------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        function = self._functions[-1]
        value = node.value
        symbol = tf_symbol(self.names.qualify(value.func)) if type(value) is cst.Call else None
        for target in node.targets:
            name = dotted_name(target.target)
            if name is None:
                continue
            function.scope_names.pop(name, None)
            function.optimizers.pop(name, None)
            function.averages.discard(name)
            if symbol == _GET_SCOPE:
                function.scope_names[name] = tuple(self._scopes[-1])
            elif symbol in SLOT_OPTIMIZERS:
                function.optimizers[name] = symbol
            elif symbol == _AVERAGE:
                function.averages.add(name)

    # -- events --------------------------------------------------------------------------
    def _add(self, kind: str, node: cst.CSTNode, scopes: tuple[int, ...], label: str = "") -> None:
        self._order += 1
        function = self._functions[-1]
        function.events.append(
            _Event(kind, node, self._order, scopes, self.branch_path(), function.resets, label)
        )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        function = self._functions[-1]
        symbol = tf_symbol(self.names.qualify(func))
        if symbol == "reset_default_graph":
            function.resets += 1
            return
        if type(func) is cst.Attribute:
            method = func.attr.value
            receiver = func.value
            if method == "reuse_variables" and not node.args:
                scopes = self._scope_of(receiver)
                if scopes is not None:
                    self._add("reuse", node, scopes)
                return
            if method in _TRAIN_METHODS:
                optimizer = self._optimizer(receiver)
                if optimizer is not None:
                    self._add("slots", node, tuple(self._scopes[-1]), f"{optimizer.rsplit('.', 1)[-1]}.{method}(...)")
                return
            if method == "apply" and self._is_average(receiver):
                self._add("slots", node, tuple(self._scopes[-1]), "ExponentialMovingAverage.apply(...)")
                return
            if type(receiver) is cst.Name and receiver.value == "self" and self._classes:
                self._add("call", node, tuple(self._scopes[-1]), f"{self._classes[-1][0]}.{method}")
            return
        if type(func) is cst.Name and symbol is None:
            self._add("call", node, tuple(self._scopes[-1]), func.value)

    def _scope_of(self, receiver: cst.BaseExpression) -> tuple[int, ...] | None:
        """The blocks the variable scope `receiver` belongs to: `tf.get_variable_scope()`
        is the scope of the innermost open one; a name holds the scope it was bound to."""
        if type(receiver) is cst.Call and tf_symbol(self.names.qualify(receiver.func)) == _GET_SCOPE:
            return tuple(self._scopes[-1])
        name = dotted_name(receiver)
        if name is None:
            return None
        return self._functions[-1].scope_names.get(name)

    def _optimizer(self, receiver: cst.BaseExpression) -> str | None:
        if type(receiver) is cst.Call:
            symbol = tf_symbol(self.names.qualify(receiver.func))
            return symbol if symbol in SLOT_OPTIMIZERS else None
        name = dotted_name(receiver)
        if name is None:
            return None
        for function in (self._functions[-1], self._functions[0]):
            if name in function.optimizers:
                return function.optimizers[name]
        return None

    def _is_average(self, receiver: cst.BaseExpression) -> bool:
        if type(receiver) is cst.Call:
            return tf_symbol(self.names.qualify(receiver.func)) == _AVERAGE
        name = dotted_name(receiver)
        return name is not None and any(name in f.averages for f in (self._functions[-1], self._functions[0]))

    # -- judgement -----------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        self._finished.append(self._functions[0])
        leaky = {key for key, function in self._defined.items() if self._leaks(function)}
        for function in self._finished:
            reuses = [
                event for event in function.events
                if event.kind == "reuse" or (event.kind == "call" and event.label in leaky)
            ]
            if not reuses:
                continue
            for slots in function.events:
                if slots.kind != "slots":
                    continue
                cause = next((reuse for reuse in reuses if self._affects(reuse, slots)), None)
                if cause is None:
                    continue
                if cause.kind == "reuse":
                    how = f"`{code_of(cause.node, 50)}` made this scope reuse variables"
                else:
                    how = (
                        f"`{code_of(cause.node, 40)}` calls `reuse_variables()` on "
                        "this scope, outside any `variable_scope` of its own"
                    )
                self.report(
                    slots.node,
                    f"{how}, and `{slots.label}` creates its variables with `tf.get_variable` under it: they may only "
                    f"be looked up, and building the graph fails with `ValueError: Variable .../{_slot_name(slots.label)}/ "
                    "does not exist, or was not created with tf.get_variable()`; put the towers that share variables "
                    "in `with tf.variable_scope(tf.get_variable_scope()):` so the reuse ends with the block, or build "
                    "this under `reuse=tf.AUTO_REUSE`",
                )

    @staticmethod
    def _leaks(function: _Function) -> bool:
        """Whether the function always calls `reuse_variables()` on its caller's scope."""
        return any(event.kind == "reuse" and not event.scopes and not event.branches for event in function.events)

    def _affects(self, reuse: _Event, slots: _Event) -> bool:
        if reuse.order >= slots.order or reuse.resets != slots.resets:
            return False
        if not within(reuse.branches, slots.branches):
            return False  # the reuse runs only on a path the optimizer may not be on
        if slots.scopes[: len(reuse.scopes)] != reuse.scopes:
            return False  # the reuse ended with its block
        return all(self._kinds[block] == "scope" for block in slots.scopes[len(reuse.scopes) :])


def _slot_name(label: str) -> str:
    name = label.split(".", 1)[0]
    return "ExponentialMovingAverage" if name == "ExponentialMovingAverage" else name.removesuffix("Optimizer")
