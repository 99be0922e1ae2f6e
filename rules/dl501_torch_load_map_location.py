"""DL501 torch-load-map-location."""

from __future__ import annotations

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import ImportTable, dotted_name
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import call_argument, code_of, unplaceable, with_keyword
from dldoctor.lint.textscan import uses_any

TORCH_LOAD = "torch.load"
TORCH_SAVE = "torch.save"


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
    same path expression: it comes back where it was, in the same process.

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

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._saved.append(set())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._saved.pop()

    def visit_Call(self, node: cst.Call) -> None:
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
