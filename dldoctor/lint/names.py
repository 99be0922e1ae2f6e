"""Resolve what a name in a module refers to, through the module's own imports.

Rules ask "is this `tf.gfile.FastGFile`?" about code written as
`G.FastGFile`, `gfile.FastGFile` or `FastGFile`. libcst's
`QualifiedNameProvider` answers that with a full scope analysis that costs
about 7x a bare parse; rules need far less: a table of import aliases, built
from the module's imports, that turns a dotted expression into the dotted name
it was imported as. Function-local imports are added as the traversal reaches
them (see `ImportTracker`).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from functools import lru_cache

import libcst as cst

_BUILTIN_NAMES = frozenset(dir(builtins))

# Names so conventional that code pasted without its imports (a notebook cell, a
# snippet in an issue) still means them. Used only when the module binds the
# name nowhere at top level.
_CONVENTIONAL_ALIASES = {
    "tf": "tensorflow",
    "np": "numpy",
    "torch": "torch",
    "cv2": "cv2",
    "os": "os",
    "io": "io",
    "time": "time",
    "sys": "sys",
    "glob": "glob",
    "pickle": "pickle",
}

# Private module paths under which public TensorFlow symbols are also reachable.
_TF_INTERNAL_PATHS = {
    "python.platform.gfile": "gfile",
    "python.lib.io.file_io": "gfile",
    "core.example.feature_pb2": "train",
    "core.example.example_pb2": "train",
    "core.protobuf.config_pb2": "",
}


def dotted_name(expr: cst.BaseExpression) -> str | None:
    """`a.b.c` as a string for a chain of Names and Attributes, else None."""
    # `type(...) is`: libcst's node classes have no subclasses, and `isinstance` against
    # them goes through `ABCMeta.__instancecheck__`, a Python call for every miss.
    kind = type(expr)
    if kind is _NAME:
        return expr.value  # type: ignore[attr-defined]
    parts: list[str] = []
    while kind is _ATTRIBUTE:
        parts.append(expr.attr.value)  # type: ignore[attr-defined]
        expr = expr.value  # type: ignore[attr-defined]
        kind = type(expr)
    if kind is not _NAME:
        return None
    parts.append(expr.value)  # type: ignore[attr-defined]
    return ".".join(reversed(parts))


_NAME, _ATTRIBUTE = cst.Name, cst.Attribute
_UNKNOWN = object()


# Rules ask `tf_symbol` of every call's callee, dozens of times a node: the answer is a
# function of the string alone, so it is kept for the names a file (and the next
# version of it, in an editor) keeps asking about.
@lru_cache(maxsize=4096)
def tf_symbol(qualified: str | None) -> str | None:
    """The public TensorFlow symbol a qualified name denotes, without the module path.

    `tensorflow.compat.v1.gfile.FastGFile`, `tensorflow.gfile.FastGFile` and
    `tensorflow.python.platform.gfile.FastGFile` all give `gfile.FastGFile`;
    a name outside TensorFlow gives None.
    """
    if not qualified or not (qualified == "tensorflow" or qualified.startswith("tensorflow.")):
        return None
    rest = qualified[len("tensorflow.") :] if qualified != "tensorflow" else ""
    for prefix in ("compat.v1.", "compat.v2.", "_api.v1.", "_api.v2."):
        if rest.startswith(prefix):
            rest = rest[len(prefix) :]
            break
    for internal, public in _TF_INTERNAL_PATHS.items():
        if rest == internal or rest.startswith(internal + "."):
            tail = rest[len(internal) + 1 :]
            rest = f"{public}.{tail}" if public and tail else (public or tail)
            break
    return rest


class ImportTable:
    """Local name -> the dotted name it was bound to by an import or a plain alias.

    Every rule qualifies the callee of every call it visits, so the same node is
    asked about once per rule: the answers are remembered per node (by identity,
    holding the node so that its id cannot be reused) until the table changes,
    which a function-local import does mid-traversal. The table, and so what it
    remembers, lives as long as the lint of its one module.
    """

    def __init__(self) -> None:
        self._aliases: dict[str, str] = {}
        self._shadowed: set[str] = set()
        self._answers: dict[int, str | None] = {}  # id of a node -> what it qualifies to
        self._asked: list[cst.BaseExpression] = []

    @classmethod
    def from_module(cls, module: cst.Module) -> ImportTable:
        """Read the imports and top-level aliases of a module, without a traversal.

        Looks at top-level statements and into the `if`/`try`/`with` blocks at
        module level, where `try: import tensorflow.compat.v1 as tf` lives.
        """
        table = cls()
        table._read_block(module.body)
        return table

    def _read_block(self, statements: Iterable[cst.CSTNode]) -> None:
        for statement in statements:
            if type(statement) is cst.SimpleStatementLine:
                for small in statement.body:
                    if type(small) is cst.Import:
                        self.add_import(small)
                    elif type(small) is cst.ImportFrom:
                        self.add_import_from(small)
                    elif type(small) in (cst.Assign, cst.AnnAssign):
                        self._read_assignment(small)
            elif type(statement) in (cst.FunctionDef, cst.ClassDef):
                self._shadow(statement.name.value)
            elif type(statement) in (cst.If, cst.Try, cst.TryStar, cst.With):
                for block in _child_blocks(statement):
                    self._read_block(block)

    def _read_assignment(self, node: cst.Assign | cst.AnnAssign) -> None:
        targets = [t.target for t in node.targets] if type(node) is cst.Assign else [node.target]
        value = node.value
        target_names = [t.value for t in targets if type(t) is cst.Name]
        aliased = self._qualify(value) if value is not None else None
        for name in target_names:
            if aliased is not None and dotted_name(value) is not None:
                # `gfile = tf.gfile`, `FastGFile = tf.gfile.FastGFile`
                self._forget()
                self._aliases[name] = aliased
                self._shadowed.discard(name)
            else:
                self._shadow(name)

    def _shadow(self, name: str) -> None:
        self._forget()
        self._aliases.pop(name, None)
        self._shadowed.add(name)

    def add_import(self, node: cst.Import) -> None:
        self._forget()
        for alias in node.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None and type(alias.asname.name) is cst.Name:
                local = alias.asname.name.value
                self._aliases[local] = full
            else:
                # `import os.path` binds `os`.
                local = full.split(".")[0]
                self._aliases[local] = local
            self._shadowed.discard(local)

    def add_import_from(self, node: cst.ImportFrom) -> None:
        self._forget()
        if node.relative or node.module is None:
            # A project-local module: its names are the project's own.
            if isinstance(node.names, Iterable):
                for alias in node.names:
                    local = _bound_name(alias)
                    if local:
                        self._shadow(local)
            return
        module = dotted_name(node.module)
        if module is None or type(node.names) is cst.ImportStar:
            return
        for alias in node.names:
            imported = dotted_name(alias.name)
            local = _bound_name(alias)
            if imported is None or local is None:
                continue
            self._aliases[local] = f"{module}.{imported}"
            self._shadowed.discard(local)

    def _forget(self) -> None:
        self._answers.clear()
        self._asked.clear()

    def qualify(self, expr: cst.BaseExpression | None) -> str | None:
        """The dotted name `expr` refers to, or None when it is not a resolvable name.

        Builtins come back as `builtins.open`; a name the module binds itself
        (a local function, a variable) or never binds comes back as None.
        """
        if expr is None:
            return None
        answer = self._answers.get(id(expr), _UNKNOWN)
        if answer is _UNKNOWN:
            answer = self._answers[id(expr)] = self._qualify(expr)
            self._asked.append(expr)  # held, so that no other node takes its id while remembered
        return answer  # type: ignore[return-value]

    def _qualify(self, expr: cst.BaseExpression) -> str | None:
        name = dotted_name(expr)
        if name is None:
            return None
        root, _, rest = name.partition(".")
        target = self._resolve_root(root)
        if target is None:
            return None
        return f"{target}.{rest}" if rest else target

    def _resolve_root(self, root: str) -> str | None:
        if root in self._aliases:
            return self._aliases[root]
        if root in self._shadowed:
            return None
        if root in _CONVENTIONAL_ALIASES:
            return _CONVENTIONAL_ALIASES[root]
        if root in _BUILTIN_NAMES:
            return f"builtins.{root}"
        return None


def _bound_name(alias: cst.ImportAlias) -> str | None:
    if alias.asname is not None:
        return alias.asname.name.value if type(alias.asname.name) is cst.Name else None
    name = dotted_name(alias.name)
    return name.split(".")[0] if name else None


def _child_blocks(statement: cst.CSTNode) -> Iterable[Iterable[cst.CSTNode]]:
    """The statement lists directly inside an if/try/with (and their else branches)."""
    if type(statement) is cst.If:
        yield statement.body.body
        if statement.orelse is not None:
            if type(statement.orelse) is cst.If:
                yield [statement.orelse]
            else:
                yield statement.orelse.body.body
    elif type(statement) in (cst.Try, cst.TryStar):
        yield statement.body.body
        for handler in statement.handlers:
            yield handler.body.body
        if statement.orelse is not None:
            yield statement.orelse.body.body
        if statement.finalbody is not None:
            yield statement.finalbody.body.body
    elif type(statement) is cst.With:
        yield statement.body.body


class ImportTracker(cst.BatchableCSTVisitor):
    """Adds imports met inside functions and classes to the table as the traversal goes.

    It runs first in the batch, so a rule visiting the code after a
    function-local `import tensorflow as tf` sees the alias.
    """

    def __init__(self, table: ImportTable) -> None:
        super().__init__()
        self.table = table
        self._depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1

    def visit_Import(self, node: cst.Import) -> None:
        if self._depth:
            self.table.add_import(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if self._depth:
            self.table.add_import_from(node)
