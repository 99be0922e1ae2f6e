"""DL215 stateful-result-discarded."""

from __future__ import annotations

import re

import libcst as cst

from dldoctor.lint.bindings import Bindings, BlockHooks
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import code_of, target_names
from dldoctor.rules.dl212_variable_initialized_from_variable import runs_tf1_graph

_TENSOR_ARRAY = "TensorArray"
# TensorArray methods that return a new TensorArray holding the change (the receiver does not).
_TA_UPDATES = frozenset({"write", "unstack", "scatter", "split"})
# Mutable lookup tables, whose `insert` is an op to run.
_TABLES = frozenset(
    {
        "contrib.lookup.MutableHashTable",
        "contrib.lookup.MutableDenseHashTable",
        "lookup.experimental.MutableHashTable",
        "lookup.experimental.MutableDenseHashTable",
        "lookup.experimental.DenseHashTable",
    }
)
_FUNCTION = "function"


class _Array:
    """A name's value is a TensorArray."""


class _Table:
    """A name's value is a mutable lookup table."""


ARRAY, TABLE = _Array(), _Table()


class StatefulResultDiscarded(BlockHooks, Rule):
    """
    ## What it does
    Finds an update whose result is thrown away where nothing else will run it:

    - `ta.write(i, x)` (or `ta.unstack(...)`, `ta.scatter(...)`, `ta.split(...)`) as a
      statement, on a name bound to a `tf.TensorArray(...)` (or to an earlier update
      of one), inside a `@tf.function` or in TensorFlow 1 graph code (a module that
      makes a `tf.Session`, a `Supervisor` or a `MonitoredTrainingSession`);
    - `table.insert(keys, values)` as a statement, on a name bound to a mutable lookup
      table (`MutableHashTable`, `MutableDenseHashTable`, `DenseHashTable`), in
      TensorFlow 1 graph code outside any `@tf.function`.

    Not reported: eager code, where both take effect at once (an eager TensorArray
    changes in place), a receiver whose value is not known (a parameter), and an
    insert inside a `@tf.function`, whose stateful ops run by themselves.

    ## Why is this bad
    A TensorArray is a value: `write` returns a new TensorArray that holds the element,
    and the old one does not. Written as a statement, the element is lost, and what is
    read afterwards is zeros (in a `tf.function`, with only a log line, `Object was never
    used (type <class '...TensorArray'>)`), or in graph mode `InvalidArgumentError:
    TensorArray TensorArray_0: Could not read from TensorArray index 0`. In TF1 graph mode a
    table's `insert` is an op like any other: it runs when a `sess.run` fetches it, so as
    a statement it never runs and lookups keep returning the default value.

    ## Example
    ```python
    @tf.function
    def running_sums(values):
        sums = tf.TensorArray(tf.float32, size=len(values))
        total = 0.0
        for i in range(len(values)):
            total += values[i]
            sums.write(i, total)
        return sums.stack()
    ```

    ## Use instead
    ```python
    @tf.function
    def running_sums(values):
        sums = tf.TensorArray(tf.float32, size=len(values))
        total = 0.0
        for i in range(len(values)):
            total += values[i]
            sums = sums.write(i, total)
        return sums.stack()
    ```
    Rebind the TensorArray to what `write` returns; run an `insert` (`sess.run(insert_op)`),
    or make the ops that read the table depend on it (`tf.control_dependencies`).

    ## Fix safety
    No automatic fix: rebinding the TensorArray is safe where the statement stands, but a
    write inside a loop body function must also be returned from it, which only the
    author can arrange.
    """

    code = "DL215"
    name = "stateful-result-discarded"
    severity = Severity.ERROR
    summary = "ta.write(i, x) as a statement (TensorArray is a value) or table.insert() never run: the update is lost"
    triggers = ("TensorArray", "HashTable")
    trigger_pattern = re.compile("tensorflow")  # TF symbols resolve through an import of it

    VALID = (
        "import tensorflow as tf\n@tf.function\ndef f(x):\n    ta = tf.TensorArray(tf.float32, size=3)\n"
        "    for i in range(3):\n        ta = ta.write(i, x[i])\n    return ta.stack()\n",
        # Eager: the TensorArray changes in place.
        "import tensorflow as tf\nta = tf.TensorArray(tf.float32, size=2)\nta.write(0, 1.0)\nta.write(1, 2.0)\nprint(ta.stack())\n",
        "import tensorflow as tf\ntable = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, -1)\n"
        "insert_op = table.insert(keys, values)\nsess = tf.Session()\nsess.run(insert_op)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\n@tf.function\ndef f(x):\n    ta = tf.TensorArray(tf.float32, size=3)\n"
        "    for i in range(3):\n        ta.write(i, x[i])\n    return ta.stack()\n",
        "import tensorflow.compat.v1 as tf\ntable = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, -1)\n"
        "table.insert(keys, values)\nsess = tf.Session()\nprint(sess.run(table.lookup(keys)))\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.bindings = Bindings()
        self._traced: list[bool] = [False]  # per function: decorated with `tf.function`
        self._pending: list[tuple[cst.Call, str, bool]] = []  # (statement call, what, in a tf.function)
        self._graph_mode = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.bindings.bind(node.name.value, None)
        params = node.params
        names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
        names += [star.name.value for star in (params.star_arg, params.star_kwarg) if type(star) is cst.Param]
        self.bindings.enter_function(names)
        traced = any(self._is_tf_function(decorator.decorator) for decorator in node.decorators)
        self._traced.append(traced or self._traced[-1])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.bindings.leave_function()
        self._traced.pop()

    def _is_tf_function(self, decorator: cst.BaseExpression) -> bool:
        if type(decorator) is cst.Call:
            decorator = decorator.func
        return tf_symbol(self.names.qualify(decorator)) == _FUNCTION

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.bindings.enter_function([p.name.value for p in node.params.params])

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.bindings.leave_function()

    # -- bindings ------------------------------------------------------------------------
    def leave_Assign(self, original_node: cst.Assign) -> None:
        meaning = self._value(original_node.value)
        for target in original_node.targets:
            self._bind(target.target, meaning)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._bind(original_node.target, self._value(original_node.value))

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._bind(original_node.target, None)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, None)

    def _bind(self, target: cst.BaseExpression, meaning: object | None) -> None:
        if type(target) is cst.Name:
            self.bindings.bind(target.value, meaning)
        else:
            for name in target_names(target):
                self.bindings.bind(name, None)

    def _value(self, expr: cst.BaseExpression | None) -> object | None:
        """ARRAY, TABLE, or None, for what `expr` evaluates to."""
        if type(expr) is cst.Name:
            return self.bindings.lookup(expr.value)
        if type(expr) is not cst.Call:
            return None
        symbol = tf_symbol(self.names.qualify(expr.func))
        if symbol == _TENSOR_ARRAY:
            return ARRAY
        if symbol in _TABLES:
            return TABLE
        func = expr.func
        if type(func) is cst.Attribute and func.attr.value in _TA_UPDATES and self._value(func.value) is ARRAY:
            return ARRAY
        return None

    # -- statements ----------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        if runs_tf1_graph(tf_symbol(self.names.qualify(node.func))):
            self._graph_mode = True

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if type(call) is not cst.Call or type(call.func) is not cst.Attribute:
            return
        method = call.func.attr.value
        receiver = self._value(call.func.value)
        if method in _TA_UPDATES and receiver is ARRAY:
            self._pending.append((call, "array", self._traced[-1]))
        elif method == "insert" and receiver is TABLE and not self._traced[-1]:
            self._pending.append((call, "table", False))

    def leave_Module(self, original_node: cst.Module) -> None:
        for call, what, traced in self._pending:
            if not (traced or self._graph_mode):
                continue
            assert type(call.func) is cst.Attribute
            receiver = code_of(call.func.value, 30)
            method = call.func.attr.value
            if what == "array":
                where = "in a `tf.function`" if traced else "in graph mode"
                self.report(
                    call,
                    f"`{code_of(call, 50)}` throws its result away: a TensorArray is a value, `{method}` returns a new "
                    f"one holding the change and `{receiver}` stays as it was, so {where} the element is lost and "
                    f"reads give zeros or fail (`Could not read from TensorArray index ...`); write "
                    f"`{receiver} = {code_of(call, 40)}`",
                )
            else:
                self.report(
                    call,
                    f"`{code_of(call, 50)}` only adds an insert op to the graph, and nothing runs it: in graph mode an op "
                    "runs when a `sess.run` fetches it (or an op that depends on it), so the table is never filled "
                    f"and lookups return the default value; keep the op (`insert_op = {code_of(call, 40)}`) and run it",
                )
