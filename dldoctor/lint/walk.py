"""One traversal of a libcst tree for every rule, without rebuilding the tree.

`libcst.visit_batched` walks through `CSTNode.visit`, which reconstructs every
node it passes (a read-only visitor still pays for a copy of the tree), and
costs about as much as the parse itself. Rules only read, so this walker goes
down the children in place. It keeps libcst's visitor protocol: `visit_<Node>`,
`leave_<Node>(original_node)`, and the attribute hooks `visit_<Node>_<field>` /
`leave_<Node>_<field>` (DL301 uses `visit_For_body`), called in the same lexical
order as libcst, and it passes over whitespace and comments unless a visitor
asks for them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache

import libcst as cst

# Formatting nodes: no rule has a reason to visit these, and they are about half
# of every tree.
_TRIVIA = frozenset(
    {"SimpleWhitespace", "ParenthesizedWhitespace", "TrailingWhitespace", "Newline", "EmptyLine", "Comment"}
)


class _FieldOrder(cst.CSTVisitor):
    """Records the attributes `_visit_and_replace_children` visits, in its order."""

    def __init__(self) -> None:
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if attribute not in self.fields:
            self.fields.append(attribute)


_FIELD_CACHE: dict[type, tuple[str, ...]] = {}


def _fields_of(node: cst.CSTNode) -> tuple[str, ...]:
    """A node type's child attributes in lexical order (asked of libcst once per type)."""
    node_type = type(node)
    fields = _FIELD_CACHE.get(node_type)
    if fields is None:
        recorder = _FieldOrder()
        node._visit_and_replace_children(recorder)
        fields = _FIELD_CACHE[node_type] = tuple(recorder.fields)
    return fields


@lru_cache(maxsize=None)
def _hook_names(visitor_type: type) -> tuple[str, ...]:
    """The visit_/leave_ methods a visitor class defines (libcst's no-op stubs excluded)."""
    names = []
    for name in dir(visitor_type):
        if name.startswith(("visit_", "leave_")):
            method = getattr(visitor_type, name)
            if callable(method) and not getattr(method, "_is_no_op", False):
                names.append(name)
    return tuple(names)


class BatchedWalker:
    """Dispatches every node of a tree to the visitors that handle its type."""

    def __init__(self, visitors: Sequence[cst.BatchableCSTVisitor]) -> None:
        self._visit: dict[str, list[Callable]] = defaultdict(list)
        self._leave: dict[str, list[Callable]] = defaultdict(list)
        self._visit_field: dict[tuple[str, str], list[Callable]] = defaultdict(list)
        self._leave_field: dict[tuple[str, str], list[Callable]] = defaultdict(list)
        for visitor in visitors:
            for name in _hook_names(type(visitor)):
                kind, _, target = name.partition("_")
                node_type, _, field = target.partition("_")  # node type names have no "_"
                method = getattr(visitor, name)
                if field:
                    table = self._visit_field if kind == "visit" else self._leave_field
                    table[(node_type, field)].append(method)
                else:
                    (self._visit if kind == "visit" else self._leave)[node_type].append(method)
        self._field_hooks = {key[0] for key in (*self._visit_field, *self._leave_field)}
        self._walk_trivia = any(name in _TRIVIA for name in (*self._visit, *self._leave))

    def walk(self, node: cst.CSTNode) -> None:
        name = type(node).__name__
        for method in self._visit.get(name, ()):
            method(node)
        hooked = name in self._field_hooks
        for field in _fields_of(node):
            if hooked:
                for method in self._visit_field.get((name, field), ()):
                    method(node)
            value = getattr(node, field)
            if isinstance(value, cst.CSTNode):
                self._walk_child(value)
            elif isinstance(value, (tuple, list)):
                for child in value:
                    if isinstance(child, cst.CSTNode):
                        self._walk_child(child)
            if hooked:
                for method in self._leave_field.get((name, field), ()):
                    method(node)
        for method in self._leave.get(name, ()):
            method(node)

    def _walk_child(self, child: cst.CSTNode) -> None:
        if self._walk_trivia or type(child).__name__ not in _TRIVIA:
            self.walk(child)
