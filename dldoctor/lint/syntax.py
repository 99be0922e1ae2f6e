"""Small questions rules ask of libcst nodes: which argument is this, what literal is that.

Kept here so every rule reads arguments and literals the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dldoctor.lint.names import dotted_name


def call_argument(call: cst.Call, position: int | None, keyword: str | None) -> cst.BaseExpression | None:
    """The value passed for a parameter, by keyword or by position; None when absent.

    Positional arguments after a `*args` splat cannot be placed, so they count as absent.
    """
    if keyword is not None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg.value
    if position is not None:
        index = 0
        for arg in call.args:
            if arg.keyword is not None or arg.star == "**":
                break
            if arg.star == "*":
                return None
            if index == position:
                return arg.value
            index += 1
    return None


def keyword_argument(call: cst.Call, keyword: str) -> cst.BaseExpression | None:
    return call_argument(call, None, keyword)


def string_value(expr: cst.BaseExpression | None) -> str | None:
    """The value of a plain string literal (implicit concatenation included), else None."""
    if type(expr) is cst.SimpleString:
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    if type(expr) is cst.ConcatenatedString:
        left, right = string_value(expr.left), string_value(expr.right)
        return left + right if left is not None and right is not None else None
    return None


def string_tail(expr: cst.BaseExpression | None) -> str | None:
    """The literal text a string-valued expression is known to end with, else None.

    `"a/b.jpg"` -> `a/b.jpg`; `f"{d}/{n}.jpg"` -> `.jpg`; `d + ".jpg"` -> `.jpg`;
    `"%s.jpg" % n` -> `.jpg`; `"{:04d}.jpg".format(i)` -> the template; `os.path.join(d,
    "x.jpg")` is handled by the caller, which knows how `join` was imported.
    """
    if expr is None:
        return None
    literal = string_value(expr)
    if literal is not None:
        return literal
    if type(expr) is cst.FormattedString:
        if expr.parts and type(expr.parts[-1]) is cst.FormattedStringText:
            return expr.parts[-1].value
        return None
    if type(expr) is cst.ConcatenatedString:
        return string_tail(expr.right)
    if type(expr) is cst.BinaryOperation:
        if type(expr.operator) is cst.Add:
            return string_tail(expr.right)
        if type(expr.operator) is cst.Modulo:
            template = string_value(expr.left)
            if template is not None and not template.rstrip().endswith(("%s", "%d", "%r")):
                return template
    if type(expr) is cst.Call and type(expr.func) is cst.Attribute and expr.func.attr.value == "format":
        template = string_value(expr.func.value)
        if template is not None and not template.rstrip().endswith("}"):
            return template
    return None


def is_true_literal(expr: cst.BaseExpression | None) -> bool:
    """`True`, or a non-zero integer literal (`1`), as configuration code writes it."""
    if type(expr) is cst.Name:
        return expr.value == "True"
    if type(expr) is cst.Integer:
        try:
            return int(expr.value, 0) != 0
        except ValueError:
            return False
    return False


def method_name(call: cst.Call) -> str | None:
    """`read` for `f.read()`, None when the callee is not an attribute."""
    if type(call.func) is cst.Attribute:
        return call.func.attr.value
    return None


# Renders nodes with libcst's default formatting, as a fresh `Module(body=[])` would.
_RENDERER = cst.Module(body=[])


def code_of(node: cst.CSTNode, limit: int = 60) -> str:
    """Source text of a node for a message, on one line and shortened."""
    text = _plain_dotted(node)
    if text is None:
        text = " ".join(_RENDERER.code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plain_dotted(node: cst.CSTNode) -> str | None:
    """`a.b.c` written so, without parentheses or spaces: its code without a code
    generation pass (rules name callees in messages and labels by the hundred)."""
    parts: list[str] = []
    while type(node) is cst.Attribute:
        dot = node.dot
        if node.lpar or node.rpar or node.attr.lpar or node.attr.rpar or not _tight(dot.whitespace_before) or not _tight(dot.whitespace_after):
            return None
        parts.append(node.attr.value)
        node = node.value
    if type(node) is not cst.Name or node.lpar or node.rpar:
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _tight(whitespace: object) -> bool:
    return type(whitespace) is cst.SimpleWhitespace and not whitespace.value  # type: ignore[attr-defined]


def unplaceable(call: cst.Call) -> bool:
    """Whether a `*args` / `**kwargs` splat may be passing what the call seems to lack."""
    return any(arg.star for arg in call.args)


def with_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with `keyword=value` added after its last argument, in the call's own layout.

    `f(a)` -> `f(a, k=v)`; a call laid out one argument a line with a trailing comma
    gets the new argument on a line of its own, with a trailing comma too.
    """
    new = cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    args = list(call.args)
    if args:
        last = args[-1]
        if type(last.comma) is cst.Comma:
            # `f(\n    a,\n)`: the new argument takes over the trailing comma and what follows it.
            between = call.whitespace_before_args
            separator = cst.Comma(
                whitespace_after=between if type(between) is cst.ParenthesizedWhitespace else cst.SimpleWhitespace(" ")
            )
            new = new.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
        else:
            separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            new = new.with_changes(whitespace_after_arg=last.whitespace_after_arg)
        args[-1] = last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace(""))
    return call.with_changes(args=[*args, new])


def target_names(target: cst.BaseExpression) -> Iterator[str]:
    """The names an assignment target binds: `a`, `a, (b, *c)`; not attributes or subscripts."""
    if type(target) is cst.Name:
        yield target.value
    elif type(target) in (cst.Tuple, cst.List):
        for element in target.elements:
            yield from target_names(element.value)
    elif type(target) is cst.StarredElement:
        yield from target_names(target.value)


def is_none(expr: cst.BaseExpression | None) -> bool:
    return type(expr) is cst.Name and expr.value == "None"


def catches(node: cst.Try, exceptions: frozenset[str]) -> bool:
    """Whether a handler of the `try` catches one of these exception names (a bare `except` catches all)."""
    for handler in node.handlers:
        if handler.type is None:
            return True
        types = handler.type.elements if type(handler.type) is cst.Tuple else [handler.type]
        for element in types:
            value = element.value if type(element) is cst.Element else element
            name = dotted_name(value) if type(value) in (cst.Name, cst.Attribute) else None
            if name and name.rsplit(".", 1)[-1] in exceptions:
                return True
    return False
