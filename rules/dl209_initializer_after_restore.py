"""DL209 initializer-after-restore."""

from __future__ import annotations

import re

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.rule import Rule
from dldoctor.rules.dl208_initializer_before_variables import Event, Frame, GraphTimeline, always_after

# Statements that leave the code between a restore and a later initializer.
_EXITS = (cst.Return, cst.Raise, cst.Break, cst.Continue)
_EXIT_CALLS = frozenset({"sys.exit", "builtins.exit", "builtins.quit", "os._exit"})


class InitializerAfterRestore(GraphTimeline, Rule):
    """
    ## What it does
    In TensorFlow 1 graph code, finds a global initializer
    (`tf.global_variables_initializer()`, `tf.initialize_all_variables()`, a name bound to
    one, or a `tf.group` of one) run after `saver.restore(sess, path)` in the same
    function, on the same session, wherever the restore ran: the run is not in an `if`
    or `try` branch that the restore is not in too, and no `return`, `raise`, `break`,
    `continue` or `sys.exit()` comes between them.

    Not reported: the usual `if checkpoint: saver.restore(...)` / `else:
    sess.run(init)`, an initializer of some variables only
    (`tf.variables_initializer(new_vars)`, `tf.local_variables_initializer()`), an
    initializer run under its own condition after the restore, or a restore and an
    initializer on two sessions.

    ## Why is this bad
    Nothing fails. Running the initializer assigns every variable its initial value
    again, so the weights just restored are overwritten with fresh random ones: the
    "fine-tuned" model starts from scratch, the evaluation scores a random network, and
    training resumed from a checkpoint begins again at chance-level loss, with the
    step counter back at 0.

    ## Example
    ```python
    saver = tf.train.Saver()
    with tf.Session() as sess:
        saver.restore(sess, tf.train.latest_checkpoint(ckpt_dir))
        sess.run(tf.global_variables_initializer())
        print(sess.run(accuracy, feed_dict=test_feed))
    ```

    ## Use instead
    ```python
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())  # first, or not at all
        saver.restore(sess, tf.train.latest_checkpoint(ckpt_dir))
        print(sess.run(accuracy, feed_dict=test_feed))
    ```
    Initialize first and restore afterwards, or initialize only the variables that the
    checkpoint does not hold (`tf.variables_initializer(new_variables)`).

    ## Fix safety
    No automatic fix: which variables the checkpoint holds, and so which ones still need
    an initializer, is known only at run time.
    """

    code = "DL209"
    name = "initializer-after-restore"
    severity = Severity.ERROR
    summary = "global initializer run after saver.restore(): the restored weights are overwritten, silently"
    triggers = (".restore(",)
    also_triggers = ("variables_initializer", "initialize_all_variables", "initializers.global_variables")
    trigger_pattern = re.compile("tensorflow")  # TF1 symbols resolve through an import of it

    VALID = (
        "import tensorflow as tf\nsaver = tf.train.Saver()\nwith tf.Session() as sess:\n"
        "    sess.run(tf.global_variables_initializer())\n    saver.restore(sess, path)\n",
        # One or the other.
        "import tensorflow as tf\nsaver = tf.train.Saver()\nsess = tf.Session()\nckpt = tf.train.latest_checkpoint(d)\n"
        "if ckpt:\n    saver.restore(sess, ckpt)\nelse:\n    sess.run(tf.global_variables_initializer())\n",
        # Only the variables the checkpoint does not hold.
        "import tensorflow as tf\nsaver = tf.train.Saver(old_vars)\nsess = tf.Session()\nsaver.restore(sess, path)\n"
        "sess.run(tf.variables_initializer(new_vars))\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nsaver = tf.train.Saver()\nwith tf.Session() as sess:\n"
        "    saver.restore(sess, path)\n    sess.run(tf.global_variables_initializer())\n",
        "import tensorflow.compat.v1 as tf\ninit = tf.global_variables_initializer()\nsaver = tf.train.Saver()\n"
        "sess = tf.Session()\nif ckpt:\n    saver.restore(sess, ckpt)\nsess.run(init)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._exits: list[int] = []  # the order numbers at which the code leaves (`return`, `raise`, ...)

    def _note_exit(self) -> None:
        self._order += 1
        self.frames[-1].events.append(Event("exit", cst.Pass(), self._order, (), (0, 0)))

    def visit_Return(self, node: cst.Return) -> None:
        self._note_exit()

    def visit_Raise(self, node: cst.Raise) -> None:
        self._note_exit()

    def visit_Break(self, node: cst.Break) -> None:
        self._note_exit()

    def visit_Continue(self, node: cst.Continue) -> None:
        self._note_exit()

    def leave_Call(self, original_node: cst.Call) -> None:
        if self.names.qualify(original_node.func) in _EXIT_CALLS:
            self._note_exit()

    def judge(self, frames: list[Frame]) -> None:
        for frame in frames:
            restores = [event for event in frame.events if event.kind == "restore"]
            exits = [event.order for event in frame.events if event.kind == "exit"]
            for run in frame.events:
                if run.kind != "run_initializer":
                    continue
                restore = next((r for r in restores if self._overwrites(r, run, exits)), None)
                if restore is None:
                    continue
                self.report(
                    run.node,
                    f"`{run.label}` runs after `{restore.label}(...)` restored the weights: it assigns every "
                    "variable its initial value again, so the restored weights are silently replaced with fresh "
                    "ones; run the initializer before the restore, or initialize only the variables the "
                    "checkpoint does not hold (`tf.variables_initializer(...)`)",
                )

    @staticmethod
    def _overwrites(restore: Event, run: Event, exits: list[int]) -> bool:
        if not always_after(restore, run) or restore.graph != run.graph:
            return False
        if restore.name is not None and run.name is not None and restore.name != run.name:
            return False  # two sessions
        return not any(restore.order < order < run.order for order in exits)
