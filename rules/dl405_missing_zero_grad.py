"""DL405 missing-zero-grad."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import code_of

# Methods that put the gradients back to zero (PyTorch, and the same idea in Paddle / Chainer).
_ZEROING_METHODS = {"zero_grad", "zero_grads", "clear_grad", "clear_gradients", "cleargrads"}
# Methods that run backpropagation into `.grad`: `loss.backward()`, `accelerator.backward(loss)`,
# `fabric.backward(loss)`, `self.manual_backward(loss)` in Lightning.
_BACKWARD_METHODS = {"backward", "manual_backward"}
# A name that says "optimizer": `optimizer`, `opt`, `optim_G`, `g_optimizer`, `self.optimizer_d`.
_OPTIMIZER_NAME = re.compile(r"(?i)optimi[sz]er|(?:^|_)optim(?:$|_|\d)|(?:^|_)opts?(?:$|_|\d)")
_NOT_OPTIMIZER = re.compile(r"(?i)sched")
# The optimizer classes of `torch.optim` and the common third-party ones.
_OPTIMIZER_CLASSES = re.compile(r"(?:^|\.)(?:[A-Za-z]*Optimizer|SGD|Adam|AdamW|Adamax|NAdam|RAdam|RMSprop|Rprop|Adagrad|"
                                r"Adadelta|SparseAdam|ASGD|LBFGS|Lion|Adafactor|LAMB|Lamb|FusedAdam|FusedLAMB)$")
_TORCH_ROOTS = ("torch", "pytorch_lightning", "lightning", "accelerate")


@dataclass(eq=False)
class _Loop:
    node: cst.For | cst.While
    backward: bool = False
    zeroes: bool = False  # zeroes every gradient (`model.zero_grad()`, `p.grad = None`, a helper)
    zeroed_optimizers: set[str] = field(default_factory=set)  # last names of the optimizers it zeroes
    steps: list[tuple[cst.Call, str]] = field(default_factory=list)  # (the step call, the optimizer's name)
    callees: set[str] = field(default_factory=set)  # functions and methods of the module it calls
    arguments: set[str] = field(default_factory=set)  # dotted names passed to calls (an optimizer handed on)


@dataclass(eq=False)
class _Candidate:
    step: cst.Call
    optimizer: str
    callees: frozenset[str]


@dataclass(eq=False)
class _Function:
    name: str | None
    loops: list[_Loop] = field(default_factory=list)
    zeroes: bool = False


class MissingZeroGrad(Rule):
    """
    ## What it does
    In PyTorch code, finds a loop that calls `backward()` and `optimizer.step()` on
    each pass, but never zeroes the gradients in that loop: no `optimizer.zero_grad()`,
    `model.zero_grad()`, `param.grad = None` or `param.grad.zero_()` anywhere in its
    body, nor in a function of the module that the body calls. In a loop with two
    optimizers (a GAN), zeroing one of them (`optimizer_D.zero_grad()`) does not zero
    the other. The step may be an
    AMP `scaler.step(optimizer)`; backward may be Accelerate's `accelerator.backward(loss)`,
    Fabric's `fabric.backward(loss)` or Lightning's `self.manual_backward(loss)`. A
    `zero_grad()` called only once, before the loop, does not count.

    Not reported: gradient accumulation that zeroes every k steps (`if (i + 1) % k == 0:
    optimizer.step(); optimizer.zero_grad()`); `optimizer.step(closure)` (LBFGS: the
    closure zeroes); a loop that hands the optimizer to another function, which may
    zero it; Lightning's automatic optimization (no `step()` in user code); a DeepSpeed
    `engine.step()`, which zeroes itself. A training step in a function called from the
    loop, or in another module, is not seen.

    ## Why is this bad
    `backward()` adds each batch's gradient to `.grad`; it never replaces it. Without
    zeroing, step n applies the sum of the gradients of batches 1..n: the effective
    learning rate grows with every step, the loss oscillates or diverges, and nothing
    reports an error. It is a classic of first PyTorch loops and of code ported from
    frameworks whose optimizers consume the gradients (TensorFlow, Keras).

    ## Example
    ```python
    for images, labels in loader:
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
    ```

    ## Use instead
    ```python
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
    ```
    To accumulate gradients over k batches, zero right after the step that ends each
    window of k.

    ## Fix safety
    No automatic fix: where the zeroing belongs (before `backward()`, or after the
    step of an accumulation window) depends on what the loop means.
    """

    code = "DL405"
    name = "missing-zero-grad"
    severity = Severity.WARNING
    summary = "backward() and optimizer.step() in a loop that never zeroes the gradients: they add up across steps"
    triggers = ("backward",)
    also_triggers = ("step(",)

    VALID = (
        "import torch\nfor x, y in loader:\n    optimizer.zero_grad()\n    loss = criterion(model(x), y)\n"
        "    loss.backward()\n    optimizer.step()\n",
        "import torch\nfor i, (x, y) in enumerate(loader):\n    loss = criterion(model(x), y) / accum\n"
        "    loss.backward()\n    if (i + 1) % accum == 0:\n        optimizer.step()\n        optimizer.zero_grad()\n",
        "import torch\nfor x, y in loader:\n    def closure():\n        optimizer.zero_grad()\n"
        "        loss = criterion(model(x), y)\n        loss.backward()\n        return loss\n    optimizer.step(closure)\n",
    )
    INVALID = (
        "import torch\nfor x, y in loader:\n    loss = criterion(model(x), y)\n    loss.backward()\n    optimizer.step()\n",
        "import torch\noptimizer = torch.optim.SGD(model.parameters(), lr=0.1)\noptimizer.zero_grad()\n"
        "for epoch in range(10):\n    loss = ((model(x) - y) ** 2).mean()\n    loss.backward()\n    optimizer.step()\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._torch = False
        self._functions: list[_Function] = [_Function(None)]
        self._zeroing_functions: set[str] = set()
        self._optimizers: set[str] = set()  # dotted names bound to an optimizer class's instance
        self._candidates: list[_Candidate] = []

    # -- the module ------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if (dotted_name(alias.name) or "").split(".")[0] in _TORCH_ROOTS:
                self._torch = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is not None and (dotted_name(node.module) or "").split(".")[0] in _TORCH_ROOTS:
            self._torch = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.append(_Function(node.name.value))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        function = self._functions.pop()
        if function.zeroes:
            self._zeroing_functions.add(function.name)
            self._zeroed()  # a closure defined in a loop zeroes for that loop

    def visit_Assign(self, node: cst.Assign) -> None:
        if type(node.value) is cst.Call and _OPTIMIZER_CLASSES.search(dotted_name(node.value.func) or ""):
            for target in node.targets:
                name = dotted_name(target.target)
                if name is not None:
                    self._optimizers.add(name)
        for target in node.targets:
            self._grad_assignment(target.target)

    def _grad_assignment(self, target: cst.BaseExpression) -> None:
        """`p.grad = None`: zeroing by hand."""
        if type(target) is cst.Attribute and target.attr.value == "grad":
            self._zeroed()

    # -- loops -----------------------------------------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        self._functions[-1].loops.append(_Loop(node))

    def leave_For(self, original_node: cst.For) -> None:
        self._close_loop()

    def visit_While(self, node: cst.While) -> None:
        self._functions[-1].loops.append(_Loop(node))

    def leave_While(self, original_node: cst.While) -> None:
        self._close_loop()

    def _close_loop(self) -> None:
        loops = self._functions[-1].loops
        loop = loops.pop()
        if loops:  # the enclosing loop's body holds this one's
            outer = loops[-1]
            outer.backward |= loop.backward
            outer.zeroes |= loop.zeroes
            outer.zeroed_optimizers |= loop.zeroed_optimizers
            outer.callees |= loop.callees
            outer.arguments |= loop.arguments
        if not loop.backward or loop.zeroes:
            return
        for step, optimizer in loop.steps:
            if optimizer not in loop.arguments and optimizer.rpartition(".")[2] not in loop.zeroed_optimizers:
                self._candidates.append(_Candidate(step, optimizer, frozenset(loop.callees)))

    def _zeroed(self) -> None:
        self._functions[-1].zeroes = True
        for function in self._functions:
            for loop in function.loops:
                loop.zeroes = True

    # -- calls -----------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        method = func.attr.value if type(func) is cst.Attribute else None
        if method in _ZEROING_METHODS:
            receiver = dotted_name(func.value)
            if receiver is not None and self._is_optimizer(receiver) and not node.args and self._functions[-1].loops:
                # `optimizer_D.zero_grad()` zeroes what optimizer_D holds, not what optimizer_G steps
                for function in self._functions:
                    for loop in function.loops:
                        loop.zeroed_optimizers.add(receiver.rpartition(".")[2])
                self._functions[-1].zeroes = True
            else:
                self._zeroed()
            return
        if method == "zero_" and type(func.value) is cst.Attribute and func.value.attr.value in ("grad", "data"):
            self._zeroed()  # `p.grad.zero_()`, `p.grad.data.zero_()`
            return
        loops = self._functions[-1].loops
        if not loops:
            return
        loop = loops[-1]
        if method in _BACKWARD_METHODS:
            loop.backward = True
        if type(func) is cst.Name:
            loop.callees.add(func.value)
        elif method is not None and type(func.value) is cst.Name and func.value.value in ("self", "cls"):
            loop.callees.add(method)
        step_of = self._step_optimizer(node) if method == "step" else None
        if step_of is not None:
            loop.steps.append((node, step_of))
        for arg in node.args:
            name = dotted_name(arg.value)
            if name is not None and (step_of is None or name != step_of):
                loop.arguments.add(name)

    def visit_Arg(self, node: cst.Arg) -> None:
        if type(node.value) is cst.Attribute and node.value.attr.value in _ZEROING_METHODS:
            self._zeroed()  # `optimizer.zero_grad` handed on as a callback counts too

    def _step_optimizer(self, call: cst.Call) -> str | None:
        """The optimizer a `.step(...)` call steps: `optimizer.step()`, `scaler.step(optimizer)`."""
        receiver = dotted_name(call.func.value)
        if receiver is None:
            return None
        if not call.args:
            return receiver if self._is_optimizer(receiver) else None
        if len(call.args) == 1 and call.args[0].keyword is None:
            argument = dotted_name(call.args[0].value)
            if argument is not None and self._is_optimizer(argument) and "scaler" in receiver.lower():
                return argument
        return None  # `optimizer.step(closure)`, `trainer.step(batch_size)`

    def _is_optimizer(self, name: str) -> bool:
        if name in self._optimizers:
            return True
        last = name.rpartition(".")[2]
        return bool(_OPTIMIZER_NAME.search(last)) and not _NOT_OPTIMIZER.search(last)

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._torch:
            return
        for candidate in self._candidates:
            if candidate.callees & self._zeroing_functions:
                continue
            self.report(
                candidate.step,
                f"`{code_of(candidate.step)}` runs after `backward()` on every pass of this loop, but nothing in the "
                f"loop zeroes the gradients: `backward()` adds to `.grad`, so each step applies the sum of the "
                f"gradients of every batch so far and the updates grow step after step; call "
                f"`{candidate.optimizer}.zero_grad()` in the loop, before `backward()` (when accumulating gradients, "
                f"right after the step that ends each window)",
            )
