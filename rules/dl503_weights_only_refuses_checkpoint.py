"""DL503 weights-only-refuses-checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from dldoctor.lint import target as target_environment
from dldoctor.lint.bindings import Bindings, BlockHooks
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, keyword_argument, target_names
from dldoctor.rules.dl501_torch_load_map_location import TORCH_LOAD, loaded_from, saved_to
from dldoctor.rules.dl502_unsafe_deserialization import SAFE_DEFAULT_SINCE, torch_release

_OPENERS = {"builtins.open", "io.open"}
# Classes whose instances `weights_only=True` loads: tensors and the containers of a state dict.
_ALLOWED_CLASSES = {"OrderedDict", "Tensor", "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor",
                    "LongTensor", "IntTensor", "ShortTensor", "ByteTensor", "CharTensor", "BoolTensor", "Size",
                    "Parameter", "UntypedStorage", "TypedStorage", "device", "dtype"}
# Methods that return the object they are called on (a module moved, a model in eval mode).
_SAME_OBJECT = {"to", "cuda", "cpu", "eval", "train", "half", "float", "double"}


@dataclass(frozen=True)
class _Refused:
    """A value `weights_only=True` refuses, and what it is, for the message."""

    what: str


class WeightsOnlyRefusesCheckpoint(BlockHooks, Rule):
    """
    ## What it does
    Finds `torch.load(f)` without `weights_only` of a file that the same module writes
    with `torch.save` and fills with objects that `weights_only=True` refuses: a whole
    model (`torch.save(model, f)`, an instance of any class that is not a tensor or a
    container), an `argparse.Namespace` (`{"args": args, ...}` with
    `args = parser.parse_args()`), NumPy arrays (`np.array(...)`, `np.mean(...)`). The
    save and the load must name the file the same way (the same path expression, or
    the same path opened as `with open(path, "wb") as f`). Judged against the project's
    target torch: reported only when it is 2.6 or newer.

    Not reported: a load under `with torch.serialization.safe_globals([...]):`, or in a
    module that calls `torch.serialization.add_safe_globals`, which allow the classes
    the file holds. Not seen: a file written by another module or another program, a
    payload the rule cannot follow (a function's parameter, `self.state`), and `state_dict()`s, numbers,
    strings, lists and dicts of those, which `weights_only=True` loads.

    ## Why is this bad
    Since torch 2.6 `torch.load` defaults to `weights_only=True`, which unpickles only
    tensors and plain containers. A checkpoint holding anything else, even one the
    same script wrote a minute earlier, fails to load:

        _pickle.UnpicklingError: Weights only load failed. This file can still be loaded, to do so you have two
        options, do those steps only if you trust the source of the checkpoint. ...
        WeightsUnpickler error: Unsupported global: GLOBAL model.RNNModel was not an allowed global by default.

    Scripts that saved whole models or their `args` broke on upgrading torch.

    ## Example
    ```python
    with open(args.save, "wb") as f:
        torch.save(model, f)
    ...
    with open(args.save, "rb") as f:
        model = torch.load(f)
    ```

    ## Use instead
    ```python
    torch.save(model.state_dict(), args.save)
    model = RNNModel(...)
    model.load_state_dict(torch.load(args.save))
    ```
    Store `vars(args)` (a dict) instead of the `Namespace`, and tensors instead of NumPy
    arrays. For a file the project writes itself, `torch.load(f, weights_only=False)`
    also works (DL502 reports it: it unpickles anything).

    ## Fix safety
    No automatic fix: saving state dicts changes the file format, and
    `weights_only=False` gives up the protection; which to choose is the project's call.
    """

    code = "DL503"
    name = "weights-only-refuses-checkpoint"
    severity = Severity.ERROR
    summary = "torch.load of a checkpoint this module saves with a whole model, argparse args or NumPy arrays: refused since torch 2.6"
    triggers = ("save",)
    also_triggers = ("load",)
    reads_installed = (("torch",),)

    VALID = (
        "import torch\ntorch.save(model.state_dict(), 'model.pt')\nmodel.load_state_dict(torch.load('model.pt'))\n",
        "import torch\nstate = {'net': net.state_dict(), 'acc': acc, 'epoch': epoch}\ntorch.save(state, 'ckpt.pth')\n"
        "checkpoint = torch.load('ckpt.pth')\n",
        "import torch\ntorch.save(model, 'model.pt')\nmodel = torch.load('model.pt', weights_only=False)\n",
    )
    INVALID = (
        "import torch\nmodel = Net()\ntorch.save(model.to('cpu'), 'model.pt')\nmodel = torch.load('model.pt')\n",
        "import argparse\nimport torch\nargs = argparse.ArgumentParser().parse_args()\n"
        "torch.save({'state_dict': model.state_dict(), 'args': args}, 'ckpt.pth')\nckpt = torch.load('ckpt.pth')\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.bindings = Bindings()
        self._handles: dict[str, str] = {}  # `f` of `with open(path) as f` -> the path's key
        self._saved: dict[str, tuple[_Refused, cst.Call]] = {}  # path key -> what is saved there, and the save
        self._loads: list[tuple[cst.Call, str]] = []
        self._function_ids: list[int] = []
        self._allowing = 0  # open `with torch.serialization.safe_globals([...]):` blocks
        self._allows_globals = False  # `torch.serialization.add_safe_globals([...])` somewhere in the module

    # -- scopes and bindings -----------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._function_ids.append(id(node))
        self.bindings.bind(node.name.value, None)
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)]
        self.bindings.enter_function(params)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._function_ids.pop()
        self.bindings.leave_function()

    def _key(self, key: str) -> str:
        """A path's key, told apart by function when it is one of the function's own names
        (`path` in `save(path)` is not `path` in `load(path)`)."""
        key = self._handles.get(self._local(key), key)
        return self._local(key)

    def _local(self, key: str) -> str:
        root = key.split(".")[0]
        if self._function_ids and root.isidentifier() and self.bindings.binding_here(root):
            return f"{self._function_ids[-1]}:{key}"
        return key

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.bindings.enter_function([p.name.value for p in node.params.params])

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.bindings.leave_function()

    def leave_Assign(self, original_node: cst.Assign) -> None:
        refused = self._refused(original_node.value)
        for target in original_node.targets:
            if type(target.target) is cst.Name:
                self.bindings.bind(target.target.value, refused)
            else:
                for name in target_names(target.target):
                    self.bindings.bind(name, None)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        for name in target_names(original_node.target):
            self.bindings.bind(name, None)

    def visit_For(self, node: cst.For) -> None:
        for name in target_names(node.target):
            self.bindings.bind(name, None)

    def visit_With(self, node: cst.With) -> None:
        super().visit_With(node)
        allows = any(_allows_globals(self.names.qualify(item.item.func)) for item in node.items
                     if type(item.item) is cst.Call)
        self._allowing += allows
        self._with_allows = getattr(self, "_with_allows", [])
        self._with_allows.append(allows)

    def leave_With(self, original_node: cst.With) -> None:
        self._allowing -= self._with_allows.pop()

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is None:
            return
        for name in target_names(node.asname.name):
            self.bindings.bind(name, None)
        item = node.item
        if type(item) is cst.Call and self.names.qualify(item.func) in _OPENERS and type(node.asname.name) is cst.Name:
            path = call_argument(item, 0, "file")
            if path is not None:
                self._handles[self._local(node.asname.name.value)] = self._local(
                    dotted_name(path) or "".join(code_of(path, 10_000).split()))

    def _refused(self, expr: cst.BaseExpression | None) -> _Refused | None:
        """What in `expr` `weights_only=True` would refuse, when the module shows it."""
        if expr is None:
            return None
        if type(expr) is cst.Name:
            meaning = self.bindings.lookup(expr.value)
            return meaning if isinstance(meaning, _Refused) else None
        if type(expr) is cst.Dict:
            for element in expr.elements:
                if type(element) is cst.DictElement:
                    found = self._refused(element.value)
                    if found is not None:
                        key = code_of(element.key, 30)
                        return _Refused(f"{found.what} under {key}")
            return None
        if type(expr) in (cst.List, cst.Tuple, cst.Set):
            for element in expr.elements:
                found = self._refused(element.value)
                if found is not None:
                    return found
            return None
        if type(expr) is cst.Call:
            return self._refused_call(expr)
        return None

    def _refused_call(self, call: cst.Call) -> _Refused | None:
        func = call.func
        qualified = self.names.qualify(func) or ""
        if qualified == "builtins.dict":
            for arg in call.args:
                found = self._refused(arg.value) if arg.keyword is not None else None
                if found is not None:
                    return _Refused(f"{found.what} under `{arg.keyword.value}`")
            return None
        if qualified.split(".")[0] == "numpy" and qualified.rpartition(".")[2][:1].islower():
            return _Refused(f"a NumPy array (`{code_of(call, 40)}`)")
        if type(func) is cst.Attribute:
            method = func.attr.value
            if method == "parse_args":
                return _Refused(f"an `argparse.Namespace` (`{code_of(call, 40)}`)")
            if method in _SAME_OBJECT:
                return self._refused(func.value)
        last = (dotted_name(func) or "").rpartition(".")[2]
        if last[:1].isupper() and last not in _ALLOWED_CLASSES and not qualified.startswith("torch.") or (
            qualified.startswith("torch.nn.") and last[:1].isupper() and last not in _ALLOWED_CLASSES
        ):
            return _Refused(f"an instance of `{last}`")
        return None

    # -- saves and loads ---------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        saved = saved_to(node, self.names)
        if saved is not None:
            refused = self._refused(call_argument(node, 0, "obj"))
            key = self._key(saved)
            if refused is not None:
                self._saved[key] = (refused, node)
            else:
                self._saved.pop(key, None)
            return
        qualified = self.names.qualify(node.func)
        if _allows_globals(qualified) and not self._allowing:
            self._allows_globals = True  # `add_safe_globals`: the project lists what its files hold
        if qualified == TORCH_LOAD and not self._allowing:
            if keyword_argument(node, "weights_only") is None and not any(arg.star for arg in node.args):
                loaded = loaded_from(node)
                if loaded is not None:
                    self._loads.append((node, self._key(loaded)))

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._loads or not self._saved or self._allows_globals:
            return
        version = target_environment.current().version("torch")
        release = torch_release(version)
        if release is None or release < SAFE_DEFAULT_SINCE:
            return  # before 2.6 the default is weights_only=False (DL502's concern), or the version is unknown
        where = (f"the installed torch is {version}" if target_environment.installed_here(version)
                 else f"the target torch is {target_environment.shown(version)} ({target_environment.source(version)})")
        for load, key in self._loads:
            if key not in self._saved:
                continue
            refused, save = self._saved[key]
            self.report(
                load,
                f"`{code_of(load)}` reads what `{code_of(save, 50)}` writes, {refused.what}, and {where}: since 2.6 "
                "`torch.load` defaults to `weights_only=True`, which refuses it (`_pickle.UnpicklingError: Weights "
                "only load failed ... Unsupported global`); save state dicts, tensors and plain values instead (a "
                "model's `state_dict()`, `vars(args)`, `torch.from_numpy(a)`), or pass `weights_only=False` for a "
                "file this project writes itself",
            )


def _allows_globals(qualified: str | None) -> bool:
    """`torch.serialization.safe_globals` / `add_safe_globals`: classes `weights_only=True` may load."""
    return qualified in ("torch.serialization.safe_globals", "torch.serialization.add_safe_globals")
