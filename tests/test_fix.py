"""`--fix`, `--diff`, `--unsafe-fixes`: fixes apply, never corrupt a file, and converge."""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import libcst as cst

from dldoctor.lint import fixes, registry
from dldoctor.lint.finding import Severity
from dldoctor.lint.rule import Applicability, Fix, Rule

REPO = Path(__file__).resolve().parent.parent
ALL_CODES = frozenset(registry.all_rules()) | {registry.UNREADABLE_CODE}
DL201_BAD = "import tensorflow.compat.v1 as tf\nc = tf.ConfigProto(allow_soft_placement=True, log_device_placement=True)\n"
DL201_FIXED = "import tensorflow.compat.v1 as tf\nc = tf.ConfigProto(allow_soft_placement=True)\n"


def dldoctor(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dldoctor", "lint", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_fix_writes_the_file_and_reports_what_is_left(tmp_path):
    (tmp_path / "train.py").write_text(DL201_BAD + "import time\nwhile True:\n    time.sleep(1)\n")
    run = dldoctor("train.py", "--fix", cwd=tmp_path)
    assert (tmp_path / "train.py").read_text() == DL201_FIXED + "import time\nwhile True:\n    time.sleep(1)\n"
    assert "Fixed 1 finding." in run.stdout
    assert "DL401" in run.stdout and "DL201" not in run.stdout
    assert run.returncode == 1  # DL401 has no fix and remains


def test_fix_exits_zero_when_everything_was_fixed(tmp_path):
    (tmp_path / "a.py").write_text(DL201_BAD)
    run = dldoctor("a.py", "--fix", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "All checks passed!" in run.stdout


def test_diff_shows_and_changes_nothing(tmp_path):
    (tmp_path / "a.py").write_text(DL201_BAD)
    run = dldoctor("a.py", "--diff", cwd=tmp_path)
    assert (tmp_path / "a.py").read_text() == DL201_BAD
    assert "-c = tf.ConfigProto(allow_soft_placement=True, log_device_placement=True)" in run.stdout
    assert "+c = tf.ConfigProto(allow_soft_placement=True)" in run.stdout
    assert "Would fix 1 finding." in run.stderr
    assert run.returncode == 1
    (tmp_path / "b.py").write_text(DL201_FIXED)
    clean = dldoctor("b.py", "--diff", cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (0, "")


def test_unsafe_fixes_need_their_own_flag(tmp_path):
    source = 'import torch\nstate = torch.load("model.pt")\n'
    (tmp_path / "a.py").write_text(source)
    safe_only = dldoctor("a.py", "--fix", "--select", "DL501", cwd=tmp_path)
    assert (tmp_path / "a.py").read_text() == source
    assert "1 hidden fix can be enabled with the `--unsafe-fixes` option" in safe_only.stdout
    dldoctor("a.py", "--fix", "--unsafe-fixes", "--select", "DL501", cwd=tmp_path)
    assert "map_location" in (tmp_path / "a.py").read_text()


def test_stdin_fix_prints_the_fixed_source(tmp_path):
    run = dldoctor("-", "--stdin-filename", "x.py", "--fix", cwd=tmp_path, stdin=DL201_BAD)
    assert run.stdout == DL201_FIXED
    assert "All checks passed!" in run.stderr


def test_encoding_line_endings_and_permissions_are_kept(tmp_path):
    text = "# -*- coding: latin-1 -*-\r\n# café\r\n" + DL201_BAD.replace("\n", "\r\n")
    path = tmp_path / "legacy.py"
    path.write_bytes(text.encode("latin-1"))
    os.chmod(path, 0o640)
    dldoctor("legacy.py", "--fix", cwd=tmp_path)
    data = path.read_bytes()
    assert data == ("# -*- coding: latin-1 -*-\r\n# café\r\n" + DL201_FIXED.replace("\n", "\r\n")).encode("latin-1")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dldoctor-")]  # no temporary left


def test_a_bom_is_kept(tmp_path):
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbf" + DL201_BAD.encode())
    dldoctor("bom.py", "--fix", cwd=tmp_path)
    assert path.read_bytes() == b"\xef\xbb\xbf" + DL201_FIXED.encode()


def test_a_symbolic_link_stays_a_link_and_its_target_is_fixed(tmp_path):
    (tmp_path / "real.py").write_text(DL201_BAD)
    (tmp_path / "link.py").symlink_to("real.py")
    dldoctor("link.py", "--fix", cwd=tmp_path)
    assert (tmp_path / "link.py").is_symlink()
    assert (tmp_path / "real.py").read_text() == DL201_FIXED


class BreaksTheFile(Rule):
    """A rule whose fix would corrupt the file: the engine must refuse it."""

    code = "DL998"
    name = "breaks-the-file"
    severity = Severity.WARNING
    summary = "test rule"
    triggers = ("log_device_placement",)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "ConfigProto":
            broken = cst.Name("lambda")  # a valid identifier to libcst, a keyword to the parser
            self.report(node, "test", Fix("corrupt", Applicability.SAFE, ((node.func, broken),)))


def test_a_fix_that_would_corrupt_the_file_is_refused(monkeypatch, tmp_path):
    catalogue = dict(registry.all_rules())
    catalogue["DL998"] = BreaksTheFile
    monkeypatch.setattr(registry, "all_rules", lambda: catalogue)
    monkeypatch.setattr(registry, "facts", registry._facts_of_modules)  # the planted rule is in the run's facts
    path = tmp_path / "a.py"
    path.write_text(DL201_BAD)
    outcome = fixes.fix_path(str(path), frozenset({"DL998"}), unsafe=False, write=True)
    assert outcome.result.internal_error is None
    assert outcome.refused and "unparsable" in outcome.refused
    assert path.read_text() == DL201_BAD
    assert [f.code for f in outcome.result.findings] == ["DL998"]


def test_the_command_says_why_a_fix_was_refused_for_a_file_and_for_stdin(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from dldoctor.cli import app

    catalogue = dict(registry.all_rules())
    catalogue["DL998"] = BreaksTheFile
    monkeypatch.setattr(registry, "all_rules", lambda: catalogue)
    monkeypatch.setattr(registry, "facts", registry._facts_of_modules)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(DL201_BAD)
    on_file = CliRunner().invoke(app, ["lint", "--no-cache", "--select", "DL998", "--fix", "a.py"])
    on_stdin = CliRunner().invoke(app, ["lint", "--select", "DL998", "--fix", "--stdin-filename", "a.py", "-"],
                                  input=DL201_BAD)
    for run in (on_file, on_stdin):
        assert "a.py: a fix would leave the file unparsable" in run.output, run.output
    assert (tmp_path / "a.py").read_text() == DL201_BAD
    assert on_stdin.output.startswith(DL201_BAD)  # the source echoed unchanged


def test_overlapping_fixes_converge_over_rounds():
    # Two DL102 elements and one DL201 keyword in one statement: every fix lands, in rounds.
    source = (
        "import tensorflow.compat.v1 as tf\n"
        "tf.train.BytesList(value=[str(a), f'{b}'])\n"
        "tf.ConfigProto(log_device_placement=True, allow_soft_placement=True)\n"
    )
    outcome = fixes.fix_text("t.py", source, "utf-8", ALL_CODES, unsafe=False)
    assert outcome.applied == 3
    assert outcome.result.findings == []
    assert 'str(a).encode("utf-8")' in outcome.fixed and "log_device_placement" not in outcome.fixed


def _real_code_sample() -> list[Path]:
    """The examples, plus framework source files in which a rule with a fix could fire."""
    files = sorted((REPO / "examples").rglob("*.py"))
    words = ("log_device_placement", "BytesList", "ANTIALIAS", "torch.load", "type=bool", "initialize_all_variables")
    for package in ("tensorflow", "torch", "keras"):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(list(spec.submodule_search_locations)[0])
        picked = 0
        for path in sorted(root.rglob("*.py")):
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if any(word in text for word in words) and len(text) < 200_000:
                files.append(path)
                picked += 1
                if picked == 25:
                    break
    return files


def test_fix_on_real_code_parses_compiles_and_is_idempotent(tmp_path):
    sample = _real_code_sample()
    assert len(sample) > 20
    fixed_somewhere = 0
    for path in sample:
        text = path.read_text(encoding="utf-8")
        first = fixes.fix_text(str(path), text, "utf-8", ALL_CODES, unsafe=True)
        assert first.refused is None, (path, first.refused)
        assert first.result.internal_error is None, (path, first.result.internal_error)
        cst.parse_module(first.fixed)
        compile(first.fixed, str(path), "exec")
        second = fixes.fix_text(str(path), first.fixed, "utf-8", ALL_CODES, unsafe=True)
        assert second.fixed == first.fixed, path
        fixed_somewhere += first.applied > 0
    assert fixed_somewhere >= 3  # the examples alone have DL101, DL102 and DL201 fixes


def test_fix_on_the_examples_then_lint_shows_only_unfixable_rules(tmp_path):
    copy = tmp_path / "examples"
    shutil.copytree(REPO / "examples", copy)
    dldoctor(".", "--fix", cwd=copy)
    after = dldoctor(".", "--output-format", "concise", cwd=copy)
    fixable = {code for code, rule in registry.all_rules().items() if "Safe:" in rule.documentation()}
    assert {"DL101", "DL102", "DL201"} <= fixable
    remaining = {line.split()[1] for line in after.stdout.splitlines()}
    assert not remaining & fixable, after.stdout
