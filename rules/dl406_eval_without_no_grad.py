"""DL406 eval-without-no-grad."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.bindings import Bindings, BlockHooks
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import code_of, is_true_literal

# Context managers and decorators under which autograd records nothing (or that say the
# code means to control it: `set_grad_enabled(phase == "train")`, `enable_grad()`).
_GRAD_MODES = {"torch.no_grad", "torch.inference_mode", "torch.set_grad_enabled", "torch.enable_grad",
               "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad", "torch.autograd.set_grad_enabled",
               "torch.autograd.grad_mode.inference_mode", "torch.autograd.enable_grad"}
_GRAD_MODE_NAMES = {"no_grad", "inference_mode", "set_grad_enabled", "enable_grad"}
# Lightning runs these hooks under no_grad itself.
_LIGHTNING_EVAL_HOOKS = {"validation_step", "test_step", "predict_step", "validation_epoch_end", "test_epoch_end",
                         "on_validation_epoch_end", "on_test_epoch_end", "on_predict_epoch_end"}
# In a loop, these mean the gradients are wanted (adversarial examples, saliency, test-time training).
_WANTS_GRADIENTS = {"backward", "manual_backward", "requires_grad_", "step", "grad"}
_EVAL = "eval"
# Libraries whose decorators leave autograd alone (torch's grad modes are recognised first);
# any other decorator (`@smart_inference_mode()` from the project's utils) may switch it off.
_PLAIN_DECORATOR_ROOTS = {"builtins", "functools", "abc", "typing", "dataclasses", "torch", "click", "typer",
                          "hydra", "fire", "pytest", "unittest"}


@dataclass(eq=False)
class _Function:
    name: str | None
    guarded: bool  # decorated with no_grad / inference_mode, or a Lightning eval hook
    loops: list[_Loop] = field(default_factory=list)


@dataclass(eq=False)
class _Loop:
    wants_gradients: bool = False
    calls: list[tuple[cst.Call, str]] = field(default_factory=list)  # (model call, model) outside any grad mode


@dataclass(eq=False)
class _Candidate:
    call: cst.Call
    model: str
    functions: tuple[str | None, ...]  # the enclosing functions, innermost last


class EvalWithoutNoGrad(BlockHooks, Rule):
    """
    ## What it does
    In PyTorch code, finds a model called in a loop after `model.eval()` (and no
    `model.train()` since), outside `torch.no_grad()` / `torch.inference_mode()`: an
    evaluation or inference loop that records autograd graphs nobody uses.

    Not reported: a call under `with torch.no_grad():` / `inference_mode()` /
    `set_grad_enabled(...)` / `enable_grad()` (at any level around it), in a function
    decorated `@torch.no_grad()` or `@torch.inference_mode()` (or with a decorator of
    the project's own, such as YOLOv5's `@smart_inference_mode()`, which may be one:
    only decorators of the standard library, torch and command-line frameworks are
    known to leave autograd on),
    or in a function that a caller in the same module calls under one of those; Lightning's
    `validation_step` / `test_step` / `predict_step`, which Lightning runs under
    `no_grad`; a loop that wants gradients (it calls `backward()`, `torch.autograd.grad`,
    `requires_grad_()` or an optimizer's `step()`: adversarial examples, saliency maps,
    test-time training); a module that switches autograd off with
    `torch.set_grad_enabled(False)` or freezes parameters with `requires_grad = False`.
    `model.eval()` alone does not disable gradients: it only switches dropout and
    batch norm to inference behaviour.

    ## Why is this bad
    Outside `no_grad`, every forward pass keeps its activations for a backward pass
    that never comes: evaluation needs about twice the memory and runs slower, and
    whatever the loop keeps (`all_outputs.append(output)`) holds on to each batch's
    whole graph, until

        RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; ...)

    on an evaluation set that the same GPU trained on without trouble.

    ## Example
    ```python
    model.eval()
    for images, labels in test_loader:
        outputs = model(images)
        correct += (outputs.argmax(1) == labels).sum().item()
    ```

    ## Use instead
    ```python
    model.eval()
    with torch.no_grad():  # or torch.inference_mode()
        for images, labels in test_loader:
            outputs = model(images)
            correct += (outputs.argmax(1) == labels).sum().item()
    ```

    ## Fix safety
    No automatic fix: the `with` block has to wrap the loop, and code that needs
    gradients inside it (rare in evaluation) would break.
    """

    code = "DL406"
    name = "eval-without-no-grad"
    severity = Severity.WARNING
    summary = "model called in a loop after model.eval() outside torch.no_grad(): autograd graphs built for nothing"
    triggers = (".eval(", ".train(")  # `model.eval()`, and `model.train(False)`
    also_triggers = ("for ", "while")

    VALID = (
        "import torch\nmodel.eval()\nwith torch.no_grad():\n    for x, y in test_loader:\n        out = model(x)\n",
        "import torch\n@torch.no_grad()\ndef evaluate(model, loader):\n    model.eval()\n    for x, y in loader:\n"
        "        out = model(x)\n",
        "import torch\nmodel.eval()\nfor x, y in loader:\n    x.requires_grad_(True)\n    model(x).max().backward()\n",
    )
    INVALID = (
        "import torch\nmodel.eval()\nfor images, labels in test_loader:\n    outputs = model(images)\n"
        "    correct += (outputs.argmax(1) == labels).sum().item()\n",
        "import torch\ndef validate(net, loader):\n    net.eval()\n    losses = []\n    for x, y in loader:\n"
        "        losses.append(criterion(net(x), y))\n    return sum(losses) / len(losses)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.bindings = Bindings()
        self._torch = False
        self._grad_off = False  # the module switches autograd off or freezes parameters
        self._functions: list[_Function] = [_Function(None, False)]
        self._grad_withs = 0  # open `with torch.no_grad():` blocks (and the like)
        self._with_items: list[int] = []  # how many of those each open `with` added
        self._candidates: list[_Candidate] = []
        # function name -> whether each call of it is under a grad mode (or in a guarded function)
        self._call_sites: dict[str, list[tuple[bool, tuple[str | None, ...]]]] = {}

    # -- the module ------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        if any((dotted_name(alias.name) or "").split(".")[0] == "torch" for alias in node.names):
            self._torch = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is not None and (dotted_name(node.module) or "").split(".")[0] == "torch":
            self._torch = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        guarded = name in _LIGHTNING_EVAL_HOOKS or any(self._may_switch_grad_off(d.decorator) for d in node.decorators)
        self._functions.append(_Function(name, guarded))
        self.bindings.bind(name, None)
        self.bindings.enter_function()

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()
        self.bindings.leave_function()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.bindings.enter_function()

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.bindings.leave_function()

    def _may_switch_grad_off(self, decorator: cst.BaseExpression) -> bool:
        """A grad-mode decorator, or one of the project's own (`@smart_inference_mode()`, defined in this
        module or imported from another of the project): what it wraps the function in is not known."""
        if self._is_grad_mode(decorator):
            return True
        func = decorator.func if type(decorator) is cst.Call else decorator
        qualified = self.names.qualify(func)
        return qualified is None or qualified.split(".")[0] not in _PLAIN_DECORATOR_ROOTS

    def _is_grad_mode(self, expr: cst.BaseExpression) -> bool:
        """`torch.no_grad()`, `torch.no_grad`, `torch.inference_mode(mode=True)`, and any expression holding one
        (`torch.no_grad() if evaluating else nullcontext()`)."""
        stack = [expr]
        while stack:
            current = stack.pop()
            if type(current) in (cst.Name, cst.Attribute):
                qualified = self.names.qualify(current)
                if qualified in _GRAD_MODES or (qualified is None and (dotted_name(current) or "").rpartition(".")[2] in _GRAD_MODE_NAMES):
                    return True
                if type(current) is cst.Attribute:
                    continue
            stack.extend(current.children)
        return False

    def visit_With(self, node: cst.With) -> None:
        super().visit_With(node)
        added = 1 if any(self._is_grad_mode(item.item) for item in node.items) else 0
        self._grad_withs += added
        self._with_items.append(added)

    def leave_With(self, original_node: cst.With) -> None:
        self._grad_withs -= self._with_items.pop()

    def _guarded(self) -> bool:
        return self._grad_withs > 0 or any(function.guarded for function in self._functions)

    # -- loops -----------------------------------------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        self._functions[-1].loops.append(_Loop())

    def leave_For(self, original_node: cst.For) -> None:
        self._close_loop()

    def visit_While(self, node: cst.While) -> None:
        self._functions[-1].loops.append(_Loop())

    def leave_While(self, original_node: cst.While) -> None:
        self._close_loop()

    def _close_loop(self) -> None:
        loops = self._functions[-1].loops
        loop = loops.pop()
        if loops:
            loops[-1].wants_gradients |= loop.wants_gradients
        if loop.wants_gradients:
            return
        reported: set[str] = set()
        for call, model in loop.calls:
            if model not in reported:
                reported.add(model)
                self._candidates.append(_Candidate(call, model, tuple(f.name for f in self._functions)))

    # -- calls -----------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        qualified = self.names.qualify(func)
        method = func.attr.value if type(func) is cst.Attribute else None
        callee = func.value if type(func) is cst.Name else method
        if callee is not None:
            self._call_sites.setdefault(callee, []).append((self._guarded(), tuple(f.name for f in self._functions)))
        if qualified in ("torch.set_grad_enabled", "torch.autograd.set_grad_enabled") and not self._grad_withs:
            self._grad_off = True
        if method == "requires_grad_" and node.args and not is_true_literal(node.args[0].value):
            self._grad_off = True
        if method in ("eval", "train") and type(func) is cst.Attribute:
            model = dotted_name(func.value)
            if model is not None:
                evaluating = method == "eval" and not node.args or (method == "train" and _is_false(node.args))
                self.bindings.bind(f"mode:{model}", _EVAL if evaluating else None)
            return
        loops = self._functions[-1].loops
        if not loops:
            return
        if method in _WANTS_GRADIENTS or qualified == "torch.autograd.grad":
            loops[-1].wants_gradients = True
            return
        model = dotted_name(func)
        if model is not None and not self._guarded() and self.bindings.lookup(f"mode:{model}") == _EVAL:
            loops[-1].calls.append((node, model))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if type(target.target) is cst.Attribute and target.target.attr.value == "requires_grad":
                if not is_true_literal(node.value):
                    self._grad_off = True
                elif self._functions[-1].loops:
                    self._functions[-1].loops[-1].wants_gradients = True

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._torch or self._grad_off:
            return
        for candidate in self._candidates:
            if any(self._called_under_grad_mode(name, 0) for name in candidate.functions if name is not None):
                continue
            self.report(
                candidate.call,
                f"`{code_of(candidate.call)}` runs after `{candidate.model}.eval()` in a loop outside "
                "`torch.no_grad()`: `eval()` only switches dropout and batch norm, autograd still records every "
                "forward pass, so evaluation takes about twice the memory and more time (and anything kept from "
                "the outputs holds on to its graph, up to CUDA out of memory); wrap the loop in "
                "`with torch.no_grad():` or `torch.inference_mode()`, or decorate the function with "
                "`@torch.no_grad()`",
            )

    def _called_under_grad_mode(self, function: str, depth: int) -> bool:
        """Whether a call of `function` in this module is under a grad mode, directly or through its callers."""
        if depth > 3:
            return False
        for guarded, callers in self._call_sites.get(function, ()):
            if guarded:
                return True
            if any(caller is not None and caller != function and self._called_under_grad_mode(caller, depth + 1)
                   for caller in callers):
                return True
        return False


def _is_false(args) -> bool:
    return bool(args) and type(args[0].value) is cst.Name and args[0].value.value == "False"
