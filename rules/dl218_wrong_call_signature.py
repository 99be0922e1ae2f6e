"""DL218 wrong-call-signature, and what TF1 graph code's names hold (`GraphValues`).

`GraphValues` follows, through a module's assignments, which names hold TensorFlow
values whose kind a call's arguments can be judged by: a placeholder and its dtype, a
variable and its dtype, the output of a linear layer (logits), a one-hot, any other
tensor, an op, a `tf.train.Saver`, a graph, a session config. DL218, DL219 and DL220
read it. Like `Bindings`, it answers only where the binding dominates the use; a name
rebound to anything else (`x = sess.run(x)`) holds nothing known.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from dldoctor.lint import target as target_environment
from dldoctor.lint.bindings import BlockHooks, Bindings
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, keyword_argument, target_names, unplaceable

TENSORFLOW = (
    "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tensorflow-macos",
    "tensorflow-rocm", "tf-nightly", "tf-nightly-cpu", "tf-nightly-gpu",
)


@dataclass(frozen=True)
class Value:
    """What a name holds: `kind` is placeholder, variable, linear, onehot, tensor, op,
    saver, graph, config or iterator; `dtype` the literal dtype (`float64`), if known."""

    kind: str
    dtype: str | None = None
    made_by: str = ""  # the TensorFlow symbol that made it (`placeholder`, `train.shuffle_batch`)

    @property
    def is_tensor(self) -> bool:
        return self.kind in ("placeholder", "linear", "onehot", "tensor")


# Functions whose result is a Tensor (symbols without the module path).
_TENSOR_FUNCTIONS = frozenset(
    """
    constant zeros ones zeros_like ones_like fill reshape cast concat stack squeeze expand_dims
    transpose matmul add subtract multiply divide truediv add_n reduce_sum reduce_mean reduce_max
    reduce_min reduce_prod argmax argmin equal not_equal greater less greater_equal less_equal where
    gather gather_nd slice strided_slice pad tile range random_normal random_uniform truncated_normal
    sigmoid tanh exp log sqrt square abs maximum minimum read_file decode_raw string_to_number
    identity stop_gradient convert_to_tensor clip_by_value to_float to_int32 to_int64 sign round
    floor ceil pow tensordot einsum boolean_mask shape size rank one_hot
    placeholder_with_default sparse_tensor_to_dense decode_csv
    """.split()
)
_TENSOR_MODULES = ("nn.", "image.", "math.", "random.", "linalg.", "strings.", "io.decode_", "io.read_file")
# In those modules, names that are not tensor functions.
_NOT_TENSORS = ("nn.rnn_cell", "nn.dynamic_rnn", "nn.bidirectional_dynamic_rnn", "nn.static_rnn", "nn.moments",
                "nn.raw_rnn", "nn.top_k", "nn.ctc_", "nn.sufficient_statistics", "image.ResizeMethod",
                "random.set_seed", "random.get_seed", "random.Generator", "math.top_k", "nn.weighted_moments")
# Layers that compute `inputs @ kernel + bias` (with no activation: logits).
_LINEAR = frozenset({"matmul", "nn.xw_plus_b", "linalg.matmul"})
_DENSE = frozenset({"layers.dense"})
# Functions returning a tuple or list of tensors: their elements, unpacked, are tensors.
_TENSOR_TUPLES = frozenset({
    "train.batch", "train.shuffle_batch", "train.batch_join", "train.shuffle_batch_join", "split", "unstack",
    "train.slice_input_producer", "train.maybe_batch", "train.maybe_shuffle_batch",
})
_OPS = frozenset({
    "global_variables_initializer", "initialize_all_variables", "local_variables_initializer",
    "initialize_local_variables", "variables_initializer", "initialize_variables", "tables_initializer",
    "group", "no_op", "assign", "assign_add", "assign_sub",
})
_ITERATOR_MAKERS = frozenset({"make_one_shot_iterator", "make_initializable_iterator"})
_DTYPES = {
    "float16": "float16", "half": "float16", "float32": "float32", "float": "float32", "float64": "float64",
    "double": "float64", "int32": "int32", "int64": "int64", "int8": "int8", "uint8": "uint8", "int16": "int16",
    "bool": "bool", "string": "string", "bfloat16": "bfloat16",
}


def tensorflow_release() -> tuple[int, ...] | None:
    """The target TensorFlow's release, `(1, 15)`, or None when unknown."""
    version = target_environment.current().version("tensorflow")
    return target_environment.release(version) if version else None


def target_phrase() -> str:
    """`TensorFlow 1.7 (the target, from requirements.txt:1)` or `TensorFlow 2.21.0 (installed here)`."""
    version = target_environment.current().version("tensorflow")
    if version is None:
        return "TensorFlow"
    if target_environment.installed_here(version):
        return f"TensorFlow {version} (installed here)"
    return f"TensorFlow {target_environment.shown(version)} (the target, from {target_environment.source(version)})"


class GraphValues(BlockHooks):
    """Visitor hooks (mix into a rule before `Rule`) that keep `self.values`: what the
    module's names hold. A rule asks `self.value_of(expr)` at a use."""

    names: object

    def _graph_values(self) -> Bindings:
        bindings = getattr(self, "bindings", None)
        if bindings is None:
            bindings = self.bindings = Bindings()
        return bindings

    # -- scopes ----------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = node.params
        names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
        names += [star.name.value for star in (params.star_arg, params.star_kwarg) if type(star) is cst.Param]
        self._graph_values().enter_function(names)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._graph_values().leave_function()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._graph_values().enter_function([p.name.value for p in node.params.params])

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._graph_values().leave_function()

    # -- bindings --------------------------------------------------------------------------
    def leave_Assign(self, original_node: cst.Assign) -> None:
        value = original_node.value
        for target in original_node.targets:
            self._bind_target(target.target, value)

    def _bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        bindings = self._graph_values()
        name = dotted_name(target)
        if name is not None:
            bindings.bind(name, self.value_of(value))
            return
        if type(target) in (cst.Tuple, cst.List):
            element = self._element_value(value)
            for item in target.elements:
                inner = item.value
                if type(item) is cst.StarredElement or type(inner) not in (cst.Name, cst.Attribute):
                    for bound in target_names(inner):
                        bindings.bind(bound, None)
                    continue
                bindings.bind(dotted_name(inner), element)

    def _element_value(self, value: cst.BaseExpression) -> Value | None:
        """What each element of an unpacked `value` is: tensors for a batch, a split, `get_next()`."""
        if type(value) is not cst.Call:
            return None
        symbol = self.tf_call(value)
        if symbol in _TENSOR_TUPLES:
            return Value("tensor", made_by=symbol)
        if self._is_get_next(value):
            return Value("tensor", made_by="get_next")
        return None

    def _rebind(self, target: cst.BaseExpression) -> None:
        for name in target_names(target):
            self._graph_values().bind(name, None)
        name = dotted_name(target)
        if name is not None:
            self._graph_values().bind(name, None)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._rebind(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._rebind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._rebind(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._rebind(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._rebind(node.target)

    # -- values ----------------------------------------------------------------------------
    def tf_call(self, call: cst.Call) -> str | None:
        """The TensorFlow symbol `call` calls (`nn.softmax`), or None."""
        return tf_symbol(self.names.qualify(call.func))

    def value_of(self, expr: cst.BaseExpression | None) -> Value | None:
        """What `expr` evaluates to, as far as the module shows."""
        if expr is None:
            return None
        if type(expr) is cst.Integer:
            return Value("int")
        if type(expr) in (cst.Name, cst.Attribute):
            name = dotted_name(expr)
            found = self._graph_values().lookup(name) if name is not None else None
            return found if isinstance(found, Value) else None
        if type(expr) is cst.BinaryOperation and type(expr.operator) is cst.Add:
            left, right = self.value_of(expr.left), self.value_of(expr.right)
            if (left and left.kind == "linear") or (right and right.kind == "linear"):
                return Value("linear")  # `tf.matmul(x, W) + b`
            if (left and left.is_tensor) or (right and right.is_tensor):
                return Value("tensor")
            return None
        if type(expr) is not cst.Call:
            return None
        if type(expr.func) is cst.Name and expr.func.value == "int" and self.names.qualify(expr.func) == "builtins.int":
            return Value("int")
        symbol = self.tf_call(expr)
        if symbol is None:
            if self._is_get_next(expr):
                return Value("tensor", made_by="get_next")
            if type(expr.func) is cst.Attribute and expr.func.attr.value in _ITERATOR_MAKERS:
                return Value("iterator")
            return None
        return self._tf_value(symbol, expr)

    def _tf_value(self, symbol: str, call: cst.Call) -> Value | None:
        if symbol == "placeholder":
            return Value("placeholder", literal_dtype(call_argument(call, 0, "dtype"), self.names), symbol)
        if symbol == "Variable":
            return Value("variable", self._variable_dtype(call), symbol)
        if symbol == "get_variable":
            return Value("variable", self._get_variable_dtype(call), symbol)
        if symbol in _LINEAR:
            return Value("linear", made_by=symbol)
        if symbol in _DENSE:
            activation = call_argument(call, 2, "activation")
            linear = activation is None or (type(activation) is cst.Name and activation.value == "None")
            return Value("linear" if linear else "tensor", made_by=symbol)
        if symbol in ("add", "nn.bias_add", "math.add"):
            first = self.value_of(call_argument(call, 0, "x" if symbol != "nn.bias_add" else "value"))
            if first is not None and first.kind == "linear":
                return Value("linear", made_by=symbol)
            return Value("tensor", made_by=symbol)
        if symbol == "one_hot":
            return Value("onehot", made_by=symbol)
        if symbol in _OPS:
            return Value("op", made_by=symbol)
        if symbol == "train.Saver":
            return Value("saver", made_by=symbol)
        if symbol == "Graph":
            return Value("graph", made_by=symbol)
        if symbol == "ConfigProto":
            return Value("config", made_by=symbol)
        if symbol in ("data.make_one_shot_iterator", "data.make_initializable_iterator",
                      "data.Iterator.from_structure"):
            return Value("iterator", made_by=symbol)
        if symbol in _TENSOR_FUNCTIONS or (
            symbol.startswith(_TENSOR_MODULES) and not symbol.startswith(_NOT_TENSORS)
            and symbol.rsplit(".", 1)[-1][:1].islower()
        ):
            return Value("tensor", made_by=symbol)
        return None

    def _is_get_next(self, call: cst.Call) -> bool:
        """`iterator.get_next()` on a tf.data iterator (made by `make_one_shot_iterator` and kin)."""
        if not (type(call.func) is cst.Attribute and call.func.attr.value == "get_next" and not call.args):
            return False
        receiver = self.value_of(call.func.value)
        return receiver is not None and receiver.kind == "iterator"

    def _variable_dtype(self, call: cst.Call) -> str | None:
        dtype = keyword_argument(call, "dtype")
        if dtype is not None:
            return literal_dtype(dtype, self.names)
        initial = call_argument(call, 0, "initial_value")
        if type(initial) is cst.Call:
            symbol = self.tf_call(initial)
            if symbol in ("zeros", "ones", "random_normal", "random_uniform", "truncated_normal", "random.normal",
                          "random.uniform", "random.truncated_normal"):
                return literal_dtype(keyword_argument(initial, "dtype"), self.names) if keyword_argument(
                    initial, "dtype") is not None else "float32"
        return None

    def _get_variable_dtype(self, call: cst.Call) -> str | None:
        dtype = call_argument(call, 2, "dtype")
        if dtype is not None:
            return literal_dtype(dtype, self.names)
        initializer = call_argument(call, 3, "initializer")
        if initializer is None:
            return "float32"
        if type(initializer) is cst.Call and (self.tf_call(initializer) or "").endswith("_initializer"):
            return "float32"  # an initializer object: the variable takes get_variable's default dtype
        return None


def literal_dtype(expr: cst.BaseExpression | None, names) -> str | None:
    """`tf.float64`, `tf.float32`, `np.float64`, `"float64"` as a dtype name; else None."""
    if expr is None:
        return None
    if type(expr) is cst.SimpleString:
        value = expr.evaluated_value
        return _DTYPES.get(value) if isinstance(value, str) else None
    qualified = names.qualify(expr) if type(expr) is cst.Attribute else None
    if not qualified:
        return None
    if qualified.startswith("numpy."):
        return _DTYPES.get(qualified[len("numpy."):])
    symbol = tf_symbol(qualified) or ""
    return _DTYPES.get(symbol[len("dtypes."):] if symbol.startswith("dtypes.") else symbol)


_XENT = {
    "nn.softmax_cross_entropy_with_logits": "softmax_cross_entropy_with_logits",
    "nn.sigmoid_cross_entropy_with_logits": "sigmoid_cross_entropy_with_logits",
    "nn.sparse_softmax_cross_entropy_with_logits": "sparse_softmax_cross_entropy_with_logits",
}
_RESIZE = frozenset({"image.resize_images", "image.resize"})
# `tf.train.Saver(...)` arguments that `Saver.save` does not take.
_SAVER_ONLY = ("max_to_keep", "keep_checkpoint_every_n_hours", "var_list")
# Reductions whose TensorFlow 2 API lost `keep_dims` (`keepdims` since TensorFlow 1.5).
_KEEP_DIMS = frozenset({
    "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_all", "reduce_any",
    "reduce_logsumexp", "math.reduce_sum", "math.reduce_mean", "math.reduce_max", "math.reduce_min",
    "math.reduce_prod", "math.reduce_all", "math.reduce_any", "math.reduce_logsumexp", "math.count_nonzero",
    "count_nonzero", "norm", "linalg.norm", "math.reduce_std", "math.reduce_variance", "math.reduce_euclidean_norm",
})


class WrongCallSignature(GraphValues, Rule):
    """
    ## What it does
    Checks calls of the TensorFlow APIs that TF1-era code calls most against their
    signature in the target TensorFlow (the project's target version, see DL602; else
    the TensorFlow installed here):

    - `tf.nn.softmax_cross_entropy_with_logits`, `sigmoid_cross_entropy_with_logits` and
      `sparse_softmax_cross_entropy_with_logits` called with positional arguments: on
      TensorFlow 1.x that always raises; on TensorFlow 2 it is reported when the first
      argument is known to be the logits (the output of `tf.matmul`, `tf.layers.dense`
      without activation, `xw_plus_b`, `matmul(...) + b`), which TensorFlow 2 takes as
      the labels; on TensorFlow 0.x, whose signature was `(logits, labels)`, nothing;
    - `tf.image.resize_images(images, height, width)` (one `size=[height, width]`
      argument since TensorFlow 1.0; a number in the size's place);
    - `saver.save(sess, path, max_to_keep=...)` on a `tf.train.Saver` (`max_to_keep`,
      `keep_checkpoint_every_n_hours`, `var_list`, ... belong to `tf.train.Saver(...)`);
    - `tf.Session(x)` where `x` is an op (`tf.global_variables_initializer()`), a tensor,
      a `tf.Graph()` or a `tf.ConfigProto()`: the first parameter is the target string;
    - `tf.concat(..., values=<int>)` and `tf.split(..., value=<int>)`: the TensorFlow 0.x
      order spelled with the new keywords (`tf.concat(axis=[a, b], values=1)`);
    - `keep_dims=` in `tf.reduce_sum` and the other reductions of TensorFlow 2's API
      (not `tf.compat.v1`'s, which still accepts it, deprecated).

    ## Why is this bad
    Each fails at the call, or worse:

        ValueError: Only call `softmax_cross_entropy_with_logits` with named arguments (labels=..., logits=..., ...)
        ValueError: 'size' must be a 1-D Tensor of 2 elements: new_height, new_width
        TypeError: Saver.save() got an unexpected keyword argument 'max_to_keep'
        TypeError: Argument `target` must be a string, but got "Operation"
        ValueError: Shape (2, None, 3) must have rank 0
        TypeError: Got an unexpected keyword argument 'keep_dims'

    TensorFlow 1.0 changed the cross-entropy functions to `(labels, logits)` and, to catch
    code written for the old `(logits, labels)`, made them refuse positional arguments
    (TensorFlow's 1.0 release notes). TensorFlow 2 dropped that guard: `tf.nn.
    softmax_cross_entropy_with_logits(logits, labels)` now runs, with the two swapped,
    and trains on a wrong loss without a word (checked with TensorFlow 2.21, where
    `tf.compat.v1.nn` behaves the same). The others were checked the same way: the
    errors above are TensorFlow 2.21's, through `tf.compat.v1` in graph mode.

    ## Example
    ```python
    logits = tf.matmul(hidden, w) + b
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits, labels))
    images = tf.image.resize_images(images, 224, 224)
    saver = tf.train.Saver()
    saver.save(sess, "model.ckpt", max_to_keep=5)
    ```

    ## Use instead
    ```python
    logits = tf.matmul(hidden, w) + b
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    images = tf.image.resize_images(images, [224, 224])
    saver = tf.train.Saver(max_to_keep=5)
    saver.save(sess, "model.ckpt")
    ```

    ## Fix safety
    No automatic fix: which argument is which is the author's to say.
    """

    code = "DL218"
    name = "wrong-call-signature"
    severity = Severity.ERROR
    summary = "a TensorFlow call its target version's signature refuses or misreads: positional cross entropies, resize_images(img, h, w), saver.save(max_to_keep=)"
    triggers = ("tensorflow",)
    also_triggers = ("cross_entropy_with_logits", "resize", "max_to_keep", "keep_checkpoint", "session", "concat",
                     "split", "keep_dims", "var_list")
    reads_installed = (TENSORFLOW,)

    VALID = (
        "import tensorflow.compat.v1 as tf\nlogits = tf.matmul(x, w)\n"
        "loss = tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits)\n",
        "import tensorflow.compat.v1 as tf\nimages = tf.image.resize_images(images, [224, 224])\n",
        "import tensorflow.compat.v1 as tf\nsaver = tf.train.Saver(max_to_keep=5)\nsaver.save(sess, 'm.ckpt')\n",
        "import tensorflow as tf\ntotal = tf.reduce_sum(x, axis=1, keepdims=True)\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nlogits = tf.matmul(x, w) + b\n"
        "loss = tf.nn.softmax_cross_entropy_with_logits(logits, y)\n",
        "import tensorflow.compat.v1 as tf\nimages = tf.image.resize_images(images, 224, 224)\n",
        "import tensorflow.compat.v1 as tf\nsaver = tf.train.Saver()\nsaver.save(sess, 'm.ckpt', max_to_keep=5)\n",
        "import tensorflow.compat.v1 as tf\ninit = tf.global_variables_initializer()\nsess = tf.Session(init)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.bindings = Bindings()
        # Attribute targets (`self.saver`) bound to a Saver somewhere in the module, and
        # those bound to anything else: a method's `self.saver.save(...)` is judged by them.
        self._savers: set[str] = set()
        self._not_savers: set[str] = set()
        self._calls: list[cst.Call] = []

    def leave_Assign(self, original_node: cst.Assign) -> None:
        super().leave_Assign(original_node)
        value = self.value_of(original_node.value)
        for target in original_node.targets:
            name = dotted_name(target.target)
            if name is not None and "." in name:
                (self._savers if value is not None and value.kind == "saver" else self._not_savers).add(name)

    def visit_Call(self, node: cst.Call) -> None:
        if unplaceable(node):
            return
        symbol = self.tf_call(node)
        if symbol in _XENT:
            self._check_cross_entropy(node, _XENT[symbol], self.names.qualify(node.func) or "")
        elif symbol in _RESIZE:
            self._check_resize(node, symbol)
        elif symbol in ("Session", "InteractiveSession"):
            self._check_session(node, symbol)
        elif symbol == "concat":
            self._check_old_order(node, "concat", "values", "tf.concat(values, axis)")
        elif symbol == "split":
            self._check_old_order(node, "split", "value", "tf.split(value, num_or_size_splits, axis)")
        elif symbol in _KEEP_DIMS:
            self._check_keep_dims(node, symbol)
        elif type(node.func) is cst.Attribute and node.func.attr.value == "save":
            value = self.value_of(node.func.value)
            if value is not None and value.kind == "saver":
                self._check_saver_save(node)
            elif "." in (dotted_name(node.func.value) or ""):
                self._calls.append(node)  # `self.saver.save`: judged when every `self.saver = ...` is known

    def leave_Module(self, original_node: cst.Module) -> None:
        for node in self._calls:
            name = dotted_name(node.func.value)
            if name in self._savers and name not in self._not_savers:
                self._check_saver_save(node)

    # -- the checks ----------------------------------------------------------------------
    def _check_cross_entropy(self, node: cst.Call, function: str, qualified: str) -> None:
        positional = [arg for arg in node.args if arg.keyword is None]
        if not positional:
            return
        release = tensorflow_release()
        if release is not None and release < (1, 0):
            return  # TensorFlow 0.x: `(logits, labels)` was the signature
        first = self.value_of(positional[0].value)
        known_logits = len(positional) >= 2 and first is not None and first.kind == "linear"
        written = code_of(positional[0].value, 30)
        if release is not None and release < (2, 0):
            self.report(
                node,
                f"`tf.nn.{function}` called with positional arguments: since TensorFlow 1.0 it takes named arguments "
                f"only ({target_phrase()}), and raises `ValueError: Only call `{function}` with named arguments "
                f"(labels=..., logits=..., ...)`; write `{function}(labels=..., logits=...)`",
            )
            return
        if not known_logits:
            return  # TensorFlow 2 takes (labels, logits) positionally: fine unless the logits come first
        version = f"{target_phrase()}" if release is not None else "TensorFlow 2"
        self.report(
            node,
            f"`tf.nn.{function}({written}, ...)` passes the logits first: the TensorFlow 0.x order. TensorFlow 1.x "
            f"refuses positional arguments (`ValueError: Only call `{function}` with named arguments`), and "
            f"{version} takes `(labels, logits)`, so `{written}` is read as the labels and the loss is computed "
            f"with the two swapped, silently; write `{function}(labels=..., logits={written})`",
        )

    def _check_resize(self, node: cst.Call, symbol: str) -> None:
        release = tensorflow_release()
        if release is not None and release < (1, 0):
            return  # TensorFlow 0.x: `resize_images(images, new_height, new_width, method)`
        positional = [arg for arg in node.args if arg.keyword is None]
        if len(positional) < 3 or keyword_argument(node, "size") is not None:
            return
        size = positional[1].value
        if not self._is_number(size):
            return
        height, width = code_of(size, 20), code_of(positional[2].value, 20)
        self.report(
            node,
            f"`tf.{symbol}(images, {height}, {width})`: since TensorFlow 1.0 the size is one argument, "
            f"`[height, width]`, and the third is the resize method; a number as the size raises `ValueError: "
            f"'size' must be a 1-D Tensor of 2 elements: new_height, new_width`; write "
            f"`tf.{symbol}(images, [{height}, {width}])`",
        )

    def _check_session(self, node: cst.Call, symbol: str) -> None:
        target = call_argument(node, 0, None)
        value = self.value_of(target)
        if value is None or value.kind not in ("op", "graph", "config") and not value.is_tensor:
            return
        what = {"op": "an op", "graph": "a `tf.Graph`", "config": "a `tf.ConfigProto`"}.get(value.kind, "a tensor")
        keyword = {"graph": "graph", "config": "config"}.get(value.kind)
        advice = (
            f"pass it by name: `tf.{symbol}({keyword}={code_of(target, 20)})`" if keyword
            else f"create the session with `tf.{symbol}()` and run the op in it: `sess.run({code_of(target, 20)})`"
        )
        self.report(
            node,
            f"`tf.{symbol}({code_of(target, 30)})` passes {what} as the session's first parameter, the target "
            f"(the address of the TensorFlow server, a string): `TypeError: Argument `target` must be a string`; "
            f"{advice}",
        )

    def _check_old_order(self, node: cst.Call, function: str, keyword: str, order: str) -> None:
        value = keyword_argument(node, keyword)
        if value is None or not _is_int_literal(value):
            return
        self.report(
            node,
            f"`tf.{function}(..., {keyword}={code_of(value, 10)})`: {keyword} must be the tensor(s); the number is "
            f"the axis, in TensorFlow 0.x's argument order. TensorFlow 1.0 reversed it to `{order}`, and this call "
            f"fails (`ValueError`/`TypeError` on the axis's rank or type); swap the two",
        )

    def _check_keep_dims(self, node: cst.Call, symbol: str) -> None:
        argument = next((arg for arg in node.args if arg.keyword is not None and arg.keyword.value == "keep_dims"), None)
        if argument is None:
            return
        if (self.names.qualify(node.func) or "").startswith("tensorflow.compat.v1."):
            return  # `tf.compat.v1` still accepts it (deprecated)
        release = tensorflow_release()
        if release is None or release < (2, 0):
            return  # TensorFlow 1.x accepts it (deprecated since 1.5)
        self.report(
            argument,
            f"`keep_dims` is not an argument of `tf.{symbol}` in {target_phrase()}: TensorFlow 1.5 renamed it "
            f"`keepdims` and TensorFlow 2 dropped the old name: `TypeError: Got an unexpected keyword argument "
            f"'keep_dims'`; write `keepdims=`",
        )

    def _is_number(self, expr: cst.BaseExpression) -> bool:
        """An integer (a literal, `int(...)`, a name bound to one) or arithmetic of integers: a
        scalar, never a `[height, width]` pair."""
        if _is_int_literal(expr):
            return True
        if type(expr) is cst.BinaryOperation and type(expr.operator) not in (cst.Divide, cst.MatrixMultiply):
            return self._is_number(expr.left) and self._is_number(expr.right)
        value = self.value_of(expr)
        return value is not None and value.kind == "int"

    def _check_saver_save(self, node: cst.Call) -> None:
        assert type(node.func) is cst.Attribute
        receiver = node.func.value
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in _SAVER_ONLY:
                keyword = arg.keyword.value
                self.report(
                    arg,
                    f"`{code_of(receiver, 20)}.save(..., {keyword}=...)`: `{keyword}` is an argument of "
                    f"`tf.train.Saver(...)`, not of `Saver.save`: `TypeError: Saver.save() got an unexpected keyword "
                    f"argument '{keyword}'`; pass it where the saver is made: `tf.train.Saver({keyword}=...)`",
                )


def _is_int_literal(expr: cst.BaseExpression) -> bool:
    if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Minus:
        expr = expr.expression
    return type(expr) is cst.Integer


