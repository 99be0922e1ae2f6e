"""DL502 unsafe-deserialization."""

from __future__ import annotations

import re

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.installed import installed_version
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import (
    call_argument,
    code_of,
    is_true_literal,
    keyword_argument,
    string_tail,
    unplaceable,
    with_keyword,
)
from dldoctor.lint.textscan import uses_any
from dldoctor.rules.dl501_torch_load_map_location import TORCH_LOAD, loaded_from, saved_to

# The first torch release whose `torch.load` defaults to `weights_only=True`.
SAFE_DEFAULT_SINCE = (2, 6)
_RELEASE = re.compile(r"\s*v?(\d+)\.(\d+)")

_PICKLE_LOADS = {
    "pickle.load", "cPickle.load", "_pickle.load", "dill.load", "cloudpickle.load",
    "joblib.load", "sklearn.externals.joblib.load",
}
_LOADERS = frozenset({TORCH_LOAD, "numpy.load", *_PICKLE_LOADS})
_OPENERS = {"builtins.open", "io.open", "gzip.open", "bz2.open", "lzma.open"}
MODEL_EXTENSIONS = (".pt", ".pth", ".ckpt", ".pkl", ".joblib")
_MODEL_WORDS = frozenset({"model", "models", "ckpt", "checkpoint", "checkpoints", "weights"})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def torch_release(version: str | None) -> tuple[int, int] | None:
    """(major, minor) of a torch version string (`2.5.1+cu121`, `2.6.0a0+git1`); None if unknown."""
    match = _RELEASE.match(version or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def load_is_unsafe_by_default(version: str | None) -> bool:
    """Whether `torch.load` without `weights_only` unpickles anything, for this torch version.

    Before 2.6 the default was `weights_only=False`. An unknown version (torch not
    installed where the linter runs, an unreadable version) counts as unsafe: the
    torch that will run the code may well be older.
    """
    release = torch_release(version)
    return release is None or release < SAFE_DEFAULT_SINCE


def installed_torch_version() -> str | None:
    """The installed torch's version, from package metadata: torch is never imported."""
    return installed_version("torch")


class UnsafeDeserialization(Rule):
    """
    ## What it does
    Finds loading that can run arbitrary code from the file loaded:

    - `torch.load(..., weights_only=False)` (error);
    - `torch.load(...)` without `weights_only` when the installed torch (read from
      package metadata, never imported) is older than 2.6 or not installed, since
      before 2.6 the default was `False` (warning);
    - `np.load(..., allow_pickle=True)` (error);
    - `pickle.load` / `joblib.load` (also `cPickle`, `dill`, `cloudpickle`) of a model
      file: a path ending in `.pt`, `.pth`, `.ckpt`, `.pkl`, `.pickle`, `.joblib`, `.bin`,
      or named as a model or checkpoint (`model_path`, `ckpt_file`) (warning).

    ## Why is this bad
    A pickle is a program: unpickling calls whatever callables the file names, with
    whatever arguments it holds. A checkpoint downloaded from a model hub, a shared
    drive or a colleague's experiment can carry `os.system("...")`, and it runs the
    moment the file is loaded, before any weight is looked at. Since torch 2.6,
    `torch.load` refuses such files unless told otherwise:

        _pickle.UnpicklingError: Weights only load failed. ... WeightsUnpickler error: Unsupported global: GLOBAL builtins.exec

    and `weights_only=False` switches that protection off again.

    ## Example
    ```python
    checkpoint = torch.load(args.resume, map_location="cpu", weights_only=False)
    model.load_state_dict(checkpoint["state_dict"])
    ```

    ## Use instead
    ```python
    checkpoint = torch.load(args.resume, map_location="cpu", weights_only=True)
    model.load_state_dict(checkpoint["state_dict"])
    ```
    or store tensors in safetensors (`safetensors.torch.load_file`). A checkpoint
    that also pickles other objects (an optimizer's hyper-parameters, a `Namespace`)
    loads with `weights_only=True` once those classes are allowed with
    `torch.serialization.add_safe_globals([...])`. Files from a trusted source that
    need full unpickling can keep it with `# noqa: DL502`.

    ## Fix safety
    Unsafe: the fix sets `weights_only=True` on `torch.load`, and a checkpoint that
    pickles more than tensors, dicts, lists and numbers then fails to load until its
    classes are allowed. `np.load` and `pickle.load` get no automatic fix.
    """

    code = "DL502"
    name = "unsafe-deserialization"
    severity = Severity.ERROR
    summary = "loading that unpickles arbitrary code: torch.load(weights_only=False), pickle of a model file"
    triggers = ("load",)
    reads_installed = (("torch",),)
    also_triggers = ("torch", "pickle", "joblib", "dill")

    @classmethod
    def could_fire(cls, text: str, lowered: str) -> bool:
        """A `load` of one of the loading packages, as the module's imports reach it."""
        return super().could_fire(text, lowered) and uses_any(text, _LOADERS)

    VALID = (
        'import torch\nstate = torch.load(path, map_location="cpu", weights_only=True)\n',
        'import torch\nstate = torch.load(path, map_location="cpu", weights_only=args.trusted)\n',
        "import numpy as np\narr = np.load('features.npy')\n",
        "import numpy as np\narr = np.load('features.npy', allow_pickle=False)\n",
        "import pickle\nwith open(args.dataset_cache, 'rb') as f:\n    dataset = pickle.load(f)\n",
        "import pickle\nwith open(vocab_file, 'rb') as f:\n    vocab = pickle.load(f)\n",
    )
    INVALID = (
        "import torch\ncheckpoint = torch.load(args.resume, map_location='cpu', weights_only=False)\n",
        "import numpy as np\ndata = np.load('captions.npy', allow_pickle=True).item()\n",
        "import pickle\nwith open('checkpoints/model.pkl', 'rb') as f:\n    model = pickle.load(f)\n",
        "import joblib\nclf = joblib.load(os.path.join(out_dir, 'svm.joblib'))\n",
        "import pickle\nmodel = pickle.load(open(model_path, 'rb'))\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._handles: list[dict[str, cst.BaseExpression]] = [{}]  # handle name -> its path, per function
        self._saved: list[set[str]] = [set()]  # what `torch.save` wrote to, per function

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._handles.append({})
        self._saved.append(set())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._handles.pop()
        self._saved.pop()

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            path = self._opened_path(node.item)
            if path is not None:
                self._handles[-1][node.asname.name.value] = path

    def visit_Assign(self, node: cst.Assign) -> None:
        path = self._opened_path(node.value)
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                if path is not None:
                    self._handles[-1][target.target.value] = path
                else:
                    self._handles[-1].pop(target.target.value, None)

    def visit_Call(self, node: cst.Call) -> None:
        saved = saved_to(node, self.names)
        if saved is not None:
            self._saved[-1].add(saved)
            return
        qualified = self.names.qualify(node.func)
        if qualified == TORCH_LOAD:
            if loaded_from(node) not in self._saved[-1]:
                self._torch_load(node)
        elif qualified == "numpy.load":
            allow = keyword_argument(node, "allow_pickle")
            if is_true_literal(allow):
                self.report(
                    allow,
                    f"`{code_of(node)}` with `allow_pickle=True` unpickles the object arrays in the file, "
                    "and unpickling runs whatever code the file names; store plain arrays (or JSON for "
                    "dicts and strings) and load with the default `allow_pickle=False`",
                )
        elif qualified in _PICKLE_LOADS:
            self._pickle_load(node, qualified)

    def _torch_load(self, node: cst.Call) -> None:
        weights_only = keyword_argument(node, "weights_only")
        if isinstance(weights_only, cst.Name) and weights_only.value == "False" or (
            isinstance(weights_only, cst.Integer) and weights_only.value == "0"
        ):
            self.report(
                weights_only,
                f"`{code_of(node)}` unpickles arbitrary objects: `weights_only=False` lets the file run any "
                "code on load (a checkpoint from a hub or a shared drive can carry `os.system(...)`); use "
                "`weights_only=True` (allow extra classes with `torch.serialization.add_safe_globals`) or "
                "safetensors",
                Fix("set weights_only=True", Applicability.UNSAFE, ((weights_only, cst.Name("True")),)),
            )
            return
        if weights_only is not None or unplaceable(node):
            return
        version = installed_torch_version()
        if not load_is_unsafe_by_default(version):
            return
        if version is None:
            installed = "torch is not installed here, so the version that will run it is unknown"
        elif torch_release(version) is None:
            installed = f"the installed torch's version ({version!r}) is unknown"
        else:
            installed = f"the installed torch is {version}"
        self.report(
            node,
            f"`{code_of(node)}` has no `weights_only` and {installed}: before torch 2.6 `torch.load` "
            "unpickles arbitrary objects by default, so the file can run any code on load; pass "
            "`weights_only=True` (or use safetensors)",
            Fix(
                "add weights_only=True",
                Applicability.UNSAFE,
                ((node, with_keyword(node, "weights_only", cst.Name("True"))),),
            ),
            severity=Severity.WARNING,
        )

    def _pickle_load(self, node: cst.Call, qualified: str) -> None:
        source = call_argument(node, 0, None)
        if source is None:
            return
        if qualified.endswith("joblib.load"):
            path = source  # joblib takes the path itself
        elif isinstance(source, cst.Name):
            path = self._handles[-1].get(source.value)
        else:
            path = self._opened_path(source)
        if path is None or not self._model_like(path):
            return
        function = qualified.rsplit(".", 2)[-2] + ".load"
        self.report(
            node,
            f"`{code_of(node)}` unpickles a model file (`{code_of(path)}`): unpickling runs whatever code "
            f"the file names, so a downloaded or shared model can execute anything on load; load weights "
            f"with `torch.load(..., weights_only=True)` or safetensors, or keep `{function}` for files you "
            "made yourself (`# noqa: DL502`)",
            severity=Severity.WARNING,
        )

    def _opened_path(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        if isinstance(expr, cst.Call) and self.names.qualify(expr.func) in _OPENERS:
            return call_argument(expr, 0, "file") or call_argument(expr, 0, "filename")
        return None

    def _model_like(self, path: cst.BaseExpression) -> bool:
        if isinstance(path, cst.Call) and self.names.qualify(path.func) in ("os.path.join", "posixpath.join"):
            path = path.args[-1].value if path.args else path
        elif isinstance(path, cst.BinaryOperation) and isinstance(path.operator, cst.Divide):
            path = path.right  # pathlib: `root / "model.pkl"`
        tail = string_tail(path)
        if tail is not None:
            name = tail.rstrip().lower()
            if name.endswith(MODEL_EXTENSIONS):
                return True
            if "." in name.rsplit("/", 1)[-1]:
                return False  # another extension: `vocab.json`, `policy.pickle`
        words = {word.lower() for identifier in _identifiers(path) for word in _WORD.findall(identifier)}
        return bool(words & _MODEL_WORDS)


def _identifiers(expr: cst.BaseExpression) -> list[str]:
    if isinstance(expr, cst.Name):
        return [expr.value]
    if isinstance(expr, cst.Attribute):
        return [*_identifiers(expr.value), expr.attr.value]
    if isinstance(expr, cst.Subscript):
        return _identifiers(expr.value)
    return []
