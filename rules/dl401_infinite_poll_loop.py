"""DL401 infinite-poll-loop."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import keyword_argument

# Ways out of a process; `os.kill` and `signal.raise_signal` are how a watchdog ends its own process.
_EXIT_CALLS = {
    "sys.exit", "builtins.exit", "builtins.quit", "os._exit", "os.abort", "os.kill", "os.killpg",
    "signal.raise_signal",
}
_THREADS = {
    "threading.Thread", "threading.Timer", "multiprocessing.Process", "torch.multiprocessing.Process",
    "multiprocessing.dummy.Process",
}
# `ctx = mp.get_context("spawn"); ctx.Process(target=...)`: the class by its name.
_THREAD_CLASS_NAMES = {"Thread", "Timer", "Process"}
# `_thread.start_new_thread(function, args)`: the first argument runs in a thread.
_START_THREAD = {"_thread.start_new_thread", "thread.start_new_thread", "six.moves._thread.start_new_thread"}
# Handing items to a queue: a producer that runs as long as its consumer.
_QUEUE_PUTS = {"put", "put_nowait"}
_SLEEPS = {"time.sleep", "asyncio.sleep"}
_CHECKPOINT_POLLS = {"get_checkpoint_state", "latest_checkpoint", "checkpoints_iterator"}


@dataclass
class _Loop:
    node: cst.While
    exits: bool = False
    waits_by: str | None = None  # what makes it a poll: `time.sleep`, `tf.train.latest_checkpoint`, ...
    feeds_queue: bool = False  # `queue.put(item)`: a producer, meant to run while its consumer does


@dataclass
class _Frame:
    """Loops open in one function body; nested functions get a frame of their own."""

    loops: list[_Loop | None] = field(default_factory=list)  # None: a for-loop or non-infinite while
    function: str | None = None  # the function's name; None at module level and in lambdas
    thread_body: bool = False  # the `run` method of a `threading.Thread` / `Process` subclass


class InfinitePollLoop(Rule):
    """
    ## What it does
    Finds a `while True:` (or `while 1:`) loop that has no way out (no `break` of its
    own, no `return`, `raise`, `yield`, `sys.exit()`/`exit()`/`os._exit()`) and whose
    body sleeps (`time.sleep`) or polls for checkpoints (`tf.train.get_checkpoint_state`,
    `tf.train.latest_checkpoint`).

    ## Why is this bad
    That is an evaluation (or monitoring) loop that can never finish. im2txt's
    `evaluate.py` evaluates every `eval_interval_secs` forever; once training has
    stopped, it keeps printing

        INFO:tensorflow:Starting evaluation at 2018-11-10-19:48:39
        INFO:tensorflow:Finished processing evaluation at global step 5049.

    with the same perplexity each time, and a pipeline (or a notebook cell) that
    runs it never moves on. `mnist_eval.py` in the TensorFlow book does the same with
    `time.sleep(10)`.

    ## Example
    ```python
    while True:
        start = time.time()
        run_once(model, saver, summary_writer, summary_op)
        time_to_next_eval = start + FLAGS.eval_interval_secs - time.time()
        if time_to_next_eval > 0:
            time.sleep(time_to_next_eval)
    ```

    ## Use instead
    ```python
    eval_once = FLAGS.eval_interval_secs == 0
    while True:
        start = time.time()
        run_once(model, saver, summary_writer, summary_op)
        if eval_once:
            break
        time_to_next_eval = start + FLAGS.eval_interval_secs - time.time()
        if time_to_next_eval > 0:
            time.sleep(time_to_next_eval)
    ```
    Or stop when no new checkpoint has appeared for a while
    (`tf.train.checkpoints_iterator(..., timeout=...)`). A service loop that is meant
    to run until killed can say so with `# noqa: DL401` on the `while` line.

    Not reported, because they are meant to run as long as the process: a loop in a
    function run as a `threading.Thread` / `Timer` / `multiprocessing.Process` target
    (`target=watch`, `target=self._read`, `functools.partial(watch, q)`, `lambda:
    watch(q)`, `_thread.start_new_thread(watch, ())`), in the `run` method of a
    `Thread` / `Process` subclass, or that feeds a queue (`q.put(batch)`: a reader
    thread that lives as long as its consumer); nor one that ends its process with
    `os.kill` / `signal.raise_signal` (a watchdog).

    ## Fix safety
    No automatic fix: how the loop should end is the author's decision.
    """

    code = "DL401"
    name = "infinite-poll-loop"
    severity = Severity.WARNING
    summary = "while True loop that sleeps or polls checkpoints and can never exit"
    triggers = ("while",)  # not "while True": `while(True):` and `while  1:` are loops too
    also_triggers = ("sleep", "checkpoint")
    trigger_pattern = re.compile(r"while(?<![^\W\d]while)[\s(\\]*(?:True\b|\d)")  # a test that is always true

    VALID = (
        "import time\nwhile True:\n    work()\n    if done():\n        break\n    time.sleep(1)\n",
        "import time\ndef poll():\n    while True:\n        if ready():\n            return\n        time.sleep(1)\n",
        "import time\nwhile not coord.should_stop():\n    time.sleep(1)\n",
        "import time\ndef gen():\n    while True:\n        yield next_batch()\n        time.sleep(0.1)\n",
        "while True:\n    line = input()\n    print(line)\n",
        "import time, sys\nwhile True:\n    time.sleep(5)\n    if stop_file_exists():\n        sys.exit(0)\n",
        "import time\nwhile True:\n    time.sleep(1)\n    if failed():\n        raise RuntimeError('failed')\n",
        # A watchdog thread: meant to run as long as the process.
        "import threading, time\ndef beat():\n    while True:\n        time.sleep(60)\n        ping()\n"
        "threading.Thread(target=beat, daemon=True).start()\n",
        "import os, signal, time\ndef watch(ppid):\n    while True:\n        time.sleep(60)\n"
        "        if os.getppid() != ppid:\n            os.kill(os.getpid(), signal.SIGKILL)\n",
        # The body of a Thread subclass, and a reader that feeds a queue.
        "import threading, time\nclass Monitor(threading.Thread):\n    def run(self):\n        while True:\n"
        "            log_gpu_memory()\n            time.sleep(30)\n",
        "import time\ndef produce(q, reader):\n    while True:\n        q.put(reader.next_batch())\n        time.sleep(0.01)\n",
    )
    INVALID = (
        "import time\nwhile True:\n    run_once()\n    time.sleep(600)\n",
        "from time import sleep\nwhile 1:\n    evaluate()\n    sleep(60)\n",
        "import tensorflow as tf\nwhile True:\n    ckpt = tf.train.get_checkpoint_state('models/')\n    evaluate(ckpt)\n",
        # A break of an inner loop does not end the outer one.
        "import time\nwhile True:\n    for x in xs:\n        break\n    time.sleep(1)\n",
        # A return in a nested function does not end the loop.
        "import time\nwhile True:\n    def f():\n        return 1\n    time.sleep(f())\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._frames: list[_Frame] = [_Frame()]
        # Loops without exit, reported when the module ends unless their function runs
        # in a thread or process of its own (a watchdog, a heartbeat: meant to run forever).
        self._pending: list[tuple[cst.While, str, str | None]] = []
        self._thread_targets: set[str] = set()
        self._thread_classes: list[bool] = []  # for each enclosing class: is it a Thread / Process?
        self._frames_at_class: list[int] = []  # how many frames were open when each class began

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._thread_classes.append(any(self._is_thread_class(base.value) for base in node.bases))
        self._frames_at_class.append(len(self._frames))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._thread_classes.pop()
        self._frames_at_class.pop()

    def _is_thread_class(self, expr: cst.BaseExpression) -> bool:
        qualified = self.names.qualify(expr)
        return qualified in _THREADS

    # Function boundaries: an exit inside a nested function ends that function, not the loop.
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        self._frames.append(_Frame(function=name, thread_body=name == "run" and self._directly_in_thread_class()))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._frames.pop()

    def _directly_in_thread_class(self) -> bool:
        """Whether the function being entered is a method of a Thread / Process subclass:
        the innermost class is one, and no function has opened since it began."""
        return bool(self._thread_classes) and self._thread_classes[-1] and len(self._frames) == self._frames_at_class[-1]

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._frames.append(_Frame())

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._frames.pop()

    @property
    def _loops(self) -> list[_Loop | None]:
        return self._frames[-1].loops

    def _infinite_loops(self) -> list[_Loop]:
        return [loop for loop in self._loops if loop is not None]

    # Loops: `break` belongs to the innermost loop, whatever kind it is.
    def visit_While(self, node: cst.While) -> None:
        self._loops.append(_Loop(node) if _always_true(node.test) else None)

    def leave_While(self, original_node: cst.While) -> None:
        loop = self._loops.pop()
        if loop is None or loop.exits or loop.waits_by is None or loop.feeds_queue:
            return
        if self._frames[-1].thread_body:
            return  # `Thread.run`: the thread's whole life
        self._pending.append((original_node, loop.waits_by, self._frames[-1].function))

    def leave_Module(self, original_node: cst.Module) -> None:
        for node, waits_by, function in self._pending:
            if function is not None and function in self._thread_targets:
                continue
            self.report(
                node.test,
                f"`while {_test_text(node.test)}` loop never ends: it {waits_by} and has no "
                "`break`, `return` or `raise`, so it repeats forever (\"Starting evaluation at ...\" with the "
                "same checkpoint); exit after one pass when the interval is 0, or when no new checkpoint arrives",
            )

    def visit_For(self, node: cst.For) -> None:
        self._loops.append(None)

    def leave_For(self, original_node: cst.For) -> None:
        self._loops.pop()

    def visit_Break(self, node: cst.Break) -> None:
        if self._loops and self._loops[-1] is not None:
            self._loops[-1].exits = True

    def _exit_all(self) -> None:
        for loop in self._infinite_loops():
            loop.exits = True

    def visit_Return(self, node: cst.Return) -> None:
        self._exit_all()

    def visit_Raise(self, node: cst.Raise) -> None:
        self._exit_all()

    def visit_Yield(self, node: cst.Yield) -> None:
        self._exit_all()  # a generator's consumer decides when to stop

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.names.qualify(node.func)
        self._note_thread_target(node, qualified)
        if not self._infinite_loops():
            return
        if type(node.func) is cst.Attribute and node.func.attr.value in _QUEUE_PUTS and qualified is None:
            for loop in self._infinite_loops():
                loop.feeds_queue = True
        if qualified in _EXIT_CALLS:
            self._exit_all()
        elif qualified in _SLEEPS:
            self._poll(f"sleeps (`{qualified}`)")
        else:
            symbol = tf_symbol(qualified)
            attribute = node.func.attr.value if type(node.func) is cst.Attribute else None
            poll = symbol.rsplit(".", 1)[-1] if symbol else attribute
            if poll in _CHECKPOINT_POLLS:
                self._poll(f"polls checkpoints (`{poll}`)")

    def _note_thread_target(self, node: cst.Call, qualified: str | None) -> None:
        """Remember the function a `Thread`, `Timer` or `Process` runs (a watchdog, a reader
        feeding a queue, a heartbeat): it is meant to loop as long as the process lives."""
        func = node.func
        class_name = func.attr.value if type(func) is cst.Attribute else None
        target: cst.BaseExpression | None = None
        if qualified in _THREADS or (qualified is None and class_name in _THREAD_CLASS_NAMES):
            target = keyword_argument(node, "target") or keyword_argument(node, "function")
            positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
            if target is None and qualified == "threading.Thread" and len(positional) >= 2:
                target = positional[1]  # Thread(group, target, ...)
            elif target is None and qualified == "threading.Timer" and len(positional) >= 2:
                target = positional[1]  # Timer(interval, function, ...)
        elif qualified in _START_THREAD and node.args:
            target = node.args[0].value
        name = _function_named_by(target)
        if name is not None:
            self._thread_targets.add(name)

    def _poll(self, what: str) -> None:
        for loop in self._infinite_loops():
            loop.waits_by = loop.waits_by or what


def _always_true(test: cst.BaseExpression) -> bool:
    if type(test) is cst.Name:
        return test.value == "True"
    if type(test) is cst.Integer:
        return test.value not in ("0", "0x0", "0o0", "0b0")
    return False


def _test_text(test: cst.BaseExpression) -> str:
    return test.value if type(test) in (cst.Name, cst.Integer) else "True"


def _function_named_by(target: cst.BaseExpression | None) -> str | None:
    """The function a thread target names: `loop`, `self._loop`, `partial(loop, q)`,
    `lambda: loop(q)`."""
    if type(target) is cst.Name:
        return target.value
    if type(target) is cst.Attribute:
        return target.attr.value
    if type(target) is cst.Call:
        callee = target.func
        if type(callee) in (cst.Name, cst.Attribute) and (
            callee.value if type(callee) is cst.Name else callee.attr.value
        ) == "partial" and target.args:
            return _function_named_by(target.args[0].value)
        return None
    if type(target) is cst.Lambda and type(target.body) is cst.Call:
        return _function_named_by(target.body.func)
    return None
