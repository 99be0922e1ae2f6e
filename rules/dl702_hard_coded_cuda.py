"""DL702 hard-coded-cuda."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import call_argument, code_of, keyword_argument, string_value, target_names
from dldoctor.lint.walk import child_nodes

# A condition about the device: it names CUDA, a GPU, the device, or a flag computed from availability.
_DEVICE_WORDS = re.compile(r"(?i)cuda|gpu|device|is_available|accelerat|mps")
_CUDA_STRING = re.compile(r"cuda(:\d+)?")
_EXITS = {"builtins.exit", "builtins.quit", "sys.exit", "os._exit"}


@dataclass(eq=False)
class _Site:
    node: cst.Call
    text: str  # `model.cuda()`, `.to("cuda")`, `device="cuda"`
    fix: Fix | None = None


@dataclass(eq=False)
class _Function:
    name: str | None
    method: bool = False
    sites: list[_Site] = field(default_factory=list)


class HardCodedCuda(Rule):
    """
    ## What it does
    In a PyTorch script that works out whether CUDA is available (a name bound from
    `torch.cuda.is_available()`: `device = torch.device("cuda" if
    torch.cuda.is_available() else "cpu")`, `cuda = torch.cuda.is_available()`,
    `args.cuda = not args.no_cuda and torch.cuda.is_available()`), finds code that
    uses CUDA anyway, outside any check: `x.cuda()`, `x.to("cuda")`,
    `device="cuda"`, `torch.device("cuda")`.

    A site counts as checked when an enclosing `if`, `while`, conditional expression
    or `try` mentions the device (a test naming `cuda`, `gpu`, `device`,
    `is_available` or a flag computed from it). A site inside a function is
    reported only when the module calls that function, and only outside such
    checks; methods are not followed. Not reported: a module that insists on CUDA
    (`assert torch.cuda.is_available()`, or an `if not torch.cuda.is_available():`
    that raises or exits).

    ## Why is this bad
    The script was written to fall back to the CPU, and on a machine without a GPU
    (a laptop, a CPU CI runner) it still crashes at the hard-coded call:

        AssertionError: Torch not compiled with CUDA enabled
        RuntimeError: Found no NVIDIA driver on your system.

    ## Example
    ```python
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = Net().to(device)
    criterion = nn.CrossEntropyLoss().cuda()
    ```

    ## Use instead
    ```python
    criterion = nn.CrossEntropyLoss().to(device)
    ```

    ## Fix safety
    At module level, when the module binds a `torch.device(...)` from the availability
    check, `x.cuda()` becomes `x.to(device)` with that name. It is unsafe: on a machine
    with several GPUs, `device` may name another GPU than `cuda()`'s current one.
    """

    code = "DL702"
    name = "hard-coded-cuda"
    severity = Severity.WARNING
    summary = "`.cuda()` / \"cuda\" outside any check in a script that computes whether CUDA is available"
    triggers = ("is_available",)
    also_triggers = ("cuda",)

    VALID = (
        "import torch\ndevice = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\nmodel = Net().to(device)\n",
        "import torch\ncuda = torch.cuda.is_available()\nif cuda:\n    model.cuda()\n",
        "import torch\nassert torch.cuda.is_available()\nuse_gpu = torch.cuda.is_available()\nmodel.cuda()\n",
    )
    INVALID = (
        "import torch\ndevice = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\nmodel = Net().to(device)\n"
        "criterion = torch.nn.CrossEntropyLoss().cuda()\n",
        "import torch\nuse_cuda = torch.cuda.is_available()\nx = torch.zeros(3, device='cuda')\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._available: list[str] = []  # names bound from `is_available()`, in order
        self._device_name: str | None = None  # a module-level `torch.device(...)` from the check
        self._requires_cuda = False
        self._guards = 0
        self._guard_stack: list[int] = []
        self._functions: list[_Function] = [_Function(None)]
        self._defined: dict[str, _Function] = {}
        self._calls: dict[str, list[bool]] = {}  # function name -> whether each call of it is checked
        self._class_depth: list[int] = []

    # -- structure -------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._class_depth.append(len(self._functions))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._class_depth.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        method = bool(self._class_depth) and self._class_depth[-1] == len(self._functions)
        function = _Function(node.name.value, method)
        if len(self._functions) == 1:
            self._defined[node.name.value] = function
        self._functions.append(function)
        self._guard_stack.append(self._guards)
        self._guards = 0  # a function's body runs wherever it is called

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()
        self._guards = self._guard_stack.pop()

    def _mentions_device(self, test: cst.BaseExpression) -> bool:
        text = code_of(test, 10_000)
        return bool(_DEVICE_WORDS.search(text)) or any(name in text for name in self._available)

    def visit_If(self, node: cst.If) -> None:
        checked = self._mentions_device(node.test)
        self._guard_stack.append(checked)
        self._guards += checked
        if "is_available" in code_of(node.test, 10_000) and type(node.test) is cst.UnaryOperation and _stops(node.body, self.names):
            self._requires_cuda = True

    def leave_If(self, original_node: cst.If) -> None:
        self._guards -= self._guard_stack.pop()

    def visit_While(self, node: cst.While) -> None:
        checked = self._mentions_device(node.test)
        self._guard_stack.append(checked)
        self._guards += checked

    def leave_While(self, original_node: cst.While) -> None:
        self._guards -= self._guard_stack.pop()

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._guards += 1  # `x.cuda() if cuda else x`: whatever the test, the author chose per case

    def leave_IfExp(self, original_node: cst.IfExp) -> None:
        self._guards -= 1

    def visit_Try(self, node: cst.Try) -> None:
        self._guards += 1

    def leave_Try(self, original_node: cst.Try) -> None:
        self._guards -= 1

    def visit_Assert(self, node: cst.Assert) -> None:
        if "is_available" in code_of(node.test, 10_000):
            self._requires_cuda = True

    def visit_Assign(self, node: cst.Assign) -> None:
        if not _chooses_device(node.value, self.names):
            return
        for target in node.targets:
            name = dotted_name(target.target)
            names = [name] if name is not None else list(target_names(target.target))
            self._available.extend(names)
            value = node.value
            if (len(self._functions) == 1 and name is not None and type(value) is cst.Call
                    and self.names.qualify(value.func) == "torch.device"):
                self._device_name = name

    # -- sites -----------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is cst.Name:
            self._calls.setdefault(func.value, []).append(self._guards > 0)
        if self._guards:
            return
        site = self._site(node)
        if site is not None:
            self._functions[-1].sites.append(site)

    def _site(self, node: cst.Call) -> _Site | None:
        func = node.func
        if type(func) is cst.Attribute and func.attr.value == "cuda" and dotted_name(func.value) not in ("torch",):
            fix = None
            if not node.args and len(self._functions) == 1:
                fix = "to_device"
            return _Site(node, f"`{code_of(node, 50)}`", fix)
        if type(func) is cst.Attribute and func.attr.value == "to":
            target = call_argument(node, 0, "device")
            if _names_cuda(target, self.names):
                return _Site(node, f"`{code_of(node, 50)}`")
        device = keyword_argument(node, "device")
        if device is not None and _names_cuda(device, self.names):
            return _Site(node, f"`device={code_of(device, 20)}` in `{code_of(node, 40)}`")
        if self.names.qualify(func) == "torch.device" and _names_cuda(node, self.names):
            return _Site(node, f"`{code_of(node, 40)}`")
        return None

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._available or self._requires_cuda:
            return
        check = self._available[0]
        for function in [self._functions[0], *self._defined.values()]:
            if function.name is not None:
                calls = self._calls.get(function.name, [])
                if function.method or not calls or any(calls):
                    continue  # not called here, or called under a check
            for site in function.sites:
                self._report(site, check)

    def _report(self, site: _Site, check: str) -> None:
        fix = None
        if site.fix == "to_device" and self._device_name is not None and type(site.node.func) is cst.Attribute:
            replacement = site.node.with_changes(func=site.node.func.with_changes(attr=cst.Name("to")),
                                                 args=[cst.Arg(value=_dotted(self._device_name))])
            fix = Fix(f"move it with `.to({self._device_name})`", Applicability.UNSAFE, ((site.node, replacement),))
        instead = f"`.to({self._device_name})`" if self._device_name else f"a device chosen from `{check}`"
        self.report(
            site.node,
            f"{site.text} uses CUDA outside any check, but this script works out whether CUDA is available "
            f"(`{check}`) to run without a GPU too: on a machine without one it crashes here (`AssertionError: "
            f"Torch not compiled with CUDA enabled` / `RuntimeError: Found no NVIDIA driver`); use {instead}",
            fix,
        )


def _chooses_device(value: cst.BaseExpression, names) -> bool:
    """Whether an assignment's value is a choice of device from CUDA's availability: the check itself
    (`torch.cuda.is_available()`, `not args.no_cuda and torch.cuda.is_available()`), a choice between
    values on it (`"cuda" if torch.cuda.is_available() else "cpu"`, `True if ... else False`), or a
    `torch.device(...)` of one. A message or a number that mentions the check (`mem = f"{... if
    torch.cuda.is_available() else 0}G"`) is not."""
    if type(value) is cst.Call and names.qualify(value.func) == "torch.device":
        return any(_chooses_device(arg.value, names) for arg in value.args)
    if type(value) is cst.IfExp:
        return _calls_is_available(value.test) and all(
            type(side) in (cst.Name, cst.SimpleString, cst.Call, cst.Integer) for side in (value.body, value.orelse))
    if type(value) in (cst.BooleanOperation, cst.UnaryOperation, cst.Call, cst.Comparison):
        return _calls_is_available(value)
    return False


def _calls_is_available(expr: cst.CSTNode) -> bool:
    stack = [expr]
    while stack:
        current = stack.pop()
        if type(current) is cst.Call and type(current.func) is cst.Attribute and current.func.attr.value == "is_available":
            return "cuda" in code_of(current.func, 200)
        stack.extend(child_nodes(current))
    return False


def _names_cuda(expr: cst.BaseExpression | None, names) -> bool:
    """`"cuda"`, `"cuda:0"`, `torch.device("cuda")`."""
    if expr is None:
        return False
    text = string_value(expr)
    if text is not None:
        return bool(_CUDA_STRING.fullmatch(text))
    if type(expr) is cst.Call and names.qualify(expr.func) == "torch.device" and expr.args:
        first = string_value(expr.args[0].value)
        return first is not None and bool(_CUDA_STRING.fullmatch(first))
    return False


def _stops(block: cst.BaseSuite, names) -> bool:
    """Whether a block raises or exits (`if not torch.cuda.is_available(): sys.exit(...)`)."""
    stack = [block]
    while stack:
        current = stack.pop()
        if type(current) is cst.Raise:
            return True
        if type(current) is cst.Call and names.qualify(current.func) in _EXITS:
            return True
        stack.extend(child_nodes(current))
    return False


def _dotted(name: str) -> cst.BaseExpression:
    parts = name.split(".")
    expr: cst.BaseExpression = cst.Name(parts[0])
    for part in parts[1:]:
        expr = cst.Attribute(value=expr, attr=cst.Name(part))
    return expr
