"""Jupyter notebooks: code cells linted as one module, findings placed in their cells,
IPython syntax skipped without moving lines, `--fix` touching nothing but fixed code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dldoctor.lint import registry, runner

ALL_CODES = frozenset(registry.all_rules()) | {registry.UNREADABLE_CODE}


def cell(source: str, outputs: list | None = None) -> dict:
    lines = source.split("\n")
    return {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {},
        "outputs": outputs or [],
        "source": [line + "\n" for line in lines[:-1]] + [lines[-1]],
    }


def notebook(*cells: dict) -> str:
    data = {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def findings(text: str):
    result = runner.lint_bytes("nb.ipynb", text.encode(), ALL_CODES)
    assert result.internal_error is None, result.internal_error
    return [(f.cell, f.line, f.column, f.code) for f in result.findings]


def dldoctor(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dldoctor", "lint", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"},
    )


def test_imports_of_earlier_cells_resolve_names_in_later_ones():
    text = notebook(
        {"cell_type": "markdown", "metadata": {}, "source": ["# notes"]},
        cell("import tensorflow.compat.v1 as tf"),
        cell("config = tf.ConfigProto(\n    log_device_placement=True)"),
    )
    assert findings(text) == [(3, 2, 26, "DL201")]


def test_magics_and_shell_lines_are_skipped_without_moving_lines():
    text = notebook(
        cell("%matplotlib inline\nimport time\n!nvidia-smi\nfiles = !ls\nhelp?"),
        cell("%%time\nwhile True:\n    %time step()\n    time.sleep(1)"),
    )
    assert findings(text) == [(2, 2, 7, "DL401")]


def test_a_non_python_cell_magic_is_skipped_whole():
    text = notebook(cell("%%bash\nfor f in *.jpg; do echo $f; done"), cell("x = 1"))
    assert findings(text) == []


def test_a_syntax_error_is_reported_in_its_cell():
    text = notebook(cell("import os"), cell("x = 1\nprint 'log_device_placement'"))
    ((cell_number, line, _, code),) = findings(text)
    assert (cell_number, line, code) == (2, 2, "DL000")


def test_output_formats_name_the_cell(tmp_path):
    (tmp_path / "nb.ipynb").write_text(notebook(cell("import tensorflow.compat.v1 as tf"), cell("tf.ConfigProto(log_device_placement=True)")))
    concise = dldoctor("nb.ipynb", "--output-format", "concise", cwd=tmp_path)
    assert concise.stdout.startswith("nb.ipynb:cell 2:1:37: DL201 ")
    (item,) = json.loads(dldoctor("nb.ipynb", "--output-format", "json", cwd=tmp_path).stdout)
    assert (item["cell"], item["location"], item["code"]) == (2, {"row": 1, "column": 37}, "DL201")
    text = dldoctor("nb.ipynb", cwd=tmp_path).stdout
    assert "  cell 2:1:37  DL201" in text


def test_directories_include_notebooks_but_not_checkpoints(tmp_path):
    bad = notebook(cell("import tensorflow.compat.v1 as tf\ntf.ConfigProto(log_device_placement=True)"))
    (tmp_path / "nb.ipynb").write_text(bad)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").write_text(bad)
    run = dldoctor(".", "--output-format", "concise", "--quiet", cwd=tmp_path)
    assert [line.split(":")[0] for line in run.stdout.splitlines()] == ["nb.ipynb"]


def test_fix_changes_only_the_fixed_source_line(tmp_path):
    outputs = [{"name": "stdout", "output_type": "stream", "text": ["done\n"]}]
    original = notebook(
        cell("%matplotlib inline\nimport tensorflow.compat.v1 as tf", outputs),
        cell("cfg = tf.ConfigProto(allow_soft_placement=True, log_device_placement=True)\n!echo ok", outputs),
    )
    path = tmp_path / "nb.ipynb"
    path.write_text(original)
    run = dldoctor("nb.ipynb", "--fix", cwd=tmp_path)
    assert "Fixed 1 finding." in run.stdout, run.stdout + run.stderr
    fixed = path.read_text()
    changed = [(a, b) for a, b in zip(original.splitlines(), fixed.splitlines()) if a != b]
    assert changed == [
        (
            '    "cfg = tf.ConfigProto(allow_soft_placement=True, log_device_placement=True)\\n",',
            '    "cfg = tf.ConfigProto(allow_soft_placement=True)\\n",',
        )
    ]
    assert len(original.splitlines()) == len(fixed.splitlines())
    assert json.loads(fixed)["cells"][1]["outputs"] == outputs


def test_a_notebook_whose_layout_would_change_is_not_rewritten(tmp_path):
    data = json.loads(notebook(cell("import tensorflow.compat.v1 as tf\ntf.ConfigProto(log_device_placement=True)")))
    minified = json.dumps(data, separators=(",", ":"))
    path = tmp_path / "nb.ipynb"
    path.write_text(minified)
    run = dldoctor("nb.ipynb", "--fix", cwd=tmp_path)
    assert path.read_text() == minified
    assert "cannot be rewritten" in run.stderr
    assert "DL201" in run.stdout


def test_a_broken_notebook_is_one_clear_line(tmp_path):
    (tmp_path / "bad.ipynb").write_text('{"cells": [')
    (tmp_path / "good.py").write_text("import tensorflow.compat.v1 as tf\ntf.ConfigProto(log_device_placement=True)\n")
    run = dldoctor(".", "--output-format", "concise", cwd=tmp_path)
    assert "Traceback" not in run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("bad.ipynb:1:1: DL000 not a notebook: invalid JSON") for line in lines), lines
    assert any(line.startswith("good.py:2:") for line in lines)


def test_a_comment_ending_in_a_question_mark_is_not_ipython_help():
    text = notebook(
        cell("import tensorflow.compat.v1 as tf"),
        cell(
            "# which of these does the cluster need?\n"
            "config = tf.ConfigProto(allow_soft_placement=True,  # needed on CPU-only boxes?\n"
            "                        log_device_placement=True)"
        ),
    )
    assert findings(text) == [(2, 3, 46, "DL201")]


def test_python_inside_brackets_strings_and_continuations_is_not_ipython():
    source = (
        "import tensorflow.compat.v1 as tf\n"
        "steps_left = (total_steps\n"
        "              % steps_per_epoch)\n"
        'NOTES = """\n'
        "%d images per class?\n"
        "!important: resize first\n"
        '"""\n'
        'tag = "%s_%d" \\\n'
        "    % (name, step)\n"
        "config = tf.ConfigProto(log_device_placement=True)"
    )
    assert findings(notebook(cell(source))) == [(1, 10, 46, "DL201")]
    # The lines are kept as they are: the string still holds its two lines.
    assert "%d images per class?\n!important: resize first\n" in runner.notebook.load(notebook(cell(source))).text


def test_ipython_help_and_escapes_are_still_skipped():
    text = notebook(
        cell("import tensorflow.compat.v1 as tf\ntf.ConfigProto?\n?tf.Session\ntf.train.Saver??\n%time x = 1"),
        cell("if True:\n    files = !ls *.jpg\n    tf.ConfigProto(log_device_placement=True)"),
    )
    assert findings(text) == [(2, 3, 41, "DL201")]


def _py2_notebook() -> str:
    return notebook(
        cell("import tensorflow.compat.v1 as tf"),
        cell("batch = 32\nprint 'batch size', batch"),
        {"cell_type": "markdown", "metadata": {}, "source": ["## Session"]},
        cell("config = tf.ConfigProto(log_device_placement=True)\nsess = tf.Session(config=config)"),
        cell("for step in range(3):\n    print step"),
    )


def test_an_unparsable_cell_hides_no_other_cell():
    found = findings(_py2_notebook())
    assert [(c, line, code) for c, line, _, code in found] == [(2, 2, "DL000"), (4, 1, "DL201"), (5, 2, "DL000")]
    # A notebook that parses is linted as one module, with no DL000.
    fine = notebook(cell("import tensorflow.compat.v1 as tf"), cell("tf.ConfigProto(log_device_placement=True)"))
    assert [code for *_, code in findings(fine)] == ["DL201"]


def test_unparsable_cells_in_cli_output(tmp_path):
    (tmp_path / "nb.ipynb").write_text(_py2_notebook())
    concise = dldoctor("nb.ipynb", "--output-format", "concise", "--no-cache", cwd=tmp_path).stdout.splitlines()
    assert concise[0].startswith("nb.ipynb:cell 2:2:1: DL000 SyntaxError: Missing parentheses in call to 'print'")
    assert "Python 2" in concise[0]
    assert concise[1].startswith("nb.ipynb:cell 4:1:46: DL201 ")
    assert concise[2].startswith("nb.ipynb:cell 5:2:5: DL000 SyntaxError: Missing parentheses in call to 'print'")
    items = json.loads(dldoctor("nb.ipynb", "--output-format", "json", "--no-cache", cwd=tmp_path).stdout)
    assert [(item["cell"], item["location"]["row"], item["code"]) for item in items] == [
        (2, 2, "DL000"), (4, 1, "DL201"), (5, 2, "DL000"),
    ]
    text = dldoctor("nb.ipynb", "--no-cache", cwd=tmp_path).stdout
    assert "  cell 2:2:1  DL000" in text and "  cell 4:1:46  DL201" in text
    # With one rule selected, the other cells' findings still come (DL000 is always on).
    only = dldoctor("nb.ipynb", "--select", "DL201", "--output-format", "concise", "--no-cache", cwd=tmp_path)
    assert [line.split(": ")[1].split(" ")[0] for line in only.stdout.splitlines() if line.startswith("nb.ipynb")] == [
        "DL000", "DL201", "DL000",
    ]
    # Through the API, a selection without DL000 gets the other cells' findings alone.
    result = runner.lint_bytes("nb.ipynb", _py2_notebook().encode(), frozenset({"DL201"}))
    assert [(f.cell, f.code) for f in result.findings] == [(4, "DL201")]
