"""What a project's own module binds a name to, read from its file beside the importer.

`from utils.general import cv2` (YOLOv5's layout) binds `cv2` to whatever
`utils/general.py` bound it to: OpenCV, when that module does `import cv2` at its
top level. A rule that follows values, not names, asks here before it treats such
a name as the library, and learns too whether the module replaces some of the
library's functions (`cv2.imread = imread`) and what the replacement returns.

Bounds on the read:

- where: only where Python would find the module for the importing file: a
  relative import from the importer's own package; an absolute one from the
  importer's directory, then up through the enclosing packages (directories with
  an `__init__.py`) to the first directory that is not a package, at most
  `MAX_LEVELS` directories;
- how much: `regular_file.read` (a regular file, never a fifo or a device) of at
  most `MAX_MODULE_BYTES`, and only when its text mentions an `import` of the name
  at all;
- how: parsed with CPython's `ast`; nothing is imported or run. Only module-level
  statements count (those inside `if`/`try`/`with` at module level included), and
  the name must be bound exactly once there, by `import X` or `import X as name`.
  Anything else (a second binding such as `except ImportError: cv2 = None`, a
  `global`, a star import, a syntax error, an unreadable file) is "unknown", and
  the caller keeps to what it knew without the module.

Caching: answers are kept per process, keyed by the module file's path, size and
modification time, so each module is parsed at most once a run. A finding that
rests on another file must not outlive an edit of that file, so every module file
consulted is recorded (`take_consulted`): the lint cache stores them with the
importer's entry and lints the importer again when one of them has changed.
"""

from __future__ import annotations

import ast
import os
import re
import warnings
from dataclasses import dataclass, field

from dldoctor import regular_file
from dldoctor.lint.inputs import consulted

MAX_MODULE_BYTES = 1 << 20
MAX_LEVELS = 8


@dataclass(frozen=True)
class Reexport:
    """A module-level `import target` (or `import target as name`) in a project module."""

    target: str  # the dotted name of the library module, e.g. "cv2"
    module_path: str  # the project module's file, for messages
    # Library functions the module replaces (`cv2.imread = imread`): attribute ->
    # the dotted names of the calls the replacement returns (empty: not known).
    replaced: dict[str, tuple[str, ...]] = field(default_factory=dict)


_answers: dict[tuple, Reexport | None] = {}
# The module files consulted since the last `take_consulted`: path -> (size, mtime_ns).
_consulted: dict[str, tuple[int, int]] = {}


def take_consulted() -> tuple[tuple[str, int, int], ...]:
    """The project module files read since the last call, as (path, size, mtime_ns), and forget them."""
    taken = tuple(sorted((path, size, mtime) for path, (size, mtime) in _consulted.items()))
    _consulted.clear()
    return taken


def unchanged(dependencies) -> bool:
    """Whether every (path, size, mtime_ns) still describes its file."""
    for path, size, mtime in dependencies:
        consulted(path)
        try:
            info = os.stat(path)
        except OSError:
            return False
        if (info.st_size, info.st_mtime_ns) != (size, mtime):
            return False
    return True


def reexport(importer: str, module: str | None, level: int, name: str) -> Reexport | None:
    """What `from <module> import <name>` (with `level` leading dots) binds `name` to,
    when `module` is a project module found beside `importer` that binds `name` to a
    library module by a plain import; None when that is not known."""
    path = _module_file(importer, module, level)
    if path is None:
        return None
    consulted(path)
    try:
        info = os.stat(path)
    except OSError:
        return None
    _consulted[path] = (info.st_size, info.st_mtime_ns)
    key = (path, info.st_size, info.st_mtime_ns, name)
    if key not in _answers:
        _answers[key] = _read_reexport(path, name)
    return _answers[key]


def _module_file(importer: str, module: str | None, level: int) -> str | None:
    if not importer or importer == "-":
        return None
    directory = os.path.dirname(os.path.abspath(importer))
    parts = module.split(".") if module else []
    if level > 0:
        for _ in range(level - 1):
            directory = os.path.dirname(directory)
        return _file_in(directory, parts) if parts else None
    for _ in range(MAX_LEVELS):
        found = _file_in(directory, parts)
        if found is not None:
            return found
        parent = os.path.dirname(directory)
        consulted(os.path.join(directory, "__init__.py"))
        if parent == directory or not os.path.isfile(os.path.join(directory, "__init__.py")):
            return None  # the first directory that is not a package is where absolute imports start
        directory = parent
    return None


def _file_in(directory: str, parts: list[str]) -> str | None:
    if not parts:
        return None
    base = os.path.join(directory, *parts)
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        consulted(candidate)
        if os.path.isfile(candidate):
            return candidate
    return None


def _read_reexport(path: str, name: str) -> Reexport | None:
    try:
        data = regular_file.read(path, MAX_MODULE_BYTES)
    except (OSError, regular_file.NotRegularFile, regular_file.TooLarge):
        return None
    text = data.decode("utf-8", errors="replace")
    if not re.search(r"\bimport\b[^\n]*\b%s\b" % re.escape(name), text):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if any(isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names for node in ast.walk(tree)):
        return None
    statements = list(_module_level(tree.body))
    bindings = [binding for statement in statements for binding in _bindings(statement, name)]
    if len(bindings) != 1 or bindings[0] is None:
        return None
    functions = {s.name: s for s in statements if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return Reexport(bindings[0], path, _replacements(statements, name, functions))


def _module_level(body: list[ast.stmt]):
    """Statements run when the module is imported: the body, and the blocks of its
    `if`/`try`/`with`/loops (not the bodies of functions and classes)."""
    for statement in body:
        yield statement
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for block in ("body", "orelse", "finalbody"):
            yield from _module_level(getattr(statement, block, []) or [])
        for handler in getattr(statement, "handlers", []) or []:
            yield from _module_level(handler.body)


def _bindings(statement: ast.stmt, name: str) -> list[str | None]:
    """What `statement` binds `name` to: a library's dotted name for a plain import,
    None for any other binding; one item per binding."""
    found: list[str | None] = []
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            if alias.asname == name:
                found.append(alias.name)
            elif alias.asname is None and alias.name.split(".")[0] == name:
                found.append(name)
        return found
    if isinstance(statement, ast.ImportFrom):
        return [None for alias in statement.names if alias.name == "*" or (alias.asname or alias.name) == name]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [None] if statement.name == name else []
    # Assignments, loops, `with ... as`, `del`, walrus: any Name stored under `name`
    # in the statement itself (not in its blocks, which `_module_level` yields apart).
    for attribute in ("targets", "target", "items", "value", "test", "iter"):
        part = getattr(statement, attribute, None)
        for piece in part if isinstance(part, list) else [part] if part is not None else []:
            for node in ast.walk(piece):
                if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, (ast.Store, ast.Del)):
                    found.append(None)
    if isinstance(statement, ast.Try):
        found += [None for handler in statement.handlers if handler.name == name]
    return found


def _replacements(statements: list[ast.stmt], name: str, functions: dict) -> dict[str, tuple[str, ...]]:
    """`name.attr = f` at module level (also `name.a, name.b = f, g`): attr -> the dotted
    names of the calls `f` returns, when `f` is a module-level function whose every
    `return` is a call; an empty tuple when the replacement is anything else."""
    replaced: dict[str, tuple[str, ...]] = {}
    for statement in statements:
        if not isinstance(statement, ast.Assign):
            continue
        for target in statement.targets:
            if isinstance(target, ast.Tuple):
                value = statement.value
                paired = isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts)
                # `cv2.imread, cv2.imwrite = imread, imwrite`; unpacking anything else: not known
                pairs = list(zip(target.elts, value.elts)) if paired else [(left, None) for left in target.elts]
            else:
                pairs = [(target, statement.value)]
            for left, right in pairs:
                if isinstance(left, ast.Attribute) and isinstance(left.value, ast.Name) and left.value.id == name:
                    replaced[left.attr] = _returned_calls(right, functions) if right is not None else ()
    return replaced


def _returned_calls(value: ast.expr, functions: dict) -> tuple[str, ...]:
    function = functions.get(value.id) if isinstance(value, ast.Name) else None
    if function is None:
        return ()
    returns = [node for node in ast.walk(function) if isinstance(node, ast.Return)]
    called = []
    for node in returns:
        if not isinstance(node.value, ast.Call):
            return ()
        dotted = _dotted(node.value.func)
        if dotted is None:
            return ()
        called.append(dotted)
    return tuple(called)


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))
