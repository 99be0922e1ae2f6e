"""DL216 queue-runners-started-early."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.branches import Branch, BranchPath, within
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import code_of
from dldoctor.rules.dl203_queue_runners_not_started import QUEUE_BUILDERS
from dldoctor.rules.dl204_session_run_config_kwarg import SessionScopes

# What starts the queue runners that exist at the moment it runs.
_START = "train.start_queue_runners"
# Sessions that start the runners when they are created (after the queue, they cover it).
_STARTING_SESSIONS = frozenset(
    {"train.Supervisor", "train.MonitoredSession", "train.MonitoredTrainingSession", "train.SingularMonitoredSession"}
)
_STARTING_METHODS = frozenset({"start_queue_runners", "managed_session", "create_threads", "prepare_or_wait_for_session"})



@dataclass(eq=False)
class _Event:
    kind: str  # "start", "queue", "call" (of a function of this module), "cover", "run"
    node: cst.Call
    order: int
    branches: tuple[Branch, ...]
    graph: tuple[int, int]  # the `with g.as_default():` it is in, and the graph resets before it
    label: str = ""


@dataclass(eq=False)
class _Function:
    key: str | None
    events: list[_Event] = field(default_factory=list)
    resets: int = 0


class QueueRunnersStartedEarly(BranchPath, Rule):
    """
    ## What it does
    In TensorFlow 1 graph code, finds a queue-based input (`tf.train.string_input_producer`,
    `slice_input_producer`, `tf.train.batch`, `shuffle_batch`, ... or a call of a function
    of the module that builds one) created after `tf.train.start_queue_runners(...)` in
    the same function and graph, where the start surely ran first (it is in no `if`/`try`
    branch that the queue is not in too), nothing starts the runners again afterwards
    (another `start_queue_runners`, a `Supervisor`, a `MonitoredTrainingSession`), and a
    session runs after the queue is built.

    Not reported: queues in another graph (`with tf.Graph().as_default():`,
    `tf.reset_default_graph()`), or runners started in one branch of an `if` and the
    queue built in the other. DL203 reports queues whose runners are started nowhere.

    ## Why is this bad
    `start_queue_runners` starts a thread for each queue runner in the graph *at that
    moment*. A queue built afterwards gets no thread, stays empty, and the first
    `sess.run` that needs a batch from it blocks forever: no error, no output, 0% GPU.
    The code looks right (the start is there), so the hang is usually blamed on the data.

    ## Example
    ```python
    sess = tf.Session()
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess=sess, coord=coord)
    filename_queue = tf.train.string_input_producer(filenames)
    images, labels = read_and_decode(filename_queue)
    print(sess.run([images, labels]))
    ```

    ## Use instead
    ```python
    filename_queue = tf.train.string_input_producer(filenames)
    images, labels = read_and_decode(filename_queue)
    sess = tf.Session()
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess=sess, coord=coord)
    print(sess.run([images, labels]))
    ```
    Build the whole input pipeline first and start the runners last, or use `tf.data`.

    ## Fix safety
    No automatic fix: moving the start past the input pipeline moves it past code that
    only the author knows is safe to reorder.
    """

    code = "DL216"
    name = "queue-runners-started-early"
    severity = Severity.ERROR
    summary = "start_queue_runners() before the queue is built: that queue gets no thread and the first sess.run blocks forever"
    triggers = ("start_queue_runners",)
    trigger_pattern = re.compile("tensorflow")  # TF1 symbols resolve through an import of it

    VALID = (
        "import tensorflow as tf\nq = tf.train.string_input_producer(files)\nsess = tf.Session()\n"
        "coord = tf.train.Coordinator()\nthreads = tf.train.start_queue_runners(sess=sess, coord=coord)\nsess.run(q.dequeue())\n",
        # Started again once the second queue exists.
        "import tensorflow as tf\nsess = tf.Session()\ntf.train.start_queue_runners(sess=sess)\n"
        "batch = tf.train.batch([x], 32)\ntf.train.start_queue_runners(sess=sess)\nsess.run(batch)\n",
        "import tensorflow as tf\nsess = tf.Session()\nif warm:\n    tf.train.start_queue_runners(sess=sess)\n"
        "else:\n    batch = tf.train.batch([x], 32)\n    sess.run(batch)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nsess = tf.Session()\ncoord = tf.train.Coordinator()\n"
        "threads = tf.train.start_queue_runners(sess=sess, coord=coord)\nq = tf.train.string_input_producer(files)\n"
        "print(sess.run(q.dequeue()))\n",
        "import tensorflow.compat.v1 as tf\ndef inputs():\n    return tf.train.shuffle_batch([x], 32, 1000, 100)\n"
        "def main():\n    sess = tf.Session()\n    tf.train.start_queue_runners(sess=sess)\n    batch = inputs()\n"
        "    sess.run(batch)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._sessions = SessionScopes(self.names)
        self._functions: list[_Function] = [_Function(None)]
        self._finished: list[_Function] = []
        self._builders: set[str] = set()  # functions of the module that build a queue
        self._starters: set[str] = set()  # functions of the module that start runners
        self._graph_withs: list[list[int]] = [[]]
        self._withs: list[int] = []
        self._order = 0

    # -- structure -----------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._sessions.enter()
        self._functions.append(_Function(node.name.value if len(self._functions) == 1 else None))
        self.open_branch_scope()
        self._graph_withs.append([])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._sessions.leave()
        self._finished.append(self._functions.pop())
        self.close_branch_scope()
        self._graph_withs.pop()


    def visit_With(self, node: cst.With) -> None:
        graph = any(self._makes_graph(item.item) for item in node.items)
        if graph:
            self._graph_withs[-1].append(id(node))
        self._withs.append(graph)

    def leave_With(self, original_node: cst.With) -> None:
        if self._withs.pop():
            self._graph_withs[-1].pop()

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self._sessions.note_with_item(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._sessions.note_assign(node)

    def _makes_graph(self, item: cst.BaseExpression) -> bool:
        if type(item) is not cst.Call:
            return False
        if type(item.func) is cst.Attribute and item.func.attr.value == "as_default":
            return True
        return tf_symbol(self.names.qualify(item.func)) == "Graph"

    # -- events --------------------------------------------------------------------------
    def _add(self, kind: str, node: cst.Call, label: str = "") -> None:
        self._order += 1
        function = self._functions[-1]
        graph = (self._graph_withs[-1][-1] if self._graph_withs[-1] else 0, function.resets)
        function.events.append(_Event(kind, node, self._order, self.branch_path(), graph, label))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        function = self._functions[-1]
        symbol = tf_symbol(self.names.qualify(func))
        method = func.attr.value if type(func) is cst.Attribute else None
        if symbol == "reset_default_graph":
            function.resets += 1
        elif symbol == _START:
            self._add("start", node)
            if function.key is not None:
                self._starters.add(function.key)
        elif symbol in QUEUE_BUILDERS:
            self._add("queue", node, f"tf.{symbol}")
            if function.key is not None:
                self._builders.add(function.key)
        elif symbol in _STARTING_SESSIONS or method in _STARTING_METHODS:
            self._add("cover", node)
            if function.key is not None:
                self._starters.add(function.key)
        elif self._sessions.runs_session(node):
            self._add("run", node)
        elif type(func) is cst.Name and symbol is None:
            self._add("call", node, func.value)

    # -- judgement -----------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        self._finished.append(self._functions[0])
        for function in self._finished:
            events = function.events
            starts = [event for event in events if event.kind == "start"]
            if not starts:
                continue
            for queue in events:
                builds = queue.kind == "queue" or (
                    queue.kind == "call" and queue.label in self._builders and queue.label not in self._starters
                )
                if not builds:
                    continue
                start = next((s for s in starts if _surely_before(s, queue)), None)
                if start is None:
                    continue
                later = [event for event in events if event.order > queue.order]
                if any(event.kind in ("start", "cover") for event in later):
                    continue
                if not any(event.kind == "run" and event.graph == queue.graph for event in later):
                    continue
                what = f"`{queue.label}`" if queue.kind == "queue" else f"`{queue.label}()`, which builds a queue input,"
                self.report(
                    queue.node,
                    f"{what} comes after `{code_of(start.node, 50)}`: the runners started there are those that "
                    "existed then, so this queue gets no thread, stays empty, and the first `sess.run` that needs it "
                    "blocks forever, with no error; build the whole input pipeline first and start the queue "
                    "runners after it",
                )


def _surely_before(start: _Event, queue: _Event) -> bool:
    return (
        start.order < queue.order
        and start.graph == queue.graph
        and within(start.branches, queue.branches)
    )
