"""DL217 op-outside-its-block."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import ImportTable, dotted_name, tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of

# Functions that make an op whose point is its effect (symbols without the module path).
_STATEFUL_FUNCTIONS = frozenset({
    "assign", "assign_add", "assign_sub", "scatter_update", "scatter_add", "scatter_sub", "scatter_mul",
    "scatter_div", "scatter_max", "scatter_min", "scatter_nd_update", "scatter_nd_add", "scatter_nd_sub",
    "Print", "print", "compat.v1.assign", "compat.v1.assign_add", "compat.v1.assign_sub",
})
# Methods that make such an op on any TensorFlow object (`v.assign(x)`, `opt.minimize(loss)`).
_STATEFUL_METHODS = frozenset({
    "assign", "assign_add", "assign_sub", "scatter_update", "scatter_add", "scatter_sub",
    "minimize", "apply_gradients", "enqueue", "enqueue_many",
})
_MOVING_AVERAGE = "train.ExponentialMovingAverage"
_BRANCH_KEYWORDS = (("true_fn", "fn1"), ("false_fn", "fn2"))


def _is_cond(symbol: str | None) -> bool:
    return symbol == "cond" or (symbol or "").endswith("control_flow_ops.cond")


def _is_dependencies(names: ImportTable, call: cst.Call) -> bool:
    """`tf.control_dependencies(...)`, `ops.control_dependencies(...)`, `graph.control_dependencies(...)`."""
    symbol = tf_symbol(names.qualify(call.func))
    if symbol is not None:
        return symbol == "control_dependencies" or symbol.endswith("ops.control_dependencies")
    return type(call.func) is cst.Attribute and call.func.attr.value == "control_dependencies"


# Nodes whose presence in a block may create an op (a call, a Python operator on a
# tensor, a slice) or hand control to code that does (`yield` in a context manager).
_MAY_BUILD = (
    cst.Call, cst.BinaryOperation, cst.UnaryOperation, cst.Subscript, cst.AugAssign, cst.Yield, cst.Await,
    cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.For, cst.While, cst.With,
    cst.FunctionDef, cst.ClassDef, cst.Import, cst.ImportFrom, cst.Raise, cst.Del, cst.NamedExpr,
)


class _Builds(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, _MAY_BUILD):
            self.found = True
        return not self.found


def _builds_nothing(body: cst.BaseSuite) -> bool:
    probe = _Builds()
    body.visit(probe)
    return not probe.found


def _handed_back(body: cst.BaseSuite) -> cst.CSTNode | None:
    """The first `name = value` or `return value` of a block: what the author expects to be ordered."""
    statements = body.body if type(body) is cst.IndentedBlock else (body,)
    for statement in statements:
        lines = statement.body if type(statement) in (cst.SimpleStatementLine, cst.SimpleStatementSuite) else ()
        for small in lines:
            if type(small) in (cst.Assign, cst.AnnAssign) and small.value is not None:
                return small
            if type(small) is cst.Return and small.value is not None:
                return small
    return None


@dataclass(eq=False)
class _Name:
    binding: cst.Assign | None = None  # the one `name = <stateful op>` outside any branch
    bindings: int = 0  # every binding of the name in the module (assignments, parameters, loop targets)
    effect_uses: list[cst.CSTNode] = field(default_factory=list)  # control inputs / results of a branch
    other_uses: int = 0


class _BranchUses(cst.CSTVisitor):
    """Where each name is bound and used, and which uses sit in a `tf.cond` branch as a
    control input (`control_dependencies([op])`, `tf.group(op)`) or as the branch's result."""

    def __init__(self, names: ImportTable, branches: set[int], branch_names: dict[str, int]) -> None:
        self.names = names
        self.branches = branches  # ids of branch lambdas
        self.branch_names = branch_names  # function name -> how many `def`s, for branches passed by name
        self.depth = 0  # branch code open here
        self.table: dict[str, _Name] = {}
        self.averages: set[str] = set()  # names bound to a tf.train.ExponentialMovingAverage
        self._effect: set[int] = set()  # Name nodes in an effect-only position
        self._bound: set[int] = set()  # Name nodes that bind

    def _entry(self, name: str) -> _Name:
        return self.table.setdefault(name, _Name())

    def _branch(self, node: cst.CSTNode) -> bool:
        if type(node) is cst.Lambda:
            return id(node) in self.branches
        return type(node) is cst.FunctionDef and self.branch_names.get(node.name.value) == 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._enter(node)
        if self._branch(node) and type(node.body) is cst.Name:
            self._effect.add(id(node.body))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._leave(original_node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enter(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._leave(original_node)

    def _enter(self, node: cst.Lambda | cst.FunctionDef) -> None:
        for param in (*node.params.params, *node.params.kwonly_params, *node.params.posonly_params):
            self._entry(param.name.value).bindings += 1
            self._bound.add(id(param.name))
        if self._branch(node):
            self.depth += 1

    def _leave(self, node: cst.Lambda | cst.FunctionDef) -> None:
        if self._branch(node):
            self.depth -= 1

    def visit_Return(self, node: cst.Return) -> None:
        if self.depth and type(node.value) is cst.Name:
            self._effect.add(id(node.value))

    def visit_Call(self, node: cst.Call) -> None:
        if not self.depth:
            return
        grouped = tf_symbol(self.names.qualify(node.func)) == "group"
        if grouped:
            elements = [arg.value for arg in node.args]
        elif _is_dependencies(self.names, node):
            deps = call_argument(node, 0, "control_inputs")
            elements = [e.value for e in deps.elements] if type(deps) in (cst.List, cst.Tuple) else []
        else:
            return
        self._effect.update(id(element) for element in elements if type(element) is cst.Name)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            for name in _bound_names(target.target):
                entry = self._entry(name.value)
                entry.bindings += 1
                self._bound.add(id(name))
                if len(node.targets) == 1 and target.target is name and not self.depth and self._stateful(node.value):
                    entry.binding = node
            if type(target.target) is cst.Name and type(node.value) is cst.Call and tf_symbol(
                    self.names.qualify(node.value.func)) == _MOVING_AVERAGE:
                self.averages.add(target.target.value)

    def _rebind(self, target: cst.BaseExpression) -> None:
        for name in _bound_names(target):
            self._entry(name.value).bindings += 1
            self._bound.add(id(name))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._rebind(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._rebind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._rebind(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._rebind(node.name)

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self._entry(item.name.value).bindings += 2  # bound elsewhere too: not known

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for item in node.names:
            self._entry(item.name.value).bindings += 2

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self._bound:
            return
        entry = self.table.get(node.value)
        if entry is None:
            entry = self._entry(node.value)
        if self.depth and id(node) in self._effect:
            entry.effect_uses.append(node)
        else:
            entry.other_uses += 1

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False  # `f(name=...)`: a keyword is no use of a variable

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False  # `x.attr`: the attribute's name is no use of a variable `attr`

    def _stateful(self, value: cst.BaseExpression) -> bool:
        if type(value) is not cst.Call:
            return False
        symbol = tf_symbol(self.names.qualify(value.func))
        if symbol is not None:
            return symbol in _STATEFUL_FUNCTIONS
        func = value.func
        if type(func) is not cst.Attribute:
            return False
        if func.attr.value == "apply":
            return type(func.value) is cst.Name and func.value.value in self.averages
        return func.attr.value in _STATEFUL_METHODS


def _names_in(expr: cst.BaseExpression) -> set[str | None]:
    """The names and dotted names a tuple, list or single value is made of."""
    if type(expr) in (cst.Tuple, cst.List):
        return set().union(*(_names_in(element.value) for element in expr.elements))
    return {dotted_name(expr)}


def _bound_names(target: cst.BaseExpression):
    if type(target) is cst.Name:
        yield target
    elif type(target) in (cst.Tuple, cst.List):
        for element in target.elements:
            yield from _bound_names(element.value)
    elif type(target) is cst.StarredElement:
        yield from _bound_names(target.value)


class OpOutsideItsBlock(Rule):
    """
    ## What it does
    In TensorFlow graph code, finds an op meant to be ordered or conditioned by a block
    that was created outside it:

    - a `with tf.control_dependencies([update]):` block whose body creates no op at all:
      it only binds or returns a tensor made before the block (`y = x`, `return loss`,
      `train_op = train_op`), with no call, operator or slice in it;
    - a stateful op (`tf.assign`, `var.assign(...)`, `scatter_update`, `ema.apply(...)` of
      a `tf.train.ExponentialMovingAverage`, `tf.Print`, `opt.minimize(...)`,
      `queue.enqueue(...)`) bound to a name outside a `tf.cond` branch and used only
      inside the branches, as a control input (`control_dependencies([op])`,
      `tf.group(op)`) or as the branch's result (`lambda: op`, `return op`). The name
      must be bound once in the module.

    Not reported: a block that creates any op (`tf.identity(x)`, `opt.minimize(loss)`),
    an op made inside the branch function (the fix), and an op also used outside the
    branches, which runs every step on purpose.

    ## Why is this bad
    Control dependencies apply to the ops *created* inside the block. `y = x` creates
    nothing: `y` is the same tensor as `x`, fetching it does not run `update`, and the
    value read is the one before the update, with no error. Likewise `tf.cond` runs only
    the ops created inside the branch functions conditionally; an op created before the
    `tf.cond` and only referenced in a branch runs whenever the branch's output is
    fetched, whichever branch is taken (the assignment happens on `pred=False` too, the
    moving averages are updated at test time too). Run with TensorFlow 1 graph mode:

        inc = tf.assign_add(x, 1.0)
        with tf.control_dependencies([inc]):
            y = x
        [sess.run(y) for _ in range(3)]   # [0.0, 0.0, 0.0], not [1.0, 2.0, 3.0]

    ## Example
    ```python
    assign_x_2 = tf.assign(x, [2])

    def update_x_2():
        with tf.control_dependencies([assign_x_2]):
            return tf.identity(x)

    y = tf.cond(pred, update_x_2, lambda: tf.identity(x))  # x becomes 2 on pred=False too
    ```

    ## Use instead
    ```python
    def update_x_2():
        with tf.control_dependencies([tf.assign(x, [2])]):  # created in the branch
            return tf.identity(x)

    y = tf.cond(pred, update_x_2, lambda: tf.identity(x))
    ```
    and inside a `control_dependencies` block create the op there: `y = tf.identity(x)`.

    ## Fix safety
    No automatic fix: moving an op into a block changes what depends on it.
    """

    code = "DL217"
    name = "op-outside-its-block"
    severity = Severity.ERROR
    summary = "an op made outside the control_dependencies block or tf.cond branch meant to order it: it runs unordered or unconditionally"
    triggers = ("control_dependencies", "cond(")
    trigger_pattern = None

    VALID = (
        "import tensorflow.compat.v1 as tf\ninc = tf.assign_add(x, 1.0)\nwith tf.control_dependencies([inc]):\n"
        "    y = tf.identity(x)\n",
        "import tensorflow.compat.v1 as tf\ndef update():\n    with tf.control_dependencies([tf.assign(x, [2])]):\n"
        "        return tf.identity(x)\ny = tf.cond(pred, update, lambda: tf.identity(x))\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\ninc = tf.assign_add(x, 1.0)\nwith tf.control_dependencies([inc]):\n    y = x\n",
        "import tensorflow.compat.v1 as tf\nassign_x_2 = tf.assign(x, [2])\ndef update():\n"
        "    with tf.control_dependencies([assign_x_2]):\n        return tf.identity(x)\n"
        "y = tf.cond(pred, update, lambda: tf.identity(x))\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._tensorflow = False
        self._branch_lambdas: set[int] = set()
        self._branch_names: set[str] = set()
        self._defs: dict[str, int] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._defs[node.name.value] = self._defs.get(node.name.value, 0) + 1

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            call = item.item
            if not (type(call) is cst.Call and _is_dependencies(self.names, call)):
                continue
            deps = call_argument(call, 0, "control_inputs")
            if deps is None or (type(deps) is cst.Name and deps.value == "None"):
                continue  # `control_dependencies(None)` clears the dependencies: nothing to order
            if type(deps) in (cst.List, cst.Tuple) and not deps.elements:
                continue
            if len(node.items) > 1 or not _builds_nothing(node.body):
                continue
            handed = _handed_back(node.body)
            if handed is None:
                continue
            ordered = {dotted_name(e.value) for e in deps.elements} if type(deps) in (cst.List, cst.Tuple) else set()
            if _names_in(handed.value) <= ordered:
                continue  # `update_op = (op_a, op_b)` with both as dependencies: fetching it runs them
            written = code_of(handed, 40)
            value = code_of(handed.value, 30)
            self.report(
                handed,
                f"`{written}` is all this `with {code_of(call, 50)}:` block does, and it creates no op: control "
                f"dependencies apply only to ops created inside the block, and `{value}` was made before it, so "
                f"fetching it does not run `{code_of(deps, 30)}` first (or at all) and reads the value from before "
                f"the update, silently; create the op inside the block: `tf.identity({value})`",
            )

    def visit_Call(self, node: cst.Call) -> None:
        symbol = tf_symbol(self.names.qualify(node.func))
        if symbol is not None:
            self._tensorflow = True
        if not _is_cond(symbol):
            return
        for position, keywords in zip((1, 2), _BRANCH_KEYWORDS):
            branch = call_argument(node, position, keywords[0])
            if branch is None:
                branch = call_argument(node, None, keywords[1])
            if type(branch) is cst.Lambda:
                self._branch_lambdas.add(id(branch))
            elif type(branch) is cst.Name:
                self._branch_names.add(branch.value)

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._tensorflow or not (self._branch_lambdas or self._branch_names):
            return
        branch_defs = {name: self._defs[name] for name in self._branch_names if name in self._defs}
        uses = _BranchUses(self.names, self._branch_lambdas, branch_defs)
        original_node.visit(uses)
        for name, entry in uses.table.items():
            if entry.binding is None or entry.bindings != 1 or entry.other_uses or not entry.effect_uses:
                continue
            op = code_of(entry.binding.value, 40)
            self.report(
                entry.binding,
                f"`{name} = {op}` is created outside the `tf.cond` branch that uses it: `tf.cond` runs conditionally "
                f"only the ops created inside its branch functions, so `{name}` runs whenever the `tf.cond` output "
                f"is fetched, whichever branch is taken (the update happens on the other branch too), silently; "
                f"create it inside the branch function",
            )
