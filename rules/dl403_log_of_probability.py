"""DL403 log-of-probability."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, is_none, method_name, string_value, target_names
from dldoctor.lint.walk import child_nodes

_TF_LOGS = {"log", "math.log", "keras.backend.log"}
_LOGS = {"torch.log", "torch.log2", "torch.log10", "numpy.log", "numpy.log2", "numpy.log10", "keras.backend.log", "keras.ops.log"}
# The last component of a call that gives probabilities: `tf.nn.sigmoid`, `F.softmax`,
# `x.softmax(dim=1)`, `scipy.special.expit`, a module's own `def sigmoid(z)`.
_PROBABILITY_FUNCTIONS = {"sigmoid": "sigmoid", "expit": "sigmoid", "softmax": "softmax"}
_REDUCTIONS = {"reduce_sum", "reduce_mean", "sum", "mean", "nansum", "nanmean"}
# What keeps a probability away from 0 before its log: clipping, a floor, an epsilon.
_GUARDS = {"clip_by_value", "clip", "clamp", "clamp_min", "maximum", "fmax", "nan_to_num"}
# PyTorch modules whose output is a probability, and modules whose output is unbounded.
_TORCH_PROBABILITY_MODULES = {"torch.nn.Sigmoid": "sigmoid", "torch.nn.Softmax": "softmax", "torch.nn.Softmax2d": "softmax"}
_TORCH_LINEAR_MODULES = {"torch.nn.Linear", "torch.nn.LazyLinear", "torch.nn.Bilinear"}
_TORCH_SEQUENTIAL = {"torch.nn.Sequential"}
# TensorFlow layers that return a tensor and take their activation as an argument:
# name -> the position of the activation, when it may be passed positionally.
_TF_FUNCTIONAL_LAYERS = {"layers.dense": 2, "contrib.layers.fully_connected": 2, "contrib.slim.fully_connected": 2,
                         "tf_slim.fully_connected": 2, "tf_slim.layers.fully_connected": 2}
# Keras layer classes: calling the layer gives the tensor.
_KERAS_LAYERS = {"Dense": 1, "Activation": 0, "Softmax": None}
# Matrix products: unbounded when one operand is a weight (`tf.matmul(h, W) + b`).
_MATMULS = {"matmul", "linalg.matmul", "torch.matmul", "torch.mm", "numpy.dot", "numpy.matmul"}
_LINEAR_FUNCTIONS = {"nn.xw_plus_b", "torch.nn.functional.linear"}
_BIAS_ADDS = {"nn.bias_add", "add", "math.add", "torch.add", "numpy.add"}
_VARIABLES = {"Variable", "get_variable", "torch.nn.Parameter", "torch.nn.parameter.Parameter"}
_DIVISIONS = {"div", "divide", "math.divide", "truediv", "math.truediv", "torch.div", "torch.true_divide", "numpy.divide"}
# Calls that pick from scores: a log fed only to these is a decoding score, not a loss.
_SELECTIONS = {"topk", "top_k", "argmax", "argsort", "sort", "max", "multinomial", "categorical", "nlargest",
               "ctc_beam_search_decoder", "ctc_greedy_decoder"}
# Calls that make (or use) a loss.
_LOSS_SINKS = {"mean", "reduce_mean", "nanmean", "backward", "minimize", "gradients", "compute_gradients", "grad",
               "nll_loss", "kl_div", "cross_entropy"}


@dataclass(frozen=True)
class _Probability:
    kind: str  # "sigmoid", "softmax", or "linear" (an unbounded layer output, not a probability)
    origin: str  # how it was made, for the message: "`tf.nn.sigmoid(...)`"
    via: str = "function"  # "function", "activation" (a layer's argument) or "module" (a model's last layer)


@dataclass(frozen=True)
class _Module:
    """A callable layer or model whose output is a probability (or unbounded)."""

    kind: str
    layer: str  # its last layer, for the message: "`torch.nn.Sigmoid()`"
    how: str  # "whose last layer is", "which is", "whose `forward` ends in"
    via: str  # "activation" or "module"

    def output(self, callee: cst.BaseExpression) -> _Probability:
        return _Probability(self.kind, f"`{code_of(callee, 40)}(...)`, {self.how} {self.layer}", self.via)


@dataclass(frozen=True)
class _FromCall:
    """A name bound to (an element of) what a module function returns: resolved at the end.

    `calls` counts the calls made of that value since: `model = Model()` is 0,
    `p = model(x)` is 1 (a class resolves to its `forward`)."""

    function: str
    position: int | None  # index in a returned tuple, None for the whole value
    calls: int = 0


_GUARDED = "guarded"
_VARIABLE = "variable"  # `W = tf.Variable(...)`: a trained weight
_VARIABLE_TABLE = "variable table"  # `weights = {'h1': tf.Variable(...), ...}`


@dataclass
class _Scope:
    function: str | None  # the key of its returns ("discriminator", "Net.forward"); None for the module and lambdas
    name: str | None = None  # the function's own name, as its callers write it
    cls: str | None = None  # the class of a method
    self_name: str | None = None  # a method's first parameter
    bindings: dict[str, object] = field(default_factory=dict)  # name -> meaning
    local: set[str] = field(default_factory=set)  # every name the scope binds, with a meaning or not
    # For following a log's value to what uses it: (target names, value) of each assignment,
    # the calls that select from scores, and the expressions that make a loss.
    assignments: list[tuple[tuple[str, ...], cst.CSTNode]] = field(default_factory=list)
    selections: list[cst.CSTNode] = field(default_factory=list)
    losses: list[cst.CSTNode] = field(default_factory=list)
    returns: list[cst.CSTNode] = field(default_factory=list)
    calls: list[tuple[str, cst.Call]] = field(default_factory=list)  # (callee's last name, call) of the module's own calls
    contents: dict[int, tuple[set[str], set[int]]] = field(default_factory=dict)  # node -> its names and calls


@dataclass
class _Candidate:
    call: cst.Call
    meaning: object
    scope: _Scope
    fallback: str | None = None  # the hand-written cross entropy message, when the value stays unknown


class LogOfProbability(Rule):
    """
    ## What it does
    Finds the log of a probability computed from logits: `tf.log`, `tf.math.log`,
    `torch.log`, `np.log` (or `.log()`) of a `sigmoid` / `softmax` output, directly,
    through a local name, through `1 - p`, or through what a function of the module
    returns (`D_prob, D_logit = discriminator(x)` when `discriminator` returns
    `tf.nn.sigmoid(D_logit), D_logit`). The sigmoid may also be a hand-written
    `1 / (1 + tf.exp(-x))`, a layer's activation argument
    (`tf.layers.dense(h, 1, tf.nn.sigmoid)`, `Dense(1, activation="sigmoid")`), or the
    last layer of a model (`nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())`, a module
    whose `forward` ends in `torch.sigmoid`). Also finds the log of an unbounded
    linear output (`tf.matmul(h, W) + b`, a model ending in `nn.Linear`), and a
    hand-written cross entropy, `-sum(y * log(p))` (`-tf.reduce_sum(y_ * tf.log(y))`,
    `-(t * torch.log(p)).sum()`), whose `p` is not clipped or offset by an epsilon.

    A log whose value only feeds a selection (`topk`, `argmax`, `sort`,
    `tf.multinomial`: beam search and sampling scores) and no loss is not reported:
    there a `-inf` only means "never chosen".

    ## Why is this bad
    In float32 a sigmoid saturates to exactly `1.0` for logits above about 17 and
    to `0.0` below about -88 (softmax likewise once logits differ by ~100). Then
    `log(p)` is `-inf`, `0 * -inf` is `nan`, and one such element makes the loss,
    its gradient and, after the next step, every weight NaN. A GAN's discriminator
    saturates easily, so `-tf.reduce_mean(tf.log(D_real) + tf.log(1. - D_fake))`
    ends with

        Step 1200: D loss: nan, G loss: nan

    ("the losses of both G and D became NaN"). Without any sigmoid it is worse: the
    log of a linear layer's output is NaN as soon as one output is negative. The
    `*_with_logits` losses and `log_softmax` / `logsigmoid` compute the same value
    from the logits with the log-sum-exp trick and never see a 0.

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
    When the sigmoid is a layer's activation or a model's last layer, drop it so that
    the model returns logits, and apply the sigmoid only where probabilities are
    needed (a prediction threshold of 0.5 on probabilities is 0 on logits).
    A log whose argument is clipped (`tf.clip_by_value`, `clamp`) or offset by an
    epsilon is not reported.

    ## Fix safety
    No automatic fix: the loss has to be rewritten on the logits, which the log call
    does not see.
    """

    code = "DL403"
    name = "log-of-probability"
    severity = Severity.WARNING
    summary = "log of a sigmoid/softmax output, an unbounded output, or a hand-written cross entropy: the loss becomes NaN"
    triggers = ("log",)
    also_triggers = ("sigmoid", "softmax", "expit", "sum", "mean", "exp", "linear", "dense", "matmul", "dot", "@")
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
        "import torch\nimport torch.nn.functional as F\nlog_probs = torch.log(F.softmax(logits, dim=-1))\n"
        "scores = beam_scores.unsqueeze(1) + log_probs\ntop_scores, top_ids = scores.view(-1).topk(beam_size)\n",
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
        "import torch\nmodel = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Sigmoid())\nh = model(X)\n"
        "cost = -(Y * torch.log(h) + (1 - Y) * torch.log(1 - h)).mean()\n",
        "import tensorflow.compat.v1 as tf\nD_prob = tf.layers.dense(h, 1, activation=tf.nn.sigmoid)\n"
        "D_loss = -tf.reduce_mean(tf.log(D_prob))\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._scopes: list[_Scope] = [_Scope(None)]
        self._all_scopes: list[_Scope] = list(self._scopes)
        self._returns: dict[str, dict[int | None, object]] = {}  # function -> what it returns, by position
        self._forwards: dict[str, str] = {}  # class -> the key of its `forward` / `call`
        self._attributes: dict[str, dict[str, object]] = {}  # class -> `self.<name>` -> meaning
        self._classes: list[tuple[str, int]] = []  # enclosing classes, with the scope depth of their body
        self._candidates: list[_Candidate] = []
        self._reported: set[int] = set()
        # Reductions under a minus sign: `-tf.reduce_sum(...)`, `-(t * log(p)).sum()`.
        self._negated: list[cst.Call] = []
        self._fallbacks: dict[int, str] = {}  # log call -> hand-written cross entropy message
        self._open_selections = 0

    # -- scopes ------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append((node.name.value, len(self._scopes)))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        self._scopes[-1].bindings.pop(name, None)
        self._scopes[-1].local.add(name)
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)]
        if type(node.params.star_arg) is cst.Param:
            params.append(node.params.star_arg.name.value)
        if node.params.star_kwarg is not None:
            params.append(node.params.star_kwarg.name.value)
        if self._classes and self._classes[-1][1] == len(self._scopes):
            cls = self._classes[-1][0]
            scope = _Scope(f"{cls}.{name}", name, cls=cls, self_name=params[0] if params else None)
            if name in ("forward", "call", "__call__"):
                self._forwards.setdefault(cls, scope.function)
        else:
            scope = _Scope(name, name)
        scope.local.update(params)
        self._scopes.append(scope)
        self._all_scopes.append(scope)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        scope = _Scope(None)
        scope.local.update(p.name.value for p in node.params.params)
        self._scopes.append(scope)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._scopes.pop()

    def leave_Module(self, original_node: cst.Module) -> None:
        for candidate in self._candidates:
            meaning = self._resolve(candidate.meaning, 0)
            if isinstance(meaning, _Probability):
                if not self._feeds_only_a_selection(candidate.scope, candidate.call, 0):
                    self._report_probability(candidate.call, meaning)
            elif candidate.fallback is not None:
                self._report(candidate.call, candidate.fallback)

    def _resolve(self, meaning: object, depth: int) -> object:
        """What a `_FromCall` stands for, once every function and class of the module is known."""
        if not isinstance(meaning, _FromCall):
            return meaning
        if depth > 8:
            return None
        function, calls, cls = meaning.function, meaning.calls, None
        if function in self._forwards:  # a class: calling it makes a model, calling that runs `forward`
            forward = self._resolve(self._returns.get(self._forwards[function], {}).get(None), depth + 1)
            if calls == 0:
                if isinstance(forward, _Probability) and meaning.position is None:
                    return _Module(forward.kind, forward.origin, "whose `forward` returns", _as_model(forward.via))
                return None
            cls, function, calls = function, self._forwards[function], calls - 1
        value = self._resolve(self._returns.get(function, {}).get(meaning.position if calls == 0 else None), depth + 1)
        for _ in range(calls):
            if not isinstance(value, _Module):
                return None
            value = value.output(cst.Name(function))
        if cls is not None and isinstance(value, _Probability):
            origin = f"the output of `{cls}`, whose `forward` returns {value.origin}"
            value = replace(value, origin=origin, via=_as_model(value.via))
        return value

    # -- bindings ----------------------------------------------------------
    def leave_Assign(self, original_node: cst.Assign) -> None:
        value = original_node.value
        for target in original_node.targets:
            self._bind(target.target, value)
            self._record_assignment(target.target, value)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if original_node.value is not None:
            self._bind(original_node.target, original_node.value)
            self._record_assignment(original_node.target, original_node.value)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._record_assignment(original_node.target, original_node.value)

    def visit_For(self, node: cst.For) -> None:
        for name in target_names(node.target):
            self._scopes[-1].bindings.pop(name, None)
            self._scopes[-1].local.add(name)

    def _record_assignment(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        names = tuple(target_names(target)) or tuple(filter(None, [_base_name(target)]))
        if names:
            self._scopes[-1].assignments.append((names, value))

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        scope = self._scopes[-1]
        bindings = scope.bindings
        if type(target) is cst.Name:
            scope.local.add(target.value)
            meaning = self._value(value)
            if meaning is None:
                bindings.pop(target.value, None)
            else:
                bindings[target.value] = meaning
        elif type(target) in (cst.Tuple, cst.List):
            result = self._value(value)
            for position, element in enumerate(target.elements):
                if type(element.value) is cst.Name:
                    scope.local.add(element.value.value)
                    if isinstance(result, _FromCall) and result.position is None:
                        bindings[element.value.value] = replace(result, position=position)
                    else:
                        bindings.pop(element.value.value, None)
        elif type(target) is cst.Attribute:
            owner = self._method_scope()
            if owner is not None and type(target.value) is cst.Name and target.value.value == owner.self_name:
                attributes = self._attributes.setdefault(owner.cls, {})
                meaning = self._value(value)
                if meaning is None:
                    attributes.pop(target.attr.value, None)
                else:
                    attributes[target.attr.value] = meaning

    def _method_scope(self) -> _Scope | None:
        for scope in reversed(self._scopes):
            if scope.cls is not None:
                return scope
        return None

    def _lookup(self, name: str) -> object | None:
        """The meaning of a name: this scope's binding, else an enclosing scope's (a module-level model)."""
        for scope in reversed(self._scopes):
            if name in scope.bindings:
                return scope.bindings[name]
            if name in scope.local:
                return None
        return None

    def visit_Return(self, node: cst.Return) -> None:
        function = self._scopes[-1].function
        if function is None or node.value is None:
            return
        self._scopes[-1].returns.append(node.value)
        returned = self._returns.setdefault(function, {})
        elements = [e.value for e in node.value.elements] if type(node.value) is cst.Tuple else None
        for position, element in enumerate(elements) if elements is not None else [(None, node.value)]:
            meaning = self._value(element)
            if meaning is not None and meaning not in (_GUARDED, _VARIABLE, _VARIABLE_TABLE):
                returned.setdefault(position, meaning)

    # -- classification ----------------------------------------------------
    def _value(self, expr: cst.BaseExpression) -> object | None:
        """What `expr` is: a `_Probability` (or unbounded output), a `_Module`, a `_FromCall`
        to resolve later, a guarded value, a weight; None when nothing is known."""
        if type(expr) is cst.Name:
            return self._lookup(expr.value)
        if type(expr) is cst.Attribute:
            owner = self._method_scope()
            if owner is not None and type(expr.value) is cst.Name and expr.value.value == owner.self_name:
                return self._attributes.get(owner.cls, {}).get(expr.attr.value)
            return None
        if type(expr) is cst.Subscript:
            base = self._value(expr.value)
            if base == _VARIABLE_TABLE:
                return _VARIABLE
            return base if isinstance(base, _Probability) else None  # `probs[:, 1]`: still probabilities
        if type(expr) is cst.Call:
            return self._call_value(expr)
        if type(expr) is cst.BinaryOperation:
            return self._operation_value(expr)
        if type(expr) is cst.Dict:
            values = [e.value for e in expr.elements if type(e) is cst.DictElement]
            if values and all(self._value(v) == _VARIABLE for v in values):
                return _VARIABLE_TABLE
        return None

    def _call_value(self, call: cst.Call) -> object | None:
        last = _callee_name(call.func)
        dotted = dotted_name(call.func) or last or "..."
        kind = _PROBABILITY_FUNCTIONS.get(last or "")
        if kind is not None:
            return _Probability(kind, f"`{dotted}(...)`")
        if last in _GUARDS:
            return _GUARDED
        qualified = self.names.qualify(call.func)
        api = tf_symbol(qualified) or qualified or ""
        if api in _VARIABLES or qualified in _VARIABLES:
            return _VARIABLE
        if qualified in _TORCH_PROBABILITY_MODULES:
            return _Module(_TORCH_PROBABILITY_MODULES[qualified], f"`{dotted}()`", "which is", "module")
        if qualified in _TORCH_LINEAR_MODULES:
            return _Module("linear", f"`{dotted}(...)`", "which is", "module")
        if qualified in _TORCH_SEQUENTIAL or api.endswith("keras.Sequential") or api.endswith("keras.models.Sequential"):
            return self._sequential(call, keras=qualified not in _TORCH_SEQUENTIAL)
        layer = self._layer(call, api, dotted)
        if layer is not None:
            return layer
        if api in _MATMULS and any(self._value(a.value) == _VARIABLE for a in call.args[:2]):
            return _Probability("linear", f"`{dotted}(...)`")
        if api in _LINEAR_FUNCTIONS:
            return _Probability("linear", f"`{dotted}(...)`")
        if api in _BIAS_ADDS:
            for arg in call.args[:2]:
                meaning = self._value(arg.value)
                if isinstance(meaning, _Probability) and meaning.kind == "linear":
                    return meaning
        if api in _DIVISIONS and len(call.args) >= 2:
            kind = _hand_written(call.args[0].value, call.args[1].value)
            if kind is not None:
                return _Probability(kind, f"`{code_of(call, 40)}`")
        if qualified is not None:
            return None
        # A call of something the module made: a model, a layer, a local function or class.
        if type(call.func) is cst.Name and self._lookup(call.func.value) is None:
            return _FromCall(call.func.value, None)
        callee = self._value(call.func)
        if isinstance(callee, _Module):
            return callee.output(call.func)
        if isinstance(callee, _FromCall):
            return replace(callee, calls=callee.calls + 1)
        return None

    def _sequential(self, call: cst.Call, keras: bool) -> _Module | None:
        """`nn.Sequential(..., nn.Sigmoid())`, `Sequential([..., Dense(1, activation="sigmoid")])`."""
        if keras:
            layers = call_argument(call, 0, "layers")
            if type(layers) not in (cst.List, cst.Tuple) or not layers.elements:
                return None
            final = layers.elements[-1]
            if type(final) is cst.StarredElement:
                return None
            last = final.value
        else:
            if not call.args or call.args[-1].star or call.args[-1].keyword is not None:
                return None
            last = call.args[-1].value
        module = self._value(last)
        if not isinstance(module, _Module):
            return None
        return _Module(module.kind, module.layer, "whose last layer is", module.via)

    def _layer(self, call: cst.Call, api: str, dotted: str) -> object | None:
        """A TensorFlow / Keras layer with its activation: a tensor for `tf.layers.dense`,
        a layer for `Dense`; sigmoid/softmax, linear (no activation), or None."""
        last = api.rpartition(".")[2]
        if api in _TF_FUNCTIONAL_LAYERS:
            position = _TF_FUNCTIONAL_LAYERS[api]
            keyword = "activation" if api == "layers.dense" else "activation_fn"
            activation = call_argument(call, position, keyword)
            linear_by_default = api == "layers.dense"
        elif "keras" in api and last in _KERAS_LAYERS:
            if last == "Softmax":
                return _Module("softmax", f"`{dotted}()`", "which is", "module")
            activation = call_argument(call, _KERAS_LAYERS[last], "activation")
            linear_by_default = last == "Dense"
        else:
            return None
        if activation is None or is_none(activation):
            if activation is None and not linear_by_default:
                return None
            kind, via = "linear", "module"
        else:
            kind = _activation_kind(activation)
            if kind is None:
                return None
            via = "activation" if last != "Activation" else "module"
        text = f"`{dotted}(...)`" if kind == "linear" else f"`{dotted}(..., {code_of(activation, 30)})`"
        if last in _KERAS_LAYERS:
            return _Module(kind, text, "which is", via)
        return _Probability(kind, text, via)

    def _operation_value(self, operation: cst.BinaryOperation) -> object | None:
        operator = operation.operator
        if type(operator) is cst.MatrixMultiply:
            if self._value(operation.left) == _VARIABLE or self._value(operation.right) == _VARIABLE:
                return _Probability("linear", f"`{code_of(operation, 40)}`")
            return None
        if type(operator) in (cst.Add, cst.Subtract):
            for side in (operation.left, operation.right):
                meaning = self._value(side)
                if isinstance(meaning, _Probability) and meaning.kind == "linear":
                    return _Probability("linear", f"`{code_of(operation, 40)}`", meaning.via)
            # `p + eps`: whatever p is, an offset is the author's guard
            return _GUARDED if type(operator) is cst.Add else None
        if type(operator) is cst.Divide:
            kind = _hand_written(operation.left, operation.right)
            if kind is not None:
                return _Probability(kind, f"`{code_of(operation, 40)}`")
        return None

    def _probability(self, expr: cst.BaseExpression) -> _Probability | None:
        """What makes `expr` a sigmoid/softmax output (or an unbounded one), when known now."""
        meaning = self._value(expr)
        return meaning if isinstance(meaning, _Probability) else None

    def _log_argument(self, node: cst.Call) -> cst.BaseExpression | None:
        """For a log call, its argument (`tf.log(p)` -> `p`, `p.log()` -> `p`); else None."""
        qualified = self.names.qualify(node.func)
        if qualified in _LOGS or tf_symbol(qualified) in _TF_LOGS:
            return call_argument(node, 0, "x") or call_argument(node, 0, "input")
        if method_name(node) == "log" and not node.args and type(node.func) is cst.Attribute:
            receiver = node.func.value
            if self._probability(receiver) is not None:
                return receiver  # `probs.log()`: only a known probability's, `log` is a common method name
        return None

    # -- findings ----------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        last = _callee_name(node.func)
        if last is not None and (type(node.func) is cst.Attribute or self.names.qualify(node.func) is None):
            self._scopes[-1].calls.append((last, node))
        if last in _SELECTIONS:
            self._scopes[-1].selections.append(node)
            self._open_selections += 1
        elif self._open_selections == 0 and (last in _LOSS_SINKS or "loss" in (last or "").lower()):
            self._scopes[-1].losses.append(node)
        argument = self._log_argument(node)
        if argument is not None:
            self._check_log(node, argument)
            return
        if last in _REDUCTIONS:
            summed = call_argument(node, 0, None) if type(node.func) is not cst.Attribute or self._is_function(node) else node.func.value
            if summed is not None:
                self._check_cross_entropy(summed)

    def leave_Call(self, original_node: cst.Call) -> None:
        if _callee_name(original_node.func) in _SELECTIONS:
            self._open_selections -= 1

    def _is_function(self, node: cst.Call) -> bool:
        """`tf.reduce_sum(x)` / `np.sum(x)` (a function) rather than `x.sum()` (a method)."""
        return self.names.qualify(node.func) is not None

    def _check_log(self, node: cst.Call, argument: cst.BaseExpression) -> None:
        meaning = self._value(_one_minus(argument) or argument)
        if isinstance(meaning, (_Probability, _FromCall)):
            self._candidates.append(_Candidate(node, meaning, self._scopes[-1], self._fallbacks.pop(id(node), None)))

    def _check_cross_entropy(self, summed: cst.BaseExpression) -> None:
        """`y * log(p)` terms in what a sum/mean adds up, with a minus sign somewhere."""
        terms = [(log_call, negated) for log_call, negated in _product_logs(summed, negated=False)
                 if negated or self._negated]
        arguments = [self._log_argument(log_call) for log_call, _ in terms]
        # `y * log(p) + (1 - y) * log(1 - p)`: a binary cross entropy, of a sigmoid's output.
        binary = any(_one_minus(argument) is not None for argument in arguments if argument is not None)
        for (log_call, _), argument in zip(terms, arguments):
            if argument is None:
                continue
            meaning = self._value(_one_minus(argument) or argument)
            if meaning == _GUARDED or isinstance(meaning, _Probability):
                continue  # guarded, or told as the log of a probability
            instead = _INSTEAD[self._framework(log_call)]["sigmoid" if binary else "softmax"]
            message = (
                f"hand-written cross entropy `-sum(y * {code_of(log_call)})`: as soon as a probability in "
                f"`{code_of(argument)}` reaches 0, log gives -inf and 0 * -inf gives NaN, and the loss and then "
                f"the weights become NaN; compute it from the logits with {instead}, or clip the probabilities"
            )
            if isinstance(meaning, _FromCall):
                self._fallbacks[id(log_call)] = message  # said only if the function's return stays unknown
            else:
                self._report(log_call, message)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if type(node.operator) is cst.Minus:
            if self._open_selections == 0:
                self._scopes[-1].losses.append(node)
            if type(node.expression) is cst.Call and _reduction_in_chain(node.expression):
                self._negated.append(node.expression)

    def leave_UnaryOperation(self, original_node: cst.UnaryOperation) -> None:
        if self._negated and self._negated[-1] is original_node.expression:
            self._negated.pop()

    def _feeds_only_a_selection(self, scope: _Scope, source: cst.Call, depth: int) -> bool:
        """Whether the value of `source` (a log call, or a call of a function that returns
        one), followed through the scope's assignments, reaches a selection (`topk`,
        `argmax`, `multinomial`) and no loss: a decoding score. A value the function
        returns is followed into every caller in the module."""
        may_return = depth < 3 and scope.name is not None and bool(scope.returns)
        if not scope.selections and not may_return:
            return False
        contents = scope.contents
        tainted: set[str] = set()

        def reaches(node: cst.CSTNode) -> bool:
            if id(node) not in contents:
                contents[id(node)] = _names_and_calls(node)
            names, calls = contents[id(node)]
            return id(source) in calls or bool(names & tainted)

        changed = True
        while changed:
            changed = False
            for targets, value in scope.assignments:
                if not set(targets) <= tainted and reaches(value):
                    tainted.update(targets)
                    changed = True
        if any(reaches(loss) for loss in scope.losses):
            return False
        if any(reaches(selection) for selection in scope.selections):
            return True
        if may_return and any(reaches(value) for value in scope.returns):
            callers = [(other, call) for other in self._all_scopes if other is not scope
                       for name, call in other.calls if name == scope.name]
            return bool(callers) and all(self._feeds_only_a_selection(other, call, depth + 1) for other, call in callers)
        return False

    def _report_probability(self, node: cst.Call, probability: _Probability) -> None:
        framework = self._framework(node)
        if probability.kind == "linear":
            self._report(
                node,
                f"`{code_of(node)}` takes the log of an unbounded linear output ({probability.origin}), not of a "
                "probability: any negative value gives NaN (and 0 gives -inf), and the loss and then every weight "
                f"become NaN; if it is meant as a probability, treat the output as logits and use {_INSTEAD[framework]['sigmoid']}",
            )
            return
        instead = _INSTEAD[framework][probability.kind]
        if probability.via == "activation":
            fix = f"drop the activation so that the layer returns logits, and use {instead}"
        elif probability.via == "module":
            fix = f"drop the final {probability.kind} so that the model returns logits, and use {instead}"
        else:
            fix = f"compute it from the logits with {instead}"
        self._report(
            node,
            f"`{code_of(node)}` takes the log of a {probability.kind} output ({probability.origin}): the "
            f"{probability.kind} saturates to exactly 0 or 1 in float32, log(0) is -inf, and the loss and then "
            f"every weight become NaN; {fix}",
        )

    def _framework(self, node: cst.Call) -> str:
        qualified = self.names.qualify(node.func) or ""
        if qualified.startswith("numpy."):
            return "numpy"
        if tf_symbol(qualified) is not None or qualified.startswith("keras."):
            return "tensorflow"
        if qualified.startswith("torch.") or method_name(node) == "log":
            return "torch"
        return "any"

    def _report(self, node: cst.Call, message: str) -> None:
        if id(node) not in self._reported:
            self._reported.add(id(node))
            self.report(node, message)


_INSTEAD = {
    "tensorflow": {
        "sigmoid": "`tf.nn.sigmoid_cross_entropy_with_logits` or `tf.math.log_sigmoid`",
        "softmax": "`tf.nn.softmax_cross_entropy_with_logits` or `tf.nn.log_softmax`",
    },
    "torch": {
        "sigmoid": "`F.binary_cross_entropy_with_logits` (`nn.BCEWithLogitsLoss`) or `F.logsigmoid`",
        "softmax": "`F.cross_entropy` or `F.log_softmax`",
    },
    "numpy": {
        "sigmoid": "`-np.logaddexp(0, -z)` for log(sigmoid(z)) (`scipy.special.log_expit`)",
        "softmax": "`scipy.special.log_softmax`",
    },
    "any": {
        "sigmoid": "`tf.nn.sigmoid_cross_entropy_with_logits`, `tf.math.log_sigmoid`, "
        "`F.binary_cross_entropy_with_logits` or `F.logsigmoid`",
        "softmax": "`tf.nn.softmax_cross_entropy_with_logits`, `tf.nn.log_softmax`, `F.cross_entropy` or `torch.log_softmax`",
    },
}


def _as_model(via: str) -> str:
    """A model's sigmoid, however its `forward` applies it, is dropped from the model."""
    return "module" if via == "function" else via


def _names_and_calls(node: cst.CSTNode) -> tuple[set[str], set[int]]:
    names: set[str] = set()
    calls: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if type(current) is cst.Name:
            names.add(current.value)
        elif type(current) is cst.Attribute:
            dotted = dotted_name(current)
            if dotted is not None:
                names.add(dotted)
        elif type(current) is cst.Call:
            calls.add(id(current))
        stack.extend(child_nodes(current))
    return names, calls


def _base_name(target: cst.BaseExpression) -> str | None:
    """`self.scores` for `self.scores = ...`, `scores` for `scores[i] = ...`."""
    while type(target) is cst.Subscript:
        target = target.value
    return dotted_name(target)


def _activation_kind(activation: cst.BaseExpression) -> str | None:
    """`sigmoid` for `tf.nn.sigmoid`, `"sigmoid"`, `keras.activations.sigmoid`; likewise softmax."""
    text = string_value(activation)
    if text is None:
        text = (dotted_name(activation) or "").rpartition(".")[2]
    return _PROBABILITY_FUNCTIONS.get(text)


def _hand_written(numerator: cst.BaseExpression, denominator: cst.BaseExpression) -> str | None:
    """`sigmoid` for `1 / (1 + exp(-x))`, `softmax` for `exp(x) / sum(exp(x))`."""
    if _is_one(numerator) and type(denominator) is cst.BinaryOperation and type(denominator.operator) is cst.Add:
        sides = (denominator.left, denominator.right)
        if any(_is_one(s) for s in sides) and any(_is_exp(s) for s in sides):
            return "sigmoid"
    if _is_exp(numerator) and type(denominator) is cst.Call and _callee_name(denominator.func) in ("sum", "reduce_sum"):
        return "softmax"
    return None


def _is_exp(expr: cst.BaseExpression) -> bool:
    return type(expr) is cst.Call and _callee_name(expr.func) == "exp"


def _callee_name(func: cst.BaseExpression) -> str | None:
    if type(func) is cst.Attribute:
        return func.attr.value
    if type(func) is cst.Name:
        return func.value
    return None


def _reduction_in_chain(call: cst.Call) -> bool:
    """`tf.reduce_sum(...)`, `(t * log(p)).sum(dim=1).mean()`: a reduction, or a chain with one."""
    expr: cst.BaseExpression = call
    while type(expr) is cst.Call:
        if _callee_name(expr.func) in _REDUCTIONS:
            return True
        if type(expr.func) is not cst.Attribute:
            return False
        expr = expr.func.value
    return False


def _product_logs(expr: cst.BaseExpression, negated: bool):
    """(log call, negated) for each log call that is a factor of a product in a sum of terms."""
    if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Minus:
        yield from _product_logs(expr.expression, not negated)
    elif type(expr) is cst.BinaryOperation:
        if type(expr.operator) in (cst.Add, cst.Subtract):
            yield from _product_logs(expr.left, negated)
            yield from _product_logs(expr.right, negated if type(expr.operator) is cst.Add else not negated)
        elif type(expr.operator) is cst.Multiply:
            for side, other in ((expr.left, expr.right), (expr.right, expr.left)):
                factor, sign = _strip_minus(side)
                _, other_sign = _strip_minus(other)
                if type(factor) is cst.Call and _callee_name(factor.func) in ("log", "log2", "log10"):
                    yield factor, negated ^ sign ^ other_sign
                elif type(factor) is cst.BinaryOperation:
                    for found, inner_negated in _product_logs(factor, negated ^ sign ^ other_sign):
                        yield found, inner_negated


def _one_minus(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """`p` for `1 - p` (and `1 - (1 - p)`), else None."""
    inner = None
    while type(expr) is cst.BinaryOperation and type(expr.operator) is cst.Subtract and _is_one(expr.left):
        inner = expr = expr.right
    return inner


def _strip_minus(expr: cst.BaseExpression) -> tuple[cst.BaseExpression, bool]:
    if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Minus:
        return expr.expression, True
    return expr, False


def _is_one(expr: cst.BaseExpression) -> bool:
    return type(expr) in (cst.Integer, cst.Float) and expr.value.rstrip("0").rstrip(".") in ("1", "1.")
