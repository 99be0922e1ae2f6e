"""A file's own version checks: `assert tf.__version__.startswith("1.")`, or an `if` on the
version whose body only raises or exits, read from the file's libcst tree.

They are the fourth source of a file's target versions (see `dldoctor.lint.target`),
and the only one that needs the parse: kept apart so that choosing a file's target,
which every run does for every file, never imports libcst.
"""

from __future__ import annotations

import re

import libcst as cst

from dldoctor.lint.target import _MODULES, _VERSION_ATTRIBUTES, FILE, BadPin, TargetVersion, from_specifiers


_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_EXITS = frozenset({"sys.exit", "exit", "quit", "os._exit", "builtins.exit", "builtins.quit"})


def _version_of(expr: cst.BaseExpression, qualify) -> str | None:
    """The library whose version string `expr` is (`tf.__version__`, `torch.version.__version__`)."""
    qualified = qualify(expr) if type(expr) is cst.Attribute else None
    if not qualified:
        return None
    for attribute in _VERSION_ATTRIBUTES:
        if qualified.endswith("." + attribute):
            return _MODULES.get(qualified[: -len(attribute) - 1])
    return None


def _operand(expr: cst.BaseExpression, qualify) -> tuple[str, str] | None:
    """(library, "full" | "major") for a version expression or its major part."""
    if type(expr) is cst.Call and len(expr.args) == 1 and not expr.args[0].keyword:
        name = expr.func.attr.value if type(expr.func) is cst.Attribute else getattr(expr.func, "value", "")
        inner = _operand(expr.args[0].value, qualify)
        if inner and name == "int":
            return inner[0], "major" if inner[1] == "major" else ""
        if inner and inner[1] == "full" and (name.endswith("Version") or name in ("parse", "parse_version")):
            return inner
        return None
    if type(expr) is cst.Subscript and len(expr.slice) == 1 and type(expr.slice[0].slice) is cst.Index:
        index = expr.slice[0].slice.value
        if type(index) is cst.Integer and index.value == "0":
            base = expr.value
            if type(base) is cst.Call and type(base.func) is cst.Attribute and base.func.attr.value == "split":
                base = base.func.value
            library = _version_of(base, qualify)
            return (library, "major") if library else None
        return None
    library = _version_of(expr, qualify)
    return (library, "full") if library else None


def _literal(expr: cst.BaseExpression) -> str | None:
    if type(expr) is cst.Call and len(expr.args) == 1:
        expr = expr.args[0].value  # LooseVersion("2.0")
    if type(expr) is cst.SimpleString:
        return expr.evaluated_value if isinstance(expr.evaluated_value, str) else None
    if type(expr) is cst.Integer:
        return expr.value
    return None


def _constraints(test: cst.BaseExpression, qualify, negate: bool = False) -> list[tuple[str, str, str]]:
    """(library, operator, version) that `test` being true (false, with `negate`) requires."""
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        return _constraints(test.expression, qualify, not negate)
    if type(test) is cst.BooleanOperation and type(test.operator) is cst.And and not negate:
        return _constraints(test.left, qualify) + _constraints(test.right, qualify)
    if type(test) is cst.BooleanOperation and type(test.operator) is cst.Or and negate:
        return _constraints(test.left, qualify, True) + _constraints(test.right, qualify, True)
    if type(test) is cst.Call and type(test.func) is cst.Attribute and test.func.attr.value == "startswith":
        library = _version_of(test.func.value, qualify)
        prefix = _literal(test.args[0].value) if len(test.args) == 1 else None
        if library and prefix and not negate and re.fullmatch(r"\d+(\.\d+)*\.?", prefix):
            return [(library, "=", prefix.rstrip("."))]
        return []
    if type(test) is cst.Comparison and len(test.comparisons) == 1:
        operand = _operand(test.left, qualify)
        target = test.comparisons[0]
        value = _literal(target.comparator)
        operators = {cst.LessThan: "<", cst.LessThanEqual: "<=", cst.GreaterThan: ">", cst.GreaterThanEqual: ">=",
                     cst.Equal: "==", cst.NotEqual: "!="}
        operator = operators.get(type(target.operator))
        if not operand or value is None or operator is None or not re.fullmatch(r"\d+(\.\d+)*", value):
            return []
        library, kind = operand
        if negate:
            operator = _NEGATED[operator]
        if kind == "major":
            major = int(value.split(".")[0])
            if operator == "==":
                return [(library, "=", str(major))]
            if operator in ("<", "<="):
                return [(library, "<", str(major + (operator == "<=")))]
            return []
        return [(library, operator, value)] if kind == "full" else []
    return []


def _stops(block: cst.BaseSuite, qualify) -> bool:
    """Whether a block ends by raising or exiting: an `if` around it refuses the version."""
    body = block.body if type(block) is cst.IndentedBlock else [block]
    last = body[-1] if body else None
    small = last.body[-1] if type(last) is cst.SimpleStatementLine and last.body else last
    if type(small) is cst.Raise:
        return True
    if type(small) is cst.Expr and type(small.value) is cst.Call:
        return qualify(small.value.func) in _EXITS or getattr(small.value.func, "value", "") in ("exit", "quit")
    return False


def asserted(module: cst.Module, qualify, name: str) -> dict[str, TargetVersion]:
    """The versions a file's own checks require, by library (`dldoctor.lint.target`'s fourth source)."""
    required: dict[str, list[tuple[str, str]]] = {}
    checks: dict[str, str] = {}
    stack: list[cst.CSTNode] = list(reversed(module.body))
    while stack:
        statement = stack.pop()
        found: list[tuple[str, str, str]] = []
        if type(statement) is cst.SimpleStatementLine:
            for small in statement.body:
                if type(small) is cst.Assert:
                    found += [(c, module.code_for_node(statement).strip()) for c in _constraints(small.test, qualify)]
        elif type(statement) is cst.If:
            if statement.orelse is None and _stops(statement.body, qualify):
                shown = f"if {module.code_for_node(statement.test)}: ..."
                found += [(c, shown) for c in _constraints(statement.test, qualify, negate=True)]
            else:
                stack.extend(reversed(list(_blocks(statement))))
        elif type(statement) in (cst.FunctionDef, cst.ClassDef, cst.With, cst.Try, cst.For, cst.While):
            stack.extend(reversed(list(_blocks(statement))))
        for (library, operator, version), code in found:
            required.setdefault(library, []).append((operator, version))
            checks.setdefault(library, code)
    result = {}
    for library, specifiers in required.items():
        try:
            point = from_specifiers(specifiers)
        except BadPin:
            continue
        if point is not None:
            result[library] = TargetVersion(library, point[0], point[1], f"`{checks[library]}` in {name}", FILE)
    return result


def _blocks(statement: cst.CSTNode):
    """The statements inside a compound statement, all branches."""
    for child in statement.children:
        if type(child) is cst.IndentedBlock:
            yield from child.body
        elif type(child) in (cst.If, cst.Else, cst.ExceptHandler, cst.Finally, cst.ExceptStarHandler):
            if type(child) is cst.If:
                yield child
            else:
                yield from _blocks(child)
