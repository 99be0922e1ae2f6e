"""DL403 log-of-probability."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, method_name

_TF_LOGS = {"log", "math.log", "keras.backend.log"}
_LOGS = {"torch.log", "torch.log2", "torch.log10", "numpy.log", "numpy.log2", "numpy.log10", "keras.backend.log", "keras.ops.log"}
# The last component of a call that gives probabilities: `tf.nn.sigmoid`, `F.softmax`,
# `x.softmax(dim=1)`, `scipy.special.expit`, a module's own `def sigmoid(z)`.
_PROBABILITY_FUNCTIONS = {"sigmoid": "sigmoid", "expit": "sigmoid", "softmax": "softmax"}
_REDUCTIONS = {"reduce_sum", "reduce_mean", "sum", "mean", "nansum", "nanmean"}
# What keeps a probability away from 0 before its log: clipping, a floor, an epsilon.
_GUARDS = {"clip_by_value", "clip", "clamp", "clamp_min", "maximum", "fmax", "nan_to_num"}


@dataclass(frozen=True)
class _Probability:
    kind: str  # "sigmoid" or "softmax"
    origin: str  # how it was made, for the message: "`tf.nn.sigmoid(...)`"


@dataclass(frozen=True)
class _FromCall:
    """A name bound to (an element of) what a module function returns: resolved at the end."""

    function: str
    position: int | None  # index in a returned tuple, None for the whole value


@dataclass
class _Scope:
    function: str | None  # the function's name; None for the module and lambdas
    bindings: dict[str, object] = field(default_factory=dict)  # name -> _Probability | _FromCall | "guarded"


class LogOfProbability(Rule):
    """
    ## What it does
    Finds the log of a probability computed from logits: `tf.log`, `tf.math.log`,
    `torch.log`, `np.log` (or `.log()`) of a `sigmoid` / `softmax` output, directly,
    through a local name, through `1 - p`, or through what a function of the module
    returns (`D_prob, D_logit = discriminator(x)` when `discriminator` returns
    `tf.nn.sigmoid(D_logit), D_logit`); and a hand-written cross entropy,
    `-sum(y * log(p))` (`-tf.reduce_sum(y_ * tf.log(y))`, `-(t * torch.log(p)).sum()`),
    whose `p` is not clipped or offset by an epsilon.

    ## Why is this bad
    In float32 a sigmoid saturates to exactly `1.0` for logits above about 17 and
    to `0.0` below about -88 (softmax likewise once logits differ by ~100). Then
    `log(p)` is `-inf`, `0 * -inf` is `nan`, and one such element makes the loss,
    its gradient and, after the next step, every weight NaN. A GAN's discriminator
    saturates easily, so `-tf.reduce_mean(tf.log(D_real) + tf.log(1. - D_fake))`
    ends with

        Step 1200: D loss: nan, G loss: nan

    ("the losses of both G and D became NaN"). The `*_with_logits` losses and
    `log_softmax` / `logsigmoid` compute the same value from the logits with the
    log-sum-exp trick and never see a 0.

    ## Example
    ```python
    D_real = tf.nn.sigmoid(D_logit_real)
    D_fake = tf.nn.sigmoid(D_logit_fake)
    D_loss = -tf.reduce_mean(tf.log(D_real) + tf.log(1. - D_fake))
    ```

    ## Use instead
    ```python
    D_loss = tf.reduce_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(logits=D_logit_real, labels=tf.ones_like(D_logit_real))
        + tf.nn.sigmoid_cross_entropy_with_logits(logits=D_logit_fake, labels=tf.zeros_like(D_logit_fake)))
    ```
    In TensorFlow: `tf.nn.softmax_cross_entropy_with_logits`,
    `tf.nn.sparse_softmax_cross_entropy_with_logits`, `tf.nn.log_softmax`,
    `tf.math.log_sigmoid`. In PyTorch: `F.cross_entropy` / `F.nll_loss(F.log_softmax(x))`,
    `F.binary_cross_entropy_with_logits` / `nn.BCEWithLogitsLoss`, `F.logsigmoid`.
    A log whose argument is clipped (`tf.clip_by_value`, `clamp`) or offset by an
    epsilon is not reported.

    ## Fix safety
    No automatic fix: the loss has to be rewritten on the logits, which the log call
    does not see.
    """

    code = "DL403"
    name = "log-of-probability"
    severity = Severity.WARNING
    summary = "log of a sigmoid/softmax output or a hand-written cross entropy: log(0) makes the loss NaN"
    triggers = ("log",)
    also_triggers = ("sigmoid", "softmax", "expit", "sum", "mean")
    # A call of `log` (`log2`, `log10`), an import alias (`log as L`) or a plain alias (`L = np.log`).
    trigger_pattern = re.compile(
        r"log(?<![^\W\d]log)(?:2|10)?(?:\s*\(|\s+as\b|(?<=\.log)[ \t]*(?:[#;\r\n]|$)|(?<=\.log2|log10)[ \t]*(?:[#;\r\n]|$))"
    )

    VALID = (
        "import tensorflow as tf\nloss = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits)\n",
        "import torch.nn.functional as F\nlog_probs = F.log_softmax(logits, dim=-1)\n",
        "import torch\nprobs = torch.softmax(logits, dim=-1)\nentropy = -(probs * torch.log(probs + 1e-8)).sum(-1)\n",
        "import tensorflow.compat.v1 as tf\ny = tf.nn.softmax(logits)\n"
        "loss = -tf.reduce_sum(y_ * tf.log(tf.clip_by_value(y, 1e-10, 1.0)))\n",
        "import numpy as np\nlr = np.log(base_lr)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nD_real = tf.nn.sigmoid(D_logit_real)\nD_fake = tf.nn.sigmoid(D_logit_fake)\n"
        "D_loss = -tf.reduce_mean(tf.log(D_real) + tf.log(1. - D_fake))\n",
        "import tensorflow.compat.v1 as tf\ny = tf.nn.softmax(tf.matmul(x, W) + b)\n"
        "cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), reduction_indices=[1]))\n",
        "import torch\nimport torch.nn.functional as F\nlogp = torch.log(F.softmax(out, dim=1))\n",
        "import torch\nloss = -(target * torch.log(pred)).sum(dim=1).mean()\n",
        "import tensorflow.compat.v1 as tf\ndef discriminator(x):\n    logit = dense(x)\n    return tf.nn.sigmoid(logit), logit\n"
        "D_real, D_logit_real = discriminator(X)\nD_loss = -tf.reduce_mean(tf.log(D_real))\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._scopes: list[_Scope] = [_Scope(None)]
        self._returns: dict[str, dict[int | None, _Probability]] = {}  # function -> what it returns as probabilities
        self._pending: list[tuple[cst.Call, cst.BaseExpression, _FromCall]] = []
        self._reported: set[int] = set()
        # Reductions under a minus sign: `-tf.reduce_sum(...)`, `-(t * log(p)).sum()`.
        self._negated: list[cst.Call] = []

    # -- scopes ------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes[-1].bindings.pop(node.name.value, None)
        self._scopes.append(_Scope(node.name.value))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._scopes.append(_Scope(None))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._scopes.pop()

    def leave_Module(self, original_node: cst.Module) -> None:
        for call, argument, source in self._pending:
            probability = self._returns.get(source.function, {}).get(source.position)
            if probability is not None:
                self._report_probability(call, argument, probability)

    # -- bindings ----------------------------------------------------------
    def leave_Assign(self, original_node: cst.Assign) -> None:
        value = original_node.value
        for target in original_node.targets:
            self._bind(target.target, value)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        bindings = self._scopes[-1].bindings
        if isinstance(target, cst.Name):
            meaning = self._meaning(value)
            if meaning is None:
                bindings.pop(target.value, None)
            else:
                bindings[target.value] = meaning
        elif isinstance(target, (cst.Tuple, cst.List)):
            function = self._local_function(value)
            for position, element in enumerate(target.elements):
                if isinstance(element.value, cst.Name):
                    if function is not None:
                        bindings[element.value.value] = _FromCall(function, position)
                    else:
                        bindings.pop(element.value.value, None)

    def _meaning(self, value: cst.BaseExpression) -> object | None:
        probability = self._probability(value)
        if probability is not None:
            return probability
        if self._guarded(value):
            return "guarded"
        function = self._local_function(value)
        return _FromCall(function, None) if function is not None else None

    def _local_function(self, value: cst.BaseExpression) -> str | None:
        """`discriminator` for `discriminator(x)`, a call of a function the module defines."""
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and self.names.qualify(value.func) is None:
            return value.func.value
        return None

    def visit_Return(self, node: cst.Return) -> None:
        function = self._scopes[-1].function
        if function is None or node.value is None:
            return
        returned = self._returns.setdefault(function, {})
        if isinstance(node.value, cst.Tuple):
            for position, element in enumerate(node.value.elements):
                probability = self._probability(element.value)
                if probability is not None:
                    returned.setdefault(position, probability)
        else:
            probability = self._probability(node.value)
            if probability is not None:
                returned.setdefault(None, probability)

    # -- classification ----------------------------------------------------
    def _probability(self, expr: cst.BaseExpression) -> _Probability | None:
        """What makes `expr` a sigmoid/softmax output, or None."""
        if isinstance(expr, cst.Name):
            meaning = self._scopes[-1].bindings.get(expr.value)
            return meaning if isinstance(meaning, _Probability) else None
        if isinstance(expr, cst.Call):
            last = _callee_name(expr.func)
            kind = _PROBABILITY_FUNCTIONS.get(last or "")
            if kind is not None:
                return _Probability(kind, f"`{dotted_name(expr.func) or last}(...)`")
        return None

    def _guarded(self, expr: cst.BaseExpression) -> bool:
        """`clip_by_value(p, ...)`, `p.clamp(min=eps)`, `p + 1e-8`: kept away from 0."""
        if isinstance(expr, cst.Call):
            return _callee_name(expr.func) in _GUARDS
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return True  # `p + eps`: whatever p is, an offset is the author's guard
        if isinstance(expr, cst.Name):
            return self._scopes[-1].bindings.get(expr.value) == "guarded"
        return False

    def _log_argument(self, node: cst.Call) -> cst.BaseExpression | None:
        """For a log call, its argument (`tf.log(p)` -> `p`, `p.log()` -> `p`); else None."""
        qualified = self.names.qualify(node.func)
        if qualified in _LOGS or tf_symbol(qualified) in _TF_LOGS:
            return call_argument(node, 0, "x") or call_argument(node, 0, "input")
        if method_name(node) == "log" and not node.args and isinstance(node.func, cst.Attribute):
            receiver = node.func.value
            if self._probability(receiver) is not None:
                return receiver  # `probs.log()`: only a known probability's, `log` is a common method name
        return None

    # -- findings ----------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        argument = self._log_argument(node)
        if argument is not None:
            self._check_log(node, argument)
            return
        if _callee_name(node.func) in _REDUCTIONS:
            summed = call_argument(node, 0, None) if not isinstance(node.func, cst.Attribute) or self._is_function(node) else node.func.value
            if summed is not None:
                self._check_cross_entropy(summed)

    def _is_function(self, node: cst.Call) -> bool:
        """`tf.reduce_sum(x)` / `np.sum(x)` (a function) rather than `x.sum()` (a method)."""
        return self.names.qualify(node.func) is not None

    def _check_log(self, node: cst.Call, argument: cst.BaseExpression) -> None:
        inner = argument
        while isinstance(inner, cst.BinaryOperation) and isinstance(inner.operator, cst.Subtract) and _is_one(inner.left):
            inner = inner.right  # log(1 - p)
        probability = self._probability(inner)
        if probability is not None:
            self._report_probability(node, argument, probability)
            return
        if isinstance(inner, cst.Name):
            meaning = self._scopes[-1].bindings.get(inner.value)
            if isinstance(meaning, _FromCall):
                self._pending.append((node, argument, meaning))

    def _check_cross_entropy(self, summed: cst.BaseExpression) -> None:
        """`y * log(p)` terms in what a sum/mean adds up, with a minus sign somewhere."""
        terms = list(_product_logs(summed, negated=False))
        for log_call, negated in terms:
            if not negated and not self._negated:
                continue
            argument = self._log_argument(log_call)
            if argument is None or self._guarded(argument) or self._probability(argument) is not None:
                continue
            if isinstance(argument, cst.Name) and isinstance(self._scopes[-1].bindings.get(argument.value), _FromCall):
                continue  # left to the return-value check
            self._report(
                log_call,
                f"hand-written cross entropy `-sum(y * {code_of(log_call)})`: as soon as a probability in "
                f"`{code_of(argument)}` reaches 0, log gives -inf and 0 * -inf gives NaN, and the loss and then "
                "the weights become NaN; compute it from the logits with `tf.nn.softmax_cross_entropy_with_logits` "
                "/ `F.cross_entropy` (`log_softmax`), or clip the probabilities",
            )

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, cst.Minus) and isinstance(node.expression, cst.Call):
            if _reduction_in_chain(node.expression):
                self._negated.append(node.expression)

    def leave_UnaryOperation(self, original_node: cst.UnaryOperation) -> None:
        if self._negated and self._negated[-1] is original_node.expression:
            self._negated.pop()

    def _report_probability(self, node: cst.Call, argument: cst.BaseExpression, probability: _Probability) -> None:
        if probability.kind == "sigmoid":
            instead = ("`tf.nn.sigmoid_cross_entropy_with_logits`, `tf.math.log_sigmoid`, "
                       "`F.binary_cross_entropy_with_logits` or `F.logsigmoid`")
        else:
            instead = ("`tf.nn.softmax_cross_entropy_with_logits`, `tf.nn.log_softmax`, "
                       "`F.cross_entropy` or `torch.log_softmax`")
        self._report(
            node,
            f"`{code_of(node)}` takes the log of a {probability.kind} output ({probability.origin}): the "
            f"{probability.kind} saturates to exactly 0 or 1 in float32, log(0) is -inf, and the loss and then "
            f"every weight become NaN; compute it from the logits with {instead}",
        )

    def _report(self, node: cst.Call, message: str) -> None:
        if id(node) not in self._reported:
            self._reported.add(id(node))
            self.report(node, message)


def _callee_name(func: cst.BaseExpression) -> str | None:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def _reduction_in_chain(call: cst.Call) -> bool:
    """`tf.reduce_sum(...)`, `(t * log(p)).sum(dim=1).mean()`: a reduction, or a chain with one."""
    expr: cst.BaseExpression = call
    while isinstance(expr, cst.Call):
        if _callee_name(expr.func) in _REDUCTIONS:
            return True
        if not isinstance(expr.func, cst.Attribute):
            return False
        expr = expr.func.value
    return False


def _product_logs(expr: cst.BaseExpression, negated: bool):
    """(log call, negated) for each log call that is a factor of a product in a sum of terms."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        yield from _product_logs(expr.expression, not negated)
    elif isinstance(expr, cst.BinaryOperation):
        if isinstance(expr.operator, (cst.Add, cst.Subtract)):
            yield from _product_logs(expr.left, negated)
            yield from _product_logs(expr.right, negated if isinstance(expr.operator, cst.Add) else not negated)
        elif isinstance(expr.operator, cst.Multiply):
            for side, other in ((expr.left, expr.right), (expr.right, expr.left)):
                factor, sign = _strip_minus(side)
                _, other_sign = _strip_minus(other)
                if isinstance(factor, cst.Call) and _callee_name(factor.func) in ("log", "log2", "log10"):
                    yield factor, negated ^ sign ^ other_sign
                elif isinstance(factor, cst.BinaryOperation):
                    for found, inner_negated in _product_logs(factor, negated ^ sign ^ other_sign):
                        yield found, inner_negated


def _strip_minus(expr: cst.BaseExpression) -> tuple[cst.BaseExpression, bool]:
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        return expr.expression, True
    return expr, False


def _is_one(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.Integer, cst.Float)) and expr.value.rstrip("0").rstrip(".") in ("1", "1.")
