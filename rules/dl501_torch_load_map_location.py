"""DL501 torch-load-map-location."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import ImportTable, dotted_name
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import (
    call_argument,
    code_of,
    is_true_literal,
    string_value,
    target_names,
    unplaceable,
    with_keyword,
)
from dldoctor.lint.textscan import uses_any
from dldoctor.lint.walk import child_nodes

TORCH_LOAD = "torch.load"
TORCH_SAVE = "torch.save"
# Signs that a module puts tensors on a GPU, or may: `.cuda()`, `.to(device)`, a
# `DataParallel`, a `device`, a "cuda" string (checked apart).
_GPU_ATTRIBUTES = frozenset({"cuda", "to", "DataParallel", "DistributedDataParallel", "device"})
_WORD = re.compile(r"[A-Za-z_]\w*")
_GPU_NAMES = frozenset({"DataParallel", "DistributedDataParallel", "device"})
# Methods whose result lives in host memory, whatever the receiver: `.cpu()`, a NumPy
# array, Python numbers and lists.
_TO_HOST = frozenset({"cpu", "numpy", "tolist", "item"})
# Methods whose result lives where the receiver does (`model.state_dict()`, `x.detach()`).
_KEEPS_PLACE = frozenset({
    "state_dict", "detach", "clone", "contiguous", "float", "half", "double", "int", "long", "byte",
    "bool", "eval", "train", "astype", "copy", "reshape", "view", "squeeze", "unsqueeze",
})
# Keywords that make a state-dict call or config gather the tensors to CPU
# (`FullStateDictConfig(offload_to_cpu=True)`, `StateDictOptions(cpu_offload=True)`).
_OFFLOAD_KEYWORDS = frozenset({"offload_to_cpu", "cpu_offload"})
# FSDP's gathered optimizer state: its tensors are offloaded to CPU.
_CPU_GATHERS = frozenset({"full_optim_state_dict"})
# What is done to a model, not to data: calling it, or these methods.
_MODEL_METHODS = frozenset({
    "eval", "train", "parameters", "named_parameters", "buffers", "state_dict", "forward", "modules",
    "children", "named_modules", "apply", "half", "float", "double", "zero_grad", "requires_grad_",
    "cpu", "cuda", "to", "predict", "generate", "load_state_dict",
})
# Calls that take a loaded value as plain data (besides NumPy and `torch.from_numpy`).
_DATA_CONSUMERS = frozenset({"builtins.print", "builtins.len"})


def saved_to(call: cst.Call, names: ImportTable) -> str | None:
    """For `torch.save(obj, f)`, `f` as written (`buffer`, `tmp.name`, `"params.ckpt"`,
    `os.path.join(out, "model.pt")`); else None."""
    if names.qualify(call.func) != TORCH_SAVE:
        return None
    return _path_key(call_argument(call, 1, "f"))


def loaded_from(call: cst.Call) -> str | None:
    """For `torch.load(f, ...)`, `f` as written."""
    return _path_key(call_argument(call, 0, "f"))


def _path_key(expression: cst.BaseExpression | None) -> str | None:
    """What a save and a later load must both be given to be a round trip: the dotted
    name, or the expression's code without its spacing (a literal path, a join)."""
    if expression is None:
        return None
    return dotted_name(expression) or "".join(code_of(expression, limit=10_000).split())


def _descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child_nodes(current))


def _root_name(expr: cst.BaseExpression) -> str | None:
    """`data` for `data`, `data["x"][0]`, `data.x`, `data["x"].mean()`."""
    while True:
        if type(expr) is cst.Name:
            return expr.value
        if type(expr) is cst.Subscript:
            expr = expr.value
        elif type(expr) is cst.Attribute:
            expr = expr.value
        elif type(expr) is cst.Call:
            expr = expr.func
        else:
            return None


def _subscript_root(expr: cst.BaseExpression) -> str | None:
    """`data` for `data` and `data[3:, :-1]`: the value itself or a part of it."""
    while type(expr) is cst.Subscript:
        expr = expr.value
    return expr.value if type(expr) is cst.Name else None


def _mentions(expr: cst.CSTNode, names: set[str]) -> bool:
    """Whether `expr` reads one of `names` (not as an attribute's or a keyword's name)."""
    if type(expr) is cst.Name:
        return expr.value in names
    if type(expr) is cst.Attribute:
        return _mentions(expr.value, names)
    if type(expr) is cst.Arg:
        return _mentions(expr.value, names)
    return any(_mentions(child, names) for child in child_nodes(expr))


def loaded_call(expr: cst.BaseExpression) -> cst.BaseExpression:
    """The call a value comes from, through subscripts: `torch.load(f)["model"]` -> `torch.load(f)`."""
    while type(expr) is cst.Subscript:
        expr = expr.value
    return expr


def reads_as_numpy(call: cst.Call, names: ImportTable) -> bool:
    """Whether a call takes (part of) a value as a NumPy array: `torch.from_numpy(x)`, `np.mean(x)`."""
    qualified = names.qualify(call.func) or ""
    return qualified == "torch.from_numpy" or qualified.split(".")[0] == "numpy"


def handed_to_numpy(load: cst.Call, bound: list[str] | None, scope: cst.CSTNode, names: ImportTable) -> bool:
    """Whether the value of `load` (bound to `bound`, or used in place) is given, whole or
    indexed, to `torch.from_numpy` or NumPy somewhere in `scope`: the file holds a NumPy
    array, not tensors."""
    for node in _descendants(scope):
        if type(node) is cst.Call and reads_as_numpy(node, names):
            for arg in node.args:
                if loaded_call(arg.value) is load or (bound and _subscript_root(arg.value) in bound):
                    return True
    return False


class TorchLoadMapLocation(Rule):
    """
    ## What it does
    Finds `torch.load(...)` called without `map_location` (neither the keyword nor
    the second positional argument), under any import style (`import torch as T`,
    `from torch import load`), where the file may hold tensors saved on a GPU.

    ## Why is this bad
    `torch.save` records the device of every tensor, and `torch.load` without
    `map_location` puts each one back there: a checkpoint saved on `cuda:0` is
    loaded onto GPU 0, whatever GPU the process was meant to use. On a shared
    multi-GPU server where GPU 0 is already full, loading fails with

        RuntimeError: CUDA error: out of memory

    (the casebook's `model_recover = torch.load(args.model_recover_path)`), and on a
    machine without CUDA with `RuntimeError: Attempting to deserialize object on a
    CUDA device but torch.cuda.is_available() is False`. Even when it works, the
    weights take a second copy of GPU memory on GPU 0 before `load_state_dict`
    copies them to the model. An inference script that loads weights with no
    mention of a GPU is the typical case: the file was written by a training
    script on a GPU.

    ## Example
    ```python
    model_recover = torch.load(args.model_recover_path)
    ```

    ## Use instead
    ```python
    model_recover = torch.load(args.model_recover_path, map_location="cpu")
    ```
    or the device the process uses (`map_location=f"cuda:{args.local_rank}"`,
    `map_location=device`). `load_state_dict` copies CPU tensors to the model's
    device.

    Not reported, because the file holds no GPU tensors to put back, or they come
    back where this same code put them:

    - a call that passes `**kwargs` (they may hold it);
    - a round trip: `torch.load(f)` of what the same function (or the same notebook
      or script, at top level) just wrote with `torch.save(obj, f)`, the same buffer
      or the same path expression;
    - a cache: `if os.path.isfile(p): x = torch.load(p)` with `torch.save(..., p)` in
      the other branch, which computes what the file holds;
    - a module whose every `torch.save` writes host memory: `.cpu()` tensors or a
      model moved there first (`model.eval().cpu()` before saving its `state_dict`),
      an FSDP state dict gathered with `offload_to_cpu=True` / `cpu_offload=True`,
      `FSDP.full_optim_state_dict` (offloaded to CPU), NumPy arrays, plain numbers.
      Its loads read those files back, whatever path expression they use;
    - a module that writes torch files of its own data (no `state_dict`, no object
      a caller passed in) and never puts anything on a GPU (no `.cuda()`,
      `.to(...)`, `device`, `DataParallel` or `"cuda"` in it): it reads back its own
      CPU files (a dataset's `download()` cache);
    - in a module that never puts anything on a GPU, never calls `load_state_dict`
      and saves no weights, a loaded value that is only read as data: given to
      `torch.from_numpy` or NumPy, indexed, its fields read (a dump of metrics or
      NumPy arrays that a plotting script reads). A value used as a model (called,
      `.eval()`, `.parameters()`), returned, stored on an object or handed to
      another function is still reported, and so is one never read at all.

    ## Fix safety
    Unsafe: the fix adds `map_location="cpu"`. Code that uses the loaded tensors
    directly (not through `load_state_dict`) and expects them on a GPU then gets
    CPU tensors, so `--fix` applies it only with `--unsafe-fixes`.
    """

    code = "DL501"
    name = "torch-load-map-location"
    severity = Severity.WARNING
    summary = "torch.load without map_location: tensors go back to the GPU they were saved from"
    triggers = ("load",)
    also_triggers = ("torch",)

    @classmethod
    def could_fire(cls, text: str, lowered: str) -> bool:
        """`torch.load` as the module's imports reach it: `torch.load`, `T.load` after
        `import torch as T`, `from torch import load [as L]`, `L = torch.load`."""
        return super().could_fire(text, lowered) and uses_any(text, frozenset({TORCH_LOAD}))

    VALID = (
        'import torch\nstate = torch.load(path, map_location="cpu", weights_only=True)\n',
        "import torch\nstate = torch.load(path, device, weights_only=True)\n",
        "import torch\nstate = torch.load(path, map_location=lambda storage, loc: storage, weights_only=True)\n",
        "import torch\nstate = torch.load(path, **load_kwargs)\n",
        # A project's own `load`, and another library's.
        "import numpy as np\narr = np.load(path)\n",
        "def load(path):\n    return open(path).read()\nload('model.pt')\n",
        # A round trip in memory: the tensors come back where they were.
        "import io, torch\ndef clone(model):\n    buffer = io.BytesIO()\n    torch.save(model, buffer)\n"
        "    buffer.seek(0)\n    return torch.load(buffer, weights_only=False)\n",
        # A dataset that caches CPU tensors in download() and reads them in __init__.
        "import os, torch\nclass MNISTM:\n    def __init__(self, root):\n"
        "        self.data = torch.load(os.path.join(root, 'training.pt'), weights_only=True)\n"
        "    def download(self, root):\n        images = read_image_file(os.path.join(root, 'raw'))\n"
        "        with open(os.path.join(root, 'training.pt'), 'wb') as f:\n"
        "            torch.save(torch.ByteTensor(images), f)\n",
        # A round trip through a path in the same script: saved, then read back.
        'import torch\ntorch.save(model.state_dict(), "params.ckpt")\nmodel.load_state_dict(torch.load("params.ckpt", weights_only=True))\n',
        # The module saves its model only after moving it to the CPU.
        "import torch\ndef train(args, net, device):\n    net.to(device)\n    fit(net)\n    net.eval().cpu()\n"
        "    torch.save(net.state_dict(), args.out)\n"
        "def stylize(args, net):\n    net.load_state_dict(torch.load(args.model, weights_only=True))\n",
        # A cache: loaded if present, else computed and saved by the other branch.
        "import os, torch\nif os.path.isfile(args.vector_cache):\n    vectors = torch.load(args.vector_cache, weights_only=True)\n"
        "else:\n    vectors = build_vectors()\n    torch.save(vectors, args.vector_cache)\n",
        # A NumPy array in a torch file, in a script that never uses a GPU.
        "import torch\ndata = torch.load('traindata.pt', weights_only=False)\nx = torch.from_numpy(data[3:, :-1])\n",
    )
    INVALID = (
        # Loaded before it is saved (resuming): the file may come from another machine.
        'import torch\nG.load_state_dict(torch.load("saved/G.pth", weights_only=True))\nfor epoch in range(n):\n'
        '    step()\n    torch.save(G.state_dict(), "saved/G.pth")\n',
        "import torch\nmodel_recover = torch.load(args.model_recover_path, weights_only=True)\n",
        "import torch as T\nstate = T.load('checkpoints/best.pth', weights_only=True)\n",
        "from torch import load\nckpt = load(ckpt_path, weights_only=True)\nmodel.load_state_dict(ckpt['model'])\n",
        # The model is saved from the GPU it trained on.
        "import torch\ndef train(args, net, device):\n    net.eval().cpu()\n    net.to(device)\n"
        "    torch.save(net.state_dict(), args.out)\n"
        "def stylize(args, net):\n    net.load_state_dict(torch.load(args.model, weights_only=True))\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._saved: list[set[str]] = [set()]  # what `torch.save` wrote to, per function
        self._pending: list[tuple[cst.Call, cst.CSTNode]] = []  # loads to report, and their scope
        self._saves = False  # the module writes torch files itself
        self._saves_weights = False  # ... and one of them may be a model's (a state_dict, a parameter)
        self._saves_only_host = True  # ... and every one of them writes host memory
        self._parameters: list[set[str]] = [set()]  # parameter names, per function
        # name -> the value last assigned to it, per function (its code is rendered when asked for)
        self._assigned: list[dict[str, cst.BaseExpression]] = [{}]
        self._on_host: list[set[str]] = [set()]  # names known to hold host memory now, per function
        self._scopes: list[cst.CSTNode] = []  # the module, then the functions being walked
        self._offload_configs: set[str] = set()  # names bound to a CPU-offloading state-dict config
        self._offloading: list[bool] = []  # per `with`: whether it gathers state dicts to CPU
        self._branches: list[tuple[cst.If, str]] = []  # the `if` branches being walked
        self._bound: dict[int, list[str]] = {}  # id of a load -> the names its value is bound to
        self._gpu = False  # the module puts something on a GPU (or may: a device it picks)
        self._loads_state_dict = False  # the module calls `load_state_dict` somewhere

    def visit_Module(self, node: cst.Module) -> None:
        self._scopes.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._saved.append(set())
        params = node.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [star for star in (params.star_arg, params.star_kwarg) if type(star) is cst.Param]
        self._parameters.append({param.name.value for param in every})
        self._assigned.append({})
        self._on_host.append(set())
        self._scopes.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._saved.pop()
        self._parameters.pop()
        self._assigned.pop()
        self._on_host.pop()
        self._scopes.pop()

    def visit_If_body(self, node: cst.If) -> None:
        self._branches.append((node, "body"))

    def leave_If_body(self, node: cst.If) -> None:
        self._branches.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        self._branches.append((node, "orelse"))

    def leave_If_orelse(self, node: cst.If) -> None:
        self._branches.pop()

    def visit_With(self, node: cst.With) -> None:
        self._offloading.append(any(
            type(item.item) is cst.Call and self._callee_name(item.item) == "state_dict_type"
            and self._offloads(item.item)
            for item in node.items
        ))

    def leave_With(self, original_node: cst.With) -> None:
        self._offloading.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and type(node.targets[0].target) is cst.Name:
            self._assigned[-1][node.targets[0].target.value] = node.value
        bound = [name for target in node.targets for name in target_names(target.target)]
        on_host = self._on_host_value(node.value)
        for name in bound:
            (self._on_host[-1].add if on_host else self._on_host[-1].discard)(name)
        if type(node.value) is cst.Call and self._offloads(node.value):
            self._offload_configs.update(bound)
        loaded = loaded_call(node.value)
        if type(loaded) is cst.Call and all(type(t.target) in (cst.Name, cst.Tuple, cst.List) for t in node.targets):
            self._bound[id(loaded)] = bound

    def visit_Expr(self, node: cst.Expr) -> None:
        # `model.eval().cpu()`, `model.to(device)` as statements move a module in place.
        if type(node.value) is cst.Call:
            moved = self._last_move(node.value)
            if moved is not None:
                name, to_host = moved
                (self._on_host[-1].add if to_host else self._on_host[-1].discard)(name)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in _GPU_ATTRIBUTES:
            self._gpu = True
        if node.attr.value == "load_state_dict":
            self._loads_state_dict = True

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in _GPU_NAMES:
            self._gpu = True

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if "cuda" in node.value.lower():
            self._gpu = True

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.names.qualify(node.func)
        if qualified == TORCH_SAVE:
            self._saves = True
            payload = call_argument(node, 0, "obj")
            self._saves_weights |= self._may_be_weights(payload)
            self._saves_only_host &= payload is not None and self._on_host_value(payload)
            saved = saved_to(node, self.names)
            if saved is not None:
                self._saved[-1].add(saved)
            return
        if qualified in _DATA_CONSUMERS or reads_as_numpy(node, self.names):
            for arg in node.args:
                loaded = loaded_call(arg.value)
                if type(loaded) is cst.Call:
                    self._bound.setdefault(id(loaded), [])
        if qualified != TORCH_LOAD:
            return
        if call_argument(node, 1, "map_location") is not None or unplaceable(node):
            return
        source = loaded_from(node)
        if source in self._saved[-1] or self._cached(source):
            return
        self._pending.append((node, self._scopes[-1]))

    def _cached(self, source: str | None) -> bool:
        """Whether an enclosing `if` tests this file (`os.path.isfile(p)`) and its other
        branch writes it with `torch.save`: a cache of what that branch computes."""
        if source is None:
            return False
        for branch_of, branch in self._branches:
            test = "".join(code_of(branch_of.test, limit=10_000).split())
            other = branch_of.orelse if branch == "body" else branch_of.body
            if other is None or source not in test:
                continue
            for inner in _descendants(other):
                if type(inner) is cst.Call and saved_to(inner, self.names) == source:
                    return True
        return False

    def _callee_name(self, call: cst.Call) -> str | None:
        if type(call.func) is cst.Attribute:
            return call.func.attr.value
        return call.func.value if type(call.func) is cst.Name else None

    def _offloads(self, call: cst.Call) -> bool:
        """Whether a call is told to gather to CPU: `offload_to_cpu=True`, `cpu_offload=True`,
        directly or through a config it is given (`FullStateDictConfig(offload_to_cpu=True)`)."""
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in _OFFLOAD_KEYWORDS and is_true_literal(arg.value):
                return True
            if type(arg.value) is cst.Name and arg.value.value in self._offload_configs:
                return True
            if type(arg.value) is cst.Call and self._offloads(arg.value):
                return True
        return False

    def _is_host_device(self, expr: cst.BaseExpression | None) -> bool:
        """`"cpu"`, `torch.device("cpu")`."""
        if type(expr) is cst.Call and self.names.qualify(expr.func) == "torch.device":
            expr = call_argument(expr, 0, "type")
        value = string_value(expr) if expr is not None else None
        return value is not None and value.split(":")[0] == "cpu"

    def _last_move(self, call: cst.Call) -> tuple[str, bool] | None:
        """For a call chain on a name (`net.eval().cpu()`, `net.to(device).train()`): the
        name, and whether the last device move in the chain goes to the CPU."""
        expr: cst.BaseExpression = call
        while type(expr) is cst.Call and type(expr.func) is cst.Attribute:
            method = expr.func.attr.value
            if method in ("cpu", "cuda", "to"):
                name = _root_name(expr.func.value)
                if name is None:
                    return None
                return name, method == "cpu" or (method == "to" and self._is_host_device(call_argument(expr, 0, None)))
            expr = expr.func.value
        return None

    def _on_host_value(self, expr: cst.BaseExpression) -> bool:
        """Whether a value is known to hold no GPU tensor: host-memory tensors and arrays,
        plain literals, containers of those."""
        if type(expr) in (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString):
            return True
        if type(expr) is cst.Name:
            return expr.value in ("True", "False", "None") or expr.value in self._on_host[-1]
        if type(expr) in (cst.Tuple, cst.List):
            return all(self._on_host_value(element.value) for element in expr.elements)
        if type(expr) is cst.Dict:
            return all(self._on_host_value(element.value) for element in expr.elements)
        if type(expr) is cst.DictComp:
            return self._on_host_value(expr.value)  # `{k: v.cpu() for k, v in state.items()}`
        if type(expr) in (cst.ListComp, cst.SetComp, cst.GeneratorExp):
            return self._on_host_value(expr.elt)
        if type(expr) is not cst.Call:
            return False
        qualified = self.names.qualify(expr.func) or ""
        if qualified.split(".")[0] == "numpy" or self._offloads(expr):
            return True
        if type(expr.func) is not cst.Attribute:
            return False
        method = expr.func.attr.value
        if method in _TO_HOST or method in _CPU_GATHERS:
            return True
        if method == "to":
            return self._is_host_device(call_argument(expr, 0, None))
        if method == "state_dict" and any(self._offloading):
            return True
        return method in _KEEPS_PLACE and self._on_host_value(expr.func.value)

    def _may_be_weights(self, saved: cst.BaseExpression | None) -> bool:
        """Whether what `torch.save` writes may be a model's tensors: a `state_dict`, or
        something a caller handed in, as written or through the name's last assignment."""
        if saved is None:
            return True
        written = code_of(saved)
        if type(saved) is cst.Name:
            assigned = self._assigned[-1].get(saved.value)
            written += " " + (code_of(assigned) if assigned is not None else "")
        words = set(_WORD.findall(written))
        return "state_dict" in written or bool(words & self._parameters[-1])

    def _read_as_data(self, load: cst.Call, scope: cst.CSTNode) -> bool:
        """Whether the loaded value is only read as data in its scope: handed to NumPy or
        `torch.from_numpy`, indexed, its fields read; never used as a model (called,
        `.eval()`), returned, stored on an object or handed to another function. A
        value bound and never read gives no such evidence."""
        names = self._bound.get(id(load))
        if names is None:
            return False  # returned, stored, passed on: its use is elsewhere
        if not names:
            return True  # given straight to NumPy or `torch.from_numpy`
        values = set(names)  # the value, and names bound to its parts
        nodes = list(_descendants(scope))
        assignments = [node for node in nodes if type(node) is cst.Assign]
        grown = True
        while grown:
            grown = False
            for assignment in assignments:
                if _root_name(assignment.value) not in values:
                    continue
                for target in assignment.targets:
                    if type(target.target) not in (cst.Name, cst.Tuple, cst.List):
                        return False  # `self.model = ckpt["model"]`
                    for name in target_names(target.target):
                        if name not in values:
                            values.add(name)
                            grown = True
        read = False
        for node in nodes:
            if type(node) in (cst.Return, cst.Yield) and node.value is not None and _mentions(node.value, values):
                return False
            if type(node) is not cst.Call:
                continue
            if type(node.func) is cst.Name and node.func.value in values:
                return False
            if type(node.func) is cst.Attribute and _root_name(node.func.value) in values:
                if type(node.func.value) is cst.Name and node.func.attr.value in _MODEL_METHODS:
                    return False
            qualified = self.names.qualify(node.func) or ""
            for arg in node.args:
                if _subscript_root(arg.value) not in set(names):
                    continue
                if qualified in _DATA_CONSUMERS or reads_as_numpy(node, self.names):
                    read = True
                else:
                    return False
        for node in nodes:
            if type(node) in (cst.Subscript, cst.Attribute) and type(node.value) is cst.Name:
                read |= node.value.value in set(names)
        return read

    def leave_Module(self, original_node: cst.Module) -> None:
        # A module that writes torch files of its own data (no state_dict, nothing handed
        # in by a caller) and never touches a GPU reads back its own CPU files (a dataset's
        # `download()` caching tensors, then `__init__` loading them): there is no device
        # to map from, so nothing is said. A checkpoint helper saving a caller's model
        # is not such a module: the model may live on a GPU.
        if self._saves and not self._saves_weights and not self._gpu:
            return
        # Every file the module writes holds host memory only: its loads read them back.
        if self._saves and self._saves_only_host:
            return
        data_only_module = not self._gpu and not self._loads_state_dict and not self._saves_weights
        for node, scope in self._pending:
            if data_only_module and self._read_as_data(node, scope):
                continue
            self.report(
                node,
                f"`{code_of(node)}` has no `map_location`: every tensor goes back to the device it was saved "
                "from (GPU 0 for a checkpoint saved on `cuda:0`), which fails with `RuntimeError: CUDA error: "
                "out of memory` when that GPU is busy and on machines without it; pass `map_location=\"cpu\"` "
                "(or the target device)",
                Fix(
                    'add map_location="cpu"',
                    Applicability.UNSAFE,
                    ((node, with_keyword(node, "map_location", cst.SimpleString('"cpu"'))),),
                ),
            )
