"""Rules test a node's class with `type(node) is cst.X`, not `isinstance`: only right while X has no subclasses.

libcst's node classes are ABCs, so `isinstance(node, cst.Name)` that misses runs
`ABCMeta.__instancecheck__`, a Python call (60,000 of them in one lint of a 1,000-line file
before the rules compared types). `type(node) is cst.Name` says the same only because no
libcst class derives from a concrete node class; this test keeps that true for every class
compared so, in the rules and the lint modules, whatever libcst version is installed.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import libcst as cst
import libcst.matchers as m

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted((REPO / "rules").glob("*.py")) + sorted((REPO / "dldoctor" / "lint").glob("*.py"))


class _TypeComparisons(cst.CSTVisitor):
    """The `cst.X` of every `type(...) is cst.X`, `is not`, `in (cst.X, ...)` and `not in`."""

    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if not m.matches(node.left, m.Call(func=m.Name("type"))):
            return
        for target in node.comparisons:
            compared = target.comparator
            values = [element.value for element in compared.elements] if type(compared) is cst.Tuple else [compared]
            for value in values:
                if m.matches(value, m.Attribute(value=m.Name("cst"), attr=m.Name())):
                    self.found.add(value.attr.value)


def compared_classes() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        visitor = _TypeComparisons()
        cst.parse_module(path.read_text(encoding="utf-8")).visit(visitor)
        found |= visitor.found
    return found


def test_the_rules_compare_types_of_libcst_nodes():
    assert len(compared_classes()) > 50  # the test reads the comparisons it means to check


def test_every_class_compared_by_type_is_a_concrete_libcst_node_without_subclasses():
    for name in sorted(compared_classes()):
        node_class = getattr(cst, name)
        assert issubclass(node_class, cst.CSTNode) and not inspect.isabstract(node_class), name
        assert not node_class.__subclasses__(), f"cst.{name} has subclasses: `type(...) is cst.{name}` would miss them"


def test_an_abstract_class_compared_by_type_would_be_caught():
    visitor = _TypeComparisons()
    cst.parse_module("ok = type(node) in (cst.BaseExpression, cst.Name)\n").visit(visitor)
    assert visitor.found == {"BaseExpression", "Name"} and inspect.isabstract(cst.BaseExpression)
