"""Linting never imports torch, tensorflow or numpy, even on code that uses them.

Importing a framework costs seconds and must not be needed to lint. The CLI runs
in a subprocess that lists, when dldoctor is done, which framework modules got
imported. For the test to mean something the frameworks must be importable here
(found with `importlib.util.find_spec`, which imports nothing): under CI their
absence fails the test, elsewhere it skips it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from conftest import clean_env

FRAMEWORKS = ("torch", "tensorflow", "numpy")
SOURCE = 'import torch\nimport tensorflow as tf\ntf.ConfigProto(log_device_placement=True)\ntorch.load("x.pt")\n'

# Runs dldoctor's console-script entry point with the given argv, then reports
# what it imported, whatever way it exited.
WRAPPER = """
import json, sys
sys.argv = ["dldoctor", *json.loads(sys.argv[1])]
status = None
try:
    from dldoctor.cli import main
    main()
except SystemExit as exit:
    status = exit.code
finally:
    roots = {"torch", "tensorflow", "numpy"}
    imported = sorted(m for m in sys.modules if m.split(".")[0] in roots)
    print("\\n@@" + json.dumps({"status": status, "imported": imported,
                               "libcst": "libcst" in sys.modules}), flush=True)
"""


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
    completed = subprocess.run(
        [sys.executable, "-c", WRAPPER, json.dumps(list(args))],
        cwd=tmp_path, capture_output=True, text=True, env=clean_env(), timeout=120,
    )
    head, marker, tail = completed.stdout.rpartition("\n@@")
    assert marker, completed.stdout + completed.stderr
    return json.loads(tail), head


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
    source = WRAPPER.replace('{"torch", "tensorflow", "numpy"}', '{"libcst"}')
    (tmp_path / "train.py").write_text(SOURCE, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-c", source, json.dumps(["lint", "train.py"])],
        cwd=tmp_path, capture_output=True, text=True, env=clean_env(), timeout=120,
    )
    report = json.loads(completed.stdout.rpartition("\n@@")[2])
    assert "libcst" in report["imported"]
