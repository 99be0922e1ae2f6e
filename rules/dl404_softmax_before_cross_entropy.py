"""DL404 softmax-before-cross-entropy."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.bindings import Bindings, BlockHooks
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import call_argument, code_of, is_true_literal, keyword_argument, string_value, target_names

# Calls whose result is a probability (the qualified name, or the TensorFlow symbol).
_TORCH_PROBABILITIES = {
    "torch.softmax": "softmax", "torch.nn.functional.softmax": "softmax", "torch.special.softmax": "softmax",
    "torch.sigmoid": "sigmoid", "torch.nn.functional.sigmoid": "sigmoid", "torch.special.expit": "sigmoid",
}
_TF_PROBABILITIES = {
    "nn.softmax": "softmax", "math.softmax": "softmax", "keras.activations.softmax": "softmax",
    "sigmoid": "sigmoid", "nn.sigmoid": "sigmoid", "math.sigmoid": "sigmoid", "keras.activations.sigmoid": "sigmoid",
}
_KERAS_PREFIXES = ("keras.", "tensorflow.keras.", "tensorflow.python.keras.", "tf_keras.")
# Tensor methods that give probabilities (`logits.softmax(dim=1)`, `z.sigmoid()`).
_PROBABILITY_METHODS = {"softmax": "softmax", "sigmoid": "sigmoid"}
# Modules whose output is a probability.
_TORCH_PROBABILITY_MODULES = {"torch.nn.Softmax": "softmax", "torch.nn.Softmax2d": "softmax", "torch.nn.Sigmoid": "sigmoid"}
_SEQUENTIALS = {"torch.nn.Sequential"}
_WRAPPERS = {"torch.nn.DataParallel", "torch.nn.parallel.DistributedDataParallel", "torch.compile"}
# Methods that keep a tensor's values (and so its being a probability) or a model's output.
_KEEPS_VALUES = {"to", "cuda", "cpu", "float", "double", "half", "contiguous", "view", "reshape", "squeeze",
                 "unsqueeze", "permute", "transpose", "flatten", "train", "eval", "type_as", "clone"}
_TF_KEEPS_VALUES = {"reshape", "squeeze", "expand_dims", "transpose", "identity", "cast"}

# Losses that apply the softmax (or sigmoid) to their input themselves.
_TORCH_LOSS_MODULES = {"torch.nn.CrossEntropyLoss": "softmax", "torch.nn.BCEWithLogitsLoss": "sigmoid"}
_TORCH_LOSS_FUNCTIONS = {
    "torch.nn.functional.cross_entropy": "softmax",
    "torch.nn.functional.binary_cross_entropy_with_logits": "sigmoid",
}
# TensorFlow losses on logits: symbol -> (kind, position of `logits` when given positionally).
_TF_LOSSES = {
    "nn.softmax_cross_entropy_with_logits": ("softmax", None),
    "nn.softmax_cross_entropy_with_logits_v2": ("softmax", None),
    "nn.sparse_softmax_cross_entropy_with_logits": ("softmax", None),
    "nn.sigmoid_cross_entropy_with_logits": ("sigmoid", None),
    "losses.softmax_cross_entropy": ("softmax", 1),
    "losses.sparse_softmax_cross_entropy": ("softmax", 1),
    "losses.sigmoid_cross_entropy": ("sigmoid", 1),
}
# Keras losses that take `from_logits`: class or function name -> kind.
_KERAS_LOSS_CLASSES = {"CategoricalCrossentropy": "softmax", "SparseCategoricalCrossentropy": "softmax",
                       "BinaryCrossentropy": "sigmoid"}
_KERAS_LOSS_FUNCTIONS = {"categorical_crossentropy": "softmax", "sparse_categorical_crossentropy": "softmax",
                         "binary_crossentropy": "sigmoid"}
_KERAS_LAYERS_WITH_ACTIVATION = {"Dense": 1, "Conv1D": None, "Conv2D": None, "Conv3D": None, "Activation": 0}
_KERAS_SOFTMAX_LAYERS = {"Softmax": "softmax"}
_TF_FUNCTIONAL_LAYERS = {"layers.dense": 2, "contrib.layers.fully_connected": 2, "contrib.slim.fully_connected": 2}
_TF_SLIM = {"tf_slim.fully_connected": 2, "tf_slim.layers.fully_connected": 2}

_SQUASHED = {
    "softmax": (
        "the softmax is applied twice: probabilities in [0, 1] differ so little after a second softmax that every "
        "class scores about the same, the loss cannot get near 0 and the gradients shrink, so the model trains "
        "badly without any error"
    ),
    "sigmoid": (
        "the sigmoid is applied twice: sigmoid of a probability lies between 0.5 and 0.73, so the loss can never "
        "reach its targets and the gradients shrink, so the model trains badly without any error"
    ),
}


@dataclass(frozen=True)
class _Probability:
    kind: str  # "softmax" or "sigmoid"
    origin: str  # for the message: "`F.softmax(x, dim=1)`"
    via: str = "function"  # "function", "module" (a model's last layer) or "activation" (a layer's argument)
    call: cst.Call | None = None  # the call that made it (for the fix, when it is the loss's argument itself)
    logits: cst.BaseExpression | None = None  # that call's input


@dataclass
class _Module:
    """A callable (layer, `nn.Sequential`, Keras model) whose output is a probability, or not (kind None)."""

    kind: str | None
    origin: str
    keras: bool = False
    path: tuple = ()  # where a Keras `Sequential()` was made: an `add` elsewhere makes its last layer unknown


@dataclass(frozen=True)
class _Instance:
    """An instance of a class of this module (`model = Net()`): its output is what `forward` returns."""

    cls: str


@dataclass(frozen=True)
class _FromCall:
    """What a function of this module returns (at `position` of a returned tuple), known at the end."""

    function: str
    position: int | None = None


@dataclass(frozen=True)
class _Loss:
    kind: str  # what it applies to its input itself
    name: str  # for the message
    keras: bool = False  # Keras: the prediction is the second argument


@dataclass
class _Candidate:
    node: cst.CSTNode  # where to report
    meaning: object  # _Probability or _FromCall / _Instance output, resolved at the end
    loss: _Loss
    argument: cst.BaseExpression
    call: cst.Call | None = None  # the loss call, for the fix


@dataclass
class _Class:
    attributes: dict[str, object] = field(default_factory=dict)  # `self.<name>` -> meaning


class SoftmaxBeforeCrossEntropy(BlockHooks, Rule):
    """
    ## What it does
    Finds probabilities handed to a loss that applies the softmax (or sigmoid) itself:
    a `softmax` output (`F.softmax`, `torch.softmax`, `x.softmax(dim=1)`,
    `tf.nn.softmax`, a layer with `activation="softmax"`, a model whose last layer is
    `nn.Softmax` or whose `forward` returns a softmax) passed to `nn.CrossEntropyLoss`,
    `F.cross_entropy`, or as `logits=` to `tf.nn.softmax_cross_entropy_with_logits`,
    `tf.nn.sparse_softmax_cross_entropy_with_logits`, `tf.losses.softmax_cross_entropy`;
    a Keras loss with `from_logits=True` (`SparseCategoricalCrossentropy(from_logits=True)`)
    on a model that ends in `activation="softmax"`. Likewise a `sigmoid` output into
    `nn.BCEWithLogitsLoss`, `F.binary_cross_entropy_with_logits`,
    `tf.nn.sigmoid_cross_entropy_with_logits` or `BinaryCrossentropy(from_logits=True)`.

    The value is followed through local names (where the assignment surely ran: not
    one made in only one branch of an `if`), attributes set in `__init__`, what the
    module's own functions and `forward` methods return, and value-keeping calls
    (`.to(device)`, `.view(...)`, `tf.reshape`). A model defined in another file is
    not seen. `log_softmax` into `cross_entropy` is not reported: log_softmax is
    idempotent, so that is only redundant.

    ## Why is this bad
    These losses compute `log_softmax(input)` (or `log_sigmoid`) from logits, with
    the log-sum-exp trick. Given probabilities, they apply the softmax a second time.
    Nothing fails: probabilities lie in [0, 1], so a second softmax makes every class
    score about the same (at most a factor e apart), the loss cannot get near 0, and
    the gradients are squashed. The model trains badly or plateaus early; a sigmoid
    applied twice keeps predictions between 0.5 and 0.73.

    ## Example
    ```python
    class Net(nn.Module):
        def forward(self, x):
            return F.softmax(self.fc(x), dim=1)

    criterion = nn.CrossEntropyLoss()
    loss = criterion(model(images), labels)
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def forward(self, x):
            return self.fc(x)  # logits

    loss = criterion(model(images), labels)
    probs = F.softmax(model(images), dim=1)  # only where probabilities are wanted
    ```
    In TensorFlow pass the pre-softmax tensor as `logits=`; in Keras either drop the
    last layer's `activation="softmax"` or leave `from_logits` at its default, `False`.

    ## Fix safety
    Where the softmax (or sigmoid) call is itself the loss's argument
    (`F.cross_entropy(F.softmax(z, dim=1), y)`), the fix passes its input instead. It
    is unsafe: it changes what the model learns (for the better, but training results
    change). Otherwise there is no automatic fix: the softmax sits in the model.
    """

    code = "DL404"
    name = "softmax-before-cross-entropy"
    severity = Severity.WARNING
    summary = "softmax/sigmoid output passed to a loss that applies it again (CrossEntropyLoss, logits=, from_logits=True)"
    triggers = ("cross_entropy", "crossentropy", "bcewithlogits", "with_logits", "from_logits")
    also_triggers = ("softmax", "sigmoid", "expit")

    VALID = (
        "import torch.nn as nn\ncriterion = nn.CrossEntropyLoss()\nloss = criterion(model(x), y)\n",
        "import torch.nn.functional as F\nlogits = head(h)\nloss = F.cross_entropy(logits, y)\nprobs = F.softmax(logits, dim=1)\n",
        "import torch.nn.functional as F\nloss = F.cross_entropy(F.log_softmax(logits, dim=1), y)\n",
        "import torch.nn.functional as F\nif training:\n    out = logits\nelse:\n    out = F.softmax(logits, dim=1)\n"
        "loss = F.cross_entropy(out, y)\n",
        "import tensorflow as tf\npred = tf.nn.softmax(logits)\n"
        "cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=y))\n",
        "import tensorflow as tf\nmodel = tf.keras.Sequential([tf.keras.layers.Dense(10, activation='softmax')])\n"
        "model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(), optimizer='adam')\n",
    )
    INVALID = (
        "import torch.nn.functional as F\nprobs = F.softmax(logits, dim=1)\nloss = F.cross_entropy(probs, y)\n",
        "import torch\nimport torch.nn as nn\nmodel = nn.Sequential(nn.Linear(784, 10), nn.Softmax(dim=1))\n"
        "criterion = nn.CrossEntropyLoss()\nloss = criterion(model(x), y)\n",
        "import torch.nn as nn\nimport torch.nn.functional as F\nclass Net(nn.Module):\n    def forward(self, x):\n"
        "        return F.softmax(self.fc(x), dim=1)\nnet = Net()\nloss = nn.CrossEntropyLoss()(net(x), y)\n",
        "import tensorflow as tf\npred = tf.nn.softmax(tf.matmul(x, W) + b)\n"
        "cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=pred, labels=y))\n",
        "import tensorflow as tf\nmodel = tf.keras.Sequential([tf.keras.layers.Dense(10, activation='softmax')])\n"
        "model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer='adam')\n",
        "import torch.nn as nn\nimport torch\ncriterion = nn.BCEWithLogitsLoss()\nloss = criterion(torch.sigmoid(d_out), real)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.bindings = Bindings()
        self._classes: dict[str, _Class] = {}
        self._class_stack: list[tuple[str, int]] = []  # (class, bindings depth of its body)
        self._functions: list[tuple[str | None, str | None]] = []  # (key of its returns, first parameter)
        self._returns: dict[str, list[object]] = {}  # function key -> the meaning of each `return`
        self._defined: set[str] = set()  # the module's functions and classes, by key
        self._candidates: list[_Candidate] = []

    # -- structure ---------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        name = node.name.value
        self._defined.add(name)
        self._classes.setdefault(name, _Class())
        self._class_stack.append((name, self.bindings.depth))
        self.bindings.bind(name, None)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)]
        if type(node.params.star_arg) is cst.Param:
            params.append(node.params.star_arg.name.value)
        if node.params.star_kwarg is not None:
            params.append(node.params.star_kwarg.name.value)
        self.bindings.bind(name, None)
        if self._class_stack and self._class_stack[-1][1] == self.bindings.depth:
            key = f"{self._class_stack[-1][0]}.{name}"
            self._functions.append((key, params[0] if params else None))
        else:
            key = name if self.bindings.depth == 0 else None
            self._functions.append((key, None))
        if key is not None:
            self._defined.add(key)
        self.bindings.enter_function(params)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.bindings.leave_function()
        self._functions.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.bindings.enter_function([p.name.value for p in node.params.params])
        self._functions.append((None, None))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.bindings.leave_function()
        self._functions.pop()

    # -- bindings ----------------------------------------------------------------------------
    def leave_Assign(self, original_node: cst.Assign) -> None:
        for target in original_node.targets:
            self._bind(target.target, original_node.value)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if original_node.value is not None:
            self._bind(original_node.target, original_node.value)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._bind(original_node.target, None)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, node.value)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if type(target) is cst.Name:
            self.bindings.bind(target.value, self._value(value) if value is not None else None)
            return
        if type(target) in (cst.Tuple, cst.List):
            values = value.elements if type(value) in (cst.Tuple, cst.List) else None
            meaning = self._value(value) if value is not None and values is None else None
            for index, element in enumerate(target.elements):
                if type(element.value) is cst.Name and values is not None and len(values) == len(target.elements):
                    self._bind(element.value, values[index].value)
                elif type(element.value) is cst.Name and isinstance(meaning, _FromCall) and meaning.position is None:
                    self.bindings.bind(element.value.value, _FromCall(meaning.function, index))
                else:
                    for name in target_names(element.value):
                        self.bindings.bind(name, None)
            return
        attribute = self._self_attribute(target)
        if attribute is not None:
            cls = self._classes[self._class_stack[-1][0]]
            meaning = self._value(value) if value is not None else None
            if attribute in cls.attributes and cls.attributes[attribute] != meaning:
                meaning = None  # set twice to different things: unknown
            cls.attributes[attribute] = meaning

    def _self_attribute(self, expr: cst.BaseExpression) -> str | None:
        """`fc` for `self.fc` inside a method of a class of this module."""
        if not (type(expr) is cst.Attribute and type(expr.value) is cst.Name and self._class_stack):
            return None
        self_name = self._self_name()
        if self_name is None or expr.value.value != self_name:
            return None
        return expr.attr.value

    def _self_name(self) -> str | None:
        """The first parameter of the method being visited (through nested functions), if any."""
        return next((first for key, first in reversed(self._functions) if key is not None), None)

    def visit_Return(self, node: cst.Return) -> None:
        key = self._functions[-1][0] if self._functions else None
        if key is None:
            return
        value = node.value
        if type(value) is cst.Tuple:
            meaning: object = tuple(self._value(element.value) for element in value.elements)
        else:
            meaning = self._value(value) if value is not None else None
        self._returns.setdefault(key, []).append(meaning)

    # -- values ------------------------------------------------------------------------------
    def _value(self, expr: cst.BaseExpression | None) -> object | None:
        if expr is None:
            return None
        if type(expr) is cst.Name:
            return self.bindings.lookup(expr.value)
        if type(expr) is cst.Attribute:
            attribute = self._self_attribute(expr)
            if attribute is not None:
                return self._classes[self._class_stack[-1][0]].attributes.get(attribute)
            return None
        if type(expr) is cst.Call:
            return self._call_value(expr)
        return None

    def _call_value(self, call: cst.Call) -> object | None:
        func = call.func
        qualified = self.names.qualify(func)
        symbol = tf_symbol(qualified)
        # The call's code, for a message, is rendered only for the calls that make a value
        # this rule follows: rendering every call's would cost more than the rule itself.
        if qualified in _TORCH_PROBABILITIES:
            return _Probability(_TORCH_PROBABILITIES[qualified], f"`{code_of(call, 40)}`", call=call, logits=_first_input(call))
        if symbol in _TF_PROBABILITIES:
            return _Probability(_TF_PROBABILITIES[symbol], f"`{code_of(call, 40)}`", call=call, logits=_first_input(call))
        if qualified in _TORCH_PROBABILITY_MODULES:
            return _Module(_TORCH_PROBABILITY_MODULES[qualified], f"`{code_of(call, 40)}`")
        if qualified in _SEQUENTIALS and call.args:
            last = self._value(call.args[-1].value)
            return _Module(last.kind, last.origin) if isinstance(last, _Module) else None
        if qualified in _WRAPPERS and call.args:
            return self._value(call.args[0].value)
        if qualified in _TORCH_LOSS_MODULES:
            return _Loss(_TORCH_LOSS_MODULES[qualified], f"`{qualified.rpartition('.')[2]}`")
        keras = self._keras_value(call, qualified, symbol)
        if keras is not None:
            return keras
        layer = self._functional_layer(call, qualified, symbol)
        if layer is not None:
            return layer
        if qualified is None and type(func) is cst.Name:
            callee = self.bindings.lookup(func.value)
            if callee is not None:
                return self._called(callee, call)
            if func.value in self._classes:
                return _Instance(func.value)
            if self._class_stack and func.value == self._self_name():
                return _FromCall(f"{self._class_stack[-1][0]}.forward")  # `self(x)` in a LightningModule
            return _FromCall(func.value)
        if type(func) is cst.Attribute:
            method = func.attr.value
            if self._self_attribute(func) is not None:
                return self._called(self._value(func), call)
            receiver = self._value(func.value)
            if method in _KEEPS_VALUES and receiver is not None:
                return receiver
            if method in _PROBABILITY_METHODS and qualified is None:
                return _Probability(_PROBABILITY_METHODS[method], f"`{code_of(call, 40)}`", call=call, logits=func.value)
        if symbol is not None and symbol.rpartition(".")[2] in _TF_KEEPS_VALUES and call.args:
            return self._value(call.args[0].value)
        callee = self._value(func)
        return self._called(callee, call) if callee is not None else None

    def _called(self, callee: object, call: cst.Call) -> object | None:
        """What calling `callee` gives: a module's output, a model's `forward`."""
        if isinstance(callee, _Module):
            if callee.kind is None:
                return None
            return _Probability(callee.kind, f"`{code_of(call.func, 40)}(...)`, whose last layer is {callee.origin}", "module")
        if isinstance(callee, _Instance):
            return _FromCall(f"{callee.cls}.forward")
        return None

    def _keras_value(self, call: cst.Call, qualified: str | None, symbol: str | None) -> object | None:
        """Keras layers with a softmax, Keras models, and Keras losses with `from_logits=True`."""
        name = _keras_name(qualified, symbol)
        if name is None:
            return None
        last = name.rpartition(".")[2]
        origin = f"`{code_of(call, 50)}`"
        if last in _KERAS_LOSS_CLASSES:
            if is_true_literal(keyword_argument(call, "from_logits")):
                return _Loss(_KERAS_LOSS_CLASSES[last], f"`{last}(from_logits=True)`", keras=True)
            return None
        if last in _KERAS_SOFTMAX_LAYERS:
            return _Module(_KERAS_SOFTMAX_LAYERS[last], origin, keras=True)
        if last in _KERAS_LAYERS_WITH_ACTIVATION:
            position = _KERAS_LAYERS_WITH_ACTIVATION[last]
            activation = call_argument(call, position, "activation")
            kind = _activation_kind(activation) if activation is not None else None
            return _Module(kind, origin, keras=True)
        if last == "Sequential":
            layers = call_argument(call, 0, "layers")
            if type(layers) in (cst.List, cst.Tuple) and layers.elements:
                final = self._value(layers.elements[-1].value)
                if isinstance(final, _Module):
                    return _Module(final.kind, final.origin, keras=True)
                return _Module(None, origin, keras=True)
            if layers is None:
                return _Module(None, origin, keras=True, path=self.bindings.path())
            return None
        if last in ("Model", "Functional"):
            outputs = call_argument(call, 1, "outputs")
            meaning = self._value(outputs) if outputs is not None else None
            if isinstance(meaning, _Probability):
                return _Module(meaning.kind, meaning.origin, keras=True)
            return None
        return None

    def _functional_layer(self, call: cst.Call, qualified: str | None, symbol: str | None) -> object | None:
        """`tf.layers.dense(h, 10, activation=tf.nn.softmax)`: the layer's output is a probability."""
        position = _TF_FUNCTIONAL_LAYERS.get(symbol or "") if symbol is not None else _TF_SLIM.get(qualified or "")
        if position is None:
            return None
        activation = call_argument(call, position, "activation_fn" if "fully_connected" in (symbol or qualified or "") else "activation")
        kind = _activation_kind(activation) if activation is not None else None
        if kind is None:
            return None
        return _Probability(kind, f"`{code_of(call, 50)}`", "activation")

    # -- sinks -------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.names.qualify(node.func)
        symbol = tf_symbol(qualified)
        if qualified in _TORCH_LOSS_FUNCTIONS:
            kind = _TORCH_LOSS_FUNCTIONS[qualified]
            self._check(node, call_argument(node, 0, "input"), _Loss(kind, f"`{qualified.rpartition('.')[2]}`"))
            return
        if symbol in _TF_LOSSES:
            kind, position = _TF_LOSSES[symbol]
            self._check(node, call_argument(node, position, "logits"), _Loss(kind, f"`tf.{symbol}`"))
            return
        name = _keras_name(qualified, symbol)
        if name is not None and name.rpartition(".")[2] in _KERAS_LOSS_FUNCTIONS:
            if is_true_literal(keyword_argument(node, "from_logits")):
                last = name.rpartition(".")[2]
                self._check(node, call_argument(node, 1, "y_pred"),
                            _Loss(_KERAS_LOSS_FUNCTIONS[last], f"`{last}(..., from_logits=True)`", keras=True))
            return
        if type(node.func) is cst.Attribute and node.func.attr.value == "add" and type(node.func.value) is cst.Name:
            self._keras_add(node)
            return
        if type(node.func) is cst.Attribute and node.func.attr.value == "compile":
            self._keras_compile(node)
            return
        callee = self._value(node.func)
        if isinstance(callee, _Loss):
            self._check(node, call_argument(node, 1 if callee.keras else 0, "y_pred" if callee.keras else "input"), callee)

    def _keras_add(self, node: cst.Call) -> None:
        """`model.add(Dense(10, activation="softmax"))`: the model's last layer, while known."""
        model = self.bindings.lookup(node.func.value.value)
        if not isinstance(model, _Module) or not model.keras or not node.args:
            return
        layer = self._value(node.args[0].value)
        if isinstance(layer, _Module) and self.bindings.path() == model.path:
            model.kind, model.origin = layer.kind, layer.origin
        else:
            model.kind = None

    def _keras_compile(self, node: cst.Call) -> None:
        model = self._value(node.func.value)
        loss_argument = keyword_argument(node, "loss")
        loss = self._value(loss_argument) if loss_argument is not None else None
        if not (isinstance(model, _Module) and model.keras and model.kind is not None and isinstance(loss, _Loss)):
            return
        if loss.kind != model.kind:
            return
        self._candidates.append(_Candidate(
            loss_argument,
            _Probability(model.kind, f"`{code_of(node.func.value)}`, whose last layer is {model.origin}", "activation"),
            loss, loss_argument,
        ))

    def _check(self, node: cst.Call, argument: cst.BaseExpression | None, loss: _Loss) -> None:
        if argument is None:
            return
        meaning = self._value(argument)
        if isinstance(meaning, (_Probability, _FromCall)):
            self._candidates.append(_Candidate(node, meaning, loss, argument, node))

    # -- findings ----------------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        for candidate in self._candidates:
            probability = self._resolve(candidate.meaning, 0)
            if isinstance(probability, _Probability) and probability.kind == candidate.loss.kind:
                self._report(candidate, probability)

    def _resolve(self, meaning: object, depth: int) -> object | None:
        if not isinstance(meaning, _FromCall):
            return meaning
        function = meaning.function
        if function.endswith(".forward"):  # a model's output: its `forward`, or Keras's `call`
            cls = function.rpartition(".")[0]
            function = next((f"{cls}.{name}" for name in ("forward", "call", "__call__") if f"{cls}.{name}" in self._defined), "")
        if depth > 6 or function not in self._defined or function in self._classes:
            return None
        returns = self._returns.get(function)
        if not returns:
            return None
        found: list[_Probability] = []
        for returned in returns:
            if meaning.position is not None:
                if not isinstance(returned, tuple) or meaning.position >= len(returned):
                    return None
                returned = returned[meaning.position]
            elif isinstance(returned, tuple):
                return None
            returned = self._resolve(returned, depth + 1)
            if not isinstance(returned, _Probability):
                return None  # one return that is not a probability (`if self.training: return logits`)
            found.append(returned)
        first = found[0]
        if any(p.kind != first.kind for p in found):
            return None
        owner = function.rpartition(".")[0] or function
        via = "module" if "." in function else first.via
        return _Probability(first.kind, f"what `{owner}` returns, {first.origin}", via)

    def _report(self, candidate: _Candidate, probability: _Probability) -> None:
        loss = candidate.loss
        kind = probability.kind
        if loss.keras:
            what = f"{loss.name} applies the {kind} itself, but the prediction is already a {kind} output ({probability.origin})"
            fix_text = (f"drop the {kind} activation so that the model returns logits, or leave `from_logits` at its "
                        f"default (False)")
        else:
            what = f"{loss.name} applies the {kind} to its input itself, but `{code_of(candidate.argument, 40)}` is already a {kind} output ({probability.origin})"
            if probability.via == "module":
                fix_text = f"drop the final {kind} so that the model returns logits, and apply it only where probabilities are needed"
            elif probability.via == "activation":
                fix_text = f"drop the {kind} activation so that the layer returns logits, and pass those"
            else:
                fix_text = f"pass the logits, the input of the {kind}"
        fix = None
        made = probability.call
        if made is not None and made is candidate.argument and probability.logits is not None and candidate.call is not None:
            fix = Fix(f"pass the input of the {kind} to the loss", Applicability.UNSAFE, ((made, probability.logits),))
        self.report(candidate.node, f"{what}: {_SQUASHED[kind]}; {fix_text}", fix)


def _keras_name(qualified: str | None, symbol: str | None) -> str | None:
    """The Keras path of a Keras name (`layers.Dense`, `losses.CategoricalCrossentropy`), else None."""
    if symbol is not None and symbol.startswith("keras."):
        return symbol[len("keras."):]
    if qualified is not None:
        for prefix in _KERAS_PREFIXES:
            if qualified.startswith(prefix):
                return qualified[len(prefix):]
    return None


def _activation_kind(activation: cst.BaseExpression) -> str | None:
    text = string_value(activation)
    if text is None:
        text = (dotted_name(activation) or "").rpartition(".")[2]
    return {"softmax": "softmax", "sigmoid": "sigmoid"}.get(text)


def _first_input(call: cst.Call) -> cst.BaseExpression | None:
    """`z` for `F.softmax(z, dim=1)` / `tf.nn.softmax(z)`."""
    return call_argument(call, 0, "input") or call_argument(call, 0, "logits") or call_argument(call, 0, "x")
