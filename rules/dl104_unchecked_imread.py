"""DL104 unchecked-imread."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint import project_imports
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
# OpenCV calls that return None for an image they cannot read: a project's replacement
# of `cv2.imread` that returns one of them keeps that behaviour.
_NONE_ON_FAILURE = {"imread", "imdecode"}
_ENDS_A_BRANCH = (cst.Return, cst.Raise, cst.Continue, cst.Break)

Unchecked = dict[str, tuple[cst.Call, ...]]  # name -> the imread calls it may hold, unchecked


@dataclass
class _Scope:
    """The `cv2.imread` results of one function (or the module) not yet checked."""

    unchecked: Unchecked = field(default_factory=dict)
    walrus_checked: set[str] = field(default_factory=set)  # `(img := cv2.imread(p)) is None`
    # For each `if` being visited: the state before its branches, and the end of its body.
    branches: list[list[Unchecked]] = field(default_factory=list)


@dataclass(frozen=True)
class _Source:
    """Where an `X.imread` comes from when `X` is imported from a project module."""

    module: str  # the project module, as imported (`utils.general`, `.general`)
    replaced_by: str | None  # the OpenCV call a replacement of imread returns, if replaced


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
    has to check it. A read in one branch of an `if` and a check in another do not
    cancel out: what reaches a use is every read that may hold it unchecked there.

    OpenCV imported through a project module counts as OpenCV: with
    `from utils.general import cv2`, when `utils/general.py` does `import cv2` at its
    top level. When that module replaces `cv2.imread` with its own function, the
    rule reports only if the replacement returns `cv2.imdecode(...)` or
    `cv2.imread(...)`, which return None for an image they cannot decode.

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
        # A fallback read, checked in its own branch.
        "import cv2\nimg = cv2.imread(path)\nif img is None:\n    img = cv2.imread(fallback)\n"
        "    if img is None:\n        raise IOError(path)\nprint(img.shape)\n",
    )
    INVALID = (
        "import cv2\nimg = cv2.imread(path)\nprint(img.shape)\n",
        "import cv2\ndef load(path):\n    img = cv2.imread(path)\n    img = cv2.resize(img, (227, 227))\n    return img\n",
        "import cv2\nh, w, _ = cv2.imread(path).shape\n",
        "from cv2 import imread\ndef load(path):\n    return imread(path)[:, :, ::-1]\n",
        "import cv2 as cv\ndef load(path):\n    image = cv.imread(path, cv.IMREAD_GRAYSCALE)\n    return image / 255.0\n",
        "import cv2\ndef load(path, gray):\n    if gray:\n        img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)\n"
        "    else:\n        img = cv2.imread(path)\n    return img.shape[:2]\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._scopes: list[_Scope] = [_Scope()]
        self._from_imports: dict[str, tuple[str | None, int, str]] = {}  # local -> (module, level, name)
        self._sources: dict[str, _Source | None] = {}

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
    def _unchecked(self) -> Unchecked:
        return self._scopes[-1].unchecked

    # -- what is OpenCV's imread --------------------------------------------
    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if type(node.names) is cst.ImportStar:
            return
        module = dotted_name(node.module) if node.module is not None else None
        for alias in node.names:
            if type(alias.name) is cst.Name:
                local = alias.asname.name.value if alias.asname and type(alias.asname.name) is cst.Name else None
                self._from_imports[local or alias.name.value] = (module, len(node.relative), alias.name.value)

    def _is_imread(self, expr: cst.BaseExpression) -> bool:
        if type(expr) is not cst.Call:
            return False
        return self.names.qualify(expr.func) == IMREAD or self._project_source(expr) is not None

    def _project_source(self, call: cst.Call) -> _Source | None:
        """For `X.imread(...)` with `X` imported from a project module that binds it to
        OpenCV (`from utils.general import cv2`): where it comes from; else None."""
        func = call.func
        if not (type(func) is cst.Attribute and func.attr.value == "imread" and type(func.value) is cst.Name):
            return None
        local = func.value.value
        imported = self._from_imports.get(local)
        if imported is None:
            return None
        module, level, name = imported
        if level == 0 and self.names.qualify(func.value) != f"{module}.{name}":
            return None  # rebound since the import
        if local not in self._sources:
            self._sources[local] = self._read_source(module, level, name)
        return self._sources[local]

    def _read_source(self, module: str | None, level: int, name: str) -> _Source | None:
        found = project_imports.reexport(self.context.path, module, level, name)
        if found is None or found.target != "cv2":
            return None
        shown = "." * level + (module or "")
        if "imread" not in found.replaced:
            return _Source(shown, None)
        returned = found.replaced["imread"]
        calls = {call[len(name) + 1 :] for call in returned if call.startswith(name + ".")}
        if not returned or len(calls) != len(set(returned)) or not calls <= _NONE_ON_FAILURE:
            return None  # replaced by a function that may raise, or return anything
        return _Source(shown, f"{name}.{sorted(calls)[0]}")

    # -- bindings ----------------------------------------------------------
    # Bound when the statement is left: `img = cv2.resize(img, ...)` uses the old `img` first.
    def leave_Assign(self, original_node: cst.Assign) -> None:
        for target in original_node.targets:
            self._bind(target.target, original_node.value)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if original_node.value is not None:
            self._bind(original_node.target, original_node.value)

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        if type(original_node.target) is cst.Name:
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
        if type(target) is cst.Name and self._is_imread(value):
            self._unchecked[target.value] = (value,)

    # -- branches ----------------------------------------------------------
    # Each branch of an `if` starts from the state after its test; after the `if`,
    # a name is unchecked if it is so at the end of a branch that falls through.
    def visit_If_body(self, node: cst.If) -> None:
        self._scopes[-1].branches.append([dict(self._unchecked)])

    def leave_If_body(self, node: cst.If) -> None:
        scope = self._scopes[-1]
        before = scope.branches[-1][0]
        scope.branches[-1].append({} if _ends(node.body) else dict(scope.unchecked))
        scope.unchecked = dict(before)

    def leave_If(self, original_node: cst.If) -> None:
        scope = self._scopes[-1]
        before, body_end = scope.branches.pop()
        orelse = original_node.orelse
        if type(orelse) is cst.Else and _ends(orelse.body):
            orelse_end: Unchecked = {}
        else:
            orelse_end = scope.unchecked  # the else's end, an elif's merged end, or `before`
        merged: Unchecked = {}
        for state in (body_end, orelse_end):
            for name, calls in state.items():
                known = merged.get(name, ())
                merged[name] = known + tuple(call for call in calls if all(call is not k for k in known))
        scope.unchecked = merged

    # -- checks ------------------------------------------------------------
    def visit_Comparison(self, node: cst.Comparison) -> None:
        operands = [node.left, *(target.comparator for target in node.comparisons)]
        if not any(is_none(operand) for operand in operands):
            return
        for operand in operands:
            if type(operand) is cst.NamedExpr and type(operand.target) is cst.Name:
                self._scopes[-1].walrus_checked.add(operand.target.value)
            else:
                self._checked(operand)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if type(node.operator) is cst.Not:
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
        if type(test) is cst.BooleanOperation:
            self._checked_test(test.left)
            self._checked_test(test.right)
        elif type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            self._checked_test(test.expression)
        elif type(test) is cst.Comparison:
            operands = [test.left, *(target.comparator for target in test.comparisons)]
            if any(is_none(operand) for operand in operands):
                for operand in operands:
                    self._checked(operand)
        else:
            self._checked(test)

    def _checked(self, expr: cst.BaseExpression) -> None:
        if type(expr) is cst.Name:
            self._unchecked.pop(expr.value, None)

    # -- uses --------------------------------------------------------------
    # Each use says what it does with None, so that the message names the error it gives.
    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        self._use(node.value, f"`.{attr}` raises `AttributeError: 'NoneType' object has no attribute '{attr}'`")

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._use(node.value, "indexing it raises `TypeError: 'NoneType' object is not subscriptable`")

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        arithmetic = "the arithmetic raises `TypeError: unsupported operand type(s)` for 'NoneType'"
        self._use(node.left, arithmetic)
        self._use(node.right, arithmetic)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if type(node.target) is cst.Name:  # `img += 10`
            self._use(node.target, "the arithmetic raises `TypeError: unsupported operand type(s)` for 'NoneType'")

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
        if not any(self._held(value) for value in arguments):
            return
        shown = f"`{callee}`" if callee else "the call"
        if (qualified or "").startswith("cv2.") or self._is_opencv_call(node):
            failure = f"{shown} gets None in place of an image and raises a `cv2.error`"
        else:
            failure = f"{shown} gets None in place of an image and fails there or later"
        for value in arguments:
            self._use(value, failure)

    def _held(self, expr: cst.BaseExpression) -> bool:
        """Whether `expr` is an unchecked imread result (a name holding one, or the call)."""
        return (type(expr) is cst.Name and expr.value in self._unchecked) or self._is_imread(expr)

    def _is_opencv_call(self, node: cst.Call) -> bool:
        func = node.func
        if not (type(func) is cst.Attribute and type(func.value) is cst.Name):
            return False
        imported = self._from_imports.get(func.value.value)
        if imported is None:
            return False
        if func.value.value not in self._sources:
            self._sources[func.value.value] = self._read_source(*imported)
        return self._sources[func.value.value] is not None

    def _use(self, expr: cst.BaseExpression, failure: str) -> None:
        if type(expr) is cst.Name:
            for call in self._unchecked.pop(expr.value, ()):
                self._report(call, expr.value, failure)
        elif self._is_imread(expr):
            self._report(expr, None, failure)

    def _report(self, call: cst.Call, name: str | None, failure: str) -> None:
        where = f"its result `{name}` is used" if name else "its result is used"
        check = f"`if {name} is None:`" if name else "the result (`if img is None:`)"
        source = None if self.names.qualify(call.func) == IMREAD else self._project_source(call)
        if source is not None and source.replaced_by is not None:
            returns = (
                f"(replaced in `{source.module}` by a function that returns `{source.replaced_by}(...)`) "
                "returns None when the image cannot be decoded (a corrupt file, an unsupported format)"
            )
        else:
            returns = "returns None when the file cannot be read (a wrong path, an unsupported format)"
        self.report(
            call,
            f"`{code_of(call)}` {returns} instead of raising, and {where} without a check: {failure}, "
            f"with nothing about the file in the error; check {check} and raise with the path",
        )


def _ends(block: cst.BaseSuite) -> bool:
    """Whether a branch ends in `return`, `raise`, `continue` or `break` (does not fall through)."""
    body = block.body
    if not body:
        return False
    last = body[-1]
    if type(last) is cst.SimpleStatementLine:
        return bool(last.body) and isinstance(last.body[-1], _ENDS_A_BRANCH)
    if type(block) is cst.SimpleStatementSuite:
        return isinstance(last, _ENDS_A_BRANCH)
    return False



