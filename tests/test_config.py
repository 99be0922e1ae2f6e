"""`[tool.dldoctor]` in pyproject.toml, `--config`, and how the command line overrides them."""

from __future__ import annotations

import os

import pytest

from conftest import BAD, BAD_COLUMN, BAD_LINE, run_dldoctor, write


class Linted:
    """A `dldoctor lint --output-format json` run, its findings as (path, line, column, code)."""

    def __init__(self, run, cwd) -> None:
        self.run, self.cwd = run, cwd
        self.returncode, self.stdout, self.stderr = run.returncode, run.stdout, run.stderr

    def codes(self) -> list[tuple[str, int, int, str]]:
        if self.returncode == 2:
            return []
        found = []
        for finding in self.run.json():
            name = finding["filename"]
            if os.path.isabs(name):
                name = os.path.relpath(name, self.cwd)
            found.append((name.replace(os.sep, "/"), finding["location"]["row"], finding["location"]["column"], finding["code"]))
        return sorted(found)

    def assert_no_traceback(self) -> None:
        self.run.assert_no_traceback()


def lint(project, *args, **kwargs) -> Linted:
    return Linted(run_dldoctor("lint", "--output-format", "json", *args, cwd=project, **kwargs), project)


def concise_codes(linted: Linted) -> list[tuple[str, int, int, str]]:
    return linted.codes()


def reported_paths(run) -> list[str]:
    return sorted(path for path, *_ in run.codes())


# --- finding the file -------------------------------------------------------------------------


def test_nearest_pyproject_is_found_upward_from_the_linted_path_not_the_cwd(tmp_path):
    project = tmp_path / "project"
    write(project / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL201"]\n')
    write(project / "pkg" / "deep" / "model.py", BAD)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ignored = lint(elsewhere, project / "pkg" / "deep" / "model.py")
    assert ignored.returncode == 0, ignored.stdout + ignored.stderr
    assert ignored.codes() == []
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


# --- each file its nearest configuration (ruff's hierarchy) -----------------------------------


def _two_projects(tmp_path):
    """Two projects side by side whose configurations disagree about DL201."""
    write(tmp_path / "quiet" / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL201"]\n')
    write(tmp_path / "quiet" / "model.py", BAD)
    write(tmp_path / "loud" / "dldoctor.toml", 'select = ["DL201"]\n')
    write(tmp_path / "loud" / "model.py", BAD)
    return [("loud/model.py", BAD_LINE, BAD_COLUMN, "DL201")]


def test_each_file_takes_its_nearest_configuration_whatever_the_order_of_paths(tmp_path):
    expected = _two_projects(tmp_path)
    assert lint(tmp_path, "quiet", "loud").codes() == expected
    assert lint(tmp_path, "loud", "quiet").codes() == expected
    assert lint(tmp_path, ".").codes() == expected


def test_a_file_without_configuration_above_it_takes_the_current_directorys(tmp_path):
    write(tmp_path / "cwd" / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL201"]\n')
    write(tmp_path / "outside" / "model.py", BAD)
    assert lint(tmp_path / "cwd", tmp_path / "outside" / "model.py").codes() == []
    assert lint(tmp_path, "outside/model.py").returncode == 1  # the control: no configuration anywhere


def test_config_option_applies_one_file_to_every_path(tmp_path):
    _two_projects(tmp_path)
    write(tmp_path / "shared.toml", 'ignore = ["DL201"]\n')
    assert lint(tmp_path, "--config", "shared.toml", "quiet", "loud").codes() == []


def test_target_versions_are_each_files_own_configurations(tmp_path):
    write(tmp_path / "old" / "pyproject.toml", '[tool.dldoctor]\ntarget-versions = { torch = "2.5" }\n')
    write(tmp_path / "new" / "pyproject.toml", '[tool.dldoctor]\ntarget-versions = { torch = "2.6" }\n')
    code = 'import torch\nstate = torch.load("model.pt", map_location="cpu")\n'
    write(tmp_path / "old" / "load.py", code)
    write(tmp_path / "new" / "load.py", code)
    for order in (["old", "new"], ["new", "old"]):
        run = lint(tmp_path, "--select", "DL502", *order)
        versions = {
            os.path.basename(os.path.dirname(f["filename"])): [v["version"] for v in f["assumed_versions"]]
            for f in run.run.json()
        }
        # torch 2.5 still defaults to weights_only=False: the old project's load is reported, judged against 2.5.
        assert versions == {"old": ["2.5"]}, run.stdout
    # The command line's version is over every configuration's.
    run = lint(tmp_path, "--select", "DL502", "--target-version", "torch=2.5", "new", "old")
    assert sorted(p.split("/")[0] for p in reported_paths(run)) == ["new", "old"]


# --- ruff's precedence between selectors --------------------------------------------------------


def test_command_line_select_wins_over_the_configurations_ignore(project):
    write(project / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL201"]\n')
    write(project / "model.py", BAD)
    assert lint(project, "model.py").codes() == []
    assert lint(project, "--select", "DL201", "model.py").codes() == [("model.py", BAD_LINE, BAD_COLUMN, "DL201")]
    assert lint(project, "--extend-select", "DL201", "model.py").returncode == 1


@pytest.mark.parametrize(
    ("args", "reported"),
    [
        (["--select", "DL201", "--ignore", "DL2"], True),  # the code is more specific than the prefix
        (["--select", "DL2", "--ignore", "DL201"], False),
        (["--select", "ALL", "--ignore", "DL2", "--extend-select", "DL20"], True),
        (["--select", "DL201", "--ignore", "DL201"], False),  # equal specificity: ignore wins
        (["--ignore", "DL", "--extend-select", "DL201"], True),
    ],
)
def test_the_more_specific_selector_wins(project, args, reported):
    write(project / "model.py", BAD)
    assert bool(lint(project, *args, "model.py").codes()) is reported


def test_the_more_specific_selector_wins_in_a_configuration_too(project):
    write(project / "pyproject.toml", '[tool.dldoctor]\nselect = ["DL201"]\nignore = ["DL2"]\n')
    write(project / "model.py", BAD)
    assert lint(project, "model.py").returncode == 1


# --- extend, and the standalone files ------------------------------------------------------------


def test_extend_reads_the_other_file_first(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL201"]\nexclude = ["vendored"]\n')
    write(tmp_path / "sub" / "dldoctor.toml", 'extend = "../pyproject.toml"\nextend-exclude = ["generated"]\n')
    write(tmp_path / "sub" / "model.py", BAD)
    write(tmp_path / "sub" / "vendored" / "lib.py", BAD)
    write(tmp_path / "sub" / "generated" / "out.py", 'import os\nos.system("x")  # noqa: DL999\n')
    run = lint(tmp_path / "sub", "--extend-select", "DL100", ".")
    assert run.codes() == [], run.stdout + run.stderr  # DL201 ignored, vendored/ and generated/ excluded
    # The extending file's own selection goes over the extended one's.
    write(tmp_path / "sub" / "dldoctor.toml", 'extend = "../pyproject.toml"\nextend-select = ["DL201"]\n')
    assert lint(tmp_path / "sub", "model.py").codes() == [("model.py", BAD_LINE, BAD_COLUMN, "DL201")]


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('extend = "missing.toml"\n', "missing.toml"),
        ('extend = "dldoctor.toml"\n', "circle"),
        ("extend = 3\n", "extend must be the path"),
    ],
)
def test_bad_extend(project, content, named):
    write(project / "dldoctor.toml", content)
    write(project / "model.py", BAD)
    run = lint(project, "model.py")
    assert run.returncode == 2 and named in run.stderr, run.stderr
    run.assert_no_traceback()


@pytest.mark.parametrize(
    ("files", "winner"),
    [
        ({".dldoctor.toml": "ignore", "dldoctor.toml": "select", "pyproject.toml": "select"}, "ignore"),
        ({"dldoctor.toml": "ignore", "pyproject.toml": "select"}, "ignore"),
        ({".dldoctor.toml": "select", "pyproject.toml": "ignore"}, "select"),
        ({"pyproject.toml": "ignore"}, "ignore"),
    ],
)
def test_standalone_files_are_found_and_win_over_pyproject_in_their_directory(project, files, winner):
    lines = {"ignore": 'ignore = ["DL201"]\n', "select": 'select = ["DL201"]\n'}
    for name, which in files.items():
        write(project / name, ("[tool.dldoctor]\n" if name == "pyproject.toml" else "") + lines[which])
    write(project / "pkg" / "model.py", BAD)
    assert bool(lint(project, "pkg/model.py").codes()) is (winner == "select")


# --- one clear message per mistake -------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[tool.dldoctor]\nselect = "DL4"\n', 'select must be a list of strings, not a string (write select = ["DL4"])'),
        ("[tool.dldoctor]\nselect = []\n", "select = [] selects no rule at all"),
        ('[tool.dldoctor]\nselct = ["DL201"]\n', "unknown key 'selct' (did you mean 'select'?)"),
        ("[tool.dldoctor]\nrespect-gitignore = \"no\"\n", "respect-gitignore must be true or false"),
        ('[tool.dldoctor]\nper-file-ignores = ["tests/*"]\n', "per-file-ignores must be a table"),
        ('[tool.dldoctor]\ntarget-versions = { torch = "latest" }\n', "is not a version"),
    ],
)
def test_each_mistake_has_its_own_message(project, content, expected):
    write(project / "pyproject.toml", content)
    write(project / "model.py", BAD)
    run = lint(project, "model.py")
    assert run.returncode == 2 and run.stdout == ""
    [message] = run.stderr.splitlines()
    assert expected in message, message


def test_several_mistakes_are_all_named_at_once(project):
    write(project / "pyproject.toml", '[tool.dldoctor]\nselect = "DL4"\nignore = ["DL999"]\nlinelength = 3\n')
    write(project / "model.py", BAD)
    run = lint(project, "model.py")
    assert run.returncode == 2
    messages = run.stderr.splitlines()
    assert len(messages) == 3, messages
    assert all(message.startswith("dldoctor: error: ") and "pyproject.toml" in message for message in messages)
    assert any("'linelength'" in m for m in messages) and any("'DL999'" in m for m in messages)


@pytest.mark.parametrize("name", ["pyproject.toml", "settings.toml"])
def test_config_option_on_a_file_with_only_another_tools_table(project, name):
    write(project / name, '[tool.ruff]\nline-length = 100\n')
    write(project / "model.py", BAD)
    run = lint(project, "--config", name, "model.py")
    assert run.returncode == 2
    [message] = run.stderr.splitlines()
    assert "no [tool.dldoctor] table" in message and "[tool.ruff]" in message, message
    assert "unknown key" not in message


def test_unknown_codes_on_the_command_line(project):
    write(project / "model.py", BAD)
    run = lint(project, "--select", "DL999", "--per-file-ignores", "tests/*:DL998", "model.py")
    assert run.returncode == 2
    assert len(run.stderr.splitlines()) == 2 and "DL999" in run.stderr and "DL998" in run.stderr


# --- --config KEY=VALUE, --isolated --------------------------------------------------------------


def test_config_key_value_overrides_every_file(tmp_path):
    _two_projects(tmp_path)
    run = lint(tmp_path, "--config", 'ignore = ["DL201"]', "loud", "quiet")
    assert run.codes() == []
    run = lint(tmp_path, "--config", 'select = ["DL201"]', "quiet")
    assert run.codes() == [("quiet/model.py", BAD_LINE, BAD_COLUMN, "DL201")]
    # The command line's own flags are over an override.
    assert lint(tmp_path, "--config", 'ignore = ["DL201"]', "--select", "DL201", "quiet").returncode == 1


def test_config_key_value_with_a_file(tmp_path):
    write(tmp_path / "shared.toml", 'select = ["DL201"]\n')
    write(tmp_path / "model.py", BAD)
    assert lint(tmp_path, "--config", "shared.toml", "--config", "ignore = ['DL2']", "model.py").codes() == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("select = [", "neither a configuration file nor a TOML"), ("selct = ['DL1']", "unknown key 'selct'"),
     ("select = 'DL1'", "not a string")],
)
def test_bad_config_key_value(project, value, expected):
    write(project / "model.py", BAD)
    run = lint(project, "--config", value, "model.py")
    assert run.returncode == 2 and expected in run.stderr, run.stderr


def test_isolated_reads_no_configuration_file(project):
    write(project / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL201"]\n')
    write(project / "model.py", BAD)
    assert lint(project, "model.py").codes() == []
    assert lint(project, "--isolated", "model.py").codes() == [("model.py", BAD_LINE, BAD_COLUMN, "DL201")]
    write(project / "pyproject.toml", "[tool.dldoctor]\nselect = 'broken'\n")
    assert lint(project, "--isolated", "model.py").returncode == 1  # not even read
    run = lint(project, "--isolated", "--config", "pyproject.toml", "model.py")
    assert run.returncode == 2 and "--isolated" in run.stderr


# --- per-file ignores from the command line -----------------------------------------------------


def test_per_file_ignores_options(project):
    write(project / "pyproject.toml", '[tool.dldoctor.per-file-ignores]\n"tests/*" = ["DL201"]\n')
    write(project / "tests" / "test_a.py", BAD)
    write(project / "scripts" / "run.py", BAD)
    assert reported_paths(lint(project, ".")) == ["scripts/run.py"]
    # --per-file-ignores replaces the configuration's; --extend-per-file-ignores adds to it.
    assert reported_paths(lint(project, "--per-file-ignores", "scripts/*:DL2", ".")) == ["tests/test_a.py"]
    assert reported_paths(lint(project, "--extend-per-file-ignores", "scripts/*:DL201", ".")) == []
    run = lint(project, "--per-file-ignores", "scripts", ".")
    assert run.returncode == 2 and "PATTERN:CODES" in run.stderr


# --- --show-settings ----------------------------------------------------------------------------


def test_show_settings_names_the_file_the_rules_and_the_versions(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL2"]\ntarget-versions = { torch = "2.5" }\n')
    write(tmp_path / "sub" / "dldoctor.toml", 'extend = "../pyproject.toml"\nextend-select = ["DL201"]\n')
    write(tmp_path / "sub" / "model.py", BAD)
    run = run_dldoctor("lint", "--show-settings", "--select", "ALL", "sub/model.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = run.stdout
    assert f"Configuration file: {tmp_path / 'sub' / 'dldoctor.toml'}" in text
    assert f"extends: {tmp_path / 'pyproject.toml'}" in text
    assert "command line: select ALL" in text
    assert "  DL201 log-device-placement" in text and "DL202" in text  # ALL from the command line is last
    assert f"torch 2.5 from {tmp_path / 'pyproject.toml'}: target-versions" in text
    isolated = run_dldoctor("lint", "--show-settings", "--isolated", "sub/model.py", cwd=tmp_path)
    assert "Configuration file: none (--isolated)" in isolated.stdout
