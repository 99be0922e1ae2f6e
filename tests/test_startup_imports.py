"""A run whose every file comes from the cache imports neither libcst nor a rule: what it
needs of the rules (codes, names, severities, the versions they read) comes from the
generated catalogue, which must match the rule modules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dldoctor.lint import catalogue, registry

from conftest import clean_env, run_reporting_imports

REPO = Path(__file__).resolve().parent.parent
HEAVY_PREFIXES = ("libcst", "dldoctor.rules.", "dldoctor.lint.rule", "dldoctor.lint.walk", "dldoctor.lint.positions")


def _heavy(imported: list[str]) -> list[str]:
    return [name for name in imported if name.startswith(HEAVY_PREFIXES)]


def test_the_catalogue_is_the_rule_modules_own():
    # Fails after a rule is added or edited: `python -m dldoctor.lint.registry` writes it again.
    assert catalogue.SOURCES_DIGEST == registry.sources_digest(), "run `python -m dldoctor.lint.registry`"
    assert registry.facts() == registry._facts_of_modules()


def test_a_stale_catalogue_is_not_trusted(monkeypatch):
    monkeypatch.setattr(catalogue, "SOURCES_DIGEST", "0" * 32)
    monkeypatch.setattr(catalogue, "RULES", {"DL999": ("made-up", "error", "not a rule", ())})
    registry.facts.cache_clear()
    try:
        assert "DL999" not in registry.facts() and registry.facts() == registry._facts_of_modules()
    finally:
        registry.facts.cache_clear()


@pytest.mark.parametrize("output_format", ["concise", "json"])
def test_a_cache_hit_run_imports_no_parser_and_no_rule(tmp_path, output_format):
    args = ["lint", "--cache-dir", str(tmp_path / "cache"), "--output-format", output_format, "examples"]
    cold_head, cold, _ = run_reporting_imports(args, ["libcst", "dldoctor"], REPO)
    assert list((tmp_path / "cache").glob("*.json"))  # the first run linted (in workers) and stored
    head, warm, _ = run_reporting_imports(args, ["libcst", "dldoctor"], REPO)
    assert cold["status"] == warm["status"] == 1 and head == cold_head
    assert _heavy(warm["imported"]) == [] and not warm["libcst"]
    if output_format == "json":
        assert {finding["code"] for finding in json.loads(head)} >= {"DL101", "DL201"}


def test_a_changed_file_loads_the_parser_again(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.dldoctor]\n")
    train = tmp_path / "train.py"
    train.write_text("import tensorflow.compat.v1 as tf\ntf.ConfigProto(log_device_placement=True)\n")
    args = ["lint", "--output-format", "concise", "."]
    run_reporting_imports(args, ["libcst"], tmp_path)
    train.write_text("import tensorflow.compat.v1 as tf\n\ntf.ConfigProto(log_device_placement=True)\n")
    head, report, _ = run_reporting_imports(args, ["libcst"], tmp_path)
    assert report["libcst"] and "train.py:3:" in head


def test_importing_the_modules_a_run_starts_with_is_cheap():
    code = (
        "import sys\n"
        "from dldoctor.lint import cache, config, discovery, registry, runner, source, target\n"
        "registry.default_selection(); registry.expand_selector('DL1'); cache.fingerprint()\n"
        f"print([m for m in sys.modules if m.startswith({HEAVY_PREFIXES!r})])\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), cwd=REPO)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


def test_a_one_file_lint_imports_only_the_rules_its_text_could_concern(tmp_path):
    (tmp_path / "train.py").write_text("import tensorflow.compat.v1 as tf\ntf.ConfigProto(log_device_placement=True)\n")
    head, report, _ = run_reporting_imports(["lint", "--no-cache", "--output-format", "concise", "train.py"], ["dldoctor"], tmp_path)
    assert report["status"] == 1 and "DL201" in head
    loaded = {name.rpartition(".")[2].partition("_")[0].upper() for name in report["imported"] if name.startswith("dldoctor.rules.")}
    own_tests = {code for code, rule in registry.facts().items() if rule.triggers is None}
    assert "DL201" in loaded and "DL405" not in loaded  # zero_grad: nothing of it in this file
    assert loaded <= own_tests | {"DL201"} | {code for code in loaded if code.startswith("DL2")}
