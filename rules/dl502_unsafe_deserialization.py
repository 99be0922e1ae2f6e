"""DL502 unsafe-deserialization."""

from __future__ import annotations

import re

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name
from dldoctor.lint import target as target_environment
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import (
    call_argument,
    code_of,
    is_true_literal,
    keyword_argument,
    string_tail,
    string_value,
    target_names,
    unplaceable,
    with_keyword,
)
from dldoctor.lint.textscan import uses_any
from dldoctor.rules.dl501_torch_load_map_location import (
    TORCH_LOAD,
    handed_to_numpy,
    loaded_call,
    loaded_from,
    saved_to,
)

# The first torch release whose `torch.load` defaults to `weights_only=True`.
SAFE_DEFAULT_SINCE = (2, 6)
_RELEASE = re.compile(r"\s*v?(\d+)\.(\d+)")

_PICKLE_LOADS = {
    "pickle.load", "cPickle.load", "_pickle.load", "dill.load", "cloudpickle.load",
    "joblib.load", "sklearn.externals.joblib.load",
}
_UNPICKLERS = {"pickle.Unpickler", "_pickle.Unpickler", "cPickle.Unpickler", "dill.Unpickler"}
_LOADERS = frozenset({TORCH_LOAD, "numpy.load", *_PICKLE_LOADS})
_OPENERS = {"builtins.open", "io.open", "gzip.open", "bz2.open", "lzma.open"}
# Files that hold a model whatever they are called.
MODEL_EXTENSIONS = (".pt", ".pth", ".ckpt", ".joblib")
# Pickle files: a model or data, as their name says (`model.pkl`, `clf.pkl` / `detections.pkl`).
PICKLE_EXTENSIONS = (".pkl", ".pickle")
_MODEL_WORDS = frozenset({
    "model", "models", "ckpt", "checkpoint", "checkpoints", "weights", "classifier", "classifiers", "clf",
    "estimator", "network", "networks", "net", "nets", "snapshot", "snapshots", "pretrained",
})
# Calls that fetch a URL, to memory or to a file.
_FETCHERS = frozenset({
    "urllib.request.urlopen", "urllib.request.urlretrieve", "urllib.urlopen", "urllib.urlretrieve",
    "urllib2.urlopen", "six.moves.urllib.request.urlopen", "six.moves.urllib.request.urlretrieve",
    "requests.get", "wget.download", "gdown.download", "torch.hub.download_url_to_file",
    "torchvision.datasets.utils.download_url", "torchvision.datasets.utils.download_and_extract_archive",
    "tensorflow.keras.utils.get_file", "keras.utils.get_file",
})
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
    """The torch version of the target environment (`dldoctor.lint.target`: the project's
    `--target-version`, configuration, `--python`, version checks or pins, else the torch
    installed here, read from package metadata: torch is never imported); None if unknown."""
    return target_environment.current().version("torch")


class UnsafeDeserialization(Rule):
    """
    ## What it does
    Finds loading that can run arbitrary code from the file loaded:

    - `torch.load(..., weights_only=False)` (error);
    - `torch.load(...)` without `weights_only` when the project's target torch is older
      than 2.6 or unknown, since before 2.6 the default was `False` (warning). The target
      is `--target-version torch=...` or `target-versions` in `[tool.dldoctor]`, the
      torch installed in `--python`'s environment, the file's own version check, the
      project's pins (`torch==2.5.1` in `requirements.txt`, `uv.lock`, ...), and else
      the torch installed where dldoctor runs (read from package metadata, never
      imported); the message says which;
    - `np.load(..., allow_pickle=True)` (error);
    - `pickle.load` / `joblib.load` (also `cPickle`, `dill`, `cloudpickle`, and
      `pickle.Unpickler(f).load()` or a subclass of it) of a model file: a path ending
      in `.pt`, `.pth`, `.ckpt`, `.joblib`, or named as a model, checkpoint, network,
      snapshot or classifier (`model_path`, `ckpt_file`, `clf.pkl`,
      `classifier_filename`, `locate_network_pkl(...)`), also when the function takes
      the path as a parameter and a call in the same module passes such a path
      (warning);
    - `pickle.load` of a file the same function has fetched from a URL (`urlopen`,
      `urlretrieve`, `requests.get`, `download_url`, ...): its path is made of the
      names the download was written to (warning). Whoever serves the download can
      run code here.

    A pickle of the project's own data (`detections.pkl`, `vocab.pkl`, a dataset
    cache) is not reported: it is a file the project writes itself, not one that
    travels. A `torch.load` whose value goes to `torch.from_numpy` or NumPy holds a
    NumPy array, which `weights_only=True` refuses; for it the advice is `np.save` /
    `np.load`, and there is no fix.

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
    `torch.serialization.add_safe_globals([...])`. A model pickled outside torch (an
    sklearn classifier, a network object) is better stored as arrays in a format that
    holds no code and rebuilt in code; a downloaded pickle, checked against a known
    SHA-256 first. Files from a trusted source that need full unpickling can keep it
    with `# noqa: DL502`.

    ## Fix safety
    Unsafe: the fix sets `weights_only=True` on `torch.load`, and a checkpoint that
    pickles more than tensors, dicts, lists and numbers then fails to load until its
    classes are allowed. A `torch.load` of a NumPy array gets no fix (`weights_only=True`
    refuses the array), nor do `np.load` and `pickle.load`.
    """

    code = "DL502"
    name = "unsafe-deserialization"
    severity = Severity.ERROR
    summary = "loading that unpickles arbitrary code: torch.load(weights_only=False), pickle of a model or downloaded file"
    triggers = ("load",)
    reads_installed = (("torch",),)
    also_triggers = ("torch", "pickle", "joblib", "dill")

    @classmethod
    def could_fire(cls, text: str, lowered: str) -> bool:
        """A `load` of one of the loading packages, as the module's imports reach it, or
        an `Unpickler` (possibly a project's subclass, imported from anywhere)."""
        return super().could_fire(text, lowered) and (uses_any(text, _LOADERS) or "Unpickler" in text)

    VALID = (
        'import torch\nstate = torch.load(path, map_location="cpu", weights_only=True)\n',
        'import torch\nstate = torch.load(path, map_location="cpu", weights_only=args.trusted)\n',
        "import numpy as np\narr = np.load('features.npy')\n",
        "import numpy as np\narr = np.load('features.npy', allow_pickle=False)\n",
        "import pickle\nwith open(args.dataset_cache, 'rb') as f:\n    dataset = pickle.load(f)\n",
        "import pickle\nwith open(vocab_file, 'rb') as f:\n    vocab = pickle.load(f)\n",
        # The project's own results file.
        "import os, pickle\nwith open(os.path.join(output_dir, 'detections.pkl'), 'rb') as f:\n    dets = pickle.load(f)\n",
    )
    INVALID = (
        "import torch\ncheckpoint = torch.load(args.resume, map_location='cpu', weights_only=False)\n",
        "import numpy as np\ndata = np.load('captions.npy', allow_pickle=True).item()\n",
        "import pickle\nwith open('checkpoints/model.pkl', 'rb') as f:\n    model = pickle.load(f)\n",
        "import joblib\nclf = joblib.load(os.path.join(out_dir, 'svm.joblib'))\n",
        "import pickle\nmodel = pickle.load(open(model_path, 'rb'))\n",
        "import pickle\nwith open(classifier_filename, 'rb') as infile:\n    (model, class_names) = pickle.load(infile)\n",
        # A helper given a network snapshot by its caller.
        "import pickle\ndef load_pkl(filename):\n    with open(filename, 'rb') as file:\n"
        "        return pickle.Unpickler(file).load()\nG = load_pkl(network_pkl)\n",
        # A pickle downloaded by the same function.
        "import pickle, urllib.request\ndef fetch(url, path):\n    urllib.request.urlretrieve(url, path)\n"
        "    with open(path, 'rb') as f:\n        return pickle.load(f)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._handles: list[dict[str, cst.BaseExpression]] = [{}]  # handle name -> its path, per function
        self._saved: list[set[str]] = [set()]  # what `torch.save` wrote to, per function
        self._scopes: list[cst.CSTNode] = []  # the module, then the functions being walked
        self._functions: list[cst.FunctionDef | None] = [None]  # the function being walked, if any
        self._fetched: list[bool] = [False]  # whether the function has fetched a URL yet
        self._written: list[set[str]] = [set()]  # names in the paths it wrote or fetched to
        self._bound: dict[int, list[str]] = {}  # id of a `torch.load` -> the names its value is bound to
        self._calls: dict[str, list[cst.Call]] = {}  # function name -> the calls of it in the module
        self._imports_torch = False  # the module imports torch (so torch's own loader is the advice)
        # Loads of a path a function was given: (the function, the parameter, its position, the load, the loader).
        self._given: list[tuple[cst.FunctionDef, str, int, cst.Call, str]] = []

    def visit_Module(self, node: cst.Module) -> None:
        self._scopes.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._handles.append({})
        self._saved.append(set())
        self._scopes.append(node)
        self._functions.append(node)
        self._fetched.append(False)
        self._written.append(set())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._handles.pop()
        self._saved.pop()
        self._scopes.pop()
        self._functions.pop()
        self._fetched.pop()
        self._written.pop()

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self._note_write(node.item)
        if node.asname is not None and type(node.asname.name) is cst.Name:
            path = self._opened_path(node.item)
            if path is not None:
                self._handles[-1][node.asname.name.value] = path

    def visit_Assign(self, node: cst.Assign) -> None:
        self._note_write(node.value)
        bound = [name for target in node.targets for name in target_names(target.target)]
        loaded = loaded_call(node.value)
        if type(loaded) is cst.Call:
            self._bound[id(loaded)] = bound
            if self.names.qualify(loaded.func) in _FETCHERS:
                self._written[-1].update(bound)  # `path = get_file(...)`: where the download went
        path = self._opened_path(node.value)
        for target in node.targets:
            if type(target.target) is cst.Name:
                if path is not None:
                    self._handles[-1][target.target.value] = path
                else:
                    self._handles[-1].pop(target.target.value, None)

    def visit_Call(self, node: cst.Call) -> None:
        saved = saved_to(node, self.names)
        if saved is not None:
            self._saved[-1].add(saved)
            return
        if type(node.func) is cst.Name:
            self._calls.setdefault(node.func.value, []).append(node)
        qualified = self.names.qualify(node.func)
        if qualified in _FETCHERS:
            self._fetched[-1] = True
            for arg in node.args[1:]:
                self._written[-1].update(_identifiers(arg.value))  # `urlretrieve(url, path)`
            return
        unpickler = self._unpickler_load(node)
        if unpickler is not None:
            self._pickle_load(node, unpickler, call_argument(loaded_call(node.func.value), 0, "file"))
            return
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
            self._pickle_load(node, qualified, call_argument(node, 0, None))

    def _unpickler_load(self, call: cst.Call) -> str | None:
        """For `pickle.Unpickler(f).load()`, or a subclass's (`legacy.LegacyUnpickler(f).load()`,
        wherever the project defines it): the unpickler's name."""
        if not (type(call.func) is cst.Attribute and call.func.attr.value == "load"):
            return None
        made = call.func.value
        if type(made) is not cst.Call:
            return None
        qualified = self.names.qualify(made.func) or ""
        name = qualified or code_of(made.func)
        return name if qualified in _UNPICKLERS or name.rsplit(".", 1)[-1].endswith("Unpickler") else None

    def _note_write(self, expr: cst.BaseExpression) -> None:
        """Remember the names in a path opened for writing (`open(file_path, "wb")`)."""
        if type(expr) is cst.Call and self.names.qualify(expr.func) in _OPENERS:
            mode = string_value(call_argument(expr, 1, "mode"))
            path = call_argument(expr, 0, "file") or call_argument(expr, 0, "filename")
            if mode is not None and ("w" in mode or "a" in mode) and path is not None:
                self._written[-1].update(_identifiers(path))

    def _numpy_payload(self, node: cst.Call) -> bool:
        """Whether the loaded value goes to `torch.from_numpy` or NumPy: a NumPy array,
        which `weights_only=True` refuses to load."""
        return handed_to_numpy(node, self._bound.get(id(node)), self._scopes[-1], self.names)

    def _torch_load(self, node: cst.Call) -> None:
        weights_only = keyword_argument(node, "weights_only")
        if type(weights_only) is cst.Name and weights_only.value == "False" or (
            type(weights_only) is cst.Integer and weights_only.value == "0"
        ):
            if self._numpy_payload(node):
                self.report(
                    weights_only,
                    f"`{code_of(node)}` unpickles arbitrary objects: `weights_only=False` lets the file run any "
                    f"code on load; {_NUMPY_ADVICE}",
                )
                return
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
            installed = f"{target_environment.current().absent('torch')}, so the version that will run it is unknown"
        elif torch_release(version) is None:
            installed = f"the installed torch's version ({version!r}) is unknown"
        elif target_environment.installed_here(version):
            installed = f"the installed torch is {version}"
        else:
            installed = f"the target torch is {target_environment.shown(version)} ({target_environment.source(version)})"
        if self._numpy_payload(node):
            self.report(
                node,
                f"`{code_of(node)}` has no `weights_only` and {installed}: before torch 2.6 `torch.load` "
                f"unpickles arbitrary objects by default, so the file can run any code on load; {_NUMPY_ADVICE}",
                severity=Severity.WARNING,
            )
            return
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

    def _pickle_load(self, node: cst.Call, qualified: str, source: cst.BaseExpression | None) -> None:
        if source is None:
            return
        if qualified.endswith("joblib.load"):
            path = source  # joblib takes the path itself
        elif type(source) is cst.Name:
            path = self._handles[-1].get(source.value)
        else:
            path = self._opened_path(source)
        if path is None:
            return
        if self._model_like(path):
            self._report_model_file(node, qualified, f"`{code_of(path)}`")
        elif self._fetched[-1] and set(_identifiers(path)) & self._written[-1]:
            self.report(
                node,
                f"`{code_of(node)}` unpickles a file this code downloads (`{code_of(path)}`): unpickling runs "
                "whatever code the file names, so whoever serves or intercepts the download can run code here; "
                "check the file against a known SHA-256 before loading it, or fetch the data in a format that "
                "holds no code (arrays in `.npz`, read with `np.load`)",
                severity=Severity.WARNING,
            )
        elif type(path) is cst.Name:
            function = self._functions[-1]
            params = function.params.params if function is not None else ()
            if function is not None and not (params and params[0].name.value in ("self", "cls")):
                params = [*function.params.posonly_params, *function.params.params]
                every = params + list(function.params.kwonly_params)
                for param in every:
                    if param.name.value == path.value:
                        position = params.index(param) if param in params else -1
                        self._given.append((function, path.value, position, node, qualified))

    def _report_model_file(self, node: cst.Call, qualified: str, shown: str) -> None:
        function = qualified.rsplit(".", 2)[-2] + ".load" if qualified.endswith(".load") else f"{qualified}(...).load"
        if self._imports_torch:
            instead = "load weights with `torch.load(..., weights_only=True)` or safetensors"
        else:
            instead = "store the weights in a format that holds no code (safetensors, NumPy `.npz`) and rebuild the object in code"
        self.report(
            node,
            f"`{code_of(node)}` unpickles a model file ({shown}): unpickling runs whatever code "
            f"the file names, so a downloaded or shared model can execute anything on load; {instead}, "
            f"or keep `{function}` for files you made yourself (`# noqa: DL502`)",
            severity=Severity.WARNING,
        )

    def visit_Import(self, node: cst.Import) -> None:
        self._imports_torch |= any(
            (dotted_name(alias.name) or "").split(".")[0] == "torch" for alias in node.names
        )

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted_name(node.module) if node.module is not None else None
        self._imports_torch |= (module or "").split(".")[0] == "torch"

    def leave_Module(self, original_node: cst.Module) -> None:
        # A helper that unpickles the path it is given (`def load_pkl(filename)`) loads a
        # model file when a call in this module passes one (`load_pkl(network_pkl)`).
        for function, parameter, position, node, qualified in self._given:
            for call in self._calls.get(function.name.value, ()):
                passed = call_argument(call, position if position >= 0 else None, parameter)
                if passed is not None and self._model_like(passed):
                    shown = f"`{parameter}`, which `{code_of(call)}` passes"
                    self._report_model_file(node, qualified, shown)
                    break

    def _opened_path(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        if type(expr) is cst.Call and self.names.qualify(expr.func) in _OPENERS:
            return call_argument(expr, 0, "file") or call_argument(expr, 0, "filename")
        return None

    def _model_like(self, path: cst.BaseExpression) -> bool:
        if type(path) is cst.Call and self.names.qualify(path.func) in ("os.path.join", "posixpath.join"):
            path = path.args[-1].value if path.args else path
        elif type(path) is cst.BinaryOperation and type(path.operator) is cst.Divide:
            path = path.right  # pathlib: `root / "model.pkl"`
        tail = string_tail(path)
        if tail is not None:
            name = tail.rstrip().lower()
            if name.endswith(MODEL_EXTENSIONS):
                return True
            file_name = name.rsplit("/", 1)[-1]
            if name.endswith(PICKLE_EXTENSIONS) and not file_name.startswith("."):
                # The literal names the file: `model.pkl` / `clf.pkl`, or `detections.pkl`.
                return bool(set(_WORD.findall(name.rsplit(".", 1)[0])) & _MODEL_WORDS)
            if "." in file_name and not name.endswith(PICKLE_EXTENSIONS):
                return False  # another extension: `vocab.json`, `features.npy`
        words = {word.lower() for identifier in _identifiers(path) for word in _WORD.findall(identifier)}
        return bool(words & _MODEL_WORDS)


def _identifiers(expr: cst.BaseExpression) -> list[str]:
    """The names a path expression is made of: `args.model_path`, `locate_network_pkl(run_id)`,
    `model_path + ".pkl"`."""
    if type(expr) is cst.Name:
        return [expr.value]
    if type(expr) is cst.Attribute:
        return [*_identifiers(expr.value), expr.attr.value]
    if type(expr) is cst.Subscript:
        return _identifiers(expr.value)
    if type(expr) is cst.Call:
        return [*_identifiers(expr.func), *(name for arg in expr.args if arg.keyword is None for name in _identifiers(arg.value))]
    if type(expr) is cst.BinaryOperation:
        return [*_identifiers(expr.left), *_identifiers(expr.right)]
    return []


_NUMPY_ADVICE = (
    "the value goes to NumPy / `torch.from_numpy`, so the file holds a NumPy array, which `weights_only=True` "
    "refuses; save it with `np.save` and read it with `np.load`, which unpickles nothing"
)
