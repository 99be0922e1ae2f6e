"""Linting never imports torch, tensorflow or numpy, even on code that uses them.

Importing a framework costs seconds and must not be needed to lint. The CLI runs
in a subprocess that lists, when dldoctor is done, which framework modules got
imported. For the test to mean something the frameworks must be importable here
(found with `importlib.util.find_spec`, which imports nothing): under CI their
absence fails the test, elsewhere it skips it.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from conftest import run_reporting_imports

FRAMEWORKS = ("torch", "tensorflow", "numpy")
SOURCE = 'import torch\nimport tensorflow as tf\ntf.ConfigProto(log_device_placement=True)\ntorch.load("x.pt")\n'

def _require_frameworks() -> None:
    missing = [name for name in ("torch", "tensorflow") if importlib.util.find_spec(name) is None]
    if missing:
        message = f"{', '.join(missing)} not installed: the no-import test below proves nothing"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def test_the_frameworks_are_installed():
    _require_frameworks()


def _imports(tmp_path, *args) -> tuple[dict, str]:
    (tmp_path / "train.py").write_text(SOURCE, encoding="utf-8")
    head, report, _ = run_reporting_imports(list(args), list(FRAMEWORKS), tmp_path, timeout=120)
    return report, head


@pytest.mark.parametrize("output_format", ["text", "concise", "json", "github", "sarif"])
def test_linting_imports_no_framework(tmp_path, output_format):
    _require_frameworks()
    report, output = _imports(tmp_path, "lint", "--output-format", output_format, "train.py")
    assert report["status"] == 1, output  # DL201 was found: the file was parsed and every rule ran
    assert "DL201" in output
    assert report["libcst"]  # the listing sees what the process imported
    assert report["imported"] == []


@pytest.mark.parametrize("args", [["rules"], ["rules", "--json"], ["rule", "DL201"]], ids=" ".join)
def test_the_rule_catalogue_imports_no_framework(tmp_path, args):
    # Every rule module is imported for these: a rule importing a framework at the top shows here.
    _require_frameworks()
    report, output = _imports(tmp_path, *args)
    assert report["status"] in (None, 0), output
    assert report["imported"] == []


def test_the_listing_would_see_an_import(tmp_path):
    # The control, with a cheap stand-in: a module dldoctor does import is listed when asked for.
    (tmp_path / "train.py").write_text(SOURCE, encoding="utf-8")
    _, report, _ = run_reporting_imports(["lint", "train.py"], ["libcst"], tmp_path, timeout=120)
    assert "libcst" in report["imported"]
