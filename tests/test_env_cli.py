"""`dldoctor env` as a command: registration, usage errors (exit 2), --from input, colour rules, start-up cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import clean_env, run_dldoctor

DATA = Path(__file__).resolve().parent / "data" / "env"


def test_env_is_a_command(tmp_path):
    run = run_dldoctor("--help", cwd=tmp_path)
    assert run.returncode == 0 and " env " in run.stdout
    help_run = run_dldoctor("env", "--help", cwd=tmp_path)
    assert help_run.returncode == 0
    for option in ("--json", "--from", "--timeout", "--quick", "--port"):
        assert option in help_run.stdout


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("{not json", "invalid JSON at line 1 column 2"),
        ("[1, 2]", "not a dldoctor env snapshot"),
        ('{"hello": 1}', "not a dldoctor env snapshot of schema 1"),
        ('{"schema": 1, "platform": {}}', "snapshot lacks packages, nvml, port"),
        (b"\xff\xfe\x00junk", "not UTF-8"),
    ],
)
def test_a_bad_from_file_is_one_line_and_exit_2(tmp_path, content, message):
    path = tmp_path / "env.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    run = run_dldoctor("env", "--from", path, cwd=tmp_path)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("dldoctor: error: --from ")
    assert message in run.stderr, run.stderr


def test_a_directory_for_from(tmp_path):
    run = run_dldoctor("env", "--from", tmp_path, cwd=tmp_path)
    assert run.returncode == 2 and "is a directory" in run.stderr


@pytest.mark.parametrize("args", [["--timeout", "0"], ["--port", "70000"], ["--port", "x"], ["--bogus"]])
def test_bad_options_are_usage_errors(tmp_path, args):
    run = run_dldoctor("env", *args, cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr


def test_a_bare_snapshot_and_the_whole_document_both_load(tmp_path):
    snap = json.loads((DATA / "ecc_errors.json").read_text(encoding="utf-8"))
    whole = tmp_path / "whole.json"
    whole.write_text(json.dumps({"snapshot": snap, "verdicts": []}), encoding="utf-8")
    a = run_dldoctor("env", "--from", whole, "--json", cwd=tmp_path)
    b = run_dldoctor("env", "--from", DATA / "ecc_errors.json", "--json", cwd=tmp_path)
    assert a.returncode == b.returncode == 1
    assert a.json() == b.json(), "the saved verdicts are recomputed, not trusted"


def _under_a_terminal(args, env) -> str:
    """Run dldoctor with stdout on a pseudo-terminal; return what it wrote."""
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "dldoctor", *args], stdout=follower, stderr=subprocess.PIPE,
                               env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_colour_on_a_terminal_and_never_with_no_color():
    args = ["env", "--from", str(DATA / "cpu_wheel_on_gpu.json")]
    coloured = _under_a_terminal(args, clean_env(TERM="xterm-256color"))
    assert "\x1b[" in coloured and "CPU-only torch build" in coloured
    plain = _under_a_terminal(args, clean_env(TERM="xterm-256color", NO_COLOR="1"))
    assert "\x1b[" not in plain and "✗ CPU-only torch build" in plain


def test_registering_env_costs_lint_nothing():
    code = ("import sys, dldoctor.cli; "
            "print(sorted(m for m in sys.modules if m.startswith('dldoctor.probes.env')))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(),
                               timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert eval(completed.stdout) == ["dldoctor.probes.env", "dldoctor.probes.env.command"]


def test_an_ascii_terminal_gets_ascii_symbols(tmp_path):
    run = subprocess.run([sys.executable, "-m", "dldoctor", "env", "--from", str(DATA / "ecc_errors.json")],
                         capture_output=True, env=clean_env(PYTHONIOENCODING="ascii"), timeout=60)
    assert run.returncode == 1
    text = run.stdout.decode("ascii")
    assert "  x GPU 0: 2 uncorrectable ECC memory errors" in text and "->" in text
