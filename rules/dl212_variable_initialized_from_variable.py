"""DL212 variable-initialized-from-variable.

Also home of `runs_tf1_graph`, which DL214 and DL215 use too: the calls that show a
module runs TensorFlow 1 graphs in a session, where an op that nothing runs never runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from dldoctor.lint import target as target_environment
from dldoctor.lint.bindings import Bindings, BlockHooks
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, target_names

# Calls that make (or start making) a TF1 session: the module runs graphs, not eager code.
TF1_SESSIONS = frozenset(
    {
        "Session",
        "InteractiveSession",
        "train.MonitoredTrainingSession",
        "train.MonitoredSession",
        "train.SingularMonitoredSession",
        "train.Supervisor",
    }
)
# Calls that run every global variable's initializer.
_INITIALIZING = frozenset(
    {
        "global_variables_initializer",
        "initialize_all_variables",
        "initializers.global_variables",
        "train.MonitoredTrainingSession",
        "train.MonitoredSession",
        "train.SingularMonitoredSession",
        "train.Supervisor",
    }
)
_VARIABLE = "Variable"
_GET_VARIABLE = "get_variable"
# TensorFlow calls of a tensor that read only its static shape or type, never its value.
_NOT_READS = frozenset({"shape", "size", "rank", "zeros_like", "ones_like", "shape_n"})
# TensorFlow 1.3 made each initializer fall back to a variable's own initial value while
# that variable is uninitialized (one level deep only); before it, any direct read raced.
_GUARDED_SINCE = (1, 3)


def runs_tf1_graph(symbol: str | None) -> bool:
    """Whether a call of this TensorFlow symbol makes a TF1 session."""
    return symbol in TF1_SESSIONS


@dataclass(eq=False)
class _Variable:
    node: cst.Call  # the `tf.Variable(...)` / `tf.get_variable(...)` call
    name: str  # what the code calls it
    # The variables its initial value reads directly (not through `initialized_value()`),
    # with the expression that reads each.
    sources: tuple[tuple[str, _Variable], ...]


class VariableInitializedFromVariable(BlockHooks, Rule):
    """
    ## What it does
    In TensorFlow 1 graph code (a module that makes a `tf.Session`, a `Supervisor` or a
    `MonitoredTrainingSession` and runs a global initializer), finds a variable whose
    initial value reads another variable directly (`tf.Variable(w1 * 2)`,
    `tf.get_variable("w2", initializer=tf.matmul(w1, w1))`), where that other variable's
    own initial value reads a third variable directly: a chain of two. With a target
    TensorFlow older than 1.3 one link is enough. The variables are followed by value (a
    name bound to `tf.Variable(...)` or `tf.get_variable(...)` in the same function,
    or `self.w` in the same method), not by name.

    Not reported: a read through `.initialized_value()` or `.initial_value` (the
    fix), reads of a shape or type only (`w.shape`, `tf.shape(w)`, `tf.zeros_like(w)`),
    a value passed through a function of the project (what it reads is not known),
    and eager code, where every variable is initialized when it is created.

    ## Why is this bad
    `tf.global_variables_initializer()` runs every variable's initializer at once, in no
    particular order. An initializer that reads another variable may run before that one
    is initialized. TensorFlow 1.3 and later guard a direct read (they fall back to the
    other variable's initial value while it is uninitialized), but that fallback reads,
    unguarded, whatever the other initial value reads, so one variable initialized from
    a variable that was itself initialized from a variable fails at every run:

        FailedPreconditionError: Attempting to use uninitialized value Variable
        	 [[{{node Variable/read}}]]

    (with resource variables: `Could not find variable Variable_1 ... In TF1, it can also
    mean the variable is uninitialized`). Before TensorFlow 1.3 a single direct read
    fails now and then, depending on the order the initializers happen to run in.

    ## Example
    ```python
    w1 = tf.Variable(tf.random_normal([784, 200], stddev=0.35))
    w2 = tf.Variable(w1 * 2.0)
    w3 = tf.Variable(w2 + 1.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
    ```

    ## Use instead
    ```python
    w1 = tf.Variable(tf.random_normal([784, 200], stddev=0.35))
    w2 = tf.Variable(w1.initialized_value() * 2.0)
    w3 = tf.Variable(w2.initialized_value() + 1.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
    ```
    `initialized_value()` makes the initializer wait for the other variable's.

    ## Fix safety
    No automatic fix: `initialized_value()` goes on the read of each variable in the
    chain, which may sit deep in the expression; the author knows which reads are meant.
    """

    code = "DL212"
    name = "variable-initialized-from-variable"
    severity = Severity.ERROR
    summary = "tf.Variable initialized from a variable initialized from a variable, without initialized_value(): FailedPreconditionError"
    triggers = ("Variable(", "get_variable(")
    also_triggers = ("Session", "Supervisor", "MonitoredTrainingSession", "MonitoredSession")
    trigger_pattern = re.compile("tensorflow")  # TF1 symbols resolve through an import of it
    reads_installed = (target_environment.LIBRARIES["tensorflow"][1],)

    VALID = (
        "import tensorflow as tf\nw1 = tf.Variable(tf.random_normal([3, 3]))\nw2 = tf.Variable(w1.initialized_value() * 2)\n"
        "w3 = tf.Variable(w2.initialized_value() + 1)\nsess = tf.Session()\nsess.run(tf.global_variables_initializer())\n",
        # One link is guarded since TensorFlow 1.3.
        "import tensorflow as tf\nw1 = tf.Variable(tf.random_normal([3, 3]))\nw2 = tf.Variable(w1 * 2)\n"
        "sess = tf.Session()\nsess.run(tf.global_variables_initializer())\n",
        # Eager code: every variable is initialized as it is created.
        "import tensorflow as tf\nw1 = tf.Variable(tf.random.normal([3, 3]))\nw2 = tf.Variable(w1 * 2)\nw3 = tf.Variable(w2 + 1)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nw1 = tf.Variable(tf.random_normal([3, 3]))\nw2 = tf.Variable(w1 * 2)\n"
        "w3 = tf.Variable(w2 + 1)\nsess = tf.Session()\nsess.run(tf.global_variables_initializer())\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.bindings = Bindings()
        self._attributes: list[dict[str, _Variable]] = [{}]  # `self.w` -> its variable, per function
        self._made: list[_Variable] = []
        self._graph_mode = False
        self._initialized = False

    # -- scopes --------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.bindings.bind(node.name.value, None)
        params = node.params
        names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
        names += [star.name.value for star in (params.star_arg, params.star_kwarg) if type(star) is cst.Param]
        self.bindings.enter_function(names)
        self._attributes.append({})

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.bindings.leave_function()
        self._attributes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.bindings.enter_function([p.name.value for p in node.params.params])
        self._attributes.append({})

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.bindings.leave_function()
        self._attributes.pop()

    # -- bindings ------------------------------------------------------------------------
    def leave_Assign(self, original_node: cst.Assign) -> None:
        made = self._variable_of(original_node.value)
        for target in original_node.targets:
            self._bind(target.target, made)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._bind(original_node.target, self._variable_of(original_node.value))

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._bind(original_node.target, None)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, None)

    def _bind(self, target: cst.BaseExpression, made: _Variable | None) -> None:
        if type(target) is cst.Name:
            self.bindings.bind(target.value, made)
        elif type(target) is cst.Attribute:
            name = dotted_name(target)
            if name is not None:
                if made is not None:
                    self._attributes[-1][name] = made
                else:
                    self._attributes[-1].pop(name, None)
        else:
            for name in target_names(target):
                self.bindings.bind(name, None)

    def _lookup(self, expr: cst.BaseExpression) -> _Variable | None:
        if type(expr) is cst.Name:
            found = self.bindings.lookup(expr.value)
            return found if isinstance(found, _Variable) else None
        if type(expr) is cst.Attribute:
            name = dotted_name(expr)
            return self._attributes[-1].get(name) if name is not None else None
        return None

    # -- variables -----------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        symbol = tf_symbol(self.names.qualify(node.func))
        if symbol is None:
            return
        if runs_tf1_graph(symbol):
            self._graph_mode = True
        if symbol in _INITIALIZING:
            self._initialized = True

    def _variable_of(self, value: cst.BaseExpression | None) -> _Variable | None:
        """The variable `value` creates, with what its initial value reads."""
        if type(value) is not cst.Call:
            return None
        symbol = tf_symbol(self.names.qualify(value.func))
        if symbol == _VARIABLE:
            initial = call_argument(value, 0, "initial_value")
        elif symbol == _GET_VARIABLE:
            initial = call_argument(value, None, "initializer")
        else:
            return None
        sources: list[tuple[str, _Variable]] = []
        if initial is not None:
            self._reads(initial, sources)
        made = _Variable(value, code_of(value, 40), tuple(sources))
        self._made.append(made)
        return made

    def _reads(self, expr: cst.BaseExpression, found: list[tuple[str, _Variable]]) -> None:
        """The variables whose value `expr` computes from: operands of operators, items of
        lists, subscripted values and the arguments of TensorFlow calls."""
        variable = self._lookup(expr)
        if variable is not None:
            found.append((code_of(expr, 30), variable))
            return
        if type(expr) is cst.BinaryOperation:
            self._reads(expr.left, found)
            self._reads(expr.right, found)
        elif type(expr) is cst.UnaryOperation:
            self._reads(expr.expression, found)
        elif type(expr) in (cst.List, cst.Tuple):
            for element in expr.elements:
                self._reads(element.value, found)
        elif type(expr) is cst.Subscript:
            self._reads(expr.value, found)
        elif type(expr) is cst.Call:
            symbol = tf_symbol(self.names.qualify(expr.func))
            if symbol is None or symbol.rsplit(".", 1)[-1] in _NOT_READS:
                return
            for arg in expr.args:
                if arg.star == "":
                    self._reads(arg.value, found)

    # -- judgement -----------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        if not (self._graph_mode and self._initialized):
            return
        version = self.context.target.version("tensorflow")
        released = target_environment.release(version) if version is not None else None
        unguarded = released is not None and released[:2] < _GUARDED_SINCE
        for made in self._made:
            for name, source in made.sources:
                if source.sources:
                    further = source.sources[0][0]
                    self.report(
                        made.node,
                        f"`{made.name}` is initialized from `{name}`, whose own initial value reads "
                        f"`{further}`: the global initializer runs every initializer at once, and TensorFlow "
                        "guards only one level of such reads, so this fails with `FailedPreconditionError: "
                        "Attempting to use uninitialized value ...`; read the other variables through "
                        f"`{name}.initialized_value()` (and `{further}.initialized_value()` there)",
                    )
                    break
                if unguarded:
                    self.report(
                        made.node,
                        f"`{made.name}` is initialized from the variable `{name}`: the global initializer runs every "
                        f"initializer at once, and TensorFlow {target_environment.shown(version)} does not order "
                        "them, so it fails now and then with `FailedPreconditionError: Attempting to use "
                        f"uninitialized value ...`; use `{name}.initialized_value()`",
                    )
                    break
