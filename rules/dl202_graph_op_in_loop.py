"""DL202 graph-op-in-loop."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.bindings import Bindings
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import code_of, target_names
from dldoctor.rules.dl204_session_run_config_kwarg import SessionScopes
from dldoctor.rules.dl218_wrong_call_signature import GraphValues

# Calls that add nodes to the default graph (symbols without the module path).
GRAPH_BUILDERS = frozenset(
    """
    constant placeholder placeholder_with_default Variable assign assign_add assign_sub
    scatter_update global_variables_initializer local_variables_initializer initialize_all_variables
    variables_initializer tables_initializer train.Saver train.import_meta_graph
    equal not_equal greater greater_equal less less_equal argmax argmin arg_max arg_min reduce_mean reduce_sum
    reduce_max reduce_min reduce_prod reduce_any reduce_all cast to_float to_int32 to_int64 matmul add add_n
    subtract multiply divide truediv div square sqrt exp log abs negative maximum minimum pow
    reshape concat stack unstack split expand_dims squeeze transpose tile gather gather_nd slice
    zeros ones zeros_like ones_like fill one_hot range where cond while_loop identity stop_gradient
    random_normal random_uniform truncated_normal convert_to_tensor shape size rank
    gradients clip_by_value clip_by_norm clip_by_global_norm group tuple py_func decode_raw
    parse_single_example parse_example scalar_summary histogram_summary image_summary merge_summary
    merge_all_summaries summary.scalar summary.histogram summary.image summary.audio summary.text
    summary.tensor_summary summary.merge summary.merge_all train.exponential_decay
    """.split()
)
# Every function of these modules builds ops.
_BUILDER_MODULES = ("nn.", "math.", "image.", "losses.", "metrics.", "layers.", "random.", "linalg.", "strings.")
_NOT_BUILDERS = frozenset({"image.ResizeMethod", "nn.rnn_cell"})
_OPTIMIZER_SUFFIX = "Optimizer"
# Method calls that build ops on any TensorFlow object (`v.assign(x)`, `opt.minimize(loss)`).
_BUILDER_METHODS = frozenset({"assign", "assign_add", "assign_sub", "minimize", "compute_gradients", "apply_gradients"})
# Calls that read saved weights from a file: a loop over what they return runs once, at load time.
# The graph's own variables: a loop over them (`for var in tf.global_variables():
# session.run(var.assign(weights[var.op.name]))`) runs once per variable, at load time.
_VARIABLE_COLLECTIONS = frozenset(
    {"global_variables", "all_variables", "trainable_variables", "model_variables", "local_variables",
     "moving_average_variables", "get_collection"}
)
_WEIGHT_READERS = frozenset(
    {"numpy.load", "pickle.load", "h5py.File", "scipy.io.loadmat", "joblib.load", "six.moves.cPickle.load", "cPickle.load"}
)
_CHECKPOINT_READER_METHODS = frozenset({"get_variable_to_shape_map", "get_variable_to_dtype_map"})
# Views of a loaded container that are still the loaded weights.
_VIEWS = frozenset({"items", "keys", "values", "iteritems", "itervalues", "iterkeys", "item", "tolist"})
_VIEW_FUNCTIONS = frozenset(
    {"builtins.enumerate", "builtins.sorted", "builtins.list", "builtins.zip", "builtins.reversed",
     "six.iteritems", "six.itervalues", "six.iterkeys"}
)
_STRINGS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
# Evidence that a module is TensorFlow 1 graph code.
_TF1_MARKERS = frozenset({"Session", "InteractiveSession", "placeholder", "train.MonitoredTrainingSession"})


@dataclass(eq=False)
class _Loop:
    runs_session: bool = False
    fresh_graph: bool = False  # calls tf.reset_default_graph() on each pass
    # The names that step from pass to pass: a `for` loop's targets, what a `while` loop
    # increments. An op under `if step == k:` is built on one pass, not on every pass.
    counters: set[str] = field(default_factory=set)
    is_while: bool = False
    loads_weights: bool = False  # a loop over weights read from a file: it runs once, at load time
    # Names the body binds to something not known to be a tensor: a tensor operator on
    # one of them builds an op on the first pass only (`out = h * 2` then `h = sess.run(out)`).
    rebound: set[str] = field(default_factory=set)


@dataclass(eq=False)
class _Frame:
    """One function (or the module): its open loops and `with graph.as_default()` blocks."""

    stack: list[_Loop | None] = field(default_factory=list)  # None: a `with g.as_default():` block
    guards: list[frozenset[str]] = field(default_factory=list)  # names of the `if x == ...:` bodies open here
    loaded: set[str] = field(default_factory=set)  # names bound to weights read from a file
    # For a function: the first op its body builds on every call (outside any `if`, loop or
    # `try`, before any early `return`), and whether it makes a graph of its own.
    conditional: int = 0
    early_return: bool = False
    generator: bool = False
    builds: cst.CSTNode | None = None
    own_graph: bool = False
    # It runs the session in a loop of its own: a job (build an objective, then step it
    # `iter_n` times) whose caller's loop goes over jobs, not over training steps.
    runs_steps: bool = False


@dataclass(eq=False)
class _Candidate:
    node: cst.Call
    loops: tuple[_Loop, ...]
    guards: frozenset[str] = frozenset()  # names compared with `==` by the `if`s around it
    kind: str = "call"  # "call" (a tf.* op), "operator" (a Python operator on a tensor), "helper"
    names: frozenset[str] = frozenset()  # an operator's tensor operands
    within: _Candidate | None = None  # the call of a function of this module whose arguments hold it


class GraphOpInLoop(GraphValues, Rule):
    """
    ## What it does
    In TensorFlow 1 graph code (a module that uses `tf.Session`, `tf.compat.v1` or
    `tf.placeholder`), finds calls that add ops to the graph inside a loop that also runs
    the session on each pass (`sess.run(...)`, `op.run(feed_dict=...)`, `t.eval(...)`, or a
    call that is handed the session): `tf.summary.*` ops, `tf.train.Saver()`,
    `global_variables_initializer()`, `tf.assign` and `var.assign(...)`, `tf.constant`,
    `tf.placeholder`, `tf.Variable` (not `tf.get_variable`, which with `reuse` only looks a
    variable up), optimizers and `minimize`, and tensor ops such as
    `tf.equal`, `tf.argmax`, `tf.reduce_mean`, `tf.cast` or anything in `tf.nn`,
    `tf.image`, `tf.math`, `tf.losses`, `tf.metrics`. A nested expression is reported
    once, at its outermost op. Two other ways of building ops are reported in such a loop
    too:

    - a Python operator or a slice on a value known to be a tensor or a variable (bound
      to `tf.Variable(...)`, `tf.placeholder(...)`, `tf.matmul(...)` and the like):
      `x = x + 1`, `loss = loss * 0.9`, `y[:n]`, `-y`, `step += 1`, unless the loop
      rebinds that name to something else (`h = sess.run(out)`), after which the operator
      works on NumPy values;
    - a call of a function of the module that builds an op on every call (`def
      accuracy(p, labels): return tf.reduce_mean(...)`, called as `sess.run(accuracy(
      ytest, labels))`). Not such a function: one that builds its ops only under an `if`
      or after a conditional `return` (a cache), makes its own graph, is decorated, is a
      generator, or runs the session in a loop of its own (a job that builds an objective
      and then steps it: its caller's loop goes over jobs).

    Not reported: eager TensorFlow 2 code (no session), a loop that builds a fresh graph
    on each pass (`with tf.Graph().as_default():` inside it, or
    `tf.reset_default_graph()`), and loops that only build (towers, per-variable
    histograms) before the session runs. Nor the loops whose ops do not pile up step
    after step: a loop over weights read from a file (`for name in np.load(path).item():
    session.run(var.assign(data))`, `pickle.load`, `h5py.File`, a checkpoint reader's
    variable map) or over the graph's own variables (`for var in tf.global_variables():`),
    which runs once, at load time; and an op built under `if step == k:`
    (or `if it == next_lr_step:`), on the one pass where the loop's counter matches.
    Such a loop inside a training loop is still reported, for the training loop.

    ## Why is this bad
    Each pass adds new nodes to the same graph. Nothing fails at first; then `sess.run`
    slows down step after step, every checkpoint's `.meta` file (the graph) is bigger
    than the last, and once the GraphDef nears protobuf's 2 GB limit the save crashes:

        libprotobuf FATAL google/protobuf/wire_format.cc:830] CHECK failed: (output->ByteCount()) == (expected_endpoint):
        Protocol message serialized to a size different from what was originally expected.
        terminate called after throwing an instance of 'google::protobuf::FatalException'

    A training script that saved sample images every k steps with a
    `tf.summary.image(...)` named after the epoch and step grew its `.meta` to 2 GB and
    died this way, after hours of training. `x = x + 1` on a variable also chains one
    more op onto `x` on each pass, so each `sess.run(x)` evaluates a longer chain; a
    function handed the array `sess.run` returned copies that array into the graph as a
    constant on every call.

    ## Example
    ```python
    for step in range(max_steps):
        _, loss_value = sess.run([train_op, loss])
        if step % k == 0:
            image_summary = tf.summary.image("sample_%d" % step, generated)
            writer.add_summary(sess.run(image_summary), step)
    ```

    ## Use instead
    ```python
    image_summary = tf.summary.image("sample", generated)
    tf.get_default_graph().finalize()  # any op added later raises at once
    for step in range(max_steps):
        _, loss_value = sess.run([train_op, loss])
        if step % k == 0:
            writer.add_summary(sess.run(image_summary), step)  # the step tells the images apart
    ```
    Build every op once, before the loop; feed changing values through a
    `tf.placeholder`. `graph.finalize()` turns the next op created by mistake into an
    immediate error.

    ## Fix safety
    No automatic fix: hoisting an op out of a loop changes what it depends on.
    """

    code = "DL202"
    name = "graph-op-in-loop"
    severity = Severity.WARNING
    summary = "TF1 graph op created inside the training loop: the graph and .meta grow every step"
    triggers = ("for ", "while")
    also_triggers = ("Session", "compat.v1", "placeholder")
    trigger_pattern = re.compile("tensorflow")  # TF1 symbols resolve through an import of it

    VALID = (
        "import tensorflow as tf\nacc = tf.reduce_mean(tf.cast(correct, tf.float32))\nwith tf.Session() as sess:\n"
        "    for step in range(100):\n        print(sess.run(acc, feed_dict={x: xs}))\n",
        # Eager TensorFlow 2: no session, ops run at once.
        "import tensorflow as tf\nfor x, y in ds:\n    loss = tf.reduce_mean(tf.square(model(x) - y))\n",
        # Building per-variable histograms before the session runs.
        "import tensorflow as tf\nfor var in tf.trainable_variables():\n    tf.summary.histogram(var.op.name, var)\n"
        "sess = tf.Session()\nsess.run(init)\n",
        # A fresh graph on each pass.
        "import tensorflow as tf\nfor ckpt in ckpts:\n    with tf.Graph().as_default():\n        x = tf.placeholder(tf.float32)\n"
        "        with tf.Session() as sess:\n            sess.run(x, feed_dict={x: 1.0})\n",
        # Loading weights once: one assign per variable, not per step.
        "import numpy as np\nimport tensorflow as tf\nsess = tf.Session()\nweights = np.load(path).item()\n"
        "for name, value in weights.items():\n    sess.run(tf.assign(variables[name], value))\n",
        # Built on the one pass where the step matches.
        "import tensorflow as tf\nsess = tf.Session()\nfor step in range(n):\n    if step == 0:\n"
        "        merged = tf.summary.merge_all()\n    sess.run(train_op)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nfor step in range(n):\n    sess.run(train_op)\n"
        "    s = tf.summary.image('sample_%d' % step, images)\n    writer.add_summary(sess.run(s), step)\n",
        "import tensorflow.compat.v1 as tf\nwith tf.Session() as sess:\n    while True:\n"
        "        sess.run(tf.assign(w, new_w))\n",
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float32)\nfor i in range(10):\n"
        "    acc = accuracy.eval({x: xs})\n    saver = tf.train.Saver()\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._sessions = SessionScopes(self.names)
        self._frames = [_Frame()]
        self._candidates: list[_Candidate] = []
        self._tf1 = False
        self._outermost: cst.CSTNode | None = None  # a reported op whose arguments are not reported again
        self.bindings = Bindings()  # what names hold (`GraphValues`): which operands are tensors
        self._classes = 0
        self._helpers: dict[str, cst.CSTNode] = {}  # module-level function -> an op it builds on every call
        self._defined: dict[str, int] = {}  # module-level function -> how many `def`s bind the name
        self._helper_calls: list[_Candidate] = []  # the open calls of functions of this module
        self._graph_withs: list[cst.With] = []

    # -- scopes ------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef(node)
        self._sessions.enter()
        self._frames.append(_Frame())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        super().leave_FunctionDef(original_node)
        self._sessions.leave()
        frame = self._frames.pop()
        if len(self._frames) == 1 and not self._classes:
            name = original_node.name.value
            self._defined[name] = self._defined.get(name, 0) + 1
            helper = not (original_node.decorators or frame.generator or frame.own_graph or frame.runs_steps)
            if helper and frame.builds is not None:
                self._helpers[name] = frame.builds

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        super().visit_Lambda(node)
        self._frames.append(_Frame())

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        super().leave_Lambda(original_node)
        self._frames.pop()

    # A function that builds an op only under an `if` (a cache, `if self._op is None:`)
    # or after a conditional `return` does not build it on every call.
    def visit_If(self, node: cst.If) -> None:
        self._frames[-1].conditional += 1

    def leave_If(self, original_node: cst.If) -> None:
        self._frames[-1].conditional -= 1

    def visit_Try(self, node: cst.Try) -> None:
        self._frames[-1].conditional += 1

    def leave_Try(self, original_node: cst.Try) -> None:
        self._frames[-1].conditional -= 1

    def visit_Return(self, node: cst.Return) -> None:
        frame = self._frames[-1]
        if frame.conditional or frame.stack:
            frame.early_return = True

    def visit_Yield(self, node: cst.Yield) -> None:
        self._frames[-1].generator = True

    # The iterable of a `for` is evaluated once: only the body repeats.
    def visit_For_body(self, node: cst.For) -> None:
        frame = self._frames[-1]
        targets = set(target_names(node.target))
        loads = self._is_loaded(node.iter)
        if loads:
            frame.loaded.update(targets)
        frame.stack.append(_Loop(counters=targets, loads_weights=loads))

    def leave_For_body(self, original_node: cst.For) -> None:
        self._frames[-1].stack.pop()

    def visit_While(self, node: cst.While) -> None:
        self._frames[-1].stack.append(_Loop(is_while=True))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        tensor = self._tensor_operands(node.target)
        if tensor:
            self._operator(node, tensor)
        else:
            self._note_rebound(node.target)
        if type(node.target) is cst.Name:
            for entry in self._frames[-1].stack:
                if entry is not None and entry.is_while:
                    entry.counters.add(node.target.value)
        super().visit_AugAssign(node)

    def visit_If_body(self, node: cst.If) -> None:
        self._frames[-1].guards.append(_equated_names(node.test))

    def leave_If_body(self, node: cst.If) -> None:
        self._frames[-1].guards.pop()

    def leave_While(self, original_node: cst.While) -> None:
        self._frames[-1].stack.pop()

    def visit_With(self, node: cst.With) -> None:
        super().visit_With(node)
        if any(self._makes_graph(item.item) for item in node.items):
            self._graph_withs.append(node)
            self._frames[-1].stack.append(None)
            self._frames[-1].own_graph = True

    def leave_With(self, original_node: cst.With) -> None:
        if self._graph_withs and self._graph_withs[-1] is original_node:
            self._graph_withs.pop()
            self._frames[-1].stack.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        self._sessions.note_assign(node)
        if not self._holds_tensor(node.value):
            for target in node.targets:
                self._note_rebound(target.target)
        loaded = self._frames[-1].loaded
        loads = self._is_loaded(node.value)
        for target in node.targets:
            for name in target_names(target.target):
                if loads:
                    loaded.add(name)
                else:
                    loaded.discard(name)

    def _is_loaded(self, expr: cst.BaseExpression) -> bool:
        """Whether `expr` is (a view of) weights read from a file: `np.load(path).item()`,
        `data[name]`, `six.iteritems(data[name])`, `reader.get_variable_to_shape_map()`."""
        while True:
            if type(expr) is cst.Name:
                return expr.value in self._frames[-1].loaded
            if type(expr) is cst.Subscript:
                expr = expr.value
            elif type(expr) is cst.Call:
                qualified = self.names.qualify(expr.func)
                if qualified in _WEIGHT_READERS or tf_symbol(qualified) in _VARIABLE_COLLECTIONS:
                    return True
                func = expr.func
                if type(func) is cst.Attribute and func.attr.value in _CHECKPOINT_READER_METHODS:
                    return True
                if type(func) is cst.Attribute and func.attr.value in _VIEWS and qualified is None:
                    expr = func.value
                elif (qualified in _VIEW_FUNCTIONS or (qualified is None and dotted_name(func) == "iteritems")) and expr.args:
                    expr = expr.args[0].value
                else:
                    return False
            else:
                return False

    def visit_WithItem(self, node: cst.WithItem) -> None:
        super().visit_WithItem(node)
        self._sessions.note_with_item(node)
        if node.asname is not None:
            self._note_rebound(node.asname.name)

    def visit_For(self, node: cst.For) -> None:
        super().visit_For(node)
        self._note_rebound(node.target)

    # -- tensors under Python operators --------------------------------------------
    def _tensor_operands(self, expr: cst.BaseExpression) -> frozenset[str]:
        """The names known to hold a tensor (or a variable) among the operands of an
        arithmetic expression: `x` in `x + 1`, `loss` and `reg` in `loss * 0.9 + reg`."""
        if type(expr) is cst.BinaryOperation:
            if any(isinstance(side, _STRINGS) for side in (expr.left, expr.right)):
                return frozenset()  # `"step %d" % step`: string formatting, no op
            return self._tensor_operands(expr.left) | self._tensor_operands(expr.right)
        if type(expr) is cst.UnaryOperation and type(expr.operator) is not cst.Not:
            return self._tensor_operands(expr.expression)
        if type(expr) in (cst.Name, cst.Attribute):
            value = self.value_of(expr)
            if value is not None and (value.is_tensor or value.kind == "variable"):
                return frozenset({dotted_name(expr)})
        return frozenset()

    def _holds_tensor(self, expr: cst.BaseExpression) -> bool:
        value = self.value_of(expr)
        return (value is not None and (value.is_tensor or value.kind == "variable")) or bool(
            self._tensor_operands(expr))

    def _note_rebound(self, target: cst.BaseExpression) -> None:
        names = set(target_names(target))
        name = dotted_name(target)
        if name is not None:
            names.add(name)
        for entry in self._frames[-1].stack:
            if entry is not None:
                entry.rebound.update(names)

    def _operator(self, node: cst.CSTNode, operands: frozenset[str]) -> None:
        frame = self._frames[-1]
        if len(self._frames) > 1 and frame.builds is None and self._every_call(frame):
            frame.builds = node
        loops = self._open_loops()
        if not loops or self._outermost is not None:
            return
        self._outermost = node
        guards = frozenset().union(*frame.guards)
        self._candidates.append(_Candidate(node, loops, guards, kind="operator", names=operands, within=self._within()))

    @staticmethod
    def _every_call(frame: _Frame) -> bool:
        return not frame.stack and not frame.conditional and not frame.early_return

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if self._outermost is None and (operands := self._tensor_operands(node)):
            self._operator(node, operands)

    def leave_BinaryOperation(self, original_node: cst.BinaryOperation) -> None:
        if original_node is self._outermost:
            self._outermost = None

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if self._outermost is None and (operands := self._tensor_operands(node)):
            self._operator(node, operands)

    def leave_UnaryOperation(self, original_node: cst.UnaryOperation) -> None:
        if original_node is self._outermost:
            self._outermost = None

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if self._outermost is None and (operands := self._tensor_operands(node.value)):
            self._operator(node, operands)  # `y[:n]` on a tensor: a strided_slice op

    def leave_Subscript(self, original_node: cst.Subscript) -> None:
        if original_node is self._outermost:
            self._outermost = None

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        if original_node is self._outermost:
            self._outermost = None

    def visit_Import(self, node: cst.Import) -> None:
        if any((dotted_name(alias.name) or "").startswith("tensorflow.compat.v1") for alias in node.names):
            self._tf1 = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted_name(node.module) if node.module is not None else None
        if module is not None and module.startswith("tensorflow.compat"):
            self._tf1 = True  # `from tensorflow.compat import v1 as tf`, `from tensorflow.compat.v1 import ...`

    # -- calls -------------------------------------------------------------------
    def _open_loops(self) -> tuple[_Loop, ...]:
        """The loops around this point whose passes share one graph."""
        loops: list[_Loop] = []
        for entry in self._frames[-1].stack:
            if entry is None:
                loops = []  # a graph made inside these loops: only the loops inside it repeat into it
            else:
                loops.append(entry)
        return tuple(loops)

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.names.qualify(node.func)
        symbol = tf_symbol(qualified)
        if symbol is not None and (symbol in _TF1_MARKERS or (qualified or "").startswith("tensorflow.compat.v1")):
            self._tf1 = True
        frame = self._frames[-1]
        if symbol in ("reset_default_graph", "Graph"):
            frame.own_graph = True
        elif len(self._frames) > 1 and frame.builds is None and self._every_call(frame) and self._builds_op(node, symbol):
            frame.builds = node
        loops = self._open_loops()
        if not loops:
            return
        if type(node.func) is cst.Name and qualified is None and self._outermost is None:
            # A call of a function of this module: judged once every `def` is known.
            helper = _Candidate(node, loops, frozenset().union(*frame.guards), kind="helper",
                                names=frozenset({node.func.value}), within=self._within())
            self._candidates.append(helper)
            self._helper_calls.append(helper)
        if symbol == "reset_default_graph":
            loops[-1].fresh_graph = True
            return
        if self._sessions.runs_session(node) or any(
            self._sessions.is_session(arg.value) and type(arg.value) is not cst.Call for arg in node.args
        ):
            for loop in loops:
                loop.runs_session = True
            frame.runs_steps = True
            return
        if self._outermost is None and self._builds_op(node, symbol):
            self._outermost = node
            guards = frozenset().union(*self._frames[-1].guards)
            self._candidates.append(_Candidate(node, loops, guards, within=self._within()))

    def leave_Call(self, original_node: cst.Call) -> None:
        if original_node is self._outermost:
            self._outermost = None
        if self._helper_calls and self._helper_calls[-1].node is original_node:
            self._helper_calls.pop()

    def _within(self) -> _Candidate | None:
        return self._helper_calls[-1] if self._helper_calls else None

    def _builds_op(self, node: cst.Call, symbol: str | None) -> bool:
        if symbol is None:
            func = node.func
            return type(func) is cst.Attribute and func.attr.value in _BUILDER_METHODS and self._tf1_receiver(func)
        if symbol in _NOT_BUILDERS:
            return False
        return (
            symbol in GRAPH_BUILDERS
            or symbol.startswith(_BUILDER_MODULES)
            or (symbol.startswith("train.") and symbol.endswith(_OPTIMIZER_SUFFIX))
        )

    @staticmethod
    def _tf1_receiver(func: cst.Attribute) -> bool:
        # `df.assign(...)` (pandas) is not an op: only names that are not obviously frames.
        return not (type(func.value) is cst.Name and func.value.value in ("df", "data", "frame", "pd"))

    def _makes_graph(self, item: cst.BaseExpression) -> bool:
        """`tf.Graph().as_default()`, `g.as_default()`, `tf.Graph()` in a with statement."""
        if type(item) is cst.Call:
            if type(item.func) is cst.Attribute and item.func.attr.value == "as_default":
                return True
            return tf_symbol(self.names.qualify(item.func)) == "Graph"
        return False

    @staticmethod
    def _grows_per_pass(loop: _Loop, candidate: _Candidate) -> bool:
        """Whether the op is added to the one graph on pass after pass of this loop."""
        if not loop.runs_session or loop.fresh_graph or loop.loads_weights:
            return False
        return not (loop.counters & candidate.guards)  # `if step == k:` picks one pass

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._tf1:
            return
        reported: set[int] = set()
        for candidate in self._candidates:
            if candidate.within is not None and id(candidate.within) in reported:
                continue  # inside the arguments of a reported call
            if candidate.kind == "helper":
                (name,) = candidate.names
                if self._defined.get(name) != 1 or name not in self._helpers:
                    continue
            loops = [loop for loop in candidate.loops if self._grows_per_pass(loop, candidate)]
            if candidate.kind == "operator":
                loops = [loop for loop in loops if not candidate.names & loop.rebound]
            if loops:
                reported.add(id(candidate))
                self.report(candidate.node, self._message(candidate))

    def _message(self, candidate: _Candidate) -> str:
        growth = (
            "the graph grows each step, `sess.run` slows down, each checkpoint's `.meta` is bigger than the "
            "last, until the GraphDef passes protobuf's 2 GB limit (`libprotobuf FATAL ... CHECK failed`)"
        )
        if candidate.kind == "operator":
            written = code_of(candidate.node, 40)
            operand = sorted(candidate.names)[0]
            if type(candidate.node) is cst.Subscript:
                return (
                    f"`{written}` slices the tensor `{operand}` on every pass of a loop that runs the session: each "
                    f"slice is a new op in the graph; {growth}; slice once before the loop, or slice the array "
                    "`sess.run` returns"
                )
            return (
                f"`{written}` applies a Python operator to the tensor `{operand}` on every pass of a loop that runs "
                f"the session: each pass adds a new op to the graph (rebinding `{operand}` chains one more op onto it, "
                f"so each `sess.run` also evaluates a longer chain); {growth}; build the op once before the loop "
                "(`tf.assign_add(v, 1)` to step a variable) and run it in the loop"
            )
        if candidate.kind == "helper":
            (name,) = candidate.names
            op = code_of(self._helpers[name], 40)
            return (
                f"`{name}(...)` builds ops each time it is called (`{op}` in its body) and is called on every pass "
                f"of a loop that runs the session: each call adds them to the graph again, and any NumPy array it is "
                f"handed is copied into the graph as a constant; {growth}; build its ops once before the loop, with "
                "placeholders for what changes, and run them in the loop"
            )
        label = code_of(candidate.node.func)
        return (
            f"`{label}(...)` adds a new op to the graph on every pass of a loop that runs the session: {growth}; "
            "build it once before the loop (feed changing values through a placeholder) and call "
            "`graph.finalize()` so that a stray op raises at once"
        )


def _equated_names(test: cst.BaseExpression) -> frozenset[str]:
    """Names that an `if` test compares with `==`, alone or in an `and`: `step == 0`,
    `it == next_stepsize + 1 and save`. Such a branch runs on the pass where they match."""
    if type(test) is cst.BooleanOperation and type(test.operator) is cst.And:
        return _equated_names(test.left) | _equated_names(test.right)
    if type(test) is cst.Comparison and len(test.comparisons) == 1:
        (comparison,) = test.comparisons
        if type(comparison.operator) is cst.Equal:
            sides = (test.left, comparison.comparator)
            return frozenset(side.value for side in sides if type(side) is cst.Name)
    return frozenset()
