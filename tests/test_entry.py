"""The console script's own reading of plain `dldoctor lint` runs is typer's, option for option."""

from __future__ import annotations

import inspect

import pytest
import typer

from conftest import run_dldoctor
from dldoctor import cli, entry, lint_command

PLAIN = [
    ["lint"],
    ["lint", "a.py", "b.py"],
    ["lint", "--force-exclude", "a.py"],
    ["lint", "--no-force-exclude", "--no-respect-gitignore", "."],
    ["lint", "--fix", "--unsafe-fixes", "--exit-zero", "-q", "a.py"],
    ["lint", "--diff", "-s", "-v", "--no-cache", "--isolated", "--statistics", "src"],
    ["lint", "--fix-only", "--respect-gitignore", "x.py"],
    ["lint", "--select", "DL1", "--select=DL201,DL3", "--ignore", "DL301", "--extend-select", "DL602", "."],
    ["lint", "--output-format", "json", "--output-format=concise", "-"],
    ["lint", "--config", "select = ['ALL']", "--target-version", "torch=2.5", "--target-version=tensorflow=1.15", "a.py"],
    ["lint", "a.py", "--", "-odd-name.py", "--fix"],
    ["lint", "--output-format="],
    ["lint", "--cache-dir", "/tmp/cache", "--cache-dir=elsewhere", "a.py"],
]
NOT_PLAIN = [
    [], ["rules"], ["lint", "--help"], ["lint", "-h"], ["--version", "lint"], ["lint", "--watch"],
    ["lint", "--select"], ["lint", "--select", "--fix"], ["lint", "-qs", "a.py"], ["lint", "--stdin-filename", "a.py"],
    ["lint", "--unknown"], ["lint", "--max-file-size", "2"], ["lint", "--python", "/usr/bin/python3"], ["ckpt", "a.pt"],
]


def typer_reading(argv: list[str], monkeypatch) -> dict:
    """The keywords `dldoctor.cli`'s typer command hands `lint_command.run` for ARGV."""
    received = {}

    def recording(**options):
        received.update(options)
        return 0

    monkeypatch.setattr(lint_command, "run", recording)
    with pytest.raises(SystemExit) as done:
        typer.main.get_command(cli.app).main(list(argv), prog_name="dldoctor")
    assert done.value.code == 0
    return received


# `lint_command.run`'s own defaults (read before any test replaces it).
DEFAULTS = {name: parameter.default for name, parameter in inspect.signature(lint_command.run).parameters.items()}


@pytest.mark.parametrize("argv", PLAIN, ids=" ".join)
def test_plain_lint_runs_are_read_as_typer_reads_them(argv, monkeypatch):
    assert {**DEFAULTS, **entry.plain_lint(argv)} == typer_reading(argv, monkeypatch)


@pytest.mark.parametrize("argv", NOT_PLAIN, ids=" ".join)
def test_everything_else_goes_to_the_full_command_line(argv):
    assert entry.plain_lint(argv) is None


def test_a_setting_from_the_environment_goes_to_the_full_command_line(monkeypatch):
    monkeypatch.setenv("DLDOCTOR_CACHE_DIR", "/tmp/elsewhere")
    assert entry.plain_lint(["lint", "a.py"]) is None


def test_the_lint_commands_defaults_are_typers(monkeypatch):
    assert DEFAULTS == typer_reading(["lint"], monkeypatch)


def test_a_plain_lint_imports_no_typer(tmp_path):
    (tmp_path / "a.py").write_text("data = open('x.jpg').read()\nimport cv2\nimg = cv2.imdecode(data, 1)\n", encoding="utf-8")
    probe = "import sys, runpy; sys.argv = ['dldoctor', 'lint', '--no-cache', 'a.py']\ntry:\n    runpy.run_module('dldoctor', run_name='__main__')\nexcept SystemExit as e:\n    print('exit', e.code, 'typer' in sys.modules, 'click' in sys.modules)\n"
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "exit 1 False False", done.stdout + done.stderr
    full = run_dldoctor("lint", "--no-cache", "--help", cwd=tmp_path)
    assert full.returncode == 0 and "--select" in full.stdout  # the rest is typer's, as before
