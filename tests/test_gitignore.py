"""Which files a run lints: `.gitignore`/`.ignore`, the exclusions, and paths named explicitly.

Each case builds a small project and asks `dldoctor lint --show-files` (the list a
run would lint) or lints it; ML projects keep copies of their code in run
directories (`wandb/run-*/files/code.py`, `lightning_logs/`, `outputs/`,
`mlruns/`), which is what `.gitignore` is for.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import BAD, clean_env, run_dldoctor, write


def git_init(directory) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(directory)], check=True, env=clean_env(), capture_output=True)


def shown(directory, *args) -> list[str]:
    run = run_dldoctor("lint", "--show-files", *args, cwd=directory)
    assert run.returncode == 0, run.stderr
    return sorted(line.replace(os.sep, "/") for line in run.lines)


ML_RUN_COPIES = ["wandb/run-20240101_000000-abc/files/code/train.py", "lightning_logs/version_0/hparams.py",
                 "outputs/2024-01-01/train.py", "mlruns/0/abc/artifacts/model.py"]


@pytest.fixture
def repository(tmp_path):
    root = tmp_path / "repo"
    git_init(root)
    write(root / ".gitignore", "wandb/\nlightning_logs/\n/outputs\nmlruns\n*.tmp.py\n!keep.tmp.py\n")
    for name in [*ML_RUN_COPIES, "train.py", "src/model.py", "scratch.tmp.py", "keep.tmp.py", "src/outputs/parse.py"]:
        write(root / name, BAD)
    return root


def test_gitignore_is_respected_by_default(repository):
    # `/outputs` is anchored: src/outputs/ is not ignored; `!keep.tmp.py` re-includes.
    assert shown(repository, ".") == ["keep.tmp.py", "src/model.py", "src/outputs/parse.py", "train.py"]
    run = run_dldoctor("lint", "--output-format", "json", ".", cwd=repository)
    assert {os.path.relpath(f["filename"], repository).replace(os.sep, "/") for f in run.json()} == {
        "keep.tmp.py", "src/model.py", "src/outputs/parse.py", "train.py"
    }


def test_no_respect_gitignore_lints_everything(repository):
    everything = shown(repository, "--no-respect-gitignore", ".")
    assert set(ML_RUN_COPIES) <= set(everything) and "scratch.tmp.py" in everything
    write(repository / "pyproject.toml", "[tool.dldoctor]\nrespect-gitignore = false\n")
    assert shown(repository, ".") == everything
    assert shown(repository, "--respect-gitignore", ".") == shown(repository, "--isolated", ".")


def test_nested_gitignore_and_info_exclude(repository):
    write(repository / "src" / ".gitignore", "generated_*.py\n")
    write(repository / "src" / "generated_a.py", BAD)
    write(repository / "generated_b.py", BAD)  # the nested file speaks of src/ only
    write(repository / ".git" / "info" / "exclude", "local/\n")
    write(repository / "local" / "notes.py", BAD)
    files = shown(repository, ".")
    assert "generated_b.py" in files
    assert "src/generated_a.py" not in files and "local/notes.py" not in files


def test_a_deeper_negation_re_includes_but_not_inside_an_ignored_directory(repository):
    write(repository / "src" / ".gitignore", "!scratch.tmp.py\n")
    write(repository / "src" / "scratch.tmp.py", BAD)
    write(repository / "wandb" / ".gitignore", "!*\n")  # wandb/ itself is ignored: nothing inside comes back
    files = shown(repository, ".")
    assert "src/scratch.tmp.py" in files and "scratch.tmp.py" not in files
    assert not any(path.startswith("wandb/") for path in files)


@pytest.mark.parametrize(
    ("patterns", "ignored", "kept"),
    [
        ("**/cache/*.py", ["cache/a.py", "x/y/cache/b.py"], ["cache/sub/c.py", "cachex/d.py"]),
        ("docs/**", ["docs/a.py", "docs/x/b.py"], ["src/docs.py"]),
        ("a/**/z.py", ["a/z.py", "a/b/c/z.py"], ["b/a/z.py"]),
        ("exp[0-9].py\n?.py", ["exp1.py", "q.py"], ["expa.py", "qq.py"]),
        ("# a comment\n\\#hash.py\n  \nbuild_*/\n", ["#hash.py", "build_x/a.py"], ["build_y.py"]),
        ("/top.py", ["top.py"], ["sub/top.py"]),
    ],
)
def test_gitignore_patterns(tmp_path, patterns, ignored, kept):
    root = tmp_path / "repo"
    git_init(root)
    write(root / ".gitignore", patterns + "\n")
    for name in [*ignored, *kept]:
        write(root / name, BAD)
    assert shown(root, ".") == sorted(kept)


def test_gitignore_outside_a_git_repository_is_not_read_but_ignore_is(tmp_path):
    # As ruff and ripgrep: .gitignore speaks for a git repository; .ignore for any directory.
    write(tmp_path / ".gitignore", "outputs/\n")
    write(tmp_path / ".ignore", "mlruns/\n")
    write(tmp_path / "outputs" / "train.py", BAD)
    write(tmp_path / "mlruns" / "model.py", BAD)
    assert shown(tmp_path, ".") == ["outputs/train.py"]
    assert shown(tmp_path, "--no-respect-gitignore", ".") == ["mlruns/model.py", "outputs/train.py"]


# --- paths named explicitly, --force-exclude, stdin ---------------------------------------------


def test_a_file_named_explicitly_is_linted_unless_force_exclude(repository):
    copy = ML_RUN_COPIES[0]
    assert shown(repository, copy) == [copy]
    run = run_dldoctor("lint", "--force-exclude", copy, cwd=repository)
    assert run.returncode == 0
    assert "No Python files found under the given path(s)" in run.stderr
    write(repository / "pyproject.toml", '[tool.dldoctor]\nextend-exclude = ["legacy"]\nforce-exclude = true\n')
    write(repository / "legacy" / "old.py", BAD)
    assert shown(repository, "legacy/old.py", "train.py") == ["train.py"]
    assert shown(repository, "--no-force-exclude", "legacy/old.py") == ["legacy/old.py"]


def test_stdin_filename_that_is_excluded(project):
    write(project / "pyproject.toml", '[tool.dldoctor]\nextend-exclude = ["generated"]\n')
    reported = run_dldoctor("lint", "--stdin-filename", "generated/model.py", "-", cwd=project, stdin=BAD)
    assert reported.returncode == 1  # as ruff: without --force-exclude a named file is linted
    quiet = run_dldoctor("lint", "--force-exclude", "--stdin-filename", "generated/model.py", "-", cwd=project, stdin=BAD)
    assert quiet.returncode == 0, quiet.stdout
    fixed = run_dldoctor(
        "lint", "--fix", "--force-exclude", "--stdin-filename", "generated/model.py", "-", cwd=project, stdin=BAD
    )
    assert fixed.stdout == BAD  # the source comes back as it was
    other = run_dldoctor("lint", "--force-exclude", "--stdin-filename", "src/model.py", "-", cwd=project, stdin=BAD)
    assert other.returncode == 1


def test_exclude_replaces_the_default_directories_and_extend_exclude_adds(project):
    write(project / "build" / "gen.py", BAD)
    write(project / "src" / "model.py", BAD)
    write(project / "src" / "vendored" / "lib.py", BAD)
    assert shown(project, ".") == ["src/model.py", "src/vendored/lib.py"]
    assert shown(project, "--extend-exclude", "vendored", ".") == ["src/model.py"]
    assert shown(project, "--exclude", "vendored", ".") == ["build/gen.py", "src/model.py"]


def test_no_python_files_found(project):
    (project / "data").mkdir()
    write(project / "data" / "notes.txt", "not python\n")
    run = run_dldoctor("lint", "data", cwd=project)
    assert run.returncode == 0
    assert "No Python files found under the given path(s)" in run.stderr
    linted = run_dldoctor("lint", ".", cwd=project / "data")
    assert "No Python files found" in linted.stderr
    write(project / "data" / "ok.py", "x = 1\n")
    assert "No Python files found" not in run_dldoctor("lint", "data", cwd=project).stderr


def test_each_directory_is_walked_with_its_own_configurations_exclusions(tmp_path):
    write(tmp_path / "a" / "pyproject.toml", '[tool.dldoctor]\nextend-exclude = ["gen"]\n')
    write(tmp_path / "a" / "gen" / "x.py", BAD)
    write(tmp_path / "b" / "gen" / "y.py", BAD)
    assert shown(tmp_path, "b", "a") == ["b/gen/y.py"]
