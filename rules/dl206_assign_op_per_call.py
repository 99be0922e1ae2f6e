"""DL206 assign-op-per-call."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import call_argument, code_of, target_names

# Calls that read saved weights from a file into host memory.
_WEIGHT_READERS = frozenset(
    {"numpy.load", "pickle.load", "h5py.File", "scipy.io.loadmat", "joblib.load", "six.moves.cPickle.load",
     "cPickle.load", "_pickle.load", "torch.load"}
)
_CHECKPOINT_READS = frozenset({"get_tensor"})  # `reader.get_tensor(name)` of `tf.train.NewCheckpointReader`
# Views of loaded data that are still the loaded data.
_VIEWS = frozenset({"items", "keys", "values", "iteritems", "itervalues", "item", "tolist", "get", "reshape",
                    "transpose", "astype", "squeeze", "copy"})
_VIEW_FUNCTIONS = frozenset(
    {"builtins.enumerate", "builtins.sorted", "builtins.list", "builtins.zip", "builtins.reversed",
     "six.iteritems", "six.itervalues", "numpy.array", "numpy.asarray", "numpy.transpose", "numpy.squeeze",
     "numpy.reshape", "numpy.expand_dims"}
)
# Assignments as TensorFlow symbols (`tf.assign(ref, value)`) and as variable methods.
_ASSIGN_FUNCTIONS = frozenset({"assign", "assign_add", "assign_sub", "compat.v1.assign"})
_ASSIGN_METHODS = frozenset({"assign", "assign_add", "assign_sub"})
# Evidence that a module is TensorFlow 1 graph code: the session, and graph-only APIs that TF 2 has only
# under `tf.compat.v1`.
_TF1_MARKERS = frozenset({"Session", "InteractiveSession", "placeholder", "train.MonitoredTrainingSession",
                          "get_variable", "variable_scope", "train.Saver", "global_variables_initializer"})


@dataclass(eq=False)
class _Frame:
    loops: list[bool] = field(default_factory=list)  # the open loops: whether each iterates over loaded weights
    loaded: set[str] = field(default_factory=set)  # names bound to weights read from a file (or views of them)


class AssignOpPerCall(Rule):
    """
    ## What it does
    In TensorFlow 1 graph code (a module that uses `tf.Session`, `tf.compat.v1`,
    `tf.placeholder`, `tf.get_variable` or `tf.variable_scope`), finds `var.assign(value)` / `tf.assign(var, value)` (and
    `assign_add` / `assign_sub`) built inside a loop where `value` is host data read
    from a weight file: `np.load(path).item()`, `pickle.load`, `h5py.File`,
    `scipy.io.loadmat`, a checkpoint reader's `get_tensor`, and what is taken out of
    them (`weights[name]`, `for name, data in weights.items()`, `np.transpose(w)`).
    This is the pretrained-weight loader of many TF1 projects:
    `for op_name in weights_dict: ... session.run(var.assign(data))`.

    DL202 reports ops built on every pass of a training loop; this rule is about the
    one-time loop over the loaded weights, which DL202 leaves alone because it does not
    repeat, but whose each assign carries the weights into the graph. A loop over
    something else (`for var in tf.global_variables(): sess.run(var.assign(f[var.name]))`)
    is left to DL202.

    ## Why is this bad
    `var.assign(array)` turns the NumPy array into a `tf.constant` node holding a copy
    of it, plus a new assign op, every time it is called. A loader of N weights adds N
    constants: the graph grows by the size of the model (hundreds of MB for VGG or
    AlexNet), every `.meta` written by `saver.save` from then on carries it, and a
    model over 2 GB cannot be loaded at all:

        ValueError: Cannot create a tensor proto whose content is larger than 2GB.

    or, once the graph is serialized, `libprotobuf FATAL ... CHECK failed` /
    `GraphDef cannot be larger than 2GB`. Calling the loader twice (a second restore,
    an evaluation in the same process) doubles it.

    ## Example
    ```python
    weights = np.load("bvlc_alexnet.npy", allow_pickle=True).item()
    for op_name, arrays in weights.items():
        with tf.variable_scope(op_name, reuse=True):
            for data in arrays:
                var = tf.get_variable("biases" if data.ndim == 1 else "weights")
                session.run(var.assign(data))
    ```

    ## Use instead
    ```python
    var.load(data, session)  # feeds the value to the variable's initializer: no new op
    ```
    or one placeholder and one assign op per variable, built once, with the array fed
    through `feed_dict`.

    ## Fix safety
    `session.run(var.assign(data))` as a statement becomes `var.load(data, session)`
    (`tf.compat.v1.Variable.load`, which assigns the same value through a feed). It is
    unsafe: the receiver must be a `tf.Variable` (a resource variable or a
    `tf.get_variable` result), which the rule cannot always see.
    """

    code = "DL206"
    name = "assign-op-per-call"
    severity = Severity.WARNING
    summary = "TF1 var.assign(array) of loaded weights in a loop: a new op and a constant holding the array per call"
    triggers = ("assign",)
    also_triggers = ("Session", "compat.v1", "placeholder", "get_variable", "variable_scope", "Saver",
                     "global_variables_initializer")

    VALID = (
        "import scipy.io\nimport tensorflow.compat.v1 as tf\nsess = tf.Session()\nweights = scipy.io.loadmat(path)\n"
        "for name, value in weights.items():\n    variables[name].load(value, sess)\n",
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nupdate = tf.assign(w, w_placeholder)\n"
        "for name, value in weights.items():\n    sess.run(update, feed_dict={w_placeholder: value})\n",
        # Eager TensorFlow 2: `assign` writes the value, no graph.
        "import numpy as np\nimport tensorflow as tf\nweights = np.load(path, allow_pickle=True).item()\n"
        "for layer in model.layers:\n    layer.kernel.assign(weights[layer.name])\n",
    )
    INVALID = (
        "import scipy.io\nimport tensorflow.compat.v1 as tf\nsess = tf.Session()\n"
        "weights = scipy.io.loadmat('vgg_face.mat')\nfor name, value in weights.items():\n"
        "    sess.run(tf.assign(variables[name], value))\n",
        "import six\nimport pickle\nimport tensorflow.compat.v1 as tf\ndef load(data_path, session):\n"
        "    with open(data_path, 'rb') as f:\n        data_dict = pickle.load(f)\n    for op_name in data_dict:\n"
        "        with tf.variable_scope(op_name, reuse=True):\n"
        "            for param_name, data in six.iteritems(data_dict[op_name]):\n"
        "                session.run(tf.get_variable(param_name).assign(data))\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._tf1 = False
        self._frames = [_Frame()]
        self._candidates: list[tuple[cst.Call, cst.BaseExpression, cst.BaseExpression]] = []  # (assign, ref, value)
        self._statement_runs: dict[int, cst.Call] = {}  # assign call -> the `sess.run(assign)` statement around it

    # -- the module ------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        if any((dotted_name(alias.name) or "").startswith("tensorflow.compat.v1") for alias in node.names):
            self._tf1 = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted_name(node.module) if node.module is not None else None
        if module is not None and module.startswith("tensorflow.compat"):
            self._tf1 = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._frames.append(_Frame())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._frames.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._frames.append(_Frame())

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._frames.pop()

    # The iterable of a `for` is evaluated once: only the body repeats.
    def visit_For_body(self, node: cst.For) -> None:
        frame = self._frames[-1]
        targets = set(target_names(node.target))
        over_weights = self._is_loaded(node.iter)
        if over_weights:
            frame.loaded.update(targets)
        else:
            frame.loaded.difference_update(targets)
        frame.loops.append(over_weights)

    def leave_For_body(self, original_node: cst.For) -> None:
        self._frames[-1].loops.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        loaded = self._frames[-1].loaded
        loads = self._is_loaded(node.value)
        for target in node.targets:
            for name in target_names(target.target):
                (loaded.add if loads else loaded.discard)(name)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            loaded = self._frames[-1].loaded
            loads = self._is_loaded(node.item)
            for name in target_names(node.asname.name):
                (loaded.add if loads else loaded.discard)(name)

    def _is_loaded(self, expr: cst.BaseExpression) -> bool:
        """Whether `expr` is (a view of) weights read from a file: `np.load(path).item()`,
        `data[name]`, `six.iteritems(data[name])`, `np.transpose(w[0])`, `reader.get_tensor(key)`."""
        while True:
            if type(expr) is cst.Name:
                return expr.value in self._frames[-1].loaded
            if type(expr) is cst.Subscript:
                expr = expr.value
            elif type(expr) is cst.Attribute and expr.attr.value == "T":
                expr = expr.value
            elif type(expr) is cst.Call:
                qualified = self.names.qualify(expr.func)
                if qualified in _WEIGHT_READERS:
                    return True
                func = expr.func
                if type(func) is cst.Attribute and func.attr.value in _CHECKPOINT_READS and qualified is None:
                    return True
                if type(func) is cst.Attribute and func.attr.value in _VIEWS and qualified is None:
                    expr = func.value
                elif (qualified in _VIEW_FUNCTIONS or (qualified is None and dotted_name(func) == "iteritems")) and expr.args:
                    expr = expr.args[0].value
                else:
                    return False
            else:
                return False

    # -- calls -----------------------------------------------------------------------------
    def visit_Expr(self, node: cst.Expr) -> None:
        """`sess.run(var.assign(data))` as a statement: the call the fix replaces."""
        run = node.value
        if (type(run) is cst.Call and type(run.func) is cst.Attribute and run.func.attr.value == "run"
                and len(run.args) == 1 and run.args[0].keyword is None and not run.args[0].star
                and type(run.args[0].value) is cst.Call):
            self._statement_runs[id(run.args[0].value)] = run

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.names.qualify(node.func)
        symbol = tf_symbol(qualified)
        if symbol is not None and (symbol in _TF1_MARKERS or (qualified or "").startswith("tensorflow.compat.v1")):
            self._tf1 = True
        frame = self._frames[-1]
        if not any(frame.loops):
            return  # not a loader's loop; in a training loop DL202 reports the op
        if symbol in _ASSIGN_FUNCTIONS:
            ref, value = call_argument(node, 0, "ref"), call_argument(node, 1, "value")
        elif symbol is None and type(node.func) is cst.Attribute and node.func.attr.value in _ASSIGN_METHODS:
            ref, value = node.func.value, call_argument(node, 0, "value")
        else:
            return
        if ref is not None and value is not None and self._is_loaded(value):
            self._candidates.append((node, ref, value))

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._tf1:
            return
        for assign, ref, value in self._candidates:
            self.report(
                assign,
                f"`{code_of(assign)}` builds a new assign op and a constant holding a copy of `{code_of(value, 40)}`, "
                "read from the weight file, on each pass of this loop: the graph grows by the size of the weights, "
                "every `.meta` saved from it carries them, and past 2 GB the graph cannot be built or saved "
                f"(`Cannot create a tensor proto whose content is larger than 2GB`); use "
                f"`{code_of(ref, 30)}.load({code_of(value, 30)}, session)`, which feeds the value without a new op, "
                "or one placeholder and assign op per variable built once",
                self._fix(assign, ref, value),
            )

    def _fix(self, assign: cst.Call, ref: cst.BaseExpression, value: cst.BaseExpression) -> Fix | None:
        run = self._statement_runs.get(id(assign))
        if run is None or type(assign.func) is not cst.Attribute or assign.func.attr.value != "assign":
            return None
        if len(assign.args) != 1 or assign.args[0].keyword is not None:
            return None
        session = run.func.value
        load = cst.Call(
            func=cst.Attribute(value=ref, attr=cst.Name("load")),
            args=[cst.Arg(value=value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(value=session)],
        )
        return Fix(f"load the value with `.load(value, {code_of(session, 20)})`", Applicability.UNSAFE, ((run, load),))
