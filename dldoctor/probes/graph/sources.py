"""Source lines for the report: display paths, and where a growing PyTorch variable is accumulated."""

from __future__ import annotations

import ast
import os
from typing import Optional


def display_path(path: Optional[str], cwd: Optional[str] = None) -> str:
    if not path:
        return "?"
    base = os.path.abspath(cwd or os.getcwd())
    absolute = os.path.abspath(path)
    if absolute == base or absolute.startswith(base.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, base)
    return path


def _scope(tree: ast.Module, function: str, first_line: int):
    if function == "<module>":
        return tree
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            lines = [node.lineno] + [d.lineno for d in node.decorator_list]
            if first_line in lines:
                return node
    return None


def _own_nodes(scope):
    """The nodes of a function or module body, not of nested functions or classes."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _names(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def find_accumulation(path: str, function: str, first_line: int, name: str) -> Optional[dict]:
    """The line in `function` where `name` is accumulated: `name += ...`, `name = name + ...`,
    `name.append(...)`, `name[...] = ...`. None when the source cannot be read or has none."""
    try:
        with open(path, "rb") as stream:
            source = stream.read()
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return None
    scope = _scope(tree, function, first_line)
    if scope is None:
        return None
    lines = source.decode("utf-8", "replace").splitlines()
    found = []
    for node in _own_nodes(scope):
        hit = False
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            hit = True
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            hit = name in _names(node.value)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == name for t in node.targets
        ):
            hit = True
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("append", "extend", "insert")
              and isinstance(node.func.value, ast.Name) and node.func.value.id == name):
            hit = True
        if hit:
            found.append(node.lineno)
    if not found:
        return None
    line = min(found)
    return {"file": path, "line": line, "code": lines[line - 1].strip() if 0 < line <= len(lines) else ""}
