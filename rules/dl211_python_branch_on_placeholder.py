"""DL211 python-branch-on-placeholder."""

from __future__ import annotations

import re

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import target_names

_PLACEHOLDERS = frozenset({"placeholder", "placeholder_with_default"})
_IDENTITY = (cst.Equal, cst.NotEqual)
_ORDERING = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)


class PythonBranchOnPlaceholder(Rule):
    """
    ## What it does
    Finds a Python `if`, `elif`, `while` or conditional expression whose test is a
    TensorFlow placeholder (`x = tf.placeholder(...)`, `placeholder_with_default`) in
    the same function or at module level: the placeholder itself (`if x:`, `if not x:`),
    or compared with `==`, `!=`, `<`, `<=`, `>` or `>=`, alone or in an `and`/`or`.
    The name must still hold the placeholder where it is tested: a name rebound in
    between (`x = sess.run(x)`, a loop target, a parameter) is not reported, and
    neither are tests of what a placeholder has, not what it is fed
    (`x is None`, `x.shape[0] == 1`, `x.dtype == tf.float32`).

    ## Why is this bad
    A placeholder is a symbolic tensor: the value fed at `sess.run` does not exist when
    Python evaluates the test, which happens once, while the graph is built. In graph
    mode `x == 0` compares Python objects and is always `False` (`!=` always `True`),
    whatever is fed later, so the branch is silently never (or always) taken. `x > 0`,
    `if x:` and `not x` ask for the truth of a tensor and fail:

        TypeError: Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not None:` instead of
        `if t:` to test if a tensor is defined, and use TensorFlow ops such as tf.cond to execute subgraphs
        conditioned on the value of a tensor.

    (TensorFlow 2's `tf.compat.v1` graph mode raises `OperatorNotAllowedInGraphError`,
    a `TypeError`, with the same first sentence.)

    ## Example
    ```python
    is_training = tf.placeholder(tf.bool)
    if is_training == True:
        net = tf.nn.dropout(net, keep_prob=0.5)
    ```

    ## Use instead
    ```python
    is_training = tf.placeholder(tf.bool)
    net = tf.cond(is_training, lambda: tf.nn.dropout(net, keep_prob=0.5), lambda: net)
    ```
    Decide in the graph with `tf.cond` (or `tf.where`, `tf.while_loop`), or decide in
    Python on the value before feeding it.

    ## Fix safety
    No automatic fix: `tf.cond` needs both branches written as functions that return
    tensors of the same structure.
    """

    code = "DL211"
    name = "python-branch-on-placeholder"
    severity = Severity.ERROR
    summary = "Python if/while on a tf.placeholder: always the same branch, or TypeError"
    triggers = ("placeholder",)
    also_triggers = ("if", "while")
    trigger_pattern = re.compile("tensorflow")  # TF1 symbols resolve through an import of it

    VALID = (
        "import tensorflow as tf\nis_training = tf.placeholder(tf.bool)\n"
        "net = tf.cond(is_training, lambda: tf.nn.dropout(net, 0.5), lambda: net)\n",
        "import tensorflow as tf\nx = tf.placeholder(tf.float32, [None, 3])\nif x.shape[1] == 3:\n    y = x\n",
        "import tensorflow as tf\nx = tf.placeholder(tf.float32)\nx = sess.run(x, feed)\nif x > 0:\n    print(x)\n",
        "import tensorflow as tf\nx = tf.placeholder(tf.float32)\nif x is not None:\n    y = x\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nis_training = tf.placeholder(tf.bool)\nif is_training == True:\n"
        "    net = tf.nn.dropout(net, keep_prob=0.5)\n",
        "import tensorflow.compat.v1 as tf\ndef step(lr):\n    a = tf.placeholder(tf.int32)\n    while a > 0:\n"
        "        lr *= 0.5\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        # One dict per function (and the module): name -> it holds a placeholder now.
        self._scopes: list[dict[str, bool]] = [{}]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope: dict[str, bool] = {}
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            scope[param.name.value] = False
        for star in (params.star_arg, params.star_kwarg):
            if type(star) is cst.Param:
                scope[star.name.value] = False
        self._scopes.append(scope)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._scopes.append({param.name.value: False for param in node.params.params})

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._scopes.pop()

    # -- bindings: the test reads the binding that precedes it ----------------------
    def leave_Assign(self, original_node: cst.Assign) -> None:
        value = original_node.value
        holds = type(value) is cst.Call and tf_symbol(self.names.qualify(value.func)) in _PLACEHOLDERS
        for target in original_node.targets:
            for name in target_names(target.target):
                self._scopes[-1][name] = holds and type(target.target) is cst.Name

    def _rebind(self, target: cst.BaseExpression) -> None:
        for name in target_names(target):
            self._scopes[-1][name] = False

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._rebind(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._rebind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._rebind(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._rebind(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._rebind(node.target)

    def _is_placeholder(self, expr: cst.BaseExpression) -> bool:
        if type(expr) is not cst.Name:
            return False
        local = self._scopes[-1]
        if expr.value in local:
            return local[expr.value]
        return self._scopes[0].get(expr.value, False) if len(self._scopes) > 1 else False

    # -- tests --------------------------------------------------------------------
    def visit_If(self, node: cst.If) -> None:
        self._check(node.test, "if")

    def visit_While(self, node: cst.While) -> None:
        self._check(node.test, "while")

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._check(node.test, "if")

    def _check(self, test: cst.BaseExpression, keyword: str) -> None:
        if type(test) is cst.BooleanOperation:
            self._check(test.left, keyword)
            self._check(test.right, keyword)
            return
        if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            test = test.expression
        if self._is_placeholder(test):
            assert type(test) is cst.Name
            self._report_truth(test, test.value)
            return
        if type(test) is not cst.Comparison or len(test.comparisons) != 1:
            return
        (comparison,) = test.comparisons
        sides = [side for side in (test.left, comparison.comparator) if self._is_placeholder(side)]
        if not sides:
            return
        name = sides[0].value  # type: ignore[attr-defined]
        if isinstance(comparison.operator, _IDENTITY):
            always = "False" if type(comparison.operator) is cst.Equal else "True"
            effect = {
                ("if", "False"): "the branch never runs",
                ("if", "True"): "the branch always runs",
                ("while", "False"): "the loop never runs",
                ("while", "True"): "the loop never ends",
            }[(keyword, always)]
            self.report(
                test,
                f"`{self.context.module.code_for_node(test)}` compares the placeholder `{name}` itself, not the "
                f"value fed into it, while the graph is built: in graph mode this is always {always} and "
                f"{effect}, whatever is fed; decide in the graph (`tf.cond(tf.equal({name}, ...), ...)`) or in "
                "Python on the value before feeding it",
            )
        elif isinstance(comparison.operator, _ORDERING):
            self._report_truth(test, name)

    def _report_truth(self, node: cst.BaseExpression, name: str) -> None:
        self.report(
            node,
            f"a Python `if`/`while` asks for the truth of the placeholder `{name}`, which has no value while the "
            "graph is built: it raises TypeError (\"Using a `tf.Tensor` as a Python `bool` is not allowed\"); "
            f"decide in the graph (`tf.cond({name}, ...)`, `tf.where`, `tf.while_loop`) or in Python on the value "
            "before feeding it",
        )
