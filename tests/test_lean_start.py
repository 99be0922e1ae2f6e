"""What a short run imports: `lint` of one file (the pre-commit case) and `--version`
pay for the parser and the rules, not for what they do not use."""

from __future__ import annotations

from conftest import BAD, clean_env, run_reporting_imports

# Top-level packages, and the dldoctor modules, that a one-file lint must not import.
HEAVY = ["rich", "pydantic", "concurrent", "multiprocessing", "importlib", "dldoctor"]
NOT_FOR_LINT = {
    "rich": "the text reporter writes plain text to a pipe",
    "pydantic": "typer >= 0.29 validates options through it",
    "concurrent.futures.process": "one file needs no process pool",
    "multiprocessing": "one file needs no process pool",
    "importlib.metadata": "versions come from .dist-info names",
    "dldoctor.lint.fixes": "only --fix and --diff use it",
    "dldoctor.probes.env.snapshot": "env, ckpt and graph import their work when they run",
    "dldoctor.probes.ckpt.formats": "",
    "dldoctor.probes.graph.growth": "",
}


def _imported(tmp_path, args, env=None) -> tuple[set[str], dict, str]:
    (tmp_path / "train.py").write_text(BAD, encoding="utf-8")
    head, report, _ = run_reporting_imports(args, HEAVY, tmp_path, timeout=120, env=env)
    return set(report["imported"]), report, head


def test_one_file_lint_imports_nothing_it_does_not_use(tmp_path):
    imported, report, output = _imported(tmp_path, ["lint", "--no-cache", "train.py"])
    assert report["status"] == 1 and "DL201" in output  # parsed, linted, reported as text
    assert report["libcst"]
    unexpected = {name: why for name, why in NOT_FOR_LINT.items() if name in imported}
    assert unexpected == {}


def test_the_text_report_uses_rich_on_a_terminal(tmp_path):
    # The control: the listing sees rich when colour is asked for.
    imported, report, output = _imported(tmp_path, ["lint", "--no-cache", "train.py"], env=clean_env(FORCE_COLOR="1"))
    assert report["status"] == 1 and "\x1b[" in output
    assert "rich.console" in imported


def test_version_imports_neither_the_parser_nor_rich(tmp_path):
    imported, report, output = _imported(tmp_path, ["--version"])
    assert report["status"] in (None, 0) and output.startswith("dldoctor ")
    assert not report["libcst"]
    assert not any(name.split(".")[0] == "rich" or name.startswith("dldoctor.lint") for name in imported)
