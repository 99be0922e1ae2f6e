"""DL207 variable-scope-without-reuse."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.bindings import Bindings, BlockHooks
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, keyword_argument, string_value

_SCOPES = {"variable_scope"}
_GET_VARIABLE = {"get_variable"}
_CALLED = "called"


@dataclass(eq=False)
class _Function:
    key: str | None  # "discriminator", or "Model.discriminator" for a method
    scopes: list[tuple[str | None, bool]] = field(default_factory=list)  # open variable scopes: (fixed name, reuse)
    creates: str | None = None  # the fixed scope under which it creates variables without reuse, e.g. "D"
    reuses: bool = False  # calls `reuse_variables()`, or opens a scope with `reuse`


@dataclass(eq=False)
class _Call:
    node: cst.Call
    callee: str  # the function's key
    first: cst.Call  # the earlier call of the same function that surely ran before it
    in_loop: bool
    caller: _Function  # a caller that calls `reuse_variables()` anywhere (after the first tower) shares them


class VariableScopeWithoutReuse(BlockHooks, Rule):
    """
    ## What it does
    In TensorFlow 1 graph code, finds a function that creates variables with
    `tf.get_variable` under a fixed `tf.variable_scope("NAME")` opened without `reuse`,
    and that is called a second time in the same graph: twice in one function (a
    GAN's discriminator on real and on fake images) or inside a loop (one tower per
    GPU). The second call runs only where the first surely ran: calls in the two
    branches of an `if` are not counted.

    Not reported: a scope opened with `reuse=` (`reuse=tf.AUTO_REUSE`, `reuse=reuse`,
    `reuse=True`), a function that calls `reuse_variables()`, a scope whose name is
    not a literal (a parameter, `"tower_%d" % i`), calls under a `with
    tf.variable_scope(..., reuse=...)` or after `tf.get_variable_scope().reuse_variables()`,
    and a module that builds several graphs (`tf.Graph().as_default()`,
    `tf.reset_default_graph()`). Calls from another module are not seen.

    ## Why is this bad
    `tf.get_variable` refuses to create a variable that exists, unless the scope
    reuses. The second call fails while the graph is being built:

        ValueError: Variable D/conv1/weights already exists, disallowed. Did you mean to set reuse=True or
        reuse=tf.AUTO_REUSE in VarScope?

    ## Example
    ```python
    def discriminator(x):
        with tf.variable_scope("D"):
            w = tf.get_variable("w1", [784, 128])
            return tf.matmul(x, w)

    D_real = discriminator(X)
    D_fake = discriminator(G_sample)
    ```

    ## Use instead
    ```python
    def discriminator(x):
        with tf.variable_scope("D", reuse=tf.AUTO_REUSE):
            ...
    ```
    or give the function a `reuse` parameter, passed as `True` on the second call.

    ## Fix safety
    No automatic fix: `reuse=tf.AUTO_REUSE` shares the variables between the calls,
    which is what a second call almost always means, but a function meant to build
    two independent copies needs distinct scope names instead.
    """

    code = "DL207"
    name = "variable-scope-without-reuse"
    severity = Severity.WARNING
    summary = "a function creating variables under a fixed variable_scope without reuse, called twice: ValueError: Variable ... already exists"
    triggers = ("variable_scope",)
    also_triggers = ("get_variable",)

    VALID = (
        "import tensorflow.compat.v1 as tf\ndef discriminator(x):\n    with tf.variable_scope('D', reuse=tf.AUTO_REUSE):\n"
        "        w = tf.get_variable('w1', [784, 128])\n        return tf.matmul(x, w)\n"
        "D_real = discriminator(X)\nD_fake = discriminator(G_sample)\n",
        "import tensorflow.compat.v1 as tf\ndef discriminator(x, reuse=False):\n    with tf.variable_scope('D', reuse=reuse):\n"
        "        w = tf.get_variable('w1', [784, 128])\n        return tf.matmul(x, w)\n"
        "D_real = discriminator(X)\nD_fake = discriminator(G_sample, reuse=True)\n",
        "import tensorflow.compat.v1 as tf\ndef net(x):\n    with tf.variable_scope('net'):\n"
        "        return tf.matmul(x, tf.get_variable('w', [4, 4]))\nif training:\n    y = net(a)\nelse:\n    y = net(b)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\ndef discriminator(x):\n    with tf.variable_scope('D'):\n"
        "        w = tf.get_variable('w1', [784, 128])\n        return tf.matmul(x, w)\n"
        "D_real = discriminator(X)\nD_fake = discriminator(G_sample)\n",
        "import tensorflow.compat.v1 as tf\ndef tower_loss(images):\n    with tf.variable_scope('model'):\n"
        "        w = tf.get_variable('w', [784, 10])\n        return tf.reduce_mean(tf.matmul(images, w))\n"
        "for i in range(num_gpus):\n    with tf.device('/gpu:%d' % i):\n        losses.append(tower_loss(batches[i]))\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.bindings = Bindings()
        self._functions: list[_Function] = [_Function(None)]
        self._defined: dict[str, _Function] = {}
        self._classes: list[str] = []
        self._class_depths: list[int] = []
        self._calls: list[_Call] = []
        self._loops = [0]  # open loops, per function
        self._reuse_withs = [0]  # open `with tf.variable_scope(..., reuse=...)` blocks, per function
        self._reused_here: list[bool] = [False]  # `reuse_variables()` called so far in this function
        self._several_graphs = False
        self._with_kinds: list[tuple[bool, bool]] = []  # per open `with`: (a variable scope, with reuse)

    # -- structure -------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node.name.value)
        self._class_depths.append(len(self._functions))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()
        self._class_depths.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        if self._classes and self._class_depths[-1] == len(self._functions):
            key = f"{self._classes[-1]}.{name}"
        elif len(self._functions) == 1:
            key = name
        else:
            key = None
        function = _Function(key)
        if key is not None:
            self._defined[key] = function
        self._functions.append(function)
        self._loops.append(0)
        self._reuse_withs.append(0)
        self._reused_here.append(False)
        self.bindings.enter_function()

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()
        self._loops.pop()
        self._reuse_withs.pop()
        self._reused_here.pop()
        self.bindings.leave_function()

    def visit_For(self, node: cst.For) -> None:
        self._loops[-1] += 1

    def leave_For(self, original_node: cst.For) -> None:
        self._loops[-1] -= 1

    def visit_While(self, node: cst.While) -> None:
        self._loops[-1] += 1

    def leave_While(self, original_node: cst.While) -> None:
        self._loops[-1] -= 1

    def visit_With(self, node: cst.With) -> None:
        super().visit_With(node)
        scope, reuse = False, False
        for item in node.items:
            call = item.item
            if type(call) is not cst.Call:
                continue
            symbol = tf_symbol(self.names.qualify(call.func))
            if symbol in _SCOPES:
                scope = True
                has_reuse = keyword_argument(call, "reuse") is not None or len(call.args) > 8
                reuse = reuse or has_reuse
                name = string_value(call_argument(call, 0, "name_or_scope"))
                self._functions[-1].scopes.append((name, has_reuse))
                if has_reuse:
                    self._functions[-1].reuses = True
            elif symbol == "Graph" or (type(call.func) is cst.Attribute and call.func.attr.value == "as_default"):
                self._several_graphs = True
        self._with_kinds.append((scope, reuse))
        if reuse:
            self._reuse_withs[-1] += 1

    def leave_With(self, original_node: cst.With) -> None:
        scope, reuse = self._with_kinds.pop()
        if scope:
            for item in original_node.items:
                call = item.item
                if type(call) is cst.Call and tf_symbol(self.names.qualify(call.func)) in _SCOPES:
                    self._functions[-1].scopes.pop()
        if reuse:
            self._reuse_withs[-1] -= 1

    # -- calls -----------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        symbol = tf_symbol(self.names.qualify(func))
        function = self._functions[-1]
        if symbol == "reset_default_graph":
            self._several_graphs = True
        if type(func) is cst.Attribute and func.attr.value == "reuse_variables":
            function.reuses = True
            self._reused_here[-1] = True
            return
        if symbol in _GET_VARIABLE:
            fixed = [name for name, _ in function.scopes]
            if function.scopes and all(name is not None for name in fixed) and not any(r for _, r in function.scopes):
                function.creates = function.creates or "/".join(fixed)
            return
        key = self._callee_key(func)
        if key is None:
            return
        marker = f"call:{key}"
        earlier = self.bindings.lookup(marker)
        repeats = self._loops[-1] > 0
        if not self._reuse_withs[-1] and not self._reused_here[-1]:
            if type(earlier) is cst.Call:
                self._calls.append(_Call(node, key, earlier, False, function))
            elif repeats:
                self._calls.append(_Call(node, key, node, True, function))
        if earlier is None:
            self.bindings.bind(marker, node)

    def _callee_key(self, func: cst.BaseExpression) -> str | None:
        if type(func) is cst.Name:
            return func.value
        if type(func) is cst.Attribute and type(func.value) is cst.Name and func.value.value == "self" and self._classes:
            return f"{self._classes[-1]}.{func.attr.value}"
        return None

    def leave_Module(self, original_node: cst.Module) -> None:
        if self._several_graphs:
            return
        reported: set[int] = set()
        for call in self._calls:
            function = self._defined.get(call.callee)
            if function is None or function.creates is None or function.reuses or id(call.node) in reported:
                continue
            if call.in_loop and call.caller.reuses:
                continue
            reported.add(id(call.node))
            name = call.callee.rpartition(".")[2]
            if call.in_loop:
                when = f"`{code_of(call.node, 50)}` runs on every pass of this loop, in one graph"
            else:
                when = f"`{code_of(call.node, 50)}` calls `{name}` again after `{code_of(call.first, 40)}`, in the same graph"
            self.report(
                call.node,
                f"{when}, and `{name}` creates its variables with `tf.get_variable` under "
                f"`tf.variable_scope(\"{function.creates}\")` without `reuse`: the second call raises `ValueError: "
                f"Variable {function.creates}/... already exists, disallowed`; open the scope with "
                "`reuse=tf.AUTO_REUSE` (or give the function a `reuse` parameter, True after the first call)",
            )
