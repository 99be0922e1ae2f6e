"""DL214 train-op-never-run."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, keyword_argument
from dldoctor.rules.dl204_session_run_config_kwarg import SessionScopes

_TRAIN_METHODS = frozenset({"minimize", "apply_gradients"})
# Builtins that reach names without writing them: with one of these in the module, a name
# that seems unused may be used after all.
_INTROSPECTION = frozenset({"locals", "vars", "globals", "eval", "exec"})


@dataclass(eq=False)
class _Frame:
    train_ops: dict[str, cst.Assign] = field(default_factory=dict)  # name -> its `name = opt.minimize(...)`
    fetched: set[str] = field(default_factory=set)  # train ops a session run fetches here


class TrainOpNeverRun(Rule):
    """
    ## What it does
    In TensorFlow 1 graph code, finds a train op (`name = opt.minimize(...)` or
    `opt.apply_gradients(...)`) that nothing ever runs, in a function (or script) whose
    session does run another train op built there: a GAN's `g_optim` built next to
    `d_optim`, with only `sess.run(d_optim, ...)` in the loop. "Nothing" is strict: the
    name appears nowhere else in the module, as a fetch, an argument, a return value, a
    control dependency, an attribute or anything else.

    Not reported: a train op given a `name=` (it can be fetched by its name), one stored
    on an object or in a container, modules that reach names dynamically (`locals()`,
    `vars()`, `eval`), and functions whose session runs no train op of its own.

    ## Why is this bad
    In graph mode `minimize` only adds the update ops to the graph; they change the
    weights when a `sess.run` fetches them (or an op that depends on them). A train op
    that is never fetched never runs: no error, the losses print every step, and the
    network it should train keeps its initial weights. In a GAN the generator's samples
    stay noise while the discriminator's loss falls to zero.

    ## Example
    ```python
    d_optim = tf.train.AdamOptimizer(2e-4, beta1=0.5).minimize(d_loss, var_list=d_vars)
    g_optim = tf.train.AdamOptimizer(2e-4, beta1=0.5).minimize(g_loss, var_list=g_vars)
    for step in range(steps):
        _, d_err = sess.run([d_optim, d_loss], feed_dict={z: sample_z(), x: next_batch()})
        g_err = sess.run(g_loss, feed_dict={z: sample_z()})
    ```

    ## Use instead
    ```python
    for step in range(steps):
        _, d_err = sess.run([d_optim, d_loss], feed_dict={z: sample_z(), x: next_batch()})
        _, g_err = sess.run([g_optim, g_loss], feed_dict={z: sample_z()})
    ```

    ## Fix safety
    No automatic fix: where the train op should run (every step, every k steps, in the
    same `sess.run` as another) is the author's schedule.
    """

    code = "DL214"
    name = "train-op-never-run"
    severity = Severity.ERROR
    summary = "a train op built next to another and never run (g_optim built, only d_optim fetched): that network never trains"
    triggers = ("minimize(", "apply_gradients(")
    also_triggers = ("run(",)
    trigger_pattern = re.compile("tensorflow")  # TF1 symbols resolve through an import of it

    VALID = (
        "import tensorflow as tf\nd_optim = tf.train.AdamOptimizer(1e-4).minimize(d_loss)\n"
        "g_optim = tf.train.AdamOptimizer(1e-4).minimize(g_loss)\nsess = tf.Session()\n"
        "for step in range(100):\n    sess.run(d_optim)\n    sess.run(g_optim)\n",
        "import tensorflow as tf\ntrain_gen = opt.minimize(gen_loss)\ntrain_disc = opt.minimize(disc_loss)\n"
        "sess = tf.Session()\nsess.run([train_gen, train_disc])\n",
        # Returned: the caller may run it.
        "import tensorflow as tf\ndef build(sess):\n    d_optim = opt.minimize(d_loss)\n    g_optim = opt.minimize(g_loss)\n"
        "    sess.run(d_optim)\n    return g_optim\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nd_optim = tf.train.AdamOptimizer(1e-4).minimize(d_loss)\n"
        "g_optim = tf.train.AdamOptimizer(1e-4).minimize(g_loss)\nsess = tf.Session()\n"
        "for step in range(100):\n    sess.run([d_optim, d_loss])\n    sess.run(g_loss)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._sessions = SessionScopes(self.names)
        self._frames: list[_Frame] = [_Frame()]
        self._finished: list[_Frame] = []
        self._uses: dict[str, int] = {}  # identifier -> how many times a Name node spells it
        self._dynamic = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._sessions.enter()
        self._frames.append(_Frame())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._sessions.leave()
        self._finished.append(self._frames.pop())

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self._sessions.note_with_item(node)

    def visit_Name(self, node: cst.Name) -> None:
        self._uses[node.value] = self._uses.get(node.value, 0) + 1
        if node.value in _INTROSPECTION:
            self._dynamic = True

    def visit_Assign(self, node: cst.Assign) -> None:
        self._sessions.note_assign(node)
        value = node.value
        if len(node.targets) != 1 or type(node.targets[0].target) is not cst.Name:
            return
        name = node.targets[0].target.value
        if name.startswith("_") or type(value) is not cst.Call or type(value.func) is not cst.Attribute:
            return
        if value.func.attr.value in _TRAIN_METHODS and keyword_argument(value, "name") is None:
            self._frames[-1].train_ops[name] = node

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute:
            return
        frame = self._frames[-1]
        if func.attr.value == "run" and type(func.value) is cst.Name and func.value.value in frame.train_ops:
            frame.fetched.add(func.value.value)  # `train_op.run(feed_dict=...)`
            return
        if not self._sessions.runs_session(node):
            return
        for fetch in _fetches(call_argument(node, 0, "fetches")):
            name = dotted_name(fetch)
            if name in frame.train_ops:
                frame.fetched.add(name)

    def leave_Module(self, original_node: cst.Module) -> None:
        if self._dynamic:
            return
        self._finished.append(self._frames[0])
        for frame in self._finished:
            if not frame.fetched:
                continue
            for name, assign in frame.train_ops.items():
                if name in frame.fetched or self._uses.get(name, 0) > 1:
                    continue
                run = sorted(frame.fetched)[0]
                self.report(
                    assign,
                    f"`{name} = {code_of(assign.value, 50)}` builds a train op that nothing runs: the session here "
                    f"fetches `{run}`, and `{name}` appears nowhere else in this module. In graph mode the update "
                    "happens only when a `sess.run` fetches it, so these weights never train, without any error; "
                    f"fetch it (`sess.run([{name}, ...])`) where it should run, or delete it",
                )


def _fetches(fetches: cst.BaseExpression | None) -> list[cst.BaseExpression]:
    """What a session run fetches: the expression, or the items of a list, tuple or dict."""
    found = []
    pending = [fetches] if fetches is not None else []
    while pending:
        expr = pending.pop()
        if type(expr) in (cst.List, cst.Tuple, cst.Set):
            pending.extend(element.value for element in expr.elements)
        elif type(expr) is cst.Dict:
            pending.extend(element.value for element in expr.elements if type(element) is cst.DictElement)
        else:
            found.append(expr)
    return found
