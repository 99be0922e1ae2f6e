"""The `dldoctor` command line as a user runs it: exit codes, selection, discovery, stdin, rule docs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import dldoctor
from conftest import BAD, BAD_COLUMN, BAD_LINE, CLEAN, clean_env, concise_codes, run_dldoctor, write

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
SYNTAX_ERROR = "log_device_placement = True\ndef f(:\n    pass\n"


def _project_version() -> str:
    with open(REPO / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


# --- --version --------------------------------------------------------------------------------


def test_version_from_the_console_script_next_to_the_interpreter(tmp_path):
    script = Path(sys.executable).parent / ("dldoctor.exe" if os.name == "nt" else "dldoctor")
    assert script.is_file(), f"console script {script} is not installed"
    completed = subprocess.run(
        [str(script), "--version"], cwd=tmp_path, capture_output=True, text=True, env=clean_env(), timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"dldoctor {_project_version()}\n"
    assert completed.stderr == ""


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_from_python_dash_m(tmp_path, flag):
    run = run_dldoctor(flag, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"dldoctor {_project_version()}\n"
    assert dldoctor.__version__ == _project_version()


# --- exit codes -------------------------------------------------------------------------------


def test_clean_file_exits_0(project):
    write(project / "good.py", CLEAN)
    run = run_dldoctor("lint", "good.py", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "All checks passed!" in run.stdout
    assert run.stderr == ""


def test_findings_exit_1(project):
    write(project / "bad.py", BAD)
    write(project / "good.py", CLEAN)
    run = run_dldoctor("lint", "--output-format", "concise", "bad.py", "good.py", cwd=project)
    assert run.returncode == 1, run.stderr
    assert concise_codes(run) == [("bad.py", BAD_LINE, BAD_COLUMN, "DL201")]
    assert run.stderr == ""


def test_unknown_select_code_exits_2_before_linting(project):
    write(project / "bad.py", BAD)
    run = run_dldoctor("lint", "--select", "DL999", "bad.py", cwd=project)
    assert run.returncode == 2
    assert "DL999" in run.stderr
    assert run.stdout == ""
    run.assert_no_traceback()


def test_unknown_output_format_exits_2(project):
    write(project / "bad.py", BAD)
    run = run_dldoctor("lint", "--output-format", "xml", "bad.py", cwd=project)
    assert run.returncode == 2
    assert "'xml'" in run.stderr and "sarif" in run.stderr  # names the bad one and the choices
    assert run.stdout == ""
    run.assert_no_traceback()


def test_nonexistent_path_exits_2_but_the_other_paths_are_still_reported(project):
    write(project / "bad.py", BAD)
    run = run_dldoctor("lint", "--output-format", "concise", "missing.py", "bad.py", cwd=project)
    assert run.returncode == 2
    assert "missing.py" in run.stderr and "no such file" in run.stderr
    assert concise_codes(run) == [("bad.py", BAD_LINE, BAD_COLUMN, "DL201")]
    run.assert_no_traceback()


def test_bad_config_exits_2(project):
    write(project / "pyproject.toml", "[tool.dldoctor]\nselect = [\n")
    write(project / "bad.py", BAD)
    run = run_dldoctor("lint", "bad.py", cwd=project)
    assert run.returncode == 2
    assert "pyproject.toml" in run.stderr
    assert run.stdout == ""
    run.assert_no_traceback()


def test_exit_zero_reports_findings_but_exits_0(project):
    write(project / "bad.py", BAD)
    run = run_dldoctor("lint", "--exit-zero", "--output-format", "concise", "bad.py", cwd=project)
    assert run.returncode == 0
    assert concise_codes(run) == [("bad.py", BAD_LINE, BAD_COLUMN, "DL201")]


def test_exit_zero_does_not_hide_usage_errors(project):
    write(project / "bad.py", BAD)
    run = run_dldoctor("lint", "--exit-zero", "bad.py", "missing.py", cwd=project)
    assert run.returncode == 2
    assert "missing.py" in run.stderr


# --- rule selection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "reported"),
    [
        ([], True),
        (["--select", "DL201"], True),
        (["--select", "dl201"], True),
        (["--select", "DL2"], True),
        (["--select", "DL"], True),
        (["--select", "ALL"], True),
        (["--select", "DL000"], False),
        (["--select", "DL000,DL201"], True),
        (["--select", "DL000", "--select", "DL201"], True),
        (["--select", "DL000", "--extend-select", "DL201"], True),
        (["--select", "DL000", "--extend-select", "DL000,DL2"], True),
        (["--ignore", "DL201"], False),
        (["--ignore", "DL2"], False),
        (["--ignore", "DL000,DL201"], False),
        (["--select", "ALL", "--ignore", "DL201"], False),
        (["--select", "DL201", "--ignore", "DL000"], True),
        (["--extend-select", "DL201", "--ignore", "DL201"], False),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else str(value),
)
def test_selection(project, options, reported):
    write(project / "bad.py", BAD)
    run = run_dldoctor("lint", "--output-format", "concise", *options, "bad.py", cwd=project)
    assert run.stderr == ""
    assert run.returncode == (1 if reported else 0)
    assert concise_codes(run) == ([("bad.py", BAD_LINE, BAD_COLUMN, "DL201")] if reported else [])


@pytest.mark.parametrize(
    "options",
    [["--select", "DL9"], ["--select", "DL201,XYZ"], ["--ignore", "DL999"], ["--extend-select", "DL777"]],
    ids=" ".join,
)
def test_unknown_selectors_anywhere_exit_2(project, options):
    write(project / "bad.py", BAD)
    run = run_dldoctor("lint", *options, "bad.py", cwd=project)
    assert run.returncode == 2
    assert options[1].split(",")[-1] in run.stderr
    assert run.stdout == ""


def test_unreadable_source_is_on_whatever_is_selected_and_can_be_ignored(project):
    write(project / "broken.py", SYNTAX_ERROR)
    shown = run_dldoctor("lint", "--output-format", "concise", "--select", "DL201", "broken.py", cwd=project)
    assert shown.returncode == 1
    assert [code for *_, code in concise_codes(shown)] == ["DL000"]
    hidden = run_dldoctor("lint", "--output-format", "concise", "--quiet", "--ignore", "DL000", "broken.py", cwd=project)
    assert hidden.returncode == 0
    assert hidden.stdout == ""


# --- discovery --------------------------------------------------------------------------------


def test_default_path_is_the_current_directory(project):
    write(project / "pkg" / "model.py", BAD)
    write(project / "pkg" / "ok.py", CLEAN)
    run = run_dldoctor("lint", "--output-format", "concise", cwd=project)
    assert run.returncode == 1, run.stderr
    assert concise_codes(run) == [(os.path.join("pkg", "model.py"), BAD_LINE, BAD_COLUMN, "DL201")]


def test_skipped_directories(project):
    write(project / "src" / "model.py", BAD)  # the control: found
    skipped = [".git", ".venv", "build", "__pycache__", "node_modules", "site-packages", "dist", ".tox"]
    for name in skipped:
        write(project / name / "model.py", BAD)
        write(project / "src" / name / "nested.py", BAD)
    # A virtual environment under any name is recognised by its pyvenv.cfg.
    write(project / "my-env" / "pyvenv.cfg", "home = /usr/bin\n")
    write(project / "my-env" / "lib" / "python3" / "site-packages" / "pkg" / "x.py", BAD)
    write(project / "my-env" / "bin" / "tool.py", BAD)
    # ... but a directory merely named like a skipped one's prefix is linted.
    write(project / "builder" / "model.py", BAD)
    run = run_dldoctor("lint", "--output-format", "concise", ".", cwd=project)
    assert run.stderr == ""
    assert sorted(path for path, *_ in concise_codes(run)) == [
        os.path.join("builder", "model.py"),
        os.path.join("src", "model.py"),
    ]


def test_a_file_named_on_the_command_line_is_linted_whatever_its_extension(project):
    write(project / "train.txt", BAD)
    write(project / "notes.txt", BAD)  # not named, and not *.py: never looked at
    run = run_dldoctor("lint", "--output-format", "concise", "train.txt", cwd=project)
    assert concise_codes(run) == [("train.txt", BAD_LINE, BAD_COLUMN, "DL201")]


def test_many_files_are_linted_in_parallel_and_reported_in_order(project):
    # More files than pool.PARALLEL_THRESHOLD, so worker processes do the work.
    for index in range(40):
        write(project / f"m{index:02d}.py", BAD if index % 2 else CLEAN)
    run = run_dldoctor("lint", "--output-format", "concise", ".", cwd=project)
    assert run.returncode == 1, run.stderr
    assert concise_codes(run) == [(f"m{index:02d}.py", BAD_LINE, BAD_COLUMN, "DL201") for index in range(1, 40, 2)]
    text = run_dldoctor("lint", ".", cwd=project)
    assert "Found 20 findings in 20 files (40 files checked)" in text.stdout


def test_the_same_file_named_twice_is_reported_once(project):
    write(project / "bad.py", BAD)
    run = run_dldoctor("lint", "--output-format", "concise", "bad.py", "./bad.py", ".", cwd=project)
    assert concise_codes(run) == [("bad.py", BAD_LINE, BAD_COLUMN, "DL201")]


# --- stdin ------------------------------------------------------------------------------------


def test_stdin_with_stdin_filename(project):
    run = run_dldoctor(
        "lint", "--output-format", "concise", "--stdin-filename", "src/train.py", "-", cwd=project, stdin=BAD
    )
    assert run.returncode == 1, run.stderr
    assert concise_codes(run) == [("src/train.py", BAD_LINE, BAD_COLUMN, "DL201")]


def test_stdin_filename_in_json_is_made_absolute(project):
    run = run_dldoctor(
        "lint", "--output-format", "json", "--stdin-filename", "train.py", "-", cwd=project, stdin=BAD
    )
    [finding] = run.json()
    assert os.path.realpath(finding["filename"]) == os.path.realpath(project / "train.py")


def test_stdin_without_a_name_is_reported_as_dash(project):
    run = run_dldoctor("lint", "--output-format", "concise", "-", cwd=project, stdin=BAD)
    assert concise_codes(run) == [("-", BAD_LINE, BAD_COLUMN, "DL201")]


def test_clean_stdin_exits_0(project):
    run = run_dldoctor("lint", "-", "--stdin-filename", "x.py", cwd=project, stdin=CLEAN)
    assert run.returncode == 0
    assert "All checks passed! (1 file checked)" in run.stdout


def test_stdin_bytes_are_decoded_by_their_coding_cookie(project):
    source = "# -*- coding: latin-1 -*-\n# café\n" + BAD
    run = run_dldoctor(
        "lint", "--output-format", "concise", "-", "--stdin-filename", "x.py", cwd=project, stdin=source.encode("latin-1")
    )
    assert concise_codes(run) == [("x.py", BAD_LINE + 2, BAD_COLUMN, "DL201")]


def test_stdin_cannot_be_mixed_with_paths(project):
    write(project / "bad.py", BAD)
    run = run_dldoctor("lint", "-", "bad.py", cwd=project, stdin=BAD)
    assert run.returncode == 2
    assert "stdin" in run.stderr
    assert run.stdout == ""


# --- rules and rule ---------------------------------------------------------------------------


def test_rules_table_lists_dl201_and_its_name(tmp_path):
    run = run_dldoctor("rules", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    [row] = [line for line in run.lines if line.startswith("DL201")]
    assert row.split()[:3] == ["DL201", "log-device-placement", "warning"]
    assert run.lines[0].split()[:4] == ["code", "name", "severity", "summary"]


def test_rules_json(tmp_path):
    from dldoctor.rules.dl201_log_device_placement import LogDevicePlacement

    run = run_dldoctor("rules", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    rows = run.json()
    codes = [row["code"] for row in rows]
    assert codes == sorted(set(codes))
    [row] = [row for row in rows if row["code"] == "DL201"]
    assert row == {
        "code": "DL201",
        "name": "log-device-placement",
        "severity": "warning",
        "default": True,
        "summary": LogDevicePlacement.summary,
        "url": "docs/rules/DL201.md",
    }


@pytest.mark.parametrize("code", ["DL201", "dl201"])
def test_rule_prints_the_documentation(tmp_path, code):
    run = run_dldoctor("rule", code, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.lines[0] == "# DL201 log-device-placement (warning)"
    headings = [line for line in run.lines if line.startswith("## ")]
    assert headings == ["## What it does", "## Why is this bad", "## Example", "## Use instead", "## Fix safety"]
    assert "log_device_placement=True" in run.stdout  # the example itself, not just headings


def test_unknown_rule_exits_2(tmp_path):
    run = run_dldoctor("rule", "DL999", cwd=tmp_path)
    assert run.returncode == 2
    assert "DL999" in run.stderr
    assert run.stdout == ""
    run.assert_no_traceback()


def test_unknown_option_is_a_usage_error(tmp_path):
    run = run_dldoctor("lint", "--no-such-option", cwd=tmp_path)
    assert run.returncode == 2
    assert "--no-such-option" in run.stderr

