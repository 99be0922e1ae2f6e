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


# -- statements' code kept between versions (the language server's path) -----------------------

from dldoctor.lint import reparse  # noqa: E402
from dldoctor.lint.positions import StatementCode  # noqa: E402

NO_TRAILING_NEWLINE = "import os\n\n\ndef f():\n    return open(p)\nx = f()"


@pytest.mark.parametrize("source", [p.read_text(encoding="utf-8") for p in EXAMPLES] + AWKWARD + [NO_TRAILING_NEWLINE])
def test_kept_statement_code_places_as_the_whole_generation(source):
    """With `StatementCode`, only statements holding a node asked about are generated: the
    positions and the module's code are the same, for any choice of nodes, cached or not."""
    module = cst.parse_module(source)
    nodes = all_nodes(module)
    kept = StatementCode()
    for chosen in (nodes, nodes[::7], nodes[-3:], [module.body[0]], [module]):
        assert positions(module, chosen, kept) == positions(module, chosen)
    assert len(kept) == len(module.body)
    assert positions(module, nodes[::5], kept) == positions(module, nodes[::5])  # from the kept code


def test_kept_statement_code_follows_a_document_edited_version_after_version():
    """A re-parsed document keeps its unchanged statements' children (not always the statement
    node: one given the comment lines above it is new): their code is found again, an edited
    statement's is generated, and the positions are those of a whole generation each time."""
    reparser = reparse.Reparser()
    text = (EXAMPLES[0].read_text(encoding="utf-8") + "\n# tail\n" + EXAMPLES[1].read_text(encoding="utf-8"))
    lines = text.split("\n")
    for number in range(0, len(lines), max(len(lines) // 8, 1)):
        version = "\n".join([*lines[:number], "# typed here", *lines[number:]])
        module = reparser.parse(version, "utf-8")
        nodes = all_nodes(module)[::3]
        assert positions(module, nodes, reparser.statement_code) == positions(module, nodes)


def test_a_node_under_no_statement_falls_back_to_the_whole_generation():
    module = cst.parse_module("# header comment\n\nx = 1\n")
    comment = module.header[0].comment
    assert positions(module, [comment], StatementCode()) == positions(module, [comment])
    assert positions(module, [comment])[0][comment] == ((1, 0), (1, 16))
