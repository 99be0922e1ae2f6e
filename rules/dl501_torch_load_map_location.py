"""DL501 torch-load-map-location."""

from __future__ import annotations

import re

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import ImportTable, dotted_name
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import call_argument, code_of, unplaceable, with_keyword
from dldoctor.lint.textscan import uses_any

TORCH_LOAD = "torch.load"
TORCH_SAVE = "torch.save"
# Signs that a module puts tensors on a GPU, or may: `.cuda()`, `.to(device)`, a
# `DataParallel`, a `device`, a "cuda" string (checked apart).
_GPU_ATTRIBUTES = frozenset({"cuda", "to", "DataParallel", "DistributedDataParallel", "device"})
_WORD = re.compile(r"[A-Za-z_]\w*")
_GPU_NAMES = frozenset({"DataParallel", "DistributedDataParallel", "device"})


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
    return dotted_name(expression) or "".join(code_of(expression).split())


class TorchLoadMapLocation(Rule):
    """
    ## What it does
    Finds `torch.load(...)` called without `map_location` (neither the keyword nor
    the second positional argument), under any import style (`import torch as T`,
    `from torch import load`).

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
    copies them to the model.

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
    device. Not reported: a call that passes `**kwargs` (they may hold it), and a
    round trip, `torch.load(f)` of what the same function (or the same notebook or
    script, at top level) just wrote with `torch.save(obj, f)`, the same buffer or the
    same path expression: it comes back where it was, in the same process; and the
    loads of a module that writes torch files of its own data (no `state_dict`, no
    object a caller passed in) and never puts anything on a GPU (no `.cuda()`,
    `.to(...)`, `device`, `DataParallel` or `"cuda"` in it): it reads back its own CPU
    files (a dataset's `download()` cache).

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
    )
    INVALID = (
        # Loaded before it is saved (resuming): the file may come from another machine.
        'import torch\nG.load_state_dict(torch.load("saved/G.pth", weights_only=True))\nfor epoch in range(n):\n'
        '    step()\n    torch.save(G.state_dict(), "saved/G.pth")\n',
        "import torch\nmodel_recover = torch.load(args.model_recover_path, weights_only=True)\n",
        "import torch as T\nstate = T.load('checkpoints/best.pth', weights_only=True)\n",
        "from torch import load\nckpt = load(ckpt_path, weights_only=True)\nmodel.load_state_dict(ckpt['model'])\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._saved: list[set[str]] = [set()]  # what `torch.save` wrote to, per function
        self._pending: list[cst.Call] = []  # loads to report, decided at the module's end
        self._saves = False  # the module writes torch files itself
        self._saves_weights = False  # ... and one of them may be a model's (a state_dict, a parameter)
        self._parameters: list[set[str]] = [set()]  # parameter names, per function
        self._assigned: list[dict[str, str]] = [{}]  # name -> the code last assigned to it, per function
        self._gpu = False  # the module puts something on a GPU (or may: a device it picks)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._saved.append(set())
        params = node.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [star for star in (params.star_arg, params.star_kwarg) if isinstance(star, cst.Param)]
        self._parameters.append({param.name.value for param in every})
        self._assigned.append({})

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._saved.pop()
        self._parameters.pop()
        self._assigned.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._assigned[-1][node.targets[0].target.value] = code_of(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in _GPU_ATTRIBUTES:
            self._gpu = True

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in _GPU_NAMES:
            self._gpu = True

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if "cuda" in node.value.lower():
            self._gpu = True

    def visit_Call(self, node: cst.Call) -> None:
        if self.names.qualify(node.func) == TORCH_SAVE:
            self._saves = True
            self._saves_weights |= self._may_be_weights(call_argument(node, 0, "obj"))
            saved = saved_to(node, self.names)
            if saved is not None:
                self._saved[-1].add(saved)
            return
        if self.names.qualify(node.func) != TORCH_LOAD:
            return
        if call_argument(node, 1, "map_location") is not None or unplaceable(node):
            return
        if loaded_from(node) in self._saved[-1]:
            return
        self._pending.append(node)

    def _may_be_weights(self, saved: cst.BaseExpression | None) -> bool:
        """Whether what `torch.save` writes may be a model's tensors: a `state_dict`, or
        something a caller handed in, as written or through the name's last assignment."""
        if saved is None:
            return True
        written = code_of(saved)
        if isinstance(saved, cst.Name):
            written += " " + self._assigned[-1].get(saved.value, "")
        words = set(_WORD.findall(written))
        return "state_dict" in written or bool(words & self._parameters[-1])

    def leave_Module(self, original_node: cst.Module) -> None:
        # A module that writes torch files of its own data (no state_dict, nothing handed
        # in by a caller) and never touches a GPU reads back its own CPU files (a dataset's
        # `download()` caching tensors, then `__init__` loading them): there is no device
        # to map from, so nothing is said. A checkpoint helper saving a caller's model
        # is not such a module: the model may live on a GPU.
        if self._saves and not self._saves_weights and not self._gpu:
            return
        for node in self._pending:
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
