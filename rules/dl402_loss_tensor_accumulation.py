"""DL402 loss-tensor-accumulation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, method_name

# Methods and functions that turn a tensor into something without autograd history.
_DETACHING_METHODS = {"item", "detach", "tolist", "numpy", "detach_"}
_DETACHING_CALLS = {"builtins.float", "builtins.int"}
_APPENDERS = {"append", "extend", "insert"}


@dataclass(eq=False)
class _Accumulation:
    node: cst.CSTNode  # the statement or call reported
    tensor: str  # the name accumulated (`loss`)
    into: str | None  # the accumulator, when it is a plain name
    order: int


@dataclass(eq=False)
class _Loop:
    backward: set[str] = field(default_factory=set)  # names `.backward()` is called on, nested loops included
    accumulations: list[_Accumulation] = field(default_factory=list)
    resets: dict[str, int] = field(default_factory=dict)  # accumulator -> order of an unconditional `x = ...`
    # name -> (order, detaching) of each assignment to it: `loss = loss.item()` detaches
    assignments: dict[str, list[tuple[int, bool]]] = field(default_factory=dict)
    conditional: int = 0  # depth of `if` blocks open in this loop's body


@dataclass(eq=False)
class _Frame:
    loops: list[_Loop] = field(default_factory=list)


class LossTensorAccumulation(Rule):
    """
    ## What it does
    Finds, in a loop that calls `.backward()` on a tensor (`loss.backward()`,
    `scaler.scale(loss).backward()`, `(loss / accum).backward()`,
    `torch.autograd.backward(loss)`), that same tensor accumulated across
    iterations without `.item()`, `.detach()` or `float()`: `total += loss`,
    `total = total + loss`, `running_loss += loss * n`, `history.append(loss)`.

    ## Why is this bad
    `loss` carries its autograd graph (`grad_fn`), and `total + loss` is a new
    tensor whose graph includes `loss`'s. Summing it into a variable that lives
    across iterations keeps every step's graph reachable, so memory grows by a
    graph per step until the run dies with

        RuntimeError: CUDA out of memory. Tried to allocate 20.00 MiB ...

    hours into training. (This is PyTorch's FAQ "My model reports cuda runtime error
    (2): out of memory": "don't accumulate history across your training loop".) A
    list of loss tensors kept for plotting does the same.

    ## Example
    ```python
    for images, labels in loader:
        loss = criterion(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running_loss += loss
    ```

    ## Use instead
    ```python
    for images, labels in loader:
        loss = criterion(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    ```
    `loss.detach()` keeps a tensor (on the GPU, without a sync) if that matters.
    An accumulator reset unconditionally earlier in the same loop body lives for one
    iteration only and is not reported.

    ## Fix safety
    No automatic fix: `.item()` turns the values into Python floats, and code that
    later stacks or averages the list as tensors would have to change with it.
    """

    code = "DL402"
    name = "loss-tensor-accumulation"
    severity = Severity.WARNING
    summary = "loss tensor accumulated across a training loop: every step's autograd graph stays alive"
    triggers = ("backward",)
    # A call of `backward` (not its definition in an autograd Function), an import
    # alias (`backward as bw`), or a plain alias (`bw = torch.autograd.backward`).
    trigger_pattern = re.compile(
        r"backward(?<![^\W\d]backward)(?<!def backward)(?:\s*\(|\s+as\b|(?<=\.backward)[ \t]*(?:[#;\r\n]|$))"
    )

    VALID = (
        "for x, y in loader:\n    loss = criterion(model(x), y)\n    loss.backward()\n    total += loss.item()\n",
        "for x, y in loader:\n    loss = criterion(model(x), y)\n    loss.backward()\n    losses.append(loss.detach())\n",
        "for x, y in loader:\n    loss = criterion(model(x), y)\n    loss.backward()\n    total = total + float(loss)\n",
        # Summing the parts of one step's loss before its backward.
        "for x, y in loader:\n    loss = 0\n    for head in heads:\n        loss += criterion(head(x), y)\n    loss.backward()\n",
        # No backward in the loop: an evaluation loop under no_grad.
        "for x, y in val_loader:\n    loss = criterion(model(x), y)\n    total += loss\n",
        "for x, y in loader:\n    loss = criterion(model(x), y)\n    loss.backward()\n    loss = loss.item()\n    total += loss\n",
    )
    INVALID = (
        "for images, labels in loader:\n    loss = criterion(model(images), labels)\n    loss.backward()\n"
        "    optimizer.step()\n    running_loss += loss\n",
        "for step, batch in enumerate(loader):\n    loss = model(**batch).loss\n    loss.backward()\n"
        "    history.append(loss)\n",
        "while step < max_steps:\n    loss = compute_loss(next(it))\n    scaler.scale(loss).backward()\n"
        "    epoch_loss = epoch_loss + loss\n",
        "for x, y in loader:\n    loss = criterion(model(x), y)\n    (loss / accum_steps).backward()\n"
        "    self.train_loss += loss * x.size(0)\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._frames: list[_Frame] = [_Frame()]
        self._order = 0

    # -- frames and loops --------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._frames.append(_Frame())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._frames.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._frames.append(_Frame())

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._frames.pop()

    @property
    def _loops(self) -> list[_Loop]:
        return self._frames[-1].loops

    def visit_For_body(self, node: cst.For) -> None:
        self._loops.append(_Loop())

    def leave_For_body(self, node: cst.For) -> None:
        self._resolve(self._loops.pop())

    def visit_While_body(self, node: cst.While) -> None:
        self._loops.append(_Loop())

    def leave_While_body(self, node: cst.While) -> None:
        self._resolve(self._loops.pop())

    def visit_If(self, node: cst.If) -> None:
        if self._loops:
            self._loops[-1].conditional += 1

    def leave_If(self, original_node: cst.If) -> None:
        if self._loops:
            self._loops[-1].conditional -= 1

    def _tick(self) -> int:
        self._order += 1
        return self._order

    # -- facts -------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        if not self._loops:
            return
        tensor = self._backward_of(node)
        if tensor is not None:
            for loop in self._loops:
                loop.backward.add(tensor)
            return
        method = method_name(node)
        if method in _APPENDERS and node.args:
            value = call_argument(node, 1 if method == "insert" else 0, None)
            if method == "extend" and type(value) in (cst.List, cst.Tuple) and len(value.elements) == 1:
                value = value.elements[0].value
            tensor = _accumulated_name(value)
            if tensor is not None and type(node.func) is cst.Attribute:
                self._accumulate(node, tensor, _plain(node.func.value))

    def _backward_of(self, node: cst.Call) -> str | None:
        """The name whose graph `node` back-propagates through, for a backward call."""
        if method_name(node) != "backward" or type(node.func) is not cst.Attribute:
            return None
        if self.names.qualify(node.func) == "torch.autograd.backward":
            return _tensor_name(call_argument(node, 0, "tensors"))
        return _tensor_name(node.func.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if self._loops and type(node.operator) is cst.AddAssign:
            tensor = _accumulated_name(node.value)
            if tensor is not None:
                self._accumulate(node, tensor, _plain(node.target))

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self._loops:
            return
        loop = self._loops[-1]
        value = node.value
        for target in node.targets:
            into = _plain(target.target)
            if into is None:
                continue
            # `total = total + loss`
            if type(value) is cst.BinaryOperation and type(value.operator) is cst.Add:
                sides = (value.left, value.right)
                if any(_plain(side) == into for side in sides):
                    other = value.right if _plain(value.left) == into else value.left
                    tensor = _accumulated_name(other)
                    if tensor is not None:
                        self._accumulate(node, tensor, into)
                    continue
            order = self._tick()
            if type(target.target) is cst.Name:
                name = target.target.value
                loop.assignments.setdefault(name, []).append((order, _detaches(value, self.names)))
                if loop.conditional == 0:
                    loop.resets[name] = order

    def _accumulate(self, node: cst.CSTNode, tensor: str, into: str | None) -> None:
        self._loops[-1].accumulations.append(_Accumulation(node, tensor, into, self._tick()))

    # -- verdict -----------------------------------------------------------
    def _resolve(self, loop: _Loop) -> None:
        if self._loops:
            self._loops[-1].backward |= loop.backward
        for accumulation in loop.accumulations:
            if accumulation.tensor not in loop.backward:
                continue
            earlier = [detaching for order, detaching in loop.assignments.get(accumulation.tensor, ()) if order < accumulation.order]
            if earlier and earlier[-1]:
                continue  # `loss = loss.item()` before it is added up
            if accumulation.into is not None and loop.resets.get(accumulation.into, accumulation.order) < accumulation.order:
                continue  # reset earlier in the same iteration: lives for one step only
            self._report(accumulation)

    def _report(self, accumulation: _Accumulation) -> None:
        tensor = accumulation.tensor
        self.report(
            accumulation.node,
            f"`{code_of(accumulation.node)}` keeps `{tensor}`, a tensor this loop calls `.backward()` on, with its "
            "autograd graph: every step's graph stays alive and memory grows until `CUDA out of memory`; "
            f"accumulate `{tensor}.item()` (or `{tensor}.detach()`)",
        )


def _plain(expr: cst.BaseExpression) -> str | None:
    """`total`, `self.total`: an accumulator's name as written."""
    return dotted_name(expr)


def _tensor_name(expr: cst.BaseExpression | None) -> str | None:
    """`loss` for `loss`, `(loss / n)`, `loss * w` and `scaler.scale(loss)`."""
    if type(expr) is cst.Name:
        return expr.value
    if type(expr) is cst.BinaryOperation:
        return _tensor_name(expr.left)
    if type(expr) is cst.Call and method_name(expr) == "scale" and len(expr.args) == 1:
        return _tensor_name(expr.args[0].value)
    return None


def _accumulated_name(expr: cst.BaseExpression | None) -> str | None:
    """The name added up by `+= loss` / `+= loss * n` / `append(loss)`; None for `loss.item()`."""
    if type(expr) is cst.Name:
        return expr.value
    if type(expr) is cst.BinaryOperation and type(expr.operator) in (cst.Multiply, cst.Divide):
        return _accumulated_name(expr.left) or _accumulated_name(expr.right)
    return None


def _detaches(value: cst.BaseExpression, names) -> bool:
    """`loss = loss.item()`, `loss = float(loss)`, `loss = loss.detach().cpu()`."""
    while type(value) is cst.Call:
        if names.qualify(value.func) in _DETACHING_CALLS:
            return True
        method = method_name(value)
        if method in _DETACHING_METHODS:
            return True
        if method is None or type(value.func) is not cst.Attribute:
            return False
        value = value.func.value
    if type(value) is cst.Attribute and value.attr.value == "data":
        return True
    return False
