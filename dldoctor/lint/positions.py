"""Line and column of the few nodes a file reports, without positions for all the others.

libcst's `PositionProvider` generates the module's code and, on the way,
splits every token with a regular expression and builds a `CodeRange` for
every node: on a large file that costs twice the parse, to place a handful of
findings. This code generation counts lines only when a reported node (or a
child it takes its position from) starts or ends, over the tokens added since
the last count, and ignores every other node. The positions are the ones
`PositionProvider` gives (syntactic: without the whitespace a node owns).

A process that lints the same document version after version (the language server)
passes a `StatementCode`: the code of each top-level statement with nothing to place
is then taken from there, with the ids of the nodes under it, instead of generated
again, so a keystroke pays for the statements that hold findings only.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState  # the hook libcst's own providers use

from dldoctor.lint.walk import child_nodes

Position = tuple[int, int]  # 1-based line, 0-based column, as libcst's CodePosition


class _Nothing:
    """The context for nodes nobody asked about: enter and exit do nothing."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


_NOTHING = _Nothing()


class _Recording:
    """Records a node's syntactic range, hoisting from the children libcst names."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _PlacingState, node, start_node, end_node) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = self.state.here()

    def __exit__(self, *exc_info: object) -> None:
        found = self.state.found
        end = self.state.here()
        start_key, end_key = id(self.start_node), id(self.end_node)
        start = found[start_key][0] if self.start_node is not None and start_key in found else self.start
        if self.end_node is not None and end_key in found:
            end = found[end_key][1]
        found[id(self.node)] = (start, end)


# Nodes are told apart by `id`: libcst's `CSTNode.__hash__` is a Python method, and
# the code generation asks about every node of the module (the nodes asked about are
# held by the caller for the whole pass, so their ids stay theirs).
@dataclass
class _PlacingState(CodegenState):
    targets: set = field(default_factory=set)  # ids of the nodes to place
    found: dict = field(default_factory=dict)  # node id -> (start, end)
    starts: dict = field(default_factory=dict)  # target id being generated -> where it began
    line: int = 1
    column: int = 0
    counted: int = 0  # tokens already counted into line and column

    def here(self) -> Position:
        """The position after the tokens generated so far."""
        tokens = self.tokens
        if self.counted < len(tokens):
            text = "".join(tokens[self.counted :])
            self.counted = len(tokens)
            breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
            if breaks:
                self.line += breaks
                self.column = len(text) - max(text.rfind("\n"), text.rfind("\r")) - 1
            else:
                self.column += len(text)
        return self.line, self.column

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.targets:
            self.starts[id(node)] = self.here()

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets and key not in self.found:  # whitespace-inclusive, as PositionProvider's fallback
            self.found[key] = (self.starts.pop(key), self.here())

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):  # type: ignore[override]
        if id(node) not in self.targets:
            return _NOTHING
        for child in (start_node, end_node):
            if child is not None:
                self.targets.add(id(child))
        return _Recording(self, node, start_node, end_node)


class StatementCode:
    """The generated code of top-level statements, and the ids of the nodes under each.

    libcst's nodes are immutable, so a statement's code and its nodes never change. A
    document re-parsed piece by piece (`reparse`) keeps the nodes of its unchanged
    statements from one version to the next, though not always the statement node
    itself (a statement given the comment lines above it is a new node around the same
    children): an entry is found by the identity of the statement's children, and holds
    the statement it was made for, so that no other node takes one of those ids while it
    is here. Entries are bounded by their total code (least recently used dropped first).
    """

    def __init__(self, max_text: int = 4 * 1024 * 1024) -> None:
        self.max_text = max_text
        self.text_kept = 0
        self._kept: OrderedDict[tuple, tuple[cst.CSTNode, str, frozenset[int]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, module: cst.Module, statement: cst.CSTNode) -> tuple[str, frozenset[int]]:
        """The statement's code in `module` (its default indentation and line break) and the
        ids of the nodes under it (not the statement's own; trivia and tokens left out)."""
        key = _identity(statement)
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
            return found[1], found[2]
        code = module.code_for_node(statement)
        ids = set()
        stack = child_nodes(statement)
        while stack:
            node = stack.pop()
            ids.add(id(node))
            stack.extend(child_nodes(node))
        entry = (statement, code, frozenset(ids))
        self._kept[key] = entry
        self.text_kept += len(code)
        while self.text_kept > self.max_text and self._kept:
            _, (_, dropped, _) = self._kept.popitem(last=False)
            self.text_kept -= len(dropped)
        return code, entry[2]


def _identity(node: cst.CSTNode) -> tuple:
    """What a node is made of: its type, and each field's child nodes by identity (plain
    values as they are). Two nodes with the same identity generate the same code."""
    parts: list = [type(node)]
    for name in node.__dataclass_fields__:
        value = getattr(node, name)
        if type(value) is tuple or type(value) is list:
            parts.append(tuple(id(item) for item in value))
        elif value is None or type(value) in (str, int, bool):
            parts.append(value)
        else:
            parts.append(id(value))
    return tuple(parts)


def positions(
    module: cst.Module, nodes: Iterable[cst.CSTNode], statement_code: StatementCode | None = None
) -> tuple[dict[cst.CSTNode, tuple[Position, Position]], str]:
    """(start, end) of each of `nodes` in `module`, as `PositionProvider` would give them,
    and the module's code they are positions in (which is not always the parsed text:
    see `alignment`). With `statement_code`, only the statements holding one of `nodes`
    are generated; the others' code comes from there."""
    nodes = list(nodes)

    def fresh() -> _PlacingState:
        state = _PlacingState(default_indent=module.default_indent, default_newline=module.default_newline)
        state.targets = {id(node) for node in nodes}
        return state

    state = fresh()
    if statement_code is None or not _generate_by_statement(module, state, statement_code):
        state = fresh() if statement_code is not None else state  # the spoilt one is not reused
        module._codegen(state)
    found = state.found
    return {node: found[id(node)] for node in nodes if id(node) in found}, "".join(state.tokens)


def _generate_by_statement(module: cst.Module, state: _PlacingState, statement_code: StatementCode) -> bool:
    """`module._codegen(state)` with the code of the statements that hold no target taken
    from `statement_code`; False (and the state spoilt) when some target is under no
    statement (a comment of the header, say): the caller then generates the whole module."""
    targets = set(state.targets)
    last = len(module.body) - 1
    state.before_codegen(module)
    for line in module.header:
        line._codegen(state)
    for index, statement in enumerate(module.body):
        code, ids = statement_code.get(module, statement)
        if id(statement) in targets or not targets.isdisjoint(ids):
            targets -= ids
            targets.discard(id(statement))
            statement._codegen(state)
        elif index == last and not module.has_trailing_newline and not module.footer:
            statement._codegen(state)  # its line break is the token the module drops
        else:
            state.add_token(code)
    if targets - {id(module)}:
        return False
    for line in module.footer:
        line._codegen(state)
    if module.has_trailing_newline:
        if not state.tokens:
            state.add_token(state.default_newline)
    else:
        state.pop_trailing_newline()
    state.after_codegen(module)
    return True
