"""A repeated plain `dldoctor lint` is answered from its record only while nothing it rests on changed.

Each run goes through the console script's entry point in a fresh interpreter, which also tells
whether the lint itself ran (`dldoctor.lint_command` imported) or the record answered.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import clean_env, run_reporting_imports, write

BUG = "import cv2\n\nimage = cv2.imread('a.png')\nprint(image.shape)\n"
CLEAN = "import cv2\n\nimage = cv2.imread('a.png')\nif image is None:\n    raise SystemExit(1)\n"


def lint(cwd: Path, *args: str, env: dict | None = None) -> tuple[int, str, str, bool]:
    """(exit code, stdout, stderr, whether the lint ran) of `dldoctor lint ARGS` in `cwd`."""
    head, report, completed = run_reporting_imports(["lint", *args], ["dldoctor"], cwd, env=env, entry="dldoctor.entry")
    return report["status"], head, completed.stderr, "dldoctor.lint_command" in report["imported"]


def settled(cwd: Path, *args: str, env: dict | None = None) -> tuple[int, str, str]:
    """Lint until the run is recorded (the first lints, the second records from the cache's
    answers), and check that the next run is the record's, with the same output."""
    first = lint(cwd, *args, env=env)
    second = lint(cwd, *args, env=env)
    third = lint(cwd, *args, env=env)
    assert first[:3] == second[:3] == third[:3]
    assert first[3] and second[3], "the first runs lint"
    assert not third[3], "the third run is the second's record"
    return third[:3]


@pytest.fixture
def tree(project: Path) -> Path:
    write(project / "train.py", BUG)
    write(project / "data" / "load.py", CLEAN)
    return project


def test_a_repeated_run_is_replayed_with_the_same_output_and_exit_code(tree: Path):
    code, out, _ = settled(tree, "--output-format", "concise")
    assert code == 1 and "train.py:3:9: DL104" in out
    assert list((tree / ".dldoctor_cache" / "runs").glob("*.json"))


def test_a_clean_run_is_replayed_with_exit_0(tree: Path):
    code, out, _ = settled(tree, "data")
    assert code == 0 and "All checks passed" in out


def test_an_edit_that_keeps_size_and_times_is_seen(tree: Path):
    settled(tree, "--output-format", "concise")
    source = tree / "train.py"
    before = source.stat()
    source.write_text(BUG.replace("a.png", "b.png"), encoding="utf-8")
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert source.stat().st_size == before.st_size
    code, out, _, linted = lint(tree, "--output-format", "concise")
    assert linted and code == 1 and "cv2.imread('b.png')" in out


def test_a_fixed_bug_is_seen(tree: Path):
    settled(tree, "--output-format", "concise")
    write(tree / "train.py", CLEAN)
    code, out, _, linted = lint(tree, "--output-format", "concise")
    assert linted and code == 0 and "DL104" not in out


def test_a_new_file_in_a_directory_is_seen(tree: Path):
    settled(tree, "--output-format", "concise")
    write(tree / "data" / "augment.py", BUG)
    code, out, _, linted = lint(tree, "--output-format", "concise")
    assert linted and "augment.py:3:9: DL104" in out


def test_a_new_settings_file_is_seen(tree: Path):
    settled(tree, "--output-format", "concise")
    write(tree / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL104"]\n')
    code, out, _, linted = lint(tree, "--output-format", "concise")
    assert linted and code == 0 and "DL104" not in out


def test_a_new_ignore_file_of_git_is_seen(tree: Path):
    (tree / ".git" / "info").mkdir(parents=True)
    settled(tree, "--output-format", "concise")
    write(tree / ".git" / "info" / "exclude", "train.py\n")
    code, out, _, linted = lint(tree, "--output-format", "concise")
    assert linted and code == 0 and "DL104" not in out


def test_a_changed_project_module_a_finding_rests_on_is_seen(project: Path):
    # The finding needs `helpers.cv2` to be OpenCV: when it no longer is, the finding goes.
    write(project / "helpers.py", "import cv2\n")
    write(project / "train.py", "from helpers import cv2\n\nimage = cv2.imread('a.png')\nprint(image.shape)\n")
    code, out, _ = settled(project, "--output-format", "concise", "train.py")
    assert "DL104" in out
    write(project / "helpers.py", "import numpy as cv2\n")
    code, out, _, linted = lint(project, "--output-format", "concise", "train.py")
    assert linted and "DL104" not in out


def test_other_arguments_or_environment_are_another_run(tree: Path):
    settled(tree, "--output-format", "concise")
    assert lint(tree, "--output-format", "json")[3]
    assert lint(tree, "--output-format", "concise", env=clean_env(NO_COLOR="1"))[3]


@pytest.mark.parametrize("option", ["--no-cache", "--fix", "--diff", "-v"])
def test_runs_that_change_files_or_skip_the_cache_or_print_timings_are_never_replayed(tree: Path, option: str):
    for _ in range(3):
        assert lint(tree, option)[3]
    assert not (tree / ".dldoctor_cache" / "runs").exists() or not list((tree / ".dldoctor_cache" / "runs").glob("*.json"))


def test_a_damaged_record_is_not_replayed(tree: Path):
    expected = settled(tree, "--output-format", "concise")
    (record,) = (tree / ".dldoctor_cache" / "runs").glob("*.json")
    data = json.loads(record.read_text(encoding="utf-8"))
    data["stdout"] = "All checks passed!\n"
    record.write_text(json.dumps(data), encoding="utf-8")
    code, out, err, linted = lint(tree, "--output-format", "concise")
    assert linted and (code, out, err) == expected


def test_a_record_that_is_not_a_file_is_not_read(tree: Path):
    expected = settled(tree, "--output-format", "concise")
    (record,) = (tree / ".dldoctor_cache" / "runs").glob("*.json")
    record.unlink()
    os.mkfifo(record)  # never opened for reading: it would block
    code, out, err, linted = lint(tree, "--output-format", "concise")
    assert linted and (code, out, err) == expected


def test_a_run_that_cannot_write_its_record_still_reports(tree: Path):
    write(tree / ".dldoctor_cache" / "runs", "not a directory\n")
    for _ in range(3):
        code, out, err, linted = lint(tree, "--output-format", "concise")
        assert linted and code == 1 and "DL104" in out and "Traceback" not in err


def test_a_run_with_its_cache_elsewhere_is_recorded_there(tree: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    code, out, _ = settled(tree, "--cache-dir", str(cache), "--output-format", "concise")
    assert code == 1 and list((cache / "runs").glob("*.json")) and not (tree / ".dldoctor_cache").exists()


def test_replaying_can_be_turned_off(tree: Path):
    env = clean_env(DLDOCTOR_NO_REPLAY="1")
    for _ in range(3):
        assert lint(tree, env=env)[3]
