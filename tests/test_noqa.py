"""Suppression comments: `# noqa` on the line, `# dldoctor: noqa` for the whole file.

Every case is a file in one directory, linted in a single run; each test then
looks at its own file's findings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import BAD, BAD_COLUMN, BAD_LINE, run_dldoctor, write
from dldoctor.lint import noqa

CALL = "tf.ConfigProto(log_device_placement=True)"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HEADER = "import tensorflow.compat.v1 as tf\n"

# name -> (source, lines DL201 must still be reported on)
CASES = {
    "no_comment": (BAD, [BAD_LINE]),
    "bare_noqa": (f"{HEADER}{CALL}  # noqa\n", []),
    "noqa_code": (f"{HEADER}{CALL}  # noqa: DL201\n", []),
    "noqa_other_tools_first": (f"{HEADER}{CALL}  # noqa: E501, DL201\n", []),
    "noqa_no_spaces": (f"{HEADER}{CALL}  #noqa:E501,DL201\n", []),
    "noqa_upper_case": (f"{HEADER}{CALL}  # NOQA: dl201\n", []),
    "noqa_after_other_comment": (f"{HEADER}{CALL}  # debug only  # noqa: DL201\n", []),
    "noqa_other_code": (f"{HEADER}{CALL}  # noqa: DL101\n", [2]),
    "noqa_longer_code": (f"{HEADER}{CALL}  # noqa: DL2010\n", [2]),
    "noqa_prefix_is_not_a_code": (f"{HEADER}{CALL}  # noqa: DL2\n", [2]),
    "noqa_on_another_line": (f"{HEADER}# noqa\n{CALL}\n", [3]),
    "noqa_covers_its_line_only": (f"{HEADER}{CALL}  # noqa: DL201\n{CALL}\n", [3]),
    "file_noqa_top": (f"# dldoctor: noqa\n{HEADER}{CALL}\n{CALL}\n", []),
    "file_noqa_bottom": (f"{HEADER}{CALL}\n{CALL}\n# dldoctor: noqa\n", []),
    "file_noqa_upper_case": (f"# DLDOCTOR: NOQA\n{HEADER}{CALL}\n", []),
    "file_noqa_code": (f"# dldoctor: noqa: DL201\n{HEADER}{CALL}\n{CALL}\n", []),
    "file_noqa_codes": (f"{HEADER}{CALL}\n# dldoctor: noqa: DL101, DL201\n", []),
    "file_noqa_other_code": (f"# dldoctor: noqa: DL101\n{HEADER}{CALL}\n", [3]),
    "flake8_file_noqa_is_not_ours": (f"# flake8: noqa\n{HEADER}{CALL}\n", [3]),
    # A line that ends inside a multi-line string cannot take a comment: its noqa goes
    # where the string ends (as ruff reads it), and only there.
    "noqa_after_multi_line_string": (
        f'{HEADER}{CALL[:-1]}, name="""a\nb""")  # noqa: DL201\n', []
    ),
    "noqa_after_multi_line_string_other_code": (
        f'{HEADER}{CALL[:-1]}, name="""a\nb""")  # noqa: DL101\n', [2]
    ),
    "noqa_after_backslash_continuation": (f"{HEADER}{CALL} if True \\\n    else None  # noqa: DL201\n", []),
    "noqa_on_the_next_statement_is_not_the_continuation": (f"{HEADER}{CALL}\nx = 1  # noqa: DL201\n", [2]),
}


@pytest.fixture(scope="module")
def reported(tmp_path_factory) -> dict[str, list[tuple[int, int]]]:
    """File stem -> (line, column) of each DL201 finding, from one run over every case."""
    directory = tmp_path_factory.mktemp("noqa")
    for name, (source, _) in CASES.items():
        write(directory / f"{name}.py", source)
    run = run_dldoctor("lint", "--output-format", "json", ".", cwd=directory)
    assert run.stderr == ""
    assert run.returncode == 1  # the uncommented control is reported
    found: dict[str, list[tuple[int, int]]] = {name: [] for name in CASES}
    for finding in run.json():
        if finding["code"] == "DL100":  # the comment itself judged (tests/test_rule_dl100.py)
            continue
        assert finding["code"] == "DL201", finding
        stem = finding["filename"].rsplit("/", 1)[-1].rsplit("\\", 1)[-1].removesuffix(".py")
        found[stem].append((finding["location"]["row"], finding["location"]["column"]))
    return found


@pytest.mark.parametrize("name", CASES)
def test_suppression(reported, name):
    _, lines = CASES[name]
    assert reported[name] == [(line, BAD_COLUMN) for line in lines]


def test_line_noqa_on_stdin(tmp_path):
    # The same comments work for source piped in, the way editors lint unsaved buffers.
    silenced = run_dldoctor("lint", "-", cwd=tmp_path, stdin=f"{HEADER}{CALL}  # noqa: DL201\n")
    assert silenced.returncode == 0, silenced.stdout
    kept = run_dldoctor("lint", "-", cwd=tmp_path, stdin=f"{HEADER}{CALL}  # noqa: DL101\n")
    assert kept.returncode == 1


# -- comments tokenized statement by statement (the language server's path) ------------------

PIECES = (
    'import os  # noqa: DL101\n'
    'HELP = """\n'
    'usage: # noqa: DL999 in a string, not a comment\n'
    '"""  # noqa: DL102\n'
    'x = os.path.join("a",\n'
    '                 "b")  # noqa\n'
    'y = 1 + \\\n'
    '    2  # noqa: DL301, E501\n'
    '\n'
    '\n'
    'def f():\n'
    '    s = """a\n'
    'b"""  # noqa: DL104\n'
    '    # noqa: DL105 on a line of its own\n'
    '    return s\n'
    '# trailing comment\n'
)


@pytest.mark.parametrize("text", [PIECES, PIECES.replace("\n\n", "\n\n\n# between\n"), PIECES.rstrip("\n")]
                         + [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.rglob("*.py")) if "noqa" in p.read_text(encoding="utf-8")])
def test_comments_tokenized_by_statement_are_the_whole_texts(text):
    """Cut where top-level statements begin (as the re-parser proves), each piece tokenized on
    its own and kept: the directives and the lines comments move to are the whole text's."""
    from dldoctor.lint import reparse

    reparser = reparse.Reparser()
    reparser.parse(text, "utf-8")
    cuts = reparser.cuts(text)
    assert cuts, "the text was cut into statements"
    whole_directives, whole_lines = noqa.directives(text), noqa.comment_lines(text)
    noqa._last = (None, None)  # forget the whole text's tokens
    assert noqa.directives(text, cuts) == whole_directives
    noqa._last = (None, None)
    assert noqa.comment_lines(text, cuts) == whole_lines
    assert whole_directives or "noqa:" not in text
    edited = text.replace("\n", "\n# typed\n", 1)  # the next version: the other pieces are kept ones
    reparser.parse(edited, "utf-8")
    assert noqa.comment_lines(edited, reparser.cuts(edited)) == _whole_comment_lines(edited)
    assert reparser.cuts(text) is None  # the cuts are the last text's only


def _whole_comment_lines(text):
    noqa._last = (None, None)
    try:
        return noqa.comment_lines(text)
    finally:
        noqa._last = (None, None)
