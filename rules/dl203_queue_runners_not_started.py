"""DL203 queue-runners-not-started."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.rules.dl204_session_run_config_kwarg import SessionScopes

# Input pipelines built on queues (symbols without the module path).
QUEUE_BUILDERS = frozenset(
    {
        "train.string_input_producer",
        "train.input_producer",
        "train.slice_input_producer",
        "train.range_input_producer",
        "train.batch",
        "train.shuffle_batch",
        "train.batch_join",
        "train.shuffle_batch_join",
        "train.maybe_batch",
        "train.maybe_shuffle_batch",
        "train.maybe_batch_join",
        "train.maybe_shuffle_batch_join",
    }
)
# Whatever starts the queue runners: the call itself, or a session that does it.
_STARTERS_TF = frozenset(
    {
        "train.start_queue_runners",
        "train.Supervisor",
        "train.MonitoredSession",
        "train.MonitoredTrainingSession",
        "train.SingularMonitoredSession",
    }
)
_STARTER_METHODS = frozenset({"start_queue_runners", "managed_session", "create_threads"})
# slim's training and evaluation loops run a Supervisor; `slim.queues.QueueRunners(sess)` starts them.
_STARTER_SUFFIXES = ("learning.train", "evaluation.evaluation_loop", "evaluation.evaluate_once", "queues.QueueRunners")
# Sessions that this module makes itself (not `get_default_session()`: made elsewhere).
_OWN_SESSIONS = frozenset({"Session", "InteractiveSession"})
# `x.eval()` / `op.run()` without arguments run in the default session, an InteractiveSession's.
_NOT_TENSORS = frozenset({"model", "self.model", "net", "self.net", "self"})


@dataclass
class _Scope:
    first_queue: cst.Call | None = None
    queue_label: str = ""
    runs_session: bool = False
    runs_default_session: bool = False  # `x.eval()` / `op.run()`: runs under an InteractiveSession
    starts_runners: bool = False
    children: list[_Scope] = field(default_factory=list)


class QueueRunnersNotStarted(Rule):
    """
    ## What it does
    Finds a queue-based input pipeline (`tf.train.string_input_producer`,
    `input_producer`, `slice_input_producer`, `range_input_producer`, `tf.train.batch`,
    `shuffle_batch`, `batch_join`, `shuffle_batch_join`, any TensorFlow module path) whose
    queue runners are never started:

    in a module that makes its own session (`tf.Session()`, `tf.InteractiveSession()`),
    runs it (`sess.run`, `.eval(...)`, and under an `InteractiveSession` also a bare
    `x.eval()` or `op.run()`) and starts the runners nowhere: no
    `tf.train.start_queue_runners(...)`, `sv.start_queue_runners(...)` or
    `qr.create_threads(...)`. The message says whether the function that builds the
    queue runs the session itself, or the session runs elsewhere in the module.

    Sessions that start the runners themselves count as starting them:
    `tf.train.Supervisor` (`managed_session`), `MonitoredSession`,
    `MonitoredTrainingSession`, `SingularMonitoredSession`, `slim.learning.train`, slim's
    evaluation loops and `slim.queues.QueueRunners`. A module that makes no session of its
    own is not reported: an input library, or code that runs in a session another module
    makes (a trainer, `slim.learning.train`, a `Supervisor`) and may start the runners for.
    The finding is at the first queue-building call of each function.

    ## Why is this bad
    The queue stays empty, so the first `sess.run` that needs a batch blocks forever: no
    error, no output, 0% GPU. The notes of a TensorFlow course read a TFRecord with
    `tf.train.string_input_producer` and warn, next to `start_queue_runners`: "this is
    required, otherwise the program blocks forever".

    ## Example
    ```python
    filename_queue = tf.train.string_input_producer(["./demo.tfrecord"])
    _, serialized_example = reader.read(filename_queue)
    with tf.Session() as sess:
        for i in range(10):
            print(sess.run([image, label]))
    ```

    ## Use instead
    ```python
    filename_queue = tf.train.string_input_producer(["./demo.tfrecord"])
    _, serialized_example = reader.read(filename_queue)
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        for i in range(10):
            print(sess.run([image, label]))
        coord.request_stop()
        coord.join(threads)
    ```
    Or move to `tf.data`, which needs no runner threads.

    ## Fix safety
    No automatic fix: the runners need a `Coordinator` that is stopped and joined where
    the work ends, which only the author can place.
    """

    code = "DL203"
    name = "queue-runners-not-started"
    severity = Severity.ERROR
    summary = "queue-based input without start_queue_runners: the first sess.run blocks forever"
    triggers = ("_input_producer", "batch")
    also_triggers = ("run(", "eval(")
    trigger_pattern = re.compile("tensorflow")  # TF1 symbols resolve through an import of it

    VALID = (
        "import tensorflow as tf\nq = tf.train.string_input_producer(files)\nwith tf.Session() as sess:\n"
        "    coord = tf.train.Coordinator()\n    threads = tf.train.start_queue_runners(sess=sess, coord=coord)\n"
        "    sess.run(image)\n",
        "import tensorflow as tf\nimages, labels = tf.train.shuffle_batch([i, l], 32, 1000, 100)\n"
        "with tf.train.MonitoredTrainingSession() as sess:\n    sess.run(train_op)\n",
        # An input library: the caller starts the runners.
        "import tensorflow as tf\ndef inputs(files):\n    q = tf.train.string_input_producer(files)\n"
        "    return tf.train.batch([read(q)], 32)\n",
        "import tensorflow as tf\nsv = tf.train.Supervisor(logdir=d)\nbatch = tf.train.batch([x], 32)\n"
        "with sv.managed_session() as sess:\n    sess.run(batch)\n",
        # The session comes from the caller, which may start the runners.
        "import tensorflow as tf\ndef evaluate(sess, files):\n    q = tf.train.string_input_producer(files)\n"
        "    return sess.run(tf.train.batch([read(q)], 32))\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nfilename_queue = tf.train.string_input_producer(['./demo.tfrecord'])\n"
        "with tf.Session() as sess:\n    print(sess.run(filename_queue.dequeue()))\n",
        "import tensorflow.compat.v1 as tf\ndef train():\n    x, y = tf.train.shuffle_batch([a, b], 32, 1000, 100)\n"
        "    sess = tf.Session()\n    sess.run(loss)\n",
        "import tensorflow.compat.v1 as tf\ndef inputs():\n    return tf.train.batch([x], 32)\n"
        "def main():\n    batch = inputs()\n    with tf.Session() as sess:\n        sess.run(batch)\n",
        # A bare `.eval()` runs in the InteractiveSession.
        "import tensorflow.compat.v1 as tf\nq = tf.train.string_input_producer(['a.csv'])\n"
        "_, line = tf.TextLineReader().read(q)\nsess = tf.InteractiveSession()\nprint(line.eval())\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._sessions = SessionScopes(self.names)
        self._module = _Scope()
        self._stack = [self._module]
        self._makes_session = False  # a `tf.Session()` / `tf.InteractiveSession()` in this module
        self._interactive = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._sessions.enter()
        scope = _Scope()
        self._stack[-1].children.append(scope)
        self._stack.append(scope)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._sessions.leave()
        self._stack.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        self._sessions.note_assign(node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self._sessions.note_with_item(node)

    def visit_Call(self, node: cst.Call) -> None:
        scope = self._stack[-1]
        qualified = self.names.qualify(node.func)
        symbol = tf_symbol(qualified)
        method = node.func.attr.value if type(node.func) is cst.Attribute else None
        if symbol in QUEUE_BUILDERS:
            if scope.first_queue is None:
                scope.first_queue = node
                scope.queue_label = f"tf.{symbol}"
        elif (
            symbol in _STARTERS_TF
            or method in _STARTER_METHODS
            or (qualified or "").endswith(_STARTER_SUFFIXES)
        ):
            scope.starts_runners = True
        elif self._sessions.runs_session(node):
            scope.runs_session = True
        elif method in ("eval", "run") and not node.args and dotted_name(node.func.value) not in _NOT_TENSORS:
            scope.runs_default_session = True
        if symbol in _OWN_SESSIONS:
            self._makes_session = True
            self._interactive = self._interactive or symbol == "InteractiveSession"

    def leave_Module(self, original_node: cst.Module) -> None:
        scopes = list(_walk(self._module))
        # Only a module that makes its own session and starts the runners nowhere: where the
        # session comes from elsewhere (a trainer module, `slim.learning.train`, a
        # `Supervisor`), whoever made it may start them.
        if not self._makes_session or any(scope.starts_runners for scope in scopes):
            return
        for scope in scopes:
            scope.runs_session = scope.runs_session or (self._interactive and scope.runs_default_session)
        if not any(scope.runs_session for scope in scopes):
            return
        for scope in scopes:
            if scope.first_queue is None:
                continue
            if scope.runs_session:
                unit = "this script" if scope is self._module else "this function"
                where = f"{unit} runs the session without starting the queue runners"
            else:
                where = "the session runs elsewhere in this module, which makes it and never starts the queue runners"
            self.report(
                scope.first_queue,
                f"`{scope.queue_label}` feeds a queue, but {where}: the first `sess.run` that needs its data "
                "blocks forever, with no error. Start them once the session exists: `coord = tf.train.Coordinator(); "
                "threads = tf.train.start_queue_runners(sess=sess, coord=coord)` (then `coord.request_stop(); "
                "coord.join(threads)`), or use `tf.data`",
            )


def _walk(scope: _Scope):
    yield scope
    for child in scope.children:
        yield from _walk(child)
