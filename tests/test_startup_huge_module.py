"""A huge module is parsed a few statements at a time (`dldoctor.lint.piecewise`) into the
tree a whole parse gives: the same findings, for a fraction of the parser's peak memory."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from dldoctor.lint import piecewise, registry, runner, source

from conftest import clean_env

REPO = Path(__file__).resolve().parent.parent
# Real code with findings of many rules, and the shapes where pieces meet that libcst
# places in its own way: blank lines holding spaces, indented trailing comments,
# decorators, `;`, a tab-indented block after a two-space one, a comment at the very end.
SOURCES = ["mnist_gpu.py", "gan_train.py", "train_softmax.py", "read_tfrecord.py", "tf1_resume_training.py",
           "face_crops.py", "stale_noqa.py", "tf1_wrong_arguments.py", "multi_gpu_train.py"]
ODD_SHAPES = '''
def two_spaces():
  return 1
  # indented, after the block

   
@staticmethod
@property
def decorated(): pass
x = 1; y = 2
class Tabs:
\tdef method(self):
\t\treturn open("weights.h5", "r").read()
    # deeper than the class's block
TABLE = [
''' + "".join(f'    dict(name="op{i}", ref=lambda x: x.log(), dtypes=("float32",)),  # row {i}\n' for i in range(60)) + "]\n"


# The tests cut modules of 40 KB as the linter cuts those of 256 KB: the same code, in a
# fraction of the time. The memory test takes a module of the real size.
SMALL_HUGE, SMALL_PIECE = 32 * 1024, 4 * 1024


@pytest.fixture
def small_pieces(monkeypatch):
    monkeypatch.setattr(piecewise, "HUGE_TEXT", SMALL_HUGE)
    monkeypatch.setattr(piecewise, "PIECE_TEXT", SMALL_PIECE)


def huge_module(minimum: int = SMALL_HUGE + 1) -> str:
    parts = []
    while sum(map(len, parts)) < minimum:
        for name in SOURCES:
            text = (REPO / "examples" / name).read_text(encoding="utf-8")
            parts.append(re.sub(r"^from __future__ import .*$", "", text, flags=re.M) + ODD_SHAPES)
    return "\n\n".join(parts) + "# the last line, no newline"


def _keys(result) -> list[tuple]:
    return [(f.code, f.line, f.column, f.end_line, f.end_column, f.message, f.fix) for f in result.findings]


def test_the_pieces_make_the_whole_tree(small_pieces):
    text = huge_module()
    pieces = piecewise.parse(text, "utf-8")
    whole = cst.parse_module(text)
    assert pieces is not None and pieces.deep_equals(whole) and pieces.code == whole.code == text
    assert (pieces.default_indent, pieces.has_trailing_newline) == (whole.default_indent, whole.has_trailing_newline)
    assert len(piecewise._pieces(text, piecewise.statement_starts(text), SMALL_PIECE)) >= 4


def test_a_huge_module_has_the_findings_of_a_whole_parse(small_pieces, monkeypatch):
    text = huge_module()
    codes = frozenset(registry.all_rules()) | {registry.UNREADABLE_CODE}
    piecewise_result = runner.lint_text("huge.py", text, "utf-8", codes)
    monkeypatch.setattr(source, "WHOLE_PARSE", True)
    whole_result = runner.lint_text("huge.py", text, "utf-8", codes)
    assert piecewise_result.internal_error is None and whole_result.internal_error is None
    assert {f.code for f in whole_result.findings} >= {"DL101", "DL100", "DL201", "DL403"}
    assert _keys(piecewise_result) == _keys(whole_result)


def test_what_cannot_be_cut_is_parsed_whole(small_pieces):
    text = huge_module()
    assert piecewise.parse(text.replace("\n", "\r\n"), "utf-8") is None  # \r line ends
    assert piecewise.parse("x = [\n" + "    1,\n" * 6_000 + "]\n", "utf-8") is None  # one statement
    broken = text + "\ndef broken(:\n    pass\n"
    assert piecewise.parse(broken, "utf-8") is None  # CPython refuses it: the whole parse says where
    with pytest.raises(source.SourceProblem) as problem:
        source.parse(broken, "utf-8")
    assert problem.value.line == broken.count("\n") - 1


def table_module(rows: int) -> str:
    """A generated table as torch ships them (`sparse/_triton_ops_meta.py`): one dict display."""
    entries = "".join(
        f'    ("addmm", "A100", (0, torch.float16, {i})): {{\n'
        + "".join(f"        ({i}, {j}, 256, 32, True): ({j % 4}, 8, 1, 4),\n" for j in range(12))
        + "    },\n    # a comment between two entries\n"
        for i in range(rows)
    )
    return f"import torch\n\n\nTABLE: dict = {{\n{entries}}}  # end of the table\n\nprint(len(TABLE))\n"


def test_a_huge_display_is_cut_between_its_elements(small_pieces):
    text = table_module(80)
    assert len(text) > SMALL_HUGE
    found = piecewise.layout(text)
    [display] = found.displays.values()
    lines = text.split("\n")
    after = found.starts[-1][0]  # the `print` after the table
    assert len(piecewise._element_cuts(lines, 3, after, display, found.starts, SMALL_PIECE)) >= 4
    pieces = piecewise.parse(text, "utf-8")
    whole = cst.parse_module(text)
    assert pieces is not None and pieces.deep_equals(whole) and pieces.code == text
    for kind, opening, closing in (("list", "[", "]"), ("set", "{", "}")):
        rows = "".join(f"    ({i}, 'row', 2.5),  # {kind}\n" for i in range(600))
        other = f"import os\nX = {opening}\n{rows}{closing}\n"
        assert piecewise.parse(other, "utf-8").deep_equals(cst.parse_module(other)), kind


# The peak of this process's own memory (VmHWM, kB), not getrusage's ru_maxrss: Linux carries
# the parent's resident size at fork into that across exec, so under a large test process
# both runs would report the parent's size.
_PEAK = """
import sys
from dldoctor.lint import source
text = open(sys.argv[1], encoding="utf-8").read()
source.parse(text, "utf-8")
with open("/proc/self/status") as status:
    print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from Linux's /proc")
def test_the_parser_peak_follows_the_largest_statement(tmp_path):
    huge = tmp_path / "huge.py"
    huge.write_text(huge_module(piecewise.HUGE_TEXT // 2) + "\n" + table_module(220), encoding="utf-8")
    assert len(huge.read_text()) > piecewise.HUGE_TEXT

    def peak_kb(**env: str) -> int:
        completed = subprocess.run([sys.executable, "-c", _PEAK, str(huge)], capture_output=True, text=True,
                                   env=clean_env(**env), timeout=300)
        assert completed.returncode == 0, completed.stderr
        return int(completed.stdout)

    assert peak_kb() < peak_kb(DLDOCTOR_WHOLE_PARSE="1") * 0.6
