"""DL601 tf-contrib-removed."""

from __future__ import annotations

import re

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint import target as target_environment
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import catches
from dldoctor.rules.dl602_removed_api import VersionGuards

# What took the place of each part of `tensorflow.contrib`, by the name right
# after `contrib.`; the longest matching prefix wins (`layers.xavier_initializer`
# before `layers`).
REPLACEMENTS = {
    "slim": "`tf_slim` (`pip install tf-slim`, then `import tf_slim as slim`)",
    "slim.nets": "`tf_slim.nets`, or the `nets/` package of tensorflow/models `research/slim`",
    "slim.python.slim.nets": "`tf_slim.nets`, or the `nets/` package of tensorflow/models `research/slim`",
    "framework": "`tf_slim` (`arg_scope`, `add_arg_scope`) or `tf.compat.v1`",
    "framework.arg_scope": "`tf_slim.arg_scope`",
    "data": "`tf.data`",
    "layers": "`tf.keras.layers`, or `tf_slim.layers` for slim-style code",
    "layers.xavier_initializer": "`tf.keras.initializers.GlorotUniform()`",
    "layers.xavier_initializer_conv2d": "`tf.keras.initializers.GlorotUniform()`",
    "layers.variance_scaling_initializer": "`tf.keras.initializers.VarianceScaling()`",
    "layers.l2_regularizer": "`tf.keras.regularizers.l2()`",
    "layers.l1_regularizer": "`tf.keras.regularizers.l1()`",
    "layers.batch_norm": "`tf.keras.layers.BatchNormalization`",
    "layers.flatten": "`tf.keras.layers.Flatten`",
    "layers.fully_connected": "`tf.keras.layers.Dense`",
    "layers.conv2d": "`tf.keras.layers.Conv2D`",
    "layers.embed_sequence": "`tf.keras.layers.Embedding`",
    "layers.optimize_loss": "an optimizer's `minimize`",
    "rnn": "`tf.keras.layers` (`LSTMCell`, `GRUCell`, `RNN`) or `tf.compat.v1.nn.rnn_cell`",
    "cudnn_rnn": "`tf.keras.layers.LSTM` / `GRU` (they use cuDNN kernels on GPU)",
    "seq2seq": "`tensorflow_addons.seq2seq`",
    "learn": "`tf.estimator`",
    "learn.datasets": "`tf.keras.datasets`",
    "learn.python.learn.datasets": "`tf.keras.datasets`",
    "losses": "`tf.keras.losses` or `tf.compat.v1.losses`",
    "metrics": "`tf.keras.metrics` or `tf.compat.v1.metrics`",
    "training": "`tf.estimator` or `tf_slim`",
    "image": "`tf.image` or `tensorflow_addons.image`",
    "opt": "`tf.keras.optimizers` or `tensorflow_addons.optimizers`",
    "crf": "`tensorflow_addons.text.crf`",
    "keras": "`tf.keras`",
    "lite": "`tf.lite`",
    "summary": "`tf.summary`",
    "distribute": "`tf.distribute`",
    "tpu": "`tf.distribute.TPUStrategy` and `tf.tpu`",
    "eager": "TensorFlow 2 itself (eager execution is the default)",
    "estimator": "`tf.estimator`",
    "predictor": "`tf.saved_model.load`",
    "quantize": "the TensorFlow Model Optimization Toolkit (`tensorflow_model_optimization`)",
    "distributions": "TensorFlow Probability (`tfp.distributions`)",
    "bayesflow": "TensorFlow Probability",
    "checkpoint": "`tf.train.Checkpoint`",
    "tensorboard": "the `tensorboard` package",
    "stat_summarizer": "`tf.summary`",
    "util": "`tf.make_ndarray` / `tf.make_tensor_proto`",
}
# The networks that contrib's slim actually shipped; the others (inception_v4,
# mobilenet, nasnet, ...) only ever lived in tensorflow/models.
_CONTRIB_SLIM_NETS = frozenset(
    "alexnet inception inception_v1 inception_v2 inception_v3 inception_utils overfeat resnet_utils resnet_v1 "
    "resnet_v2 vgg".split()
)
_NETS_PREFIXES = ("slim.python.slim.nets.", "slim.nets.")

# Every distribution that installs the `tensorflow` package.
_TF_DISTRIBUTIONS = (
    "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tensorflow-macos",
    "tensorflow-rocm", "tf-nightly", "tf-nightly-cpu", "tf-nightly-gpu",
)


def installed_tensorflow() -> str | None:
    """The TensorFlow version of the target environment (`dldoctor.lint.target`: the
    project's `--target-version`, configuration, `--python`, version checks or pins, else
    the TensorFlow installed here, from package metadata, never an import); None if unknown."""
    return target_environment.current().version("tensorflow")


# `try: import tensorflow.contrib... except ImportError:` (or a broad except): an optional import.
_OPTIONAL_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception"})
# `try: slim = tf.contrib.slim except AttributeError: import tf_slim as slim`: the code expects it may be gone.
_MISSING_ATTRIBUTE_ERRORS = frozenset({"AttributeError", "ImportError", "ModuleNotFoundError"})


def _major(version: str) -> int | None:
    match = re.match(r"\d+", version)
    return int(match.group()) if match else None


def replacement(symbol: str) -> str | None:
    """What to use instead of `contrib.<...>` (symbol without `contrib.`), when something exists."""
    for prefix in _NETS_PREFIXES:
        if symbol.startswith(prefix):
            net = symbol[len(prefix) :].split(".")[0]
            if net and net not in _CONTRIB_SLIM_NETS:
                return (
                    f"`{net}` never shipped in `tensorflow.contrib` (not even in TF 1.x): copy the `nets/` "
                    f"package of tensorflow/models `research/slim` next to the code and `from nets import {net}`"
                )
    parts = symbol.split(".")
    for end in range(len(parts), 0, -1):
        found = REPLACEMENTS.get(".".join(parts[:end]))
        if found is not None:
            return f"use {found}"
    return None


class TfContribRemoved(Rule):
    """
    ## What it does
    Finds every import of `tensorflow.contrib` (`import tensorflow.contrib.slim as slim`,
    `from tensorflow.contrib import rnn`, `from tensorflow.contrib.slim.python.slim.nets.inception_v4
    import ...`) and every attribute use of it (`tf.contrib.layers.xavier_initializer()`), under
    any TensorFlow module path (`tf.compat.v1.contrib` does not exist either), once, where
    `contrib` is written (not again at each use of `slim = tf.contrib.slim`). The message names
    the replacement: slim -> `tf_slim`, `contrib.data` -> `tf.data`, `contrib.layers` ->
    `tf.keras.layers` / `tf_slim`, `contrib.rnn` -> `tf.keras.layers`, and so on, and says which
    TensorFlow the project targets and where that came from. Against a TensorFlow 1.x target
    (`--target-version tensorflow=1.15`, `tensorflow<2` in `requirements.txt`, an `assert
    tf.__version__.startswith("1.")`, or TensorFlow 1.x installed) `contrib` still exists, and
    only the modules that never shipped in it (below) are reported.

    ## Why is this bad
    `tensorflow.contrib` was removed in TensorFlow 2.0. An import fails with

        ModuleNotFoundError: No module named 'tensorflow.contrib'

    and an attribute use with `AttributeError: module 'tensorflow' has no attribute 'contrib'`.
    Some of it never existed at all: im2txt's `image_embedding.py`, switched from Inception v3
    to v4, died on

        from tensorflow.contrib.slim.python.slim.nets.inception_v4 import inception_v4_base
        ModuleNotFoundError: No module named 'tensorflow.contrib.slim.python.slim.nets.inception_v4'

    because contrib's slim only shipped alexnet, inception v1-v3, overfeat, resnet and vgg;
    inception_v4 lives in tensorflow/models `research/slim/nets`.

    An import inside `try: ... except ImportError:` is optional by design and is not
    reported; nor is code under a version test (`if tf.__version__.startswith("1."):`, or
    a flag made from one, `if is_tf2:`, both branches) or an attribute use inside `try:
    ... except AttributeError:`. Merely mentioning `tf.__version__` guards nothing.

    ## Example
    ```python
    import tensorflow.contrib.slim as slim
    from tensorflow.contrib.slim.python.slim.nets.inception_v4 import inception_v4_base

    initializer = tf.contrib.layers.xavier_initializer()
    ```

    ## Use instead
    ```python
    import tf_slim as slim
    from nets.inception_v4 import inception_v4_base  # tensorflow/models research/slim/nets

    initializer = tf.keras.initializers.GlorotUniform()
    ```

    ## Fix safety
    Unsafe, and only for `import tensorflow.contrib.slim as slim`, which `--unsafe-fixes`
    turns into `import tf_slim as slim`: `tf_slim` is a separate package that must be
    installed, and it runs on TensorFlow 2 (with `tf.compat.v1` graph semantics), so the
    code around it may still need porting. Other uses have no mechanical replacement.
    """

    code = "DL601"
    name = "tf-contrib-removed"
    severity = Severity.ERROR
    summary = "tensorflow.contrib was removed in TensorFlow 2.0: ModuleNotFoundError / AttributeError"
    triggers = ("contrib",)
    reads_installed = (_TF_DISTRIBUTIONS,)
    also_triggers = ("tensorflow", "tf.")

    VALID = (
        "import tf_slim as slim\nnet = slim.conv2d(images, 64, [3, 3])\n",
        "import tensorflow as tf\ninit = tf.keras.initializers.GlorotUniform()\n",
        # Not TensorFlow: a project's own `contrib` package.
        "from contrib import utils\nimport mypkg.contrib.layers as layers\n",
        "import tensorflow as tf\ncontrib = load()\nx = contrib.layers\n",
    )
    INVALID = (
        "import tensorflow.contrib.slim as slim\n",
        "from tensorflow.contrib.slim.python.slim.nets.inception_v4 import inception_v4_base\n",
        "from tensorflow.contrib import rnn\n",
        "import tensorflow as tf\ninit = tf.contrib.layers.xavier_initializer()\n",
        "import tensorflow.compat.v1 as tf\ncell = tf.contrib.rnn.LSTMCell(512)\n",
        "import tensorflow as tf\nds = tf.contrib.data.TFRecordDataset(files)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._reported_chain: cst.Attribute | None = None  # the outermost attribute already reported
        self._in_import = False  # the dotted names of an import statement are not attribute uses
        self._optional = 0  # inside `try: ... except ImportError:`, an import that may fail on purpose
        self._versions = VersionGuards()  # `if tf.__version__.startswith("1."):`, `if is_tf2:` guard both branches
        self._if_guards: list[bool] = []
        self._expected = 0  # inside `try: ... except AttributeError/ImportError:`, an attribute that may be missing

    def report(self, node, message, fix=None, severity=None) -> None:
        """Report unless `_message` found the name in the target TensorFlow (None)."""
        if message is not None:
            super().report(node, message, fix, severity)

    def visit_Try_body(self, node: cst.Try) -> None:
        self._optional += catches(node, _OPTIONAL_IMPORT_ERRORS)
        self._expected += catches(node, _MISSING_ATTRIBUTE_ERRORS)

    def leave_Try_body(self, original_node: cst.Try) -> None:
        self._optional -= catches(original_node, _OPTIONAL_IMPORT_ERRORS)
        self._expected -= catches(original_node, _MISSING_ATTRIBUTE_ERRORS)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._versions.note_assign(node)  # `is_tf2 = tf.__version__.startswith("2")`

    def visit_If(self, node: cst.If) -> None:
        self._if_guards.append(self._versions.enter(node.test))

    def leave_If(self, original_node: cst.If) -> None:
        self._versions.leave(self._if_guards.pop())

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._if_guards.append(self._versions.enter(node.test))

    def leave_IfExp(self, original_node: cst.IfExp) -> None:
        self._versions.leave(self._if_guards.pop())

    def leave_Import(self, original_node: cst.Import) -> None:
        self._in_import = False

    def leave_ImportFrom(self, original_node: cst.ImportFrom) -> None:
        self._in_import = False

    def visit_Import(self, node: cst.Import) -> None:
        self._in_import = True
        if self._optional or self._versions.depth:
            return
        for alias in node.names:
            symbol = _contrib_symbol(dotted_name(alias.name))
            if symbol is not None:
                fix = None
                if symbol == "slim" and alias.asname is not None:
                    fix = Fix(
                        "import tf_slim instead (pip install tf-slim)",
                        Applicability.UNSAFE,
                        ((alias.name, cst.Name("tf_slim")),),
                    )
                self.report(alias, _message(symbol, "import"), fix)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._in_import = True
        if self._optional or self._versions.depth or node.relative or node.module is None:
            return
        module = dotted_name(node.module)
        symbol = _contrib_symbol(module)
        if symbol is not None:
            if f"{symbol}." in _NETS_PREFIXES and type(node.names) is not cst.ImportStar:
                # `from tensorflow.contrib.slim.nets import inception_v4`: name the module imported
                for alias in node.names:
                    net = dotted_name(alias.name)
                    if net and net not in _CONTRIB_SLIM_NETS:
                        symbol = f"{symbol}.{net}"
                        break
            advice = symbol
            if not symbol and type(node.names) is not cst.ImportStar and len(node.names) == 1:
                advice = dotted_name(node.names[0].name) or ""  # `from tensorflow.contrib import rnn`
            self.report(node, _message(symbol, "import", advice))
            return
        if tf_symbol(module) == "" and type(node.names) is not cst.ImportStar:
            # `from tensorflow import contrib`
            for alias in node.names:
                if dotted_name(alias.name) == "contrib":
                    self.report(alias, _message("", "import"))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self._reported_chain is not None or self._in_import or self._versions.depth or self._expected:
            return
        symbol = _contrib_symbol(self.names.qualify(node))
        # Only where `contrib` is written: `slim = tf.contrib.slim` is reported, not every `slim.x` after it.
        written = (dotted_name(node) or "").split(".")
        if symbol is not None and "contrib" in written[1:]:
            self._reported_chain = node
            self.report(node, _message(symbol, "attribute"))

    def leave_Attribute(self, original_node: cst.Attribute) -> None:
        if original_node is self._reported_chain:
            self._reported_chain = None


def _contrib_symbol(qualified: str | None) -> str | None:
    """For a name under `tensorflow.contrib`, what follows `contrib` ("" for contrib itself)."""
    symbol = tf_symbol(qualified)
    if symbol is None:
        return None
    if symbol == "contrib":
        return ""
    if symbol.startswith("contrib."):
        return symbol[len("contrib.") :]
    return None


def _message(symbol: str, kind: str, advice_for: str | None = None) -> str | None:
    """What to say of `tensorflow.contrib.<symbol>`; None where the target TensorFlow (1.x) has it."""
    shown = "tensorflow.contrib" + (f".{symbol}" if symbol else "")
    if kind == "import":
        error = f"`ModuleNotFoundError: No module named '{shown}'`"
    else:
        error = "`AttributeError: module 'tensorflow' has no attribute 'contrib'`"
    version = installed_tensorflow()
    if version is None:
        where = ""
    elif target_environment.installed_here(version):
        where = f" (TensorFlow {version} is installed here)"
    else:
        where = f" (the target is TensorFlow {target_environment.shown(version)}, {target_environment.source(version)})"
    advice_for = symbol if advice_for is None else advice_for
    advice = replacement(advice_for) if advice_for else None
    if version is not None and (_major(version) or 0) < 2 and not (advice is not None and "never shipped" in advice):
        return None  # TensorFlow 1.x still has it
    if advice is not None and "never shipped" in advice:
        return f"`{shown}` does not exist in any TensorFlow{where}: {error}; {advice}"
    text = f"`{shown}` was removed in TensorFlow 2.0{where}: {error}"
    return f"{text}; {advice}" if advice else f"{text}; port it to core TensorFlow, `tf_slim` or TensorFlow Addons"
