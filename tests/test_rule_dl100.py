"""DL100 unused-noqa: a `# noqa: DL...` that suppresses nothing, or names no rule.

DL201's `log_device_placement=True` is the finding the comments are about; every
case is linted with DL201 and DL100 selected (and the prefilter checked).
"""

from __future__ import annotations

import json

from conftest import run_dldoctor, write
from lintutil import lint, messages

HEADER = "import tensorflow.compat.v1 as tf\n"
ON = "config = tf.ConfigProto(log_device_placement=True)"
OFF = "config = tf.ConfigProto(log_device_placement=FLAGS.debug)"


def test_a_code_that_reports_nothing_on_its_line():
    source = f"{HEADER}{OFF}  # noqa: DL201\n"
    assert lint(source, "DL201", "DL100") == [(2, len(OFF) + 3, "DL100")]
    assert messages(source, "DL201", "DL100") == [
        "Unused `noqa` directive: DL201 reports nothing on this line; remove it"
    ]


def test_a_used_code_is_fine():
    assert lint(f"{HEADER}{ON}  # noqa: DL201\n", "DL201", "DL100") == []
    assert lint(f"{HEADER}{ON}  # NOQA:dl201\n", "DL201", "DL100") == []


def test_unknown_codes_and_prefixes():
    source = f"{HEADER}{ON}  # noqa: DL201, DL999\nx = 1  # noqa: DL2\n"
    assert lint(source, "DL201", "DL100") == [(2, len(ON) + 3, "DL100"), (3, 8, "DL100")]
    first, second = messages(source, "DL201", "DL100")
    assert "DL999 is not a dldoctor rule code" in first and "DL201" not in first
    assert "DL2 is not a dldoctor rule code" in second


def test_other_tools_codes_and_bare_noqa_are_never_judged():
    source = f"""{HEADER}import os  # noqa: F401
x = 1  # noqa
y = 2  # noqa: E501, W291
{OFF}  # noqa: E501
z = 3  # type: ignore  # noqa: B950
"""
    assert lint(source, "DL201", "DL100") == []


def test_text_inside_strings_is_not_a_comment():
    source = f'''{HEADER}HELP = "silence it with # noqa: DL999"
DOC = """
Example:
    {OFF}  # noqa: DL201
"""
'''
    assert lint(source, "DL201", "DL100") == []


def test_a_code_whose_rule_did_not_run_is_not_judged():
    source = f"{HEADER}{OFF}  # noqa: DL201\n"
    assert lint(source, "DL101", "DL100") == []  # DL201 not selected: it might be used elsewhere
    assert lint(f"# dldoctor: noqa: DL201\n{source}", "DL201", "DL100") == []


def test_noqa_for_dl100_itself_silences_it():
    assert lint(f"{HEADER}{OFF}  # noqa: DL201, DL100\n", "DL201", "DL100") == []


def test_a_noqa_after_a_multi_line_string_is_used_by_the_finding_inside_it():
    used = f'{HEADER}config = tf.ConfigProto(log_device_placement=True, name="""a\nb""")  # noqa: DL201\n'
    assert lint(used, "DL201", "DL100") == []
    unused = f'{HEADER}config = tf.ConfigProto(log_device_placement=False, name="""a\nb""")  # noqa: DL201\n'
    assert [code for _, _, code in lint(unused, "DL201", "DL100")] == ["DL100"]


def _fix(tmp_path, source: str) -> str:
    path = write(tmp_path / "model.py", source)
    run = run_dldoctor("lint", "--select", "DL201,DL100", "--fix", "model.py", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    return path.read_text(encoding="utf-8")


def test_fix_removes_only_the_unused_codes(tmp_path):
    source = (
        f"{HEADER}{OFF}  # noqa: DL201\n"
        f"{OFF}  # noqa: E501, DL201\n"
        f"{OFF}  # debug only  # noqa: DL201\n"
        f"{OFF}  # noqa: DL201 until the flag lands\n"
        f"{ON}  # noqa: DL201, DL999\n"
    )
    assert _fix(tmp_path, source) == (
        f"{HEADER}{OFF}\n"
        f"{OFF}  # noqa: E501\n"
        f"{OFF}  # debug only\n"
        f"{OFF}  # until the flag lands\n"
        f"{ON}  # noqa: DL201\n"
    )


def test_reported_by_the_cli_by_default_with_its_fix(tmp_path):
    write(tmp_path / "model.py", f"{HEADER}{OFF}  # noqa: DL201\n")
    run = run_dldoctor("lint", "--output-format", "json", "model.py", cwd=tmp_path)
    [finding] = json.loads(run.stdout)
    assert finding["code"] == "DL100" and finding["fix"]["applicability"] == "safe"
    assert run_dldoctor("lint", "--ignore", "DL100", "model.py", cwd=tmp_path).returncode == 0


def test_in_a_notebook_cell(tmp_path):
    cells = [HEADER, f"{OFF}  # noqa: DL201\n"]
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "source": cell, "outputs": [], "execution_count": None} for cell in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    write(tmp_path / "explore.ipynb", json.dumps(notebook, indent=1))
    run = run_dldoctor("lint", "--output-format", "json", "explore.ipynb", cwd=tmp_path)
    [finding] = json.loads(run.stdout)
    assert (finding["code"], finding["cell"], finding["location"]["row"]) == ("DL100", 2, 1)
