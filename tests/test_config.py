"""`[tool.dldoctor]` in pyproject.toml, `--config`, and how the command line overrides them."""

from __future__ import annotations

import os

import pytest

from conftest import BAD, BAD_COLUMN, BAD_LINE, concise_codes, run_dldoctor, write


def lint(project, *args, **kwargs):
    return run_dldoctor("lint", "--output-format", "concise", *args, cwd=project, **kwargs)


def reported_paths(run) -> list[str]:
    return sorted(path.replace(os.sep, "/") for path, *_ in concise_codes(run))


# --- finding the file -------------------------------------------------------------------------


def test_nearest_pyproject_is_found_upward_from_the_linted_path_not_the_cwd(tmp_path):
    project = tmp_path / "project"
    write(project / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL201"]\n')
    write(project / "pkg" / "deep" / "model.py", BAD)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ignored = lint(elsewhere, project / "pkg" / "deep" / "model.py")
    assert ignored.returncode == 0, ignored.stdout + ignored.stderr
    assert ignored.stdout == ""
    # The control: the same file, with the configuration gone, is reported.
    (project / "pyproject.toml").unlink()
    reported = lint(elsewhere, project / "pkg" / "deep" / "model.py")
    assert reported.returncode == 1


def test_the_nearest_table_wins_over_one_further_up(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL201"]\n')
    write(tmp_path / "inner" / "pyproject.toml", '[tool.dldoctor]\nselect = ["DL201"]\n')
    write(tmp_path / "inner" / "model.py", BAD)
    write(tmp_path / "outer" / "model.py", BAD)
    assert lint(tmp_path, "inner/model.py").returncode == 1
    assert lint(tmp_path, "outer/model.py").returncode == 0


def test_a_pyproject_without_a_dldoctor_table_is_passed_over(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL201"]\n')
    write(tmp_path / "inner" / "pyproject.toml", '[project]\nname = "inner"\n\n[tool.ruff]\nline-length = 100\n')
    write(tmp_path / "inner" / "model.py", BAD)
    run = lint(tmp_path / "inner", "model.py")
    assert run.returncode == 0, run.stdout + run.stderr


# --- the keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "reported"),
    [
        ("", True),
        ('select = ["DL201"]', True),
        ('select = ["DL2"]', True),
        ('select = ["ALL"]', True),
        ('select = ["DL000"]', False),
        ('select = "DL000"', False),
        ('select = ["DL000"]\nextend-select = ["DL201"]', True),
        ('ignore = ["DL201"]', False),
        ('ignore = ["DL2"]', False),
        ('select = ["ALL"]\nignore = ["DL201"]', False),
    ],
)
def test_selection_keys(project, table, reported):
    write(project / "pyproject.toml", f"[tool.dldoctor]\n{table}\n")
    write(project / "model.py", BAD)
    run = lint(project, "model.py")
    assert run.stderr == ""
    assert concise_codes(run) == ([("model.py", BAD_LINE, BAD_COLUMN, "DL201")] if reported else [])


def test_exclude(project):
    write(
        project / "pyproject.toml",
        '[tool.dldoctor]\nexclude = ["generated", "legacy/*.py", "scratch_*.py"]\n',
    )
    for name in ["generated/a.py", "src/generated/b.py", "legacy/c.py", "scratch_1.py", "src/scratch_2.py"]:
        write(project / name, BAD)
    for name in ["src/model.py", "src/legacy/e.py", "generated_not.py"]:
        write(project / name, BAD)
    run = lint(project)
    assert run.stderr == ""
    # A pattern with a `/` is anchored at the config's directory; a bare name matches anywhere.
    assert reported_paths(run) == ["generated_not.py", "src/legacy/e.py", "src/model.py"]


def test_exclude_is_relative_to_the_config_not_the_cwd(project):
    write(project / "pyproject.toml", '[tool.dldoctor]\nexclude = ["src/generated"]\n')
    write(project / "src" / "generated" / "a.py", BAD)
    write(project / "src" / "model.py", BAD)
    run = lint(project / "src", ".")
    assert reported_paths(run) == ["model.py"]


def test_extend_exclude_on_the_command_line(project):
    write(project / "src" / "model.py", BAD)
    write(project / "src" / "vendored" / "lib.py", BAD)
    run = lint(project, "--extend-exclude", "vendored", ".")
    assert reported_paths(run) == ["src/model.py"]


def test_per_file_ignores(project):
    write(
        project / "pyproject.toml",
        "[tool.dldoctor.per-file-ignores]\n"
        '"tests/*" = ["DL201"]\n'
        '"conftest.py" = ["DL2"]\n'
        '"scripts/" = ["ALL"]\n',
    )
    for name in ["tests/test_a.py", "tests/sub/test_b.py", "conftest.py", "pkg/conftest.py", "scripts/run.py"]:
        write(project / name, BAD)
    for name in ["src/model.py", "test_c.py"]:
        write(project / name, BAD)
    run = lint(project)
    assert run.stderr == ""
    assert reported_paths(run) == ["src/model.py", "test_c.py"]


def test_per_file_ignores_apply_to_stdin_by_its_stdin_filename(project):
    write(project / "pyproject.toml", '[tool.dldoctor.per-file-ignores]\n"tests/*" = ["DL201"]\n')
    ignored = lint(project, "--stdin-filename", "tests/test_x.py", "-", stdin=BAD)
    assert ignored.returncode == 0, ignored.stdout + ignored.stderr
    reported = lint(project, "--stdin-filename", "src/x.py", "-", stdin=BAD)
    assert reported.returncode == 1


# --- --config ---------------------------------------------------------------------------------


def test_config_option_names_a_pyproject_elsewhere(tmp_path):
    write(tmp_path / "settings" / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL201"]\n')
    write(tmp_path / "project" / "pyproject.toml", '[tool.dldoctor]\nselect = ["DL201"]\n')  # not read
    write(tmp_path / "project" / "model.py", BAD)
    with_option = lint(tmp_path / "project", "--config", tmp_path / "settings" / "pyproject.toml", "model.py")
    assert with_option.returncode == 0, with_option.stdout + with_option.stderr
    without = lint(tmp_path / "project", "model.py")
    assert without.returncode == 1


def test_config_option_reads_a_dedicated_file_with_top_level_keys(project):
    write(project / "dldoctor.toml", 'ignore = ["DL201"]\n')
    write(project / "model.py", BAD)
    run = lint(project, "--config", "dldoctor.toml", "model.py")
    assert run.returncode == 0, run.stdout + run.stderr


def test_config_option_pyproject_without_table_is_an_error(project):
    write(project / "pyproject.toml", '[project]\nname = "x"\n')
    write(project / "model.py", BAD)
    run = lint(project, "--config", "pyproject.toml", "model.py")
    assert run.returncode == 2
    assert "no [tool.dldoctor] table" in run.stderr


def test_config_option_missing_file_is_an_error(project):
    write(project / "model.py", BAD)
    run = lint(project, "--config", "nope.toml", "model.py")
    assert run.returncode == 2
    assert "nope.toml" in run.stderr
    run.assert_no_traceback()


# --- the command line overrides the file ------------------------------------------------------


def test_cli_select_replaces_the_files_select(project):
    write(project / "pyproject.toml", '[tool.dldoctor]\nselect = ["DL000"]\n')
    write(project / "model.py", BAD)
    assert lint(project, "model.py").returncode == 0
    run = lint(project, "--select", "DL201", "model.py")
    assert concise_codes(run) == [("model.py", BAD_LINE, BAD_COLUMN, "DL201")]


def test_cli_extend_select_adds_to_the_files_select(project):
    write(project / "pyproject.toml", '[tool.dldoctor]\nselect = ["DL000"]\n')
    write(project / "model.py", BAD)
    assert lint(project, "--extend-select", "DL201", "model.py").returncode == 1


def test_cli_ignore_adds_to_the_files_ignore(project):
    write(project / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL000"]\n')
    write(project / "model.py", BAD)
    assert lint(project, "model.py").returncode == 1
    assert lint(project, "--ignore", "DL201", "model.py").returncode == 0


# --- bad configuration: exit 2, a message naming the problem, nothing linted --------------------


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('[tool.dldoctor]\nselct = ["DL201"]\n', "selct"),
        ('[tool.dldoctor]\nselect = ["DL201"]\nline-length = 88\n', "line-length"),
        ('[tool.dldoctor]\nselect = ["DL999"]\n', "DL999"),
        ('[tool.dldoctor]\nignore = ["DL9"]\n', "DL9"),
        ('[tool.dldoctor]\nextend-select = ["XX1"]\n', "XX1"),
        ('[tool.dldoctor.per-file-ignores]\n"tests/*" = ["DL998"]\n', "DL998"),
        ("[tool.dldoctor]\nselect = 201\n", "select"),
        ("[tool.dldoctor]\nselect = [\n", "invalid TOML"),
        ("[tool.dldoctor\n", "invalid TOML"),
    ],
    ids=["misspelt-key", "foreign-key", "unknown-code", "unknown-prefix", "unknown-extend", "unknown-per-file",
         "wrong-type", "unclosed-array", "unclosed-table"],
)
def test_bad_configuration_exits_2(project, content, named):
    write(project / "pyproject.toml", content)
    write(project / "model.py", BAD)
    run = lint(project, "model.py")
    assert run.returncode == 2
    assert run.stdout == ""
    [message] = run.stderr.splitlines()
    assert message.startswith("dldoctor: error: ")
    assert named in message
    run.assert_no_traceback()


def test_unknown_key_message_names_the_file(project):
    write(project / "pyproject.toml", '[tool.dldoctor]\nselct = ["DL201"]\n')
    write(project / "model.py", BAD)
    run = lint(project, "model.py")
    assert "pyproject.toml" in run.stderr and "unknown key" in run.stderr
