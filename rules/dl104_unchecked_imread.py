"""DL104 unchecked-imread."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import code_of, is_none, target_names

IMREAD = "cv2.imread"
# Calls that take None in their stride: they are not a use of the image.
_HARMLESS_CALLS = {"builtins.print", "builtins.repr", "builtins.str", "builtins.id", "builtins.type"}
_CHECK_CALLS = {"builtins.isinstance"}
# A call to a function whose name says it checks its argument counts as a check.
_CHECK_WORDS = ("check", "assert", "valid", "verify", "ensure", "require")


@dataclass
class _Scope:
    """The `cv2.imread` results of one function (or the module) not yet checked."""

    unchecked: dict[str, cst.Call] = field(default_factory=dict)  # name -> the imread call it holds
    walrus_checked: set[str] = field(default_factory=set)  # `(img := cv2.imread(p)) is None`


class UncheckedImread(Rule):
    """
    ## What it does
    Finds the result of `cv2.imread` used (an attribute such as `.shape`, a
    subscript, arithmetic, or passed on to another call) before any check that it
    is not `None` (`if img is None`, `if img is not None`, `if not img`,
    `assert img is not None`, `isinstance(img, np.ndarray)`, a call to a
    `check_*`/`validate_*` helper) in the same function.

    ## Why is this bad
    `cv2.imread` does not raise when it cannot read a file: a wrong path, a
    missing file, a format OpenCV was built without, or a non-ASCII path on
    Windows all give `None`, silently. The error then surfaces wherever the image
    is first used, with nothing about the file in it:

        AttributeError: 'NoneType' object has no attribute 'shape'
        cv2.error: OpenCV(4.8.0) ... error: (-215:Assertion failed) !ssize.empty() in function 'resize'

    An AlexNet fine-tuning pipeline lost days to this: `img.shape` failed, the
    images seemed "not read at all", and the reader was swapped for PIL, which
    then brought its own problems. Checking right after the read names the file.

    ## Example
    ```python
    img = cv2.imread(path)
    img = cv2.resize(img, (227, 227))
    ```

    ## Use instead
    ```python
    img = cv2.imread(path)
    if img is None:
        raise FileNotFoundError(f"cv2.imread could not read {path!r}")
    img = cv2.resize(img, (227, 227))
    ```
    Returning the result (`return cv2.imread(path)`) is not reported: the caller
    has to check it.

    ## Fix safety
    No automatic fix: what to do with an unreadable image (raise, skip it, log it)
    is the author's decision.
    """

    code = "DL104"
    name = "unchecked-imread"
    severity = Severity.WARNING
    summary = "cv2.imread result used without an `is None` check: it returns None instead of raising"
    triggers = ("imread",)
    also_triggers = ("cv2",)

    VALID = (
        "import cv2\nimg = cv2.imread(path)\nif img is None:\n    raise FileNotFoundError(path)\nh, w = img.shape[:2]\n",
        "import cv2\ndef load(path):\n    img = cv2.imread(path)\n    assert img is not None, path\n    return img[:, :, ::-1]\n",
        "import cv2\ndef load(path):\n    return cv2.imread(path)\n",
        "import cv2\nfor p in paths:\n    img = cv2.imread(p)\n    if not isinstance(img, np.ndarray):\n        continue\n    print(img.shape)\n",
        "import cv2\nif (img := cv2.imread(path)) is None:\n    raise IOError(path)\nprint(img.shape)\n",
        # Not OpenCV's imread.
        "import imageio\nimg = imageio.imread(path)\nprint(img.shape)\n",
    )
    INVALID = (
        "import cv2\nimg = cv2.imread(path)\nprint(img.shape)\n",
        "import cv2\ndef load(path):\n    img = cv2.imread(path)\n    img = cv2.resize(img, (227, 227))\n    return img\n",
        "import cv2\nh, w, _ = cv2.imread(path).shape\n",
        "from cv2 import imread\ndef load(path):\n    return imread(path)[:, :, ::-1]\n",
        "import cv2 as cv\ndef load(path):\n    image = cv.imread(path, cv.IMREAD_GRAYSCALE)\n    return image / 255.0\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._scopes: list[_Scope] = [_Scope()]

    # -- scopes ------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes.append(_Scope())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._scopes.append(_Scope())

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._scopes.pop()

    @property
    def _unchecked(self) -> dict[str, cst.Call]:
        return self._scopes[-1].unchecked

    def _is_imread(self, expr: cst.BaseExpression) -> bool:
        return isinstance(expr, cst.Call) and self.names.qualify(expr.func) == IMREAD

    # -- bindings ----------------------------------------------------------
    # Bound when the statement is left: `img = cv2.resize(img, ...)` uses the old `img` first.
    def leave_Assign(self, original_node: cst.Assign) -> None:
        for target in original_node.targets:
            self._bind(target.target, original_node.value)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if original_node.value is not None:
            self._bind(original_node.target, original_node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self._use(node.target)  # `img += 10`

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        if isinstance(original_node.target, cst.Name):
            name = original_node.target.value
            self._bind(original_node.target, original_node.value)
            if name in self._scopes[-1].walrus_checked:
                self._scopes[-1].walrus_checked.discard(name)
                self._unchecked.pop(name, None)

    def visit_For(self, node: cst.For) -> None:
        for name in target_names(node.target):
            self._unchecked.pop(name, None)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        names = list(target_names(target))
        for name in names:
            self._unchecked.pop(name, None)
        if isinstance(target, cst.Name) and self._is_imread(value):
            self._unchecked[target.value] = value

    # -- checks ------------------------------------------------------------
    def visit_Comparison(self, node: cst.Comparison) -> None:
        operands = [node.left, *(target.comparator for target in node.comparisons)]
        if not any(is_none(operand) for operand in operands):
            return
        for operand in operands:
            if isinstance(operand, cst.NamedExpr) and isinstance(operand.target, cst.Name):
                self._scopes[-1].walrus_checked.add(operand.target.value)
            else:
                self._checked(operand)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, cst.Not):
            self._checked(node.expression)  # `if not img:`

    def visit_If(self, node: cst.If) -> None:
        self._checked_test(node.test)

    def visit_While(self, node: cst.While) -> None:
        self._checked_test(node.test)

    def visit_Assert(self, node: cst.Assert) -> None:
        self._checked_test(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._checked_test(node.test)

    def _checked_test(self, test: cst.BaseExpression) -> None:
        """A condition's checks, taken before its branches are visited (`x if img is not None else y`)."""
        if isinstance(test, cst.BooleanOperation):
            self._checked_test(test.left)
            self._checked_test(test.right)
        elif isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            self._checked_test(test.expression)
        elif isinstance(test, cst.Comparison):
            operands = [test.left, *(target.comparator for target in test.comparisons)]
            if any(is_none(operand) for operand in operands):
                for operand in operands:
                    self._checked(operand)
        else:
            self._checked(test)

    def _checked(self, expr: cst.BaseExpression) -> None:
        if isinstance(expr, cst.Name):
            self._unchecked.pop(expr.value, None)

    # -- uses --------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._use(node.value)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._use(node.value)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        self._use(node.left)
        self._use(node.right)

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.names.qualify(node.func)
        if qualified in _HARMLESS_CALLS:
            return
        arguments = [arg.value for arg in node.args]
        callee = dotted_name(node.func) or ""
        if qualified in _CHECK_CALLS or any(word in callee.rsplit(".", 1)[-1].lower() for word in _CHECK_WORDS):
            for value in arguments:
                self._checked(value)
            return
        for value in arguments:
            self._use(value)

    def _use(self, expr: cst.BaseExpression) -> None:
        if isinstance(expr, cst.Name):
            call = self._unchecked.pop(expr.value, None)
            if call is not None:
                self._report(call, f"`{expr.value}`", expr.value)
        elif self._is_imread(expr):
            self._report(expr, None, None)

    def _report(self, call: cst.Call, held_in: str | None, name: str | None) -> None:
        where = f"its result {held_in} is used" if held_in else "its result is used"
        check = name or "img"
        self.report(
            call,
            f"`{code_of(call)}` returns None when the file cannot be read (a wrong path, an unsupported "
            f"format) instead of raising, and {where} without a check: the error surfaces later as "
            f"`'NoneType' object has no attribute 'shape'`, far from the cause; check `if {check} is None:` "
            "and raise with the path",
        )



