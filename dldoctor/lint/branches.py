"""Which `if`/`try` parts a point of the code sits in: what rules that order events need.

A rule that judges "this surely runs before that" (an initializer before the optimizer's
slots, queue runners before the queue, a restore before the initializer) records, with
each event, the `if`/`try` parts it sits in, outermost first, as (node id, part) pairs.
Two events can then be compared without following the control flow: `always_after`
(the later one runs whenever the earlier one did) and `exclusive` (they can never both
run). `BranchPath` keeps the path as a module is walked.
"""

from __future__ import annotations

import libcst as cst

Branch = tuple[int, str]  # (id of an `if`/`try`, which part of it: body, orelse, handlers, finally)


def exclusive(first: tuple[Branch, ...], second: tuple[Branch, ...]) -> bool:
    """Whether two points can never both run: the body and the `else` of one `if`, or
    a `try` body and one of its handlers."""
    for (first_id, first_part), (second_id, second_part) in zip(first, second):
        if first_id != second_id:
            return False
        if first_part != second_part:
            return {first_part, second_part} in ({"body", "orelse"}, {"body", "handlers"})
    return False


def within(later: tuple[Branch, ...], earlier: tuple[Branch, ...]) -> bool:
    """Whether a point on path `later` runs whenever one on path `earlier` does, given
    it comes after it: it sits in no `if`/`try` part that `earlier` is not in too."""
    return later == earlier[: len(later)]


class BranchPath:
    """Mixin for a rule (list it before `Rule` among the bases): `branch_path()` is the path
    of the point being visited. A rule that orders the events of each function apart
    calls `open_branch_scope()` where a function's body starts and `close_branch_scope()`
    where it ends; otherwise the path runs through the whole module."""

    def __init__(self, context) -> None:
        super().__init__(context)
        self._branch_paths: list[list[Branch]] = [[]]

    def branch_path(self) -> tuple[Branch, ...]:
        return tuple(self._branch_paths[-1])

    def open_branch_scope(self) -> None:
        self._branch_paths.append([])

    def close_branch_scope(self) -> None:
        self._branch_paths.pop()

    def _enter_part(self, node: cst.CSTNode, part: str) -> None:
        self._branch_paths[-1].append((id(node), part))

    def _leave_part(self, *_args) -> None:
        self._branch_paths[-1].pop()

    def visit_If_body(self, node: cst.If) -> None:
        self._enter_part(node, "body")

    def visit_If_orelse(self, node: cst.If) -> None:
        self._enter_part(node, "orelse")

    def visit_Try_body(self, node: cst.Try) -> None:
        self._enter_part(node, "body")

    def visit_Try_orelse(self, node: cst.Try) -> None:
        self._enter_part(node, "body")  # runs when the body did

    def visit_Try_handlers(self, node: cst.Try) -> None:
        self._enter_part(node, "handlers")

    def visit_Try_finalbody(self, node: cst.Try) -> None:
        self._enter_part(node, "finally")

    leave_If_body = leave_If_orelse = _leave_part
    leave_Try_body = leave_Try_orelse = leave_Try_handlers = leave_Try_finalbody = _leave_part
