"""The lint cache: same findings as without it, never stale, safe when broken or shared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dldoctor
from dldoctor.lint import cache, runner
from dldoctor.lint.cache import LintCache

from conftest import BAD, CLEAN, clean_env, run_dldoctor, write

ALL = frozenset({"DL000", "DL201"})


def project(tmp_path: Path) -> Path:
    write(tmp_path / "pyproject.toml", "[tool.dldoctor]\n")
    write(tmp_path / "bad.py", BAD)
    write(tmp_path / "clean.py", CLEAN)
    write(tmp_path / "broken.py", "tf.ConfigProto(log_device_placement=(\n")  # parsed: a trigger is there
    return tmp_path


def cache_files(root: Path) -> list[Path]:
    return sorted((root / ".dldoctor_cache").glob("*.json"))


def test_a_warm_run_reports_what_a_cold_run_does(tmp_path):
    root = project(tmp_path)
    cold = run_dldoctor("lint", "--output-format", "json", ".", cwd=root)
    assert [path.name for path in (root / ".dldoctor_cache").iterdir()] != []
    warm = run_dldoctor("lint", "--output-format", "json", ".", cwd=root)
    uncached = run_dldoctor("lint", "--no-cache", "--output-format", "json", ".", cwd=root)
    assert cold.returncode == warm.returncode == uncached.returncode == 1
    assert cold.json() == warm.json() == uncached.json()
    assert {finding["code"] for finding in warm.json()} == {"DL000", "DL201"}  # the syntax error is cached too


def test_the_warm_run_reads_the_cache_and_a_changed_file_is_linted_again(tmp_path):
    root = project(tmp_path)
    run_dldoctor("lint", ".", cwd=root)
    [stored] = cache_files(root)
    entries = json.loads(stored.read_text())
    entry = entries["bad.py"]
    entry[2][0]["message"] = "from the cache"
    entry[4] = cache._entry_check("bad.py", entry[0], entry[1], entry[2], entry[3])  # a consistent entry: trusted
    stored.write_text(json.dumps(entries))
    assert "from the cache" in run_dldoctor("lint", "bad.py", cwd=root).stdout
    assert "from the cache" not in run_dldoctor("lint", "--no-cache", "bad.py", cwd=root).stdout
    write(root / "bad.py", BAD + "\n")  # new bytes: linted again
    relinted = run_dldoctor("lint", "bad.py", cwd=root)
    assert "from the cache" not in relinted.stdout and "DL201" in relinted.stdout


def test_another_selection_is_not_served_from_the_cache(tmp_path):
    root = project(tmp_path)
    assert run_dldoctor("lint", "--select", "DL0", "bad.py", cwd=root).returncode == 0
    assert run_dldoctor("lint", "--select", "DL2", "bad.py", cwd=root).returncode == 1
    write(root / "pyproject.toml", '[tool.dldoctor]\nper-file-ignores = {"bad.py" = ["DL201"]}\n')
    assert run_dldoctor("lint", "bad.py", cwd=root).returncode == 0


def test_no_cache_and_the_prefilter_check_leave_no_cache(tmp_path):
    root = project(tmp_path)
    run_dldoctor("lint", "--no-cache", ".", cwd=root)
    run_dldoctor("lint", ".", cwd=root, env=clean_env(DLDOCTOR_NO_PREFILTER="1"))
    assert not (root / ".dldoctor_cache").exists()


def test_cache_dir_option_and_environment_variable(tmp_path):
    root = project(tmp_path / "project")
    run_dldoctor("lint", "--cache-dir", tmp_path / "elsewhere", ".", cwd=root)
    run_dldoctor("lint", ".", cwd=root, env=clean_env(DLDOCTOR_CACHE_DIR=str(tmp_path / "from-env")))
    assert not (root / ".dldoctor_cache").exists()
    assert list((tmp_path / "elsewhere").glob("*.json")) and list((tmp_path / "from-env").glob("*.json"))
    assert (tmp_path / "elsewhere" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_corrupt_cache_is_a_warning_and_the_findings_are_right(tmp_path):
    root = project(tmp_path)
    run_dldoctor("lint", ".", cwd=root)
    [stored] = cache_files(root)
    stored.write_bytes(b"\x00{not json")
    run = run_dldoctor("lint", "--output-format", "json", ".", cwd=root)
    assert run.returncode == 1 and {f["code"] for f in run.json()} == {"DL000", "DL201"}
    assert "cannot read the cache" in run.stderr and run.stderr.count("\n") == 1
    run.assert_no_traceback()
    assert json.loads(stored.read_text())  # rewritten whole


def test_an_unwritable_cache_is_a_warning_and_the_findings_are_right(tmp_path):
    root = project(tmp_path)
    write(root / ".dldoctor_cache", "a file where the cache directory should be")
    run = run_dldoctor("lint", ".", cwd=root)
    assert run.returncode == 1 and "DL201" in run.stdout
    assert "cannot write the cache" in run.stderr
    run.assert_no_traceback()


def test_concurrent_runs_share_the_cache_safely(tmp_path):
    root = project(tmp_path)
    for index in range(20):
        write(root / f"more_{index}.py", BAD if index % 2 else CLEAN)
    command = [sys.executable, "-m", "dldoctor", "lint", "--output-format", "json", "."]
    runs = [subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, env=clean_env()) for _ in range(6)]
    outputs = [json.loads(process.communicate(timeout=120)[0]) for process in runs]
    assert all(output == outputs[0] for output in outputs) and len(outputs[0]) == 12
    [stored] = cache_files(root)
    assert len(json.loads(stored.read_text())) == 23  # every file, whichever run wrote last
    assert not list((root / ".dldoctor_cache").glob(".tmp-*"))
    assert run_dldoctor("lint", "--output-format", "json", ".", cwd=root).json() == outputs[0]


def test_warm_files_are_not_linted(tmp_path, monkeypatch):
    root = project(tmp_path)
    jobs = [(str(root / name), ALL) for name in ("bad.py", "clean.py", "broken.py")]
    cold = runner.lint_paths(jobs, lint_cache=LintCache(root / "cache"))

    def must_not_lint(*args, **kwargs):
        raise AssertionError("a cached file was linted")

    monkeypatch.setattr(runner, "lint_bytes", must_not_lint)
    warm = runner.lint_paths(jobs, lint_cache=LintCache(root / "cache"))
    assert [r.findings for r in warm] == [r.findings for r in cold]
    assert [len(r.findings) for r in warm] == [1, 0, 1]


def test_the_fingerprint_changes_with_what_decides_findings(monkeypatch):
    first = cache.fingerprint()
    monkeypatch.setattr(dldoctor, "__version__", "99.0")
    assert cache.fingerprint() != first
    monkeypatch.undo()
    monkeypatch.setattr(cache, "installed_version", lambda *names: "0.0.1" if "torch" in names else None)
    assert cache.fingerprint() != first
    monkeypatch.undo()
    monkeypatch.setattr(cache, "_sources_fingerprint", lambda: [("dl101_edited.py", 1, 2)])
    assert cache.fingerprint() != first


@pytest.mark.parametrize("stored", [["not", "an", "entry"], {"a": 1}, ["digest"], 7])
def test_malformed_entries_are_misses(tmp_path, stored):
    lint_cache = LintCache(tmp_path)
    lint_cache._entries["x.py"] = stored
    assert lint_cache.get("x.py", "digest", ALL) is None


def test_the_fingerprint_covers_every_version_a_rule_declares():
    first = cache.fingerprint()
    pillow = next(names for names in cache._read_by_rules() if "pillow" in names)
    assert "pillow-simd" in pillow  # taken from DL602's own table, not a copy of it
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cache, "installed_version", lambda *names: "1.0" if names == pillow else None)
        assert cache.fingerprint() != first


def test_rules_that_read_installed_versions_declare_them():
    import inspect

    from dldoctor.lint.registry import all_rules

    for rule in all_rules().values():
        text = inspect.getsource(inspect.getmodule(rule))
        ways = ("installed_version", "target_environment.current()", "context.target.version(", "tensorflow_release(")
        reads = any(way in text for way in ways)
        assert bool(rule.reads_installed) == reads, rule.code


def _findings(results) -> list[tuple]:
    return [(r.path, f.code, f.line, f.column, f.message) for r in results for f in r.findings]


def test_no_single_byte_corruption_of_an_entry_changes_the_findings(tmp_path):
    root = project(tmp_path)
    jobs = [(str(root / name), ALL) for name in ("bad.py", "clean.py", "broken.py")]
    truth = _findings(runner.lint_paths(jobs, lint_cache=LintCache(root / "cache")))
    [stored] = (root / "cache").glob("*.json")
    pristine = stored.read_bytes()
    start = pristine.index(b"bad.py")  # damage the entries, not only the braces around them
    damaged = 0
    for offset in range(start, len(pristine) - 1, 3):
        old = pristine[offset : offset + 1]
        new = b"7" if old != b"7" else b"8"
        stored.write_bytes(pristine[:offset] + new + pristine[offset + 1 :])
        lint_cache = LintCache(root / "cache")
        assert _findings(runner.lint_paths(jobs, lint_cache=lint_cache)) == truth, f"byte {offset}: {old} -> {new}"
        damaged += lint_cache.problem is not None
    assert damaged > 40  # most damage is seen and said (the rest: a key or digest that no longer matches)


def test_a_cache_file_that_is_a_fifo_or_a_device_is_a_warning_not_a_hang(tmp_path):
    root = project(tmp_path)
    run_dldoctor("lint", ".", cwd=root)
    [stored] = cache_files(root)
    stored.unlink()
    os.mkfifo(stored)
    run = run_dldoctor("lint", "--output-format", "json", ".", cwd=root, timeout=60)
    assert run.returncode == 1 and {f["code"] for f in run.json()} == {"DL000", "DL201"}
    assert "not a regular file" in run.stderr
    os.unlink(stored)
    os.symlink("/dev/zero", stored)
    run = run_dldoctor("lint", "--output-format", "json", ".", cwd=root, timeout=60)
    assert run.returncode == 1 and {f["code"] for f in run.json()} == {"DL000", "DL201"}
    assert "symbolic link" in run.stderr
    run.assert_no_traceback()


def test_a_deeply_nested_cache_is_a_warning(tmp_path):
    root = project(tmp_path)
    run_dldoctor("lint", ".", cwd=root)
    [stored] = cache_files(root)
    stored.write_text("[" * 100_000 + "]" * 100_000)
    run = run_dldoctor("lint", "--output-format", "json", ".", cwd=root)
    assert run.returncode == 1 and {f["code"] for f in run.json()} == {"DL000", "DL201"}
    assert "nested too deeply" in run.stderr
    run.assert_no_traceback()
