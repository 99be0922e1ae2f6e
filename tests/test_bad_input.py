"""Files that cannot be linted: each becomes one clear DL000 line, and the run goes on.

Every case is linted beside `good.py` (DL201's canonical finding) in the same run,
which must still be reported. A file in which no rule's trigger text occurs is
never parsed, so the sources that should fail to parse mention
`log_device_placement`.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

from conftest import BAD, BAD_COLUMN, BAD_LINE, Run, concise_codes, run_dldoctor, write

TRIGGER = "log_device_placement = True\n"


def lint_beside_good(directory, *paths):
    """Lint `paths` and good.py (default: the whole directory); check good.py is still reported."""
    write(directory / "good.py", BAD)
    targets = [*paths, "good.py"] if paths else ["."]
    run = run_dldoctor("lint", "--output-format", "concise", "--quiet", *targets, cwd=directory)  # the findings only
    run.assert_no_traceback()
    assert ("good.py", BAD_LINE, BAD_COLUMN, "DL201") in concise_codes(run), run.stdout + run.stderr
    assert run.returncode == 1, run.stdout + run.stderr
    return run


def only_dl000(run, path: str) -> tuple[int, int, str]:
    """The single DL000 line for `path`: (line, column, message). Nothing else but good.py's finding."""
    lines = [line for line in run.lines if line.startswith(f"{path}:")]
    assert len(lines) == 1, run.stdout
    assert len(run.lines) == 2, run.stdout
    [(reported_path, line, column, code)] = concise_codes(Run(0, lines[0], ""))
    assert (reported_path, code) == (path, "DL000"), lines[0]
    message = lines[0].split(": DL000 ", 1)[1]
    assert message.strip() and "\n" not in message
    return line, column, message


def cpython_syntax_error(source: str) -> SyntaxError:
    try:
        compile(source, "x.py", "exec")
    except SyntaxError as error:
        return error
    raise AssertionError("the source compiles")


# --- syntax -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        TRIGGER + "def f(:\n    pass\n",
        TRIGGER + 's = "ééé"; x = (1 +* 2)\n',
        TRIGGER + "x = (1,\n",
        TRIGGER + "x = 1\n  y = 2\n",
        TRIGGER + "if True:\n\tx = 1\n        y = 2\n",
    ],
    ids=["bad-def", "after-non-ascii", "unclosed", "unexpected-indent", "tabs-and-spaces"],
)
def test_syntax_error_is_placed_where_cpython_places_it(project, source):
    write(project / "broken.py", source)
    run = lint_beside_good(project)
    assert run.stderr == ""
    line, column, message = only_dl000(run, "broken.py")
    expected = cpython_syntax_error(source)
    assert (line, column) == (expected.lineno, expected.offset)
    assert message.startswith(f"SyntaxError: {expected.msg}")
    assert "Python 2" not in message


def test_python_2_print_statement(project):
    source = "import tensorflow.compat.v1 as tf\nconfig = tf.ConfigProto(log_device_placement=True)\nprint \"x\"\n"
    write(project / "legacy.py", source)
    run = lint_beside_good(project)
    line, column, message = only_dl000(run, "legacy.py")
    expected = cpython_syntax_error(source)
    assert (line, column) == (expected.lineno, expected.offset) == (3, 1)
    assert "Python 2" in message
    assert "print" in message


def test_python_2_file_whose_first_error_is_not_the_print(project):
    # CPython names the first error only; the print statement further down gives the file away.
    source = (
        "import tensorflow.compat.v1 as tf\nconfig = tf.ConfigProto(log_device_placement=True)\n"
        "if config is None:\n    raise ValueError, \"no config\"\nprint \"done\"\n"
    )
    write(project / "legacy.py", source)
    run = lint_beside_good(project)
    line, column, message = only_dl000(run, "legacy.py")
    expected = cpython_syntax_error(source)
    assert expected.msg == "invalid syntax"  # CPython's message alone does not say Python 2
    assert (line, column) == (expected.lineno, expected.offset)
    assert line == 4
    assert "Python 2" in message


def test_python_3_file_with_print_in_a_docstring_is_not_called_python_2(project):
    source = (
        "import tensorflow.compat.v1 as tf\ndef make():\n    \"\"\"Build the session config.\n\n"
        "    print the placement log when debugging\n    \"\"\"\n"
        "    return tf.ConfigProto(log_device_placement=True +* 2)\n"
    )
    write(project / "modern.py", source)
    run = lint_beside_good(project)
    line, column, message = only_dl000(run, "modern.py")
    expected = cpython_syntax_error(source)
    assert (line, column) == (expected.lineno, expected.offset)
    assert "Python 2" not in message


# --- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "comment", "literal"),
    [("latin-1", "café, naïve", "é"), ("gbk", "你好，世界", "中文")],
)
def test_coding_cookie_is_honoured(project, encoding, comment, literal):
    call_line = f's = "{literal}"; tf.ConfigProto(log_device_placement=True)'
    source = f"# -*- coding: {encoding} -*-\n# {comment}\nimport tensorflow.compat.v1 as tf\n{call_line}\n"
    data = source.encode(encoding)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # otherwise the test would pass without honouring the cookie
    write(project / "legacy.py", data)
    run = lint_beside_good(project)
    assert run.stderr == ""
    assert [finding for finding in concise_codes(run) if finding[0] == "legacy.py"] == [
        ("legacy.py", 4, call_line.index("True") + 1, "DL201")  # columns count characters, not bytes
    ]
    assert "DL000" not in run.stdout


def test_non_utf8_bytes_without_a_cookie(project):
    write(project / "latin.py", TRIGGER.encode() + b'x = 1\nname = "caf\xe9"\n')
    run = lint_beside_good(project)
    assert run.stderr == ""
    line, column, message = only_dl000(run, "latin.py")
    assert (line, column) == (3, 12)
    assert "0xe9" in message and "line 3" in message
    assert "UTF-8" in message


def test_binary_file_named_py(project):
    write(project / "x.py", b"log_device_placement\x00\x01\x02\xff\xfe" + bytes(range(256)))
    run = lint_beside_good(project)
    assert run.stderr == ""
    _, _, message = only_dl000(run, "x.py")
    assert "binary" in message and "NUL" in message


# --- files that cannot be read ----------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(project):
    path = write(project / "secret.py", BAD)
    path.chmod(0)
    try:
        run = lint_beside_good(project)
    finally:
        path.chmod(0o644)
    assert run.stderr == ""
    _, _, message = only_dl000(run, "secret.py")
    assert "permission denied" in message


needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")


@needs_symlinks
@pytest.mark.parametrize("named", [False, True], ids=["walked", "named"])
def test_symlink_loop_file(project, named):
    os.symlink("a.py", project / "a.py")
    run = lint_beside_good(project, *(["a.py"] if named else []))
    assert run.stderr == ""
    _, _, message = only_dl000(run, "a.py")
    assert "symbolic link loop" in message


@needs_symlinks
@pytest.mark.parametrize("named", [False, True], ids=["walked", "named"])
def test_dangling_symlink(project, named):
    os.symlink("nowhere.py", project / "dangling.py")
    run = lint_beside_good(project, *(["dangling.py"] if named else []))
    assert run.stderr == ""
    _, _, message = only_dl000(run, "dangling.py")
    assert "no such file" in message


@needs_symlinks
def test_directory_symlink_loop_is_reported_not_walked(project):
    write(project / "pkg" / "model.py", BAD)
    os.symlink("..", project / "pkg" / "up")  # pkg/up -> project, which holds pkg again
    os.symlink("loop", project / "pkg" / "loop")  # a link to itself
    write(project / "good.py", BAD)
    started = time.monotonic()
    run = run_dldoctor("lint", "--output-format", "concise", ".", cwd=project, timeout=60)
    assert time.monotonic() - started < 60
    run.assert_no_traceback()
    assert run.returncode == 1
    # Each real file once, no matter how many ways the links reach it.
    assert sorted(concise_codes(run)) == [
        ("good.py", BAD_LINE, BAD_COLUMN, "DL201"),
        (os.path.join("pkg", "model.py"), BAD_LINE, BAD_COLUMN, "DL201"),
    ]
    warnings = [line for line in run.stderr.splitlines() if line.startswith("dldoctor: warning: ")]
    assert any("pkg/up" in line and "symbolic link loop" in line for line in warnings), run.stderr
