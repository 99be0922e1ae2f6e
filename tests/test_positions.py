"""Positions of reported nodes: the same as libcst's PositionProvider gives, at a fraction of the cost."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from dldoctor.lint.positions import positions

EXAMPLES = sorted(p for p in (Path(__file__).resolve().parent.parent / "examples").rglob("*.py") if p.stat().st_size)
AWKWARD = [
    "x = 1\r\ny = (a +\r\n     b)\r\n",  # CRLF
    "x = 1\ry = 2\r",  # old Mac line breaks
    "@decorator\n# comment\nasync def f(\n    a,\n):\n    '''doc\n    more'''\n    return [\n        i for i in a\n    ]\n",
    "class C:\n    def m(self): pass\n\nif x:\n    pass\nelif y: pass\nelse:\n    z = 'é' + \"\\u00e9\"\n",
    "with (open(a) as f,\n      open(b) as g):\n    pass\ntry:\n    pass\nexcept* E:\n    pass\n",
    "print(f'{x!r:>{width}}'  'tail')\nlambda: (yield)\n",
]


def all_nodes(module: cst.Module) -> list[cst.CSTNode]:
    found = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            found.append(node)
            return True

    module.visit(Collect())
    return found


@pytest.mark.parametrize("source", [p.read_text(encoding="utf-8") for p in EXAMPLES] + AWKWARD)
def test_every_node_is_where_position_provider_puts_it(source):
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = all_nodes(module)
    assert len(nodes) > 5
    placed, _ = positions(module, nodes)
    for node in nodes:
        where = expected[node]
        assert placed[node] == ((where.start.line, where.start.column), (where.end.line, where.end.column)), node


def test_only_the_nodes_asked_for_are_placed():
    module = cst.parse_module("a = 1\nb = 2\nc = 3\n")
    second = module.body[1]
    assert positions(module, [second])[0] == {second: ((2, 0), (2, 5))}
