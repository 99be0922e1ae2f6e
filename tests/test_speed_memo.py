"""What the lint remembers to go faster gives the answers it would compute afresh, and
forgets them when they could change: a table that changes mid-traversal, the next
version of a document, another module."""

from __future__ import annotations

import libcst as cst

from dldoctor import api
from dldoctor.lint import noqa, syntax
from dldoctor.lint.bindings import Bindings
from dldoctor.lint.names import ImportTable, tf_symbol


def _statement(code: str) -> cst.CSTNode:
    return cst.parse_statement(code).body[0]  # type: ignore[attr-defined]


def test_qualify_answers_again_after_an_import_changes_the_table():
    table = ImportTable.from_module(cst.parse_module("import numpy as np\n"))
    load = cst.parse_expression("np.load")
    assert table.qualify(load) == "numpy.load"
    assert table.qualify(load) == "numpy.load"  # remembered
    table.add_import(_statement("import cupy as np"))  # a function-local import, met mid-traversal
    assert table.qualify(load) == "cupy.load"
    table.add_import_from(_statement("from .compat import np"))  # the project's own name now
    assert table.qualify(load) is None


def test_an_alias_of_itself_qualifies_as_without_memory():
    # `tf = tf.compat.v1`: the value is read before the alias exists; asked afterwards, the
    # same node means what the finished table says.
    module = cst.parse_module("import tensorflow as tf\ntf = tf.compat.v1\n")
    table = ImportTable.from_module(module)
    value = module.body[1].body[0].value  # type: ignore[attr-defined]
    fresh = ImportTable.from_module(module)._qualify(value)
    assert table.qualify(value) == fresh == "tensorflow.compat.v1.compat.v1"


def test_tables_of_two_modules_answer_for_their_own_module():
    torch_table = ImportTable.from_module(cst.parse_module("import torch as t\n"))
    tf_table = ImportTable.from_module(cst.parse_module("import tensorflow as t\n"))
    call = cst.parse_expression("t.load")
    assert torch_table.qualify(call) == "torch.load"
    assert tf_table.qualify(call) == "tensorflow.load"


def test_tf_symbol_keeps_a_bounded_number_of_answers():
    assert tf_symbol("tensorflow.compat.v1.gfile.FastGFile") == "gfile.FastGFile"
    assert tf_symbol("torch.load") is None
    assert tf_symbol.cache_info().maxsize is not None


def test_code_of_dotted_names_is_what_libcst_writes():
    for code in ("a", "a.b.c", "a . b", "(a).b", "(a.b)", "a.\\\n    b", "a[0].b", "f(x).y"):
        node = cst.parse_expression(code)
        assert syntax.code_of(node) == " ".join(cst.Module(body=[]).code_for_node(node).split()), code
    assert syntax.code_of(cst.parse_expression("a" * 70), limit=10) == "aaaaaaa..."


def test_tokens_of_the_previous_text_are_not_reused_for_the_next():
    first = 'x = """\n\n"""  # noqa: DL101\n'
    second = "x = 1\ny = 2  # noqa: DL101\n"
    assert noqa.comment_lines(first) == {1: 3, 2: 3}
    assert [d.line for d in noqa.directives(first)] == [3]
    assert noqa.comment_lines(second) == {}
    assert [d.line for d in noqa.directives(second)] == [2]
    assert noqa.comment_lines(first) == {1: 3, 2: 3}


def test_directives_with_codes_only_in_the_text_are_looked_for_in_comments():
    assert noqa.directives('s = "# noqa: DL101"\n') == []
    assert noqa.directives("x = 1  # noqa\n") == []  # bare: not listed
    assert noqa.names_ours("x = 1  # noqa: E501, DL101\n")
    assert not noqa.names_ours("x = 1  # noqa: E501\nimport os  # noqa\n")


def test_bindings_follow_blocks_as_they_open_and_close():
    bindings = Bindings()
    bindings.bind("a", "module")
    bindings.enter_block()  # an `if` body
    assert bindings.lookup("a") == "module"
    bindings.bind("b", "branch")
    assert bindings.lookup("b") == "branch"
    bindings.enter_block(conditional=False)  # a `with` body inside it
    bindings.bind("c", "with")
    bindings.leave_block()
    assert bindings.lookup("c") == "with"
    bindings.leave_block()
    assert bindings.lookup("b") is None  # made in a branch: unknown after it
    assert bindings.lookup("c") is None
    assert bindings.path() == ()
    bindings.enter_function(["x"])
    assert bindings.lookup("a") == "module"
    assert bindings.lookup("x") is None
    bindings.leave_function()


def test_a_document_linted_version_after_version_gives_each_version_its_findings():
    linter = api.Linter(select=["ALL"])
    bad = "import torch\nmodel = torch.load('m.pt')\n"
    good = "import torch\nmodel = torch.load('m.pt', map_location='cpu', weights_only=True)\n"
    findings = {text: sorted(f.code for f in linter.lint(text, "train.py")) for text in (bad, good)}
    assert "DL501" in findings[bad] and "DL501" not in findings[good]
    for _ in range(3):
        for text in (bad, good, bad + "#7\n"):
            assert sorted(f.code for f in linter.lint(text, "train.py")) == findings[bad if text != good else good]
