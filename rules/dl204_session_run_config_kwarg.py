"""DL204 session-run-config-kwarg.

Also home of `SessionScopes`, which DL202 and DL203 use too: which objects in a
function are TensorFlow sessions, by construction or by name.
"""

from __future__ import annotations

import re

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import ImportTable, dotted_name, tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import code_of
from dldoctor.lint.textscan import value_text

# Calls that return a TensorFlow session (symbols without the module path).
SESSION_MAKERS = frozenset(
    {
        "Session",
        "InteractiveSession",
        "get_default_session",
        "train.MonitoredSession",
        "train.MonitoredTrainingSession",
        "train.SingularMonitoredSession",
        "keras.backend.get_session",
    }
)
# Methods that return a session whatever their receiver (a `tf.train.Supervisor`, a
# `SessionManager`, a `SessionCreator`).
SESSION_METHODS = frozenset({"managed_session", "prepare_or_wait_for_session", "prepare_session", "create_session"})
_SESSION_NAME = re.compile(r"sess", re.IGNORECASE)

RUN_PARAMETERS = ("fetches", "feed_dict", "options", "run_metadata")
_RUN_CALL = re.compile(r"\.\s*run\s*\(")
_KEYWORD = re.compile(r"([^\W\d]\w*)\s*=(?!=)")  # `name=` in the arguments (nested calls' too)
# Keywords that belong to the session's ConfigProto (or its GPUOptions), not to run().
CONFIG_FIELDS = frozenset(
    {
        "allow_soft_placement",
        "log_device_placement",
        "gpu_options",
        "device_count",
        "intra_op_parallelism_threads",
        "inter_op_parallelism_threads",
        "graph_options",
        "operation_timeout_in_ms",
        "allow_growth",
        "per_process_gpu_memory_fraction",
        "config",
    }
)


class SessionScopes:
    """Which names of the current function (or module) hold a TensorFlow session.

    A rule calls `enter()`/`leave()` at function boundaries and `note_assign` /
    `note_with_item` for bindings; `is_session(expr)` then answers for the receiver
    of a `.run(...)`: a session construction, a name bound to one, or (when the
    name is bound to nothing else known) a name that says so (`sess`,
    `self.session`, `mon_sess`).
    """

    def __init__(self, names: ImportTable) -> None:
        self.names = names
        self._scopes: list[dict[str, bool]] = [{}]  # name -> holds a session (True) or something else (False)

    def enter(self) -> None:
        self._scopes.append({})

    def leave(self) -> None:
        self._scopes.pop()

    def makes_session(self, expr: cst.BaseExpression) -> bool:
        if type(expr) is not cst.Call:
            return False
        if type(expr.func) is cst.Attribute and expr.func.attr.value in SESSION_METHODS:
            return True
        return tf_symbol(self.names.qualify(expr.func)) in SESSION_MAKERS

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        name = dotted_name(target)
        if name is None:
            return
        if self.makes_session(value):
            self._scopes[-1][name] = True
        elif type(value) is cst.Call:
            self._scopes[-1][name] = False  # `sess = ort.InferenceSession(...)`: not TensorFlow's

    def note_assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value)

    def note_with_item(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, node.item)

    def is_session(self, expr: cst.BaseExpression) -> bool:
        if self.makes_session(expr):
            return True
        name = dotted_name(expr)
        if name is None:
            return False
        for scope in reversed(self._scopes):
            if name in scope:
                return scope[name]
        return bool(_SESSION_NAME.search(name.rsplit(".", 1)[-1]))

    def runs_session(self, call: cst.Call) -> bool:
        """`sess.run(...)`, `op.run(feed_dict=...)`, `tensor.eval(...)`: a step of a TF1 session."""
        func = call.func
        if type(func) is not cst.Attribute:
            return False
        method = func.attr.value
        if method == "run":
            if self.is_session(func.value):
                return True
            return any(arg.keyword is not None and arg.keyword.value in ("feed_dict", "session") for arg in call.args)
        if method == "eval":
            return bool(call.args) and dotted_name(func.value) not in ("model", "self.model", "net")
        return False


class SessionRunConfigKwarg(Rule):
    """
    ## What it does
    Finds `sess.run(...)` called with a keyword that `Session.run` does not have: it
    takes `fetches`, `feed_dict`, `options` and `run_metadata`, nothing else. The receiver
    is a TensorFlow session by construction (`sess = tf.Session()`, `with
    tf.Session() as sess`, `tf.train.MonitoredTrainingSession(...)`,
    `sv.managed_session()`, `tf.get_default_session()`) or by name (`sess`, `session`,
    `self.sess`, `mon_sess`, when the name is bound to nothing else). For
    `allow_soft_placement`, `log_device_placement`, `gpu_options` and the other
    session options, the message says they belong in a `ConfigProto`.

    ## Why is this bad
    The call fails before anything runs:

        TypeError: run() got an unexpected keyword argument 'allow_soft_placement'

    A TensorFlow notebook on device placement recommends `sess.run(optimizer,
    allow_soft_placement=True)` so that ops a GPU cannot run fall back to the CPU;
    that option is a property of the session, set when it is created.

    ## Example
    ```python
    with tf.Session() as sess:
        sess.run(optimizer, allow_soft_placement=True)
    ```

    ## Use instead
    ```python
    config = tf.ConfigProto(allow_soft_placement=True)
    with tf.Session(config=config) as sess:
        sess.run(optimizer)
    ```
    Per-call tracing and timeouts go in `options=tf.RunOptions(...)`.

    ## Fix safety
    No automatic fix: moving the option into the `ConfigProto` where the session is
    made is not mechanical, and dropping it would lose what the author wanted.
    """

    code = "DL204"
    name = "session-run-config-kwarg"
    severity = Severity.ERROR
    summary = "Session.run() given a keyword it does not take (a ConfigProto option): TypeError"
    triggers = ("run",)
    also_triggers = ("sess", "tensorflow", "tf.")

    @classmethod
    def could_fire(cls, text: str, lowered: str) -> bool:
        """A `.run(...)` call with a keyword that `Session.run` does not have."""
        if not super().could_fire(text, lowered):
            return False
        for call in _RUN_CALL.finditer(text):
            arguments = value_text(text, call.end(), inside_brackets=True)
            if any(keyword not in RUN_PARAMETERS for keyword in _KEYWORD.findall(arguments)):
                return True
        return False

    VALID = (
        "import tensorflow as tf\nwith tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:\n"
        "    sess.run(train_op, feed_dict={x: batch})\n",
        "import tensorflow as tf\nsess = tf.Session()\nsess.run(fetches=[loss], options=run_options, run_metadata=meta)\n",
        # Not a TensorFlow session: subprocess.run, ONNX Runtime.
        "import subprocess\nsubprocess.run(['ls'], check=True)\n",
        "import onnxruntime as ort\nsess = ort.InferenceSession('m.onnx')\nout = sess.run(None, input_feed={'x': x})\n",
        "import tensorflow as tf\nsess.run(train_op, **run_kwargs)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nwith tf.Session() as sess:\n    sess.run(optimizer, allow_soft_placement=True)\n",
        "import tensorflow.compat.v1 as tf\nsession = tf.Session()\nsession.run(loss, log_device_placement=True)\n",
        "import tensorflow.compat.v1 as tf\nclass T:\n    def step(self):\n        self.sess.run(self.op, feed=batch)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._sessions = SessionScopes(self.names)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._sessions.enter()

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._sessions.leave()

    def visit_Assign(self, node: cst.Assign) -> None:
        self._sessions.note_assign(node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self._sessions.note_with_item(node)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute or func.attr.value != "run":
            return
        wrong = [
            arg for arg in node.args
            if arg.keyword is not None and arg.keyword.value not in RUN_PARAMETERS
        ]
        if not wrong or any(arg.star == "**" for arg in node.args) or not self._sessions.is_session(func.value):
            return
        for arg in wrong:
            keyword = arg.keyword.value
            receiver = code_of(func.value)
            error = f"`TypeError: run() got an unexpected keyword argument '{keyword}'`"
            if keyword in CONFIG_FIELDS:
                advice = (
                    f"`{keyword}` is a session option: set it in the ConfigProto the session is created with, "
                    f"`tf.Session(config=tf.ConfigProto({keyword}=...))`"
                )
                if keyword in ("allow_growth", "per_process_gpu_memory_fraction"):
                    advice = f"`{keyword}` belongs in `tf.ConfigProto(gpu_options=tf.GPUOptions({keyword}=...))`"
            else:
                advice = "`Session.run` takes only `fetches`, `feed_dict`, `options` and `run_metadata`"
            self.report(arg, f"`{receiver}.run(..., {keyword}=...)` fails with {error}; {advice}")
