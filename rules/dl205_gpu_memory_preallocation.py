"""DL205 gpu-memory-preallocation."""

from __future__ import annotations

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import tf_symbol
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, is_true_literal, keyword_argument, string_value

THRESHOLD = 0.95
_FRACTION = "per_process_gpu_memory_fraction"
_OPTIONS = {"GPUOptions", "ConfigProto"}
_FLAG_DEFINERS = {"DEFINE_float", "DEFINE_integer", "DEFINE_string"}


def _number(expr: cst.BaseExpression | None) -> float | None:
    """The value of a numeric literal (`1.0`, `1`, `.95`), else None."""
    if type(expr) in (cst.Float, cst.Integer):
        try:
            return float(expr.evaluated_value)
        except (TypeError, ValueError):
            return None
    return None


class GpuMemoryPreallocation(Rule):
    """
    ## What it does
    Finds a TensorFlow 1 session told to take (nearly) all of a GPU's memory:
    `per_process_gpu_memory_fraction` set to 0.95 or more in a `GPUOptions` (any
    TensorFlow module path) or by assignment (`config.gpu_options.per_process_gpu_memory_fraction
    = 1.0`), either as a literal or as a command-line flag whose declared default is 0.95
    or more (`parser.add_argument("--gpu_memory_fraction", type=float, default=1.0)`,
    `tf.app.flags.DEFINE_float("gpu_memory_fraction", 1.0, ...)`), when the module never
    switches on `allow_growth` (as a keyword, by assignment, or with
    `TF_FORCE_GPU_ALLOW_GROWTH`).

    This is an `info` rule, not selected by default (`--extend-select DL205`). A bare
    `tf.Session()`, which also takes almost all the memory, is not reported: it is too
    common for the finding to be useful.

    ## Why is this bad
    The process maps the whole GPU for TensorFlow's allocator at start-up, so nothing
    is left for what is allocated outside it: cuBLAS and cuDNN workspaces, another
    process, a second session. Training facenet's `train_softmax.py` with the default
    `--gpu_memory_fraction 1.0` fails on the first matrix multiply:

        E tensorflow/stream_executor/cuda/cuda_blas.cc] failed to create cublas handle: CUBLAS_STATUS_ALLOC_FAILED

    ## Example
    ```python
    parser.add_argument("--gpu_memory_fraction", type=float, default=1.0)
    ...
    gpu_options = tf.GPUOptions(per_process_gpu_memory_fraction=args.gpu_memory_fraction)
    sess = tf.Session(config=tf.ConfigProto(gpu_options=gpu_options))
    ```

    ## Use instead
    ```python
    config = tf.ConfigProto()
    config.gpu_options.allow_growth = True
    sess = tf.Session(config=config)
    ```
    or a default fraction that leaves room (`default=0.9`), or `TF_FORCE_GPU_ALLOW_GROWTH=true`
    in the environment. (`dldoctor env` checks what else is using each GPU.)

    ## Fix safety
    No automatic fix: how much memory a job should hold is the author's choice.
    """

    code = "DL205"
    name = "gpu-memory-preallocation"
    severity = Severity.INFO
    summary = "per_process_gpu_memory_fraction >= 0.95 without allow_growth: CUBLAS_STATUS_ALLOC_FAILED"
    triggers = (_FRACTION,)

    VALID = (
        "import tensorflow as tf\nopts = tf.GPUOptions(per_process_gpu_memory_fraction=0.5)\n",
        "import tensorflow as tf\nopts = tf.GPUOptions(per_process_gpu_memory_fraction=1.0, allow_growth=True)\n",
        "import tensorflow as tf\nconfig = tf.ConfigProto()\nconfig.gpu_options.per_process_gpu_memory_fraction = 1.0\n"
        "config.gpu_options.allow_growth = True\n",
        "import argparse\nimport tensorflow as tf\np = argparse.ArgumentParser()\n"
        "p.add_argument('--gpu_memory_fraction', type=float, default=0.8)\nargs = p.parse_args()\n"
        "opts = tf.GPUOptions(per_process_gpu_memory_fraction=args.gpu_memory_fraction)\n",
        "import tensorflow as tf\nsess = tf.Session()\n",
    )
    INVALID = (
        "import tensorflow.compat.v1 as tf\nopts = tf.GPUOptions(per_process_gpu_memory_fraction=1.0)\n",
        "import tensorflow.compat.v1 as tf\nconfig = tf.ConfigProto()\nconfig.gpu_options.per_process_gpu_memory_fraction = 0.99\n",
        "import argparse\nimport tensorflow.compat.v1 as tf\np = argparse.ArgumentParser()\n"
        "p.add_argument('--gpu_memory_fraction', type=float, default=1.0)\nargs = p.parse_args()\n"
        "opts = tf.GPUOptions(per_process_gpu_memory_fraction=args.gpu_memory_fraction)\n",
        "from absl import flags\nimport tensorflow as tf\nflags.DEFINE_float('gpu_memory_fraction', 1.0, 'fraction')\n"
        "FLAGS = flags.FLAGS\nopts = tf.compat.v1.GPUOptions(per_process_gpu_memory_fraction=FLAGS.gpu_memory_fraction)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._settings: list[tuple[cst.CSTNode, cst.BaseExpression]] = []  # (where to report, the value set)
        self._flag_defaults: dict[str, float] = {}
        self._grows = False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        method = func.attr.value if type(func) is cst.Attribute else func.value if type(func) is cst.Name else None
        if method == "add_argument":
            self._note_argparse(node)
            return
        if method in _FLAG_DEFINERS:
            name = string_value(call_argument(node, 0, "name"))
            default = _number(call_argument(node, 1, "default"))
            if name and default is not None:
                self._flag_defaults[name] = default
            return
        symbol = tf_symbol(self.names.qualify(func))
        if symbol is None:
            return
        if symbol in _OPTIONS:
            if is_true_literal(keyword_argument(node, "allow_growth")):
                return
            value = keyword_argument(node, _FRACTION)
            if value is not None:
                self._settings.append((value, value))
        elif symbol == "config.experimental.set_memory_growth" and is_true_literal(call_argument(node, 1, "enable")):
            self._grows = True

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            attribute = target.target.attr.value if type(target.target) is cst.Attribute else None
            if attribute == _FRACTION:
                self._settings.append((node.value, node.value))
            elif attribute == "allow_growth" and is_true_literal(node.value):
                self._grows = True

    def visit_Arg(self, node: cst.Arg) -> None:
        # `allow_growth=True` given anywhere (a GPUOptions built in another statement, a dict).
        if node.keyword is not None and node.keyword.value == "allow_growth" and is_true_literal(node.value):
            self._grows = True

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        # os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] = "true" (or a launcher that sets it)
        if "TF_FORCE_GPU_ALLOW_GROWTH" in node.value:
            self._grows = True

    def _note_argparse(self, node: cst.Call) -> None:
        dest = string_value(keyword_argument(node, "dest"))
        if dest is None:
            for arg in node.args:
                if arg.keyword is not None:
                    break
                flag = string_value(arg.value)
                if flag and flag.startswith("--"):
                    dest = flag[2:].replace("-", "_")
                    break
        default = _number(keyword_argument(node, "default"))
        if dest and default is not None:
            self._flag_defaults[dest] = default

    def leave_Module(self, original_node: cst.Module) -> None:
        if self._grows:
            return
        for where, value in self._settings:
            fraction = _number(value)
            if fraction is not None:
                how = f"`{_FRACTION}={value.value}`"
            elif type(value) is cst.Attribute and value.attr.value in self._flag_defaults:
                fraction = self._flag_defaults[value.attr.value]
                how = f"`{_FRACTION}={code_of(value)}`, whose flag defaults to {fraction:g},"
            else:
                continue
            if fraction < THRESHOLD:
                continue
            self.report(
                where,
                f"{how} makes TensorFlow take {'all' if fraction >= 1 else 'nearly all'} of the GPU's memory "
                "up front, leaving none for cuBLAS/cuDNN or other processes: `failed to create cublas handle: "
                "CUBLAS_STATUS_ALLOC_FAILED`; set `gpu_options.allow_growth = True` (or `TF_FORCE_GPU_ALLOW_GROWTH=true`), "
                "or leave headroom (e.g. 0.9)",
            )
