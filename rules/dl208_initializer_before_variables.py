"""DL208 initializer-before-variables.

Also home of `GraphTimeline`, which DL209 and DL210 use too: the graph-building
events of each function in source order, with the branches and the graph each
happened in, so that "A is created before B" and "B always runs after A" can be
asked of TensorFlow 1 code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.branches import Branch, BranchPath, exclusive, within
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, keyword_argument
from dldoctor.rules.dl204_session_run_config_kwarg import SessionScopes

# Calls that return an initializer of every global variable that exists at that moment.
GLOBAL_INITIALIZERS = frozenset(
    {"global_variables_initializer", "initialize_all_variables", "initializers.global_variables"}
)
# Initializers of a given list: global when the list is `tf.global_variables()`.
_LIST_INITIALIZERS = frozenset({"variables_initializer", "initialize_variables", "initializers.variables"})
_ALL_VARIABLES = frozenset({"global_variables", "all_variables"})
# Optimizers that create slot variables (and Adam its beta powers) when they build
# the train op; `GradientDescentOptimizer` creates none.
SLOT_OPTIMIZERS = frozenset(
    {
        "train.AdamOptimizer",
        "train.MomentumOptimizer",
        "train.RMSPropOptimizer",
        "train.AdagradOptimizer",
        "train.AdadeltaOptimizer",
        "train.FtrlOptimizer",
        "train.AdagradDAOptimizer",
        "train.ProximalAdagradOptimizer",
        "contrib.opt.NadamOptimizer",
        "contrib.opt.AdamWOptimizer",
        "contrib.opt.LazyAdamOptimizer",
        "contrib.opt.MomentumWOptimizer",
    }
)
_TRAIN_METHODS = frozenset({"minimize", "apply_gradients"})
# Layer functions that create their weights with `tf.get_variable`.
_LAYER_FUNCTIONS = frozenset(
    {
        "dense", "conv1d", "conv2d", "conv3d", "conv2d_transpose", "conv3d_transpose", "separable_conv1d",
        "separable_conv2d", "batch_normalization", "fully_connected", "batch_norm", "convolution2d",
        "convolution2d_transpose", "layer_norm", "embed_sequence",
    }
)
_LAYER_MODULES = ("layers.", "contrib.layers.", "contrib.slim.")
_GLOBAL_STEP_MAKERS = frozenset({"train.get_or_create_global_step", "train.create_global_step"})
_VARIABLE_SCOPES = frozenset({"variable_scope", "name_scope"})
# Calls after which every variable is initialized or restored another way.
_COVERING_SESSIONS = frozenset(
    {"train.Supervisor", "train.MonitoredTrainingSession", "train.MonitoredSession", "train.SingularMonitoredSession"}
)


# -- the timeline ----------------------------------------------------------------


@dataclass(eq=False)
class Event:
    """Something a function does to the graph or the session, at one point of its code."""

    kind: str
    node: cst.CSTNode
    order: int
    branches: tuple[Branch, ...]  # the `if`/`try` parts it sits in, outermost first
    graph: tuple[int, int]  # the `with g.as_default():` it is in (0: none), and the graph resets before it
    label: str = ""  # what to call it in a message
    name: str | None = None  # the name an initializer is bound to, or a session's name


@dataclass(eq=False)
class Frame:
    """One function (or the module): its events and what its names are bound to."""

    events: list[Event] = field(default_factory=list)
    initializers: dict[str, Event] = field(default_factory=dict)  # name -> the global initializer bound to it
    optimizers: dict[str, str] = field(default_factory=dict)  # name -> the slot optimizer it holds
    averages: set[str] = field(default_factory=set)  # names bound to a `tf.train.ExponentialMovingAverage`
    graphs: set[str] = field(default_factory=set)  # names bound to a `tf.Graph` or the default graph
    scaffolds: set[str] = field(default_factory=set)  # names bound to a `tf.train.Scaffold`
    resets: int = 0  # `tf.reset_default_graph()` calls so far
    reuse: bool = False  # `reuse_variables()` was called: `get_variable` may only look variables up


def always_after(earlier: Event, later: Event) -> bool:
    """Whether `later` runs whenever `earlier` has run: it comes after it in the code and
    sits in no `if`/`try` branch that `earlier` is not in too."""
    return later.order > earlier.order and within(later.branches, earlier.branches)


class GraphTimeline(BranchPath):
    """Collects each function's graph events in source order; the rules that mix it in
    judge them in `judge`, once the module has been read.

    A mixin, not a `Rule`: list it before `Rule` among a rule's bases.
    """

    names: object
    context: object

    def __init__(self, context) -> None:
        super().__init__(context)
        self.sessions = SessionScopes(self.names)
        self.frames: list[Frame] = [Frame()]
        self.finished: list[Frame] = []
        self._graph_withs: list[cst.With] = []
        self._reuse_withs: list[cst.With] = []
        self._order = 0
        self.fetched_names: set[str] = set()  # every dotted name a session run fetches, module-wide

    # -- scopes and branches ------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.sessions.enter()
        self.frames.append(Frame())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.sessions.leave()
        self.finished.append(self.frames.pop())


    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if self._makes_graph(item.item):
                self._graph_withs.append(node)
                break
        if any(self._reuses(item.item) for item in node.items):
            self._reuse_withs.append(node)

    def leave_With(self, original_node: cst.With) -> None:
        if self._graph_withs and self._graph_withs[-1] is original_node:
            self._graph_withs.pop()
        if self._reuse_withs and self._reuse_withs[-1] is original_node:
            self._reuse_withs.pop()

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self.sessions.note_with_item(node)

    def _makes_graph(self, item: cst.BaseExpression) -> bool:
        if type(item) is cst.Call:
            if type(item.func) is cst.Attribute and item.func.attr.value == "as_default":
                return True
            return tf_symbol(self.names.qualify(item.func)) == "Graph"
        return False

    def _reuses(self, item: cst.BaseExpression) -> bool:
        """`tf.variable_scope(..., reuse=True)` (or any reuse but `False`/`None`)."""
        if type(item) is not cst.Call or tf_symbol(self.names.qualify(item.func)) not in _VARIABLE_SCOPES:
            return False
        reuse = keyword_argument(item, "reuse")
        return reuse is not None and not (type(reuse) is cst.Name and reuse.value in ("False", "None"))

    # -- events -------------------------------------------------------------------
    def add(self, kind: str, node: cst.CSTNode, label: str = "", name: str | None = None) -> Event:
        self._order += 1
        frame = self.frames[-1]
        graph = (id(self._graph_withs[-1]) if self._graph_withs else 0, frame.resets)
        event = Event(kind, node, self._order, self.branch_path(), graph, label, name)
        frame.events.append(event)
        return event

    def under_reuse(self) -> bool:
        return bool(self._reuse_withs) or self.frames[-1].reuse

    def symbol(self, expr: cst.BaseExpression) -> str | None:
        return tf_symbol(self.names.qualify(expr))

    def is_global_initializer(self, expr: cst.BaseExpression) -> bool:
        """`tf.global_variables_initializer()`, `tf.variables_initializer(tf.global_variables())`,
        a name bound to one, or a `tf.group(...)` of one."""
        name = dotted_name(expr)
        if name is not None:
            return self.bound_initializer(name) is not None
        if type(expr) is not cst.Call:
            return False
        symbol = self.symbol(expr.func)
        if symbol in GLOBAL_INITIALIZERS:
            return True
        if symbol in _LIST_INITIALIZERS:
            listed = call_argument(expr, 0, "var_list")
            return type(listed) is cst.Call and self.symbol(listed.func) in _ALL_VARIABLES
        if symbol == "group":
            return any(self.is_global_initializer(arg.value) for arg in expr.args if arg.keyword is None)
        return False

    def bound_initializer(self, name: str) -> Event | None:
        for frame in (self.frames[-1], self.frames[0]):
            if name in frame.initializers:
                return frame.initializers[name]
        return None

    def slot_optimizer(self, expr: cst.BaseExpression) -> str | None:
        """The slot optimizer `expr` is (`tf.train.AdamOptimizer(lr)`) or holds (a name bound to one)."""
        if type(expr) is cst.Call:
            symbol = self.symbol(expr.func)
            return symbol if symbol in SLOT_OPTIMIZERS else None
        name = dotted_name(expr)
        if name is None:
            return None
        for frame in (self.frames[-1], self.frames[0]):
            if name in frame.optimizers:
                return frame.optimizers[name]
        return None

    def fetched(self, call: cst.Call) -> list[cst.BaseExpression]:
        """What a session run fetches: its first argument, and the items of a list,
        tuple or dict there."""
        fetches = call_argument(call, 0, "fetches")
        if fetches is None:
            return []
        found = []
        pending = [fetches]
        while pending:
            expr = pending.pop()
            if type(expr) in (cst.List, cst.Tuple, cst.Set):
                pending.extend(element.value for element in expr.elements)
            elif type(expr) is cst.Dict:
                pending.extend(element.value for element in expr.elements if type(element) is cst.DictElement)
            else:
                found.append(expr)
        return found

    def creates_variables(self, call: cst.Call) -> str | None:
        """What to call `call` if it creates global variables, else None."""
        func = call.func
        if type(func) is cst.Attribute and func.attr.value in _TRAIN_METHODS:
            optimizer = self.slot_optimizer(func.value)
            if optimizer is not None:
                return f"`{optimizer.rsplit('.', 1)[-1]}.{func.attr.value}(...)` (its slot variables)"
            return None
        if type(func) is cst.Attribute and func.attr.value == "apply":
            name = dotted_name(func.value)
            receiver = func.value
            if (name is not None and any(name in frame.averages for frame in (self.frames[-1], self.frames[0]))) or (
                type(receiver) is cst.Call and self.symbol(receiver.func) == "train.ExponentialMovingAverage"
            ):
                return "`ExponentialMovingAverage.apply(...)` (its shadow variables)"
            return None
        symbol = self.symbol(func)
        if symbol is None:
            return None
        if symbol == "Variable":
            collections = keyword_argument(call, "collections")
            return None if collections is not None else f"`{code_of(func)}(...)`"
        if symbol in _GLOBAL_STEP_MAKERS:
            return f"`{code_of(func)}()`"
        if self.under_reuse():
            return None  # `get_variable` and the layers may only look their variables up
        if symbol == "get_variable":
            return f"`{code_of(func)}(...)`"
        if symbol.startswith(_LAYER_MODULES) and symbol.rsplit(".", 1)[-1] in _LAYER_FUNCTIONS:
            if keyword_argument(call, "reuse") is not None:
                return None
            return f"`{code_of(func)}(...)` (its weights)"
        return None

    # -- what every subclass needs recorded ----------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        self.sessions.note_assign(node)
        frame = self.frames[-1]
        value = node.value
        initializer = self.is_global_initializer(value) if type(value) is cst.Call else False
        optimizer = self.slot_optimizer(value) if type(value) is cst.Call else None
        symbol = self.symbol(value.func) if type(value) is cst.Call else None
        for target in node.targets:
            name = dotted_name(target.target)
            if name is None:
                continue
            frame.initializers.pop(name, None)
            frame.optimizers.pop(name, None)
            frame.averages.discard(name)
            frame.graphs.discard(name)
            frame.scaffolds.discard(name)
            if initializer:
                assert type(value) is cst.Call
                frame.initializers[name] = self.add("initializer", value, code_of(value.func), name)
            if optimizer is not None:
                frame.optimizers[name] = optimizer
            if symbol == "train.ExponentialMovingAverage":
                frame.averages.add(name)
            if symbol == "train.Scaffold":
                frame.scaffolds.add(name)
            if symbol in ("Graph", "get_default_graph") or (type(value) is cst.Attribute and value.attr.value == "graph"):
                frame.graphs.add(name)

    def visit_Call(self, node: cst.Call) -> None:
        symbol = self.symbol(node.func)
        frame = self.frames[-1]
        func = node.func
        if symbol == "reset_default_graph":
            frame.resets += 1
            return
        if type(func) is cst.Attribute and func.attr.value == "reuse_variables":
            frame.reuse = True
        if self.sessions.runs_session(node) or (
            type(func) is cst.Attribute and func.attr.value == "run" and not node.args
            and self.is_global_initializer(func.value)
        ):
            self._note_run(node)
            return
        if type(func) is cst.Attribute and func.attr.value == "restore" and len(node.args) >= 2:
            self.add("restore", node, code_of(func), dotted_name(node.args[0].value))
            return
        made = self.creates_variables(node)
        if made is not None:
            self.add("variable", node, made)
        elif symbol in GLOBAL_INITIALIZERS or symbol in _LIST_INITIALIZERS:
            self.add("covering", node)  # an initializer made here covers what exists now
        elif symbol in _COVERING_SESSIONS:
            self.add("covering", node)

    def _note_run(self, node: cst.Call) -> None:
        func = node.func
        assert type(func) is cst.Attribute
        session = dotted_name(func.value)
        if not node.args:
            if self.is_global_initializer(func.value):  # `init.run()`: in the default session
                self.fetched_names.add(dotted_name(func.value) or "")
                self.add("run_initializer", node, code_of(func.value), None)
            return
        for fetch in self.fetched(node):
            name = dotted_name(fetch)
            if name is not None:
                self.fetched_names.add(name)
            if type(fetch) is cst.Attribute and fetch.attr.value == "initializer":
                self.add("covering", fetch)
            elif self.is_global_initializer(fetch):
                if type(fetch) is cst.Call:
                    self.add("initializer", fetch, code_of(fetch.func), None)
                self.add("run_initializer", node, code_of(fetch), session)
            elif type(fetch) is cst.Call and self.symbol(fetch.func) in _LIST_INITIALIZERS:
                self.add("covering", fetch)

    def leave_Module(self, original_node: cst.Module) -> None:
        self.finished.append(self.frames[0])
        self.judge(self.finished)

    def judge(self, frames: list[Frame]) -> None:
        raise NotImplementedError


class InitializerBeforeVariables(GraphTimeline, Rule):
    """
    ## What it does
    In TensorFlow 1 graph code, finds a global initializer
    (`tf.global_variables_initializer()`, `tf.initialize_all_variables()`,
    `tf.variables_initializer(tf.global_variables())`) that is created before some of
    the variables it should initialize, and then run. The variables created after it, in
    the same function and the same graph, are those of `tf.Variable(...)`,
    `tf.get_variable(...)` and the layer functions (`tf.layers.dense`,
    `slim.conv2d`, ...) outside a `reuse` scope, the slot variables of an optimizer that
    has them (`AdamOptimizer`, `MomentumOptimizer`, `RMSPropOptimizer`, `Adagrad`,
    `Adadelta`, `Ftrl`, ...: not `GradientDescentOptimizer`) when it builds its train
    op with `minimize` or `apply_gradients`, `ExponentialMovingAverage.apply` and
    `tf.train.get_or_create_global_step()`.

    Not reported: when something after those variables initializes or restores them
    (another initializer, `v.initializer`, `saver.restore(...)`, a `Supervisor` or
    `MonitoredTrainingSession`, which initialize what they find), when the two sit in
    the two branches of one `if`, when the initializer is never run, or when a new
    graph separates them (`with tf.Graph().as_default():`, `tf.reset_default_graph()`).

    ## Why is this bad
    An initializer covers the variables that exist when it is created, not when it is
    run. The variables made after it stay uninitialized, and the first `sess.run` that
    reads one fails:

        FailedPreconditionError: Attempting to use uninitialized value beta1_power
        	 [[{{node Adam/update_Variable/ApplyAdam}}]]

    The usual way to get there: `init = tf.global_variables_initializer()` written right
    after the model, then `tf.train.AdamOptimizer(lr).minimize(loss)`, whose slot
    variables (`Variable/Adam`, `Variable/Adam_1`, `beta1_power`, ...) are created by
    `minimize`.

    ## Example
    ```python
    logits = model(x)
    loss = tf.losses.softmax_cross_entropy(labels, logits)
    init = tf.global_variables_initializer()
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
    with tf.Session() as sess:
        sess.run(init)
        sess.run(train_op, feed_dict=feed)
    ```

    ## Use instead
    ```python
    logits = model(x)
    loss = tf.losses.softmax_cross_entropy(labels, logits)
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
    init = tf.global_variables_initializer()  # after the last variable
    with tf.Session() as sess:
        sess.run(init)
        sess.run(train_op, feed_dict=feed)
    ```

    ## Fix safety
    No automatic fix: moving the initializer moves it past code that only the author
    knows is safe to reorder.
    """

    code = "DL208"
    name = "initializer-before-variables"
    severity = Severity.ERROR
    summary = "initializer created before some variables (optimizer slots): FailedPreconditionError at run time"
    triggers = ("variables_initializer", "initialize_all_variables", "initializers.global_variables")
    trigger_pattern = re.compile("tensorflow")  # TF1 symbols resolve through an import of it

    VALID = (
        "import tensorflow as tf\nw = tf.Variable(tf.zeros([2, 1]))\nloss = tf.reduce_sum(w)\n"
        "train_op = tf.train.AdamOptimizer(0.1).minimize(loss)\ninit = tf.global_variables_initializer()\n"
        "with tf.Session() as sess:\n    sess.run(init)\n    sess.run(train_op)\n",
        # Plain gradient descent creates no slot variables.
        "import tensorflow as tf\nw = tf.Variable(1.0)\ninit = tf.global_variables_initializer()\n"
        "train_op = tf.train.GradientDescentOptimizer(0.1).minimize(w * w)\n"
        "with tf.Session() as sess:\n    sess.run(init)\n    sess.run(train_op)\n",
        # The optimizer's own variables are initialized afterwards.
        "import tensorflow as tf\nw = tf.Variable(1.0)\ninit = tf.global_variables_initializer()\n"
        "opt = tf.train.AdamOptimizer(0.1)\ntrain_op = opt.minimize(w * w)\nsess = tf.Session()\nsess.run(init)\n"
        "sess.run(tf.variables_initializer(opt.variables()))\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nw = tf.Variable(tf.zeros([2, 1]))\nloss = tf.reduce_sum(w)\n"
        "init = tf.global_variables_initializer()\ntrain_op = tf.train.AdamOptimizer(0.1).minimize(loss)\n"
        "with tf.Session() as sess:\n    sess.run(init)\n    sess.run(train_op)\n",
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nsess.run(tf.global_variables_initializer())\n"
        "step = tf.Variable(0, trainable=False)\nsess.run(step)\n",
    )

    def judge(self, frames: list[Frame]) -> None:
        for frame in frames:
            reported: set[int] = set()
            runs = [event for event in frame.events if event.kind == "run_initializer"]
            for initializer in frame.events:
                if initializer.kind != "initializer" or not self._is_run(initializer, runs):
                    continue
                late = self._first_uncovered(frame, initializer)
                if late is None or id(initializer.node) in reported:
                    continue
                reported.add(id(initializer.node))
                line = self.context.module.code_for_node(initializer.node)
                self.report(
                    initializer.node,
                    f"`{_shorten(line)}` is created before {late.label} makes more variables: an initializer "
                    "covers only the variables that exist when it is created, so those stay uninitialized and "
                    "the first `sess.run` that reads one fails with `FailedPreconditionError: Attempting to use "
                    "uninitialized value ...`; create the initializer after the whole model and its optimizer "
                    "are built",
                )

    def _is_run(self, initializer: Event, runs: list[Event]) -> bool:
        if initializer.name is None:  # created inside `sess.run(...)`
            return True
        return initializer.name in self.fetched_names or any(
            run.node is not initializer.node and run.label == initializer.name for run in runs
        )

    @staticmethod
    def _first_uncovered(frame: Frame, initializer: Event) -> Event | None:
        later = [
            event for event in frame.events
            if event.order > initializer.order and event.graph == initializer.graph
            and not exclusive(event.branches, initializer.branches)
        ]
        for index, event in enumerate(later):
            if event.kind != "variable":
                continue
            covered = any(
                other.kind in ("covering", "restore", "initializer") and not exclusive(other.branches, event.branches)
                for other in later[index + 1 :]
            )
            if not covered:
                return event
            return None  # what follows is covered by the same later initializer
        return None


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."
