"""The in-place walker calls rules exactly as libcst's own batched visit would."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from dldoctor.lint.walk import BatchedWalker

REPO = Path(__file__).resolve().parent.parent
SOURCES = [
    path
    for path in sorted((REPO / "examples").rglob("*.py")) + sorted((REPO / "rules").glob("dl*.py"))
    if path.stat().st_size
]


class Recorder(cst.BatchableCSTVisitor):
    """Logs every hook a rule could use, including attribute hooks and trivia."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, str]] = []

    def _log(self, event: str, node: cst.CSTNode) -> None:
        self.events.append((event, type(node).__name__ + ":" + str(id(node))))

    def visit_Call(self, node): self._log("visit Call", node)
    def leave_Call(self, original_node): self._log("leave Call", original_node)
    def visit_Name(self, node): self._log("visit Name", node)
    def visit_Assign(self, node): self._log("visit Assign", node)
    def leave_Assign(self, original_node): self._log("leave Assign", original_node)
    def visit_For_body(self, node): self._log("visit For.body", node)
    def leave_For_body(self, node): self._log("leave For.body", node)
    def visit_CompFor_iter(self, node): self._log("visit CompFor.iter", node)
    def visit_While_test(self, node): self._log("visit While.test", node)
    def leave_While_body(self, node): self._log("leave While.body", node)
    def visit_Comparison(self, node): self._log("visit Comparison", node)
    def visit_FunctionDef(self, node): self._log("visit FunctionDef", node)
    def leave_FunctionDef(self, original_node): self._log("leave FunctionDef", original_node)


class TriviaRecorder(Recorder):
    def visit_Comment(self, node): self._log("visit Comment", node)


def events_of(visit, module: cst.Module, recorder_type=Recorder) -> list[tuple[str, str]]:
    recorder = recorder_type()
    visit(module, [recorder])
    return recorder.events


def libcst_visit(module, visitors):
    cst.visit_batched(module, visitors)  # hooks receive the original nodes, as the walker's do


def walker_visit(module, visitors):
    BatchedWalker(visitors).walk(module)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_same_hooks_in_the_same_order_as_libcst(path):
    module = cst.parse_module(path.read_text(encoding="utf-8"))
    expected = events_of(libcst_visit, module)
    assert expected, "the recorder saw nothing: the comparison would be empty"
    assert events_of(walker_visit, module) == expected


def test_trivia_is_walked_only_when_a_visitor_asks_for_it():
    module = cst.parse_module("x = 1  # a comment\n# another\n")
    assert [e for e, _ in events_of(walker_visit, module, TriviaRecorder) if e == "visit Comment"] == [
        "visit Comment",
        "visit Comment",
    ]
    assert events_of(walker_visit, module, TriviaRecorder) == events_of(libcst_visit, module, TriviaRecorder)
