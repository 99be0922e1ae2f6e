"""`--fix` changes nothing outside its edits, whatever the file's whitespace.

A property test builds files from realistic TF1/PyTorch lines, each fixable line
paired with the line the fix must give, and varies what a parser treats
specially: form feeds opening lines (legal, and dropped by libcst's code
generation), tab and space indentation, a UTF-8 BOM, LF/CRLF/CR and mixed line
endings, Unicode identifiers, a missing last newline. The expected file is the
same build with the fixed lines: every other character must come back as it was.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dldoctor.lint import fixes

from conftest import run_dldoctor, write

CODES = frozenset({"DL101", "DL201", "DL602"})

# (line, what the safe fix makes of it); a line that is not fixable maps to itself.
FIXABLE = [
    ("x = tf.neg(logits)", "x = tf.negative(logits)"),
    ("pair = tf.pack([a, b])", "pair = tf.stack([a, b])"),
    ("img = open(image_path, 'r').read()", "img = open(image_path, 'rb').read()"),
    ("损失 = tf.mul(权重, 输入)", "损失 = tf.multiply(权重, 输入)"),
    ("config = tf.ConfigProto(log_device_placement=True)", "config = tf.ConfigProto()"),
    ("x = tf.mul(a, b); y = tf.sub(x, c)", "x = tf.multiply(a, b); y = tf.subtract(x, c)"),
]
PLAIN = ["# 注释: a comment", "", "值 = 1", "y = 2  # trailing", "sess = tf.Session(config=config)"]
HEADER = "import tensorflow as tf"

line_pair = st.sampled_from(FIXABLE) | st.sampled_from(PLAIN).map(lambda line: (line, line))
prefix = st.sampled_from(["", "\f", "\f\f\f"])


@st.composite
def sources(draw):
    """(original text, expected fixed text, with BOM) built from the same lines."""
    newline = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    indent = draw(st.sampled_from(["\t", "    ", "\t    "]))
    header = draw(prefix) + HEADER
    lines = [(header, header)]
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):  # a top-level line
            start = draw(prefix)
            before, after = draw(line_pair)
            lines.append((start + before, start + after))
        else:  # a function whose body holds a few lines
            definition = draw(prefix) + "def step(a, b, c, image_path):"
            lines.append((definition, definition))
            for _ in range(draw(st.integers(1, 3))):
                start = draw(prefix) + indent
                before, after = draw(st.sampled_from(FIXABLE))
                lines.append((start + before, start + after))
    endings = [draw(st.sampled_from(["\n", "\r\n", "\r"])) if newline == "mixed" else newline for _ in lines]
    if not draw(st.booleans()):
        endings[-1] = ""  # no newline at the end of the file
    original = "".join(before + end for (before, _), end in zip(lines, endings))
    expected = "".join(after + end for (_, after), end in zip(lines, endings))
    return original, expected, draw(st.booleans())


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources())
def test_fixes_change_exactly_the_fixed_lines(case):
    original, expected, bom = case
    prefix_bytes = b"\xef\xbb\xbf" if bom else b""
    outcome = fixes.fix_bytes("t.py", prefix_bytes + original.encode("utf-8"), CODES, unsafe=False)
    assert outcome.refused is None
    assert outcome.fixed == expected
    written = outcome.fixed.encode(outcome.encoding)
    assert written == prefix_bytes + expected.encode("utf-8")  # the BOM kept, nothing re-encoded


def test_a_form_feed_line_is_fixed_in_place_from_the_cli(tmp_path):
    for name, text in {
        "one.py": "import tensorflow.compat.v1 as tf\n\fprod = tf.mul(a, b)\n",
        "three.py": "import tensorflow.compat.v1 as tf\n\f\f\fprod = tf.mul(a, b)\n",
        "first.py": "\fimport tensorflow.compat.v1 as tf\n\fprod = tf.mul(a, b)\n",
    }.items():
        write(tmp_path / name, text)
    result = run_dldoctor("lint", "--select", "DL602", "--fix", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Fixed 3 findings" in result.stdout
    assert (tmp_path / "one.py").read_bytes() == b"import tensorflow.compat.v1 as tf\n\fprod = tf.multiply(a, b)\n"
    assert (tmp_path / "three.py").read_bytes() == b"import tensorflow.compat.v1 as tf\n\f\f\fprod = tf.multiply(a, b)\n"
    assert (tmp_path / "first.py").read_bytes() == b"\fimport tensorflow.compat.v1 as tf\n\fprod = tf.multiply(a, b)\n"


def test_findings_on_form_feed_lines_point_at_the_node(tmp_path):
    write(tmp_path / "ff.py", "\fimport tensorflow.compat.v1 as tf\n\f\fprod = tf.mul(a, b)\n")
    [finding] = run_dldoctor("lint", "--select", "DL602", "--output-format", "json", "ff.py", cwd=tmp_path).json()
    assert (finding["location"]["row"], finding["location"]["column"]) == (2, 10)  # `tf.` after two form feeds
    [edit] = finding["fix"]["edits"]
    assert (edit["location"]["column"], edit["end_location"]["column"]) == (10, 16)  # `tf.mul`


def test_fix_does_not_follow_a_link_out_of_the_named_directory(tmp_path):
    bad = "import tensorflow.compat.v1 as tf\nprod = tf.mul(a, b)\n"
    write(tmp_path / "outside" / "x.py", bad)
    write(tmp_path / "target" / "own.py", bad)
    os.symlink(os.path.join("..", "outside", "x.py"), tmp_path / "target" / "link.py")
    result = run_dldoctor("lint", "--select", "DL602", "--fix", "target", cwd=tmp_path)
    assert (tmp_path / "outside" / "x.py").read_text() == bad  # untouched
    assert "tf.multiply(a, b)" in (tmp_path / "target" / "own.py").read_text()
    assert "target/link.py: a symbolic link to" in result.stderr and "not fixed" in result.stderr
    assert result.returncode == 1  # the link's finding is still reported
    # Named itself, the link is the user's choice: its target is fixed, the link stays a link.
    named = run_dldoctor("lint", "--select", "DL602", "--fix", "target/link.py", cwd=tmp_path)
    assert named.returncode == 0, named.stderr
    assert os.path.islink(tmp_path / "target" / "link.py")
    assert "tf.multiply(a, b)" in (tmp_path / "outside" / "x.py").read_text()


def test_a_file_reached_twice_is_fixed_once(tmp_path):
    write(tmp_path / "a.py", "import tensorflow.compat.v1 as tf\nprod = tf.mul(a, b)\n")
    os.symlink("a.py", tmp_path / "b.py")
    # Two names of one file in one run (in parallel workers, they would race): one writes.
    assert fixes.write_refusals([str(tmp_path / "a.py"), str(tmp_path / "b.py")], [str(tmp_path)]) == [
        None,
        f"the same file as {tmp_path / 'a.py'}, which is fixed under that name",
    ]
    result = run_dldoctor("lint", "--select", "DL602", "--fix", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.path.islink(tmp_path / "b.py")
    assert (tmp_path / "a.py").read_text() == "import tensorflow.compat.v1 as tf\nprod = tf.multiply(a, b)\n"


def test_fix_keeps_hard_links_and_permissions(tmp_path):
    write(tmp_path / "train.py", "import tensorflow.compat.v1 as tf\nprod = tf.mul(a, b)\n")
    os.chmod(tmp_path / "train.py", 0o750)
    os.link(tmp_path / "train.py", tmp_path / "alias.py")
    inode = os.stat(tmp_path / "train.py").st_ino
    result = run_dldoctor("lint", "--select", "DL602", "--fix", "train.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.stat(tmp_path / "train.py").st_ino == inode  # the same file, so the other name sees the fix
    assert "tf.multiply(a, b)" in (tmp_path / "alias.py").read_text()
    assert os.stat(tmp_path / "train.py").st_mode & 0o777 == 0o750
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".dldoctor-")]
