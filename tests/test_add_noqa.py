"""`dldoctor lint --add-noqa`: a `# noqa: CODE` for every current finding, never breaking a file."""

from __future__ import annotations

import json
import os
import stat

from conftest import BAD, run_dldoctor, write

HEADER = "import tensorflow.compat.v1 as tf\n"
ON = "config = tf.ConfigProto(log_device_placement=True)"


def add_noqa(directory, *paths):
    run = run_dldoctor("lint", "--add-noqa", *paths, cwd=directory)
    assert run.returncode == 0, run.stdout + run.stderr
    run.assert_no_traceback()
    return run


def clean(directory, *paths) -> bool:
    return run_dldoctor("lint", "--select", "ALL", *paths, cwd=directory).returncode == 0


def test_every_finding_gets_its_code_and_the_run_is_then_clean(project):
    path = write(project / "model.py", f"{HEADER}{ON}\nx = 1\n{ON}   \n")
    write(project / "other.py", "x = 1\n")
    run = add_noqa(project, ".")
    assert "Added 2 noqa directives." in run.stderr
    assert path.read_text() == f"{HEADER}{ON}  # noqa: DL201\nx = 1\n{ON}  # noqa: DL201\n"
    assert (project / "other.py").read_text() == "x = 1\n"
    assert run_dldoctor("lint", "model.py", cwd=project).returncode == 0
    # A second run has nothing left to add.
    assert "Added 0 noqa directives." in add_noqa(project, ".").stderr


def test_joins_an_existing_directive_and_keeps_other_comments(project):
    path = write(project / "model.py", f"{HEADER}{ON}  # noqa: E501\n{ON}  # debug run only\n")
    add_noqa(project, "model.py")
    assert path.read_text() == f"{HEADER}{ON}  # noqa: E501, DL201\n{ON}  # debug run only  # noqa: DL201\n"


def test_several_codes_on_one_line(project):
    # torch 2.5 still defaults to weights_only=False: DL502 as well as DL501.
    write(project / "pyproject.toml", '[tool.dldoctor]\ntarget-versions = { torch = "2.5" }\n')
    path = write(project / "load.py", 'import torch\nstate = torch.load("model.pt")\n')
    add_noqa(project, "load.py")
    assert path.read_text().splitlines()[1] == 'state = torch.load("model.pt")  # noqa: DL501, DL502'
    assert run_dldoctor("lint", "load.py", cwd=project).returncode == 0


def test_a_line_ending_inside_a_multi_line_string_gets_its_comment_after_the_string(project):
    source = f'{HEADER}config = tf.ConfigProto(log_device_placement=True, name="""first\nsecond""")\n'
    path = write(project / "model.py", source)
    add_noqa(project, "model.py")
    assert path.read_text() == source.replace('second""")\n', 'second""")  # noqa: DL201\n')
    assert run_dldoctor("lint", "model.py", cwd=project).returncode == 0


def test_a_backslash_continued_line_gets_its_comment_where_the_statement_ends(project):
    source = f"{HEADER}config = tf.ConfigProto(log_device_placement=True) if True \\\n    else None\n"
    path = write(project / "model.py", source)
    add_noqa(project, "model.py")
    assert path.read_text() == source.replace("    else None\n", "    else None  # noqa: DL201\n")
    assert run_dldoctor("lint", "model.py", cwd=project).returncode == 0


def test_line_endings_encoding_and_mode_are_kept(project):
    source = f"# -*- coding: latin-1 -*-\n{HEADER}{ON}\nname = 'caf\xe9'\n".replace("\n", "\r\n")
    path = write(project / "model.py", source.encode("latin-1"))
    os.chmod(path, 0o640)
    add_noqa(project, "model.py")
    assert path.read_bytes() == source.replace(f"{ON}\r\n", f"{ON}  # noqa: DL201\r\n").encode("latin-1")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_file_that_cannot_be_linted_is_left_alone(project):
    broken = write(project / "broken.py", "def f(:\n    pass\n")
    add_noqa(project, ".")
    assert broken.read_text() == "def f(:\n    pass\n"


def test_a_notebook_cell(project):
    cells = [HEADER, f"{ON}\n"]
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "source": cell, "outputs": [], "execution_count": None} for cell in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    path = write(project / "explore.ipynb", json.dumps(notebook, indent=1) + "\n")
    add_noqa(project, "explore.ipynb")
    assert json.loads(path.read_text())["cells"][1]["source"] == f"{ON}  # noqa: DL201\n"
    assert run_dldoctor("lint", "explore.ipynb", cwd=project).returncode == 0


def test_add_noqa_needs_files(project):
    run = run_dldoctor("lint", "--add-noqa", "-", cwd=project, stdin=BAD)
    assert run.returncode == 2 and "--add-noqa" in run.stderr
