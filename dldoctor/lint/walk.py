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


@lru_cache(maxsize=1)
def _token_types() -> frozenset[type]:
    """Node types that hold nothing but whitespace: operators and punctuation
    (`Add`, `In`, `Comma`, `Dot`, `LeftParen`, `AssignEqual`, `ImportStar`, ...).
    A rule reads them from their parent (`comparison.operator`); walking into
    them costs a call per token for nothing."""
    found = set()
    for value in vars(cst).values():
        fields = getattr(value, "__dataclass_fields__", None)  # read directly: dataclasses.fields() is slow
        if fields is None or not isinstance(value, type) or value.__name__.startswith("Base"):
            continue
        if value.__name__ not in _TRIVIA and all("whitespace" in name for name in fields if not name.startswith("_")):
            found.add(value)
    return frozenset(found)


_TRIVIA_TYPES = frozenset(getattr(cst, name) for name in _TRIVIA)
# Field values that are not nodes to walk into.
_NOT_NODES = frozenset({type(None), cst.MaybeSentinel})


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
    """The visit_/leave_ methods a visitor class defines (libcst's no-op stubs excluded).

    Read from the classes of its MRO, skipping libcst's own: `dir()` would walk
    the thousand stubs of libcst's visitor base for every rule (10 ms a run).
    """
    names = set()
    for klass in visitor_type.__mro__:
        if klass is object or klass.__module__.partition(".")[0] == "libcst":
            continue
        for name, value in vars(klass).items():
            if name.startswith(("visit_", "leave_")) and callable(value) and not getattr(value, "_is_no_op", False):
                names.add(name)
    return tuple(sorted(names))


class BatchedWalker:
    """Dispatches every node of a tree to the visitors that handle its type.

    Per node type it keeps a plan (its visit and leave hooks, its child fields)
    and it never enters trivia or token nodes that no visitor asks for: a
    node costs one dictionary lookup and one call, which matters, because the
    walk is as long as the parse.
    """

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
        hooked = {*self._visit, *self._leave, *(key[0] for key in (*self._visit_field, *self._leave_field))}
        if hooked & _TRIVIA:  # comments sit in whitespace, which sits in tokens: walk everything
            self._skip = _NOT_NODES
        else:
            self._skip = frozenset(t for t in _token_types() if t.__name__ not in hooked) | _TRIVIA_TYPES | _NOT_NODES
        self._plans: dict[type, tuple] = {}

    def _plan(self, node: cst.CSTNode) -> tuple:
        name = type(node).__name__
        fields = _fields_of(node)
        field_hooks = None
        if any((name, field) in self._visit_field or (name, field) in self._leave_field for field in fields):
            field_hooks = {
                field: (tuple(self._visit_field.get((name, field), ())), tuple(self._leave_field.get((name, field), ())))
                for field in fields
            }
        plan = (tuple(self._visit.get(name, ())), fields, field_hooks, tuple(self._leave.get(name, ())))
        self._plans[type(node)] = plan
        return plan

    def walk(self, node: cst.CSTNode) -> None:
        plan = self._plans.get(type(node)) or self._plan(node)
        visits, fields, field_hooks, leaves = plan
        for method in visits:
            method(node)
        skip = self._skip
        for field in fields:
            if field_hooks is not None:
                for method in field_hooks[field][0]:
                    method(node)
            value = getattr(node, field)
            kind = type(value)
            if kind is tuple or kind is list:
                for child in value:
                    if type(child) not in skip:
                        self.walk(child)
            elif kind not in skip:
                self.walk(value)
            if field_hooks is not None:
                for method in field_hooks[field][1]:
                    method(node)
        for method in leaves:
            method(node)


def child_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """`node.children` without trivia and tokens, and without libcst's visitor round trip."""
    found = []
    for field in _fields_of(node):
        value = getattr(node, field)
        kind = type(value)
        if kind is tuple or kind is list:
            found.extend(child for child in value if type(child) not in _TRIVIA_TYPES and type(child) not in _token_types())
        elif kind not in _NOT_NODES and kind not in _TRIVIA_TYPES and kind not in _token_types():
            found.append(value)
    return found
