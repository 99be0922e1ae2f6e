"""Line and column of the few nodes a file reports, without positions for all the others.

libcst's `PositionProvider` generates the module's code and, on the way,
splits every token with a regular expression and builds a `CodeRange` for
every node: on a large file that costs twice the parse, to place a handful of
findings. This code generation counts lines only when a reported node (or a
child it takes its position from) starts or ends, over the tokens added since
the last count, and ignores every other node. The positions are the ones
`PositionProvider` gives (syntactic: without the whitespace a node owns).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState  # the hook libcst's own providers use

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


def positions(
    module: cst.Module, nodes: Iterable[cst.CSTNode]
) -> tuple[dict[cst.CSTNode, tuple[Position, Position]], str]:
    """(start, end) of each of `nodes` in `module`, as `PositionProvider` would give them,
    and the module's code they are positions in (which is not always the parsed text:
    see `alignment`)."""
    state = _PlacingState(default_indent=module.default_indent, default_newline=module.default_newline)
    nodes = list(nodes)
    state.targets = {id(node) for node in nodes}
    module._codegen(state)
    found = state.found
    return {node: found[id(node)] for node in nodes if id(node) in found}, "".join(state.tokens)
