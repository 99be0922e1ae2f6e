"""Reporters: one module per output format, each turning findings into text.

`text` needs rich; the machine-readable formats import nothing heavy, so a CI
job asking for `github` or `json` output does not pay for rich's renderer.

What every format shares lives here: which fixes count as available in this run
(the `[*]` marker), ruff's fix summary lines, each rule's documentation link, and
`--statistics`' table.
"""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import TextIO

from dldoctor.lint.finding import Finding

FORMATS = ("text", "concise", "json", "sarif", "github")
RULE_PAGES = "docs/rules"  # one Markdown page per rule, generated from its docstring


@dataclass
class RunSummary:
    """What reporters say besides the findings."""

    files_checked: int
    selected_codes: frozenset[str]
    fixed: int = 0  # findings fixed by --fix in this run
    unsafe_fixes: bool = False  # whether --unsafe-fixes was given
    quiet: bool = False  # --quiet: the findings only, no summary
    unfixable: frozenset[str] = frozenset()  # --unfixable: codes whose fixes are never offered
    plain: bool = False  # never colour (--output-file: a file, whatever FORCE_COLOR says, as ruff)


def fixable(finding: Finding, summary: RunSummary) -> bool:
    """Whether the finding's fix is one this run's options would apply (`[*]`): a safe
    fix, or an unsafe one when `--unsafe-fixes` is given; never a code made `--unfixable`."""
    if finding.fix is None or finding.code in summary.unfixable:
        return False
    return finding.fix.applicability == "safe" or summary.unsafe_fixes


def hidden_fix(finding: Finding, summary: RunSummary) -> bool:
    """An unsafe fix not offered because `--unsafe-fixes` is not given."""
    return (
        finding.fix is not None and finding.code not in summary.unfixable
        and finding.fix.applicability != "safe" and not summary.unsafe_fixes
    )


def fix_summary(findings: list[Finding], summary: RunSummary) -> str | None:
    """ruff's line on the fixes available, or None when there are none (hidden ones included)."""
    applicable = sum(fixable(f, summary) for f in findings)
    hidden = sum(hidden_fix(f, summary) for f in findings)
    option = "`--fix --unsafe-fixes` options" if summary.unsafe_fixes else "`--fix` option"
    hint = f"{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the `--unsafe-fixes` option"
    if applicable and hidden:
        return f"[*] {applicable} fixable with the {option} ({hint})."
    if applicable:
        return f"[*] {applicable} fixable with the {option}."
    if hidden:
        return f"No fixes available ({hint})."
    return None


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


@lru_cache(maxsize=1)
def _documentation_base() -> str:
    """Where the rule pages are: under the project's `Documentation` URL, or the
    `docs/rules/` folder of its `Repository`/`Source`/`Homepage` URL, as declared in
    `pyproject.toml`'s `[project.urls]` (read from the installed metadata); without
    one, the relative path of the pages in the source tree."""
    urls = {}
    for entry in _project_url_entries():
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip().rstrip("/")
    if urls.get("documentation"):
        return f"{urls['documentation']}/rules"
    for label in ("repository", "source", "homepage"):
        url = urls.get(label, "")
        if url.startswith("https://github.com/"):
            return f"{url}/blob/HEAD/{RULE_PAGES}"
    return RULE_PAGES


def _project_url_entries() -> list[str]:
    """The `Project-URL` lines of dldoctor's installed metadata, read from its `.dist-info`
    directly: `importlib.metadata` costs a one-file lint more than the lint itself."""
    import os
    import sys

    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith("dldoctor-") and name.endswith(".dist-info"):
                try:
                    with open(os.path.join(entry or ".", name, "METADATA"), encoding="utf-8") as handle:
                        header = handle.read(64 * 1024).split("\n\n", 1)[0]
                except OSError:
                    continue
                return [line[len("Project-URL:"):].strip() for line in header.splitlines() if line.startswith("Project-URL:")]
    return []


def rule_url(code: str) -> str:
    """The rule's documentation page: `docs/rules/DL201.md`, or its address online."""
    return f"{_documentation_base()}/{code}.md"


def rule_name(code: str) -> str:
    from dldoctor.lint import registry

    return registry.name_of(code)


def statistics(findings: list[Finding], summary: RunSummary) -> list[dict]:
    """`--statistics`: one row per code, most frequent first (ruff's order and JSON fields)."""
    counts = Counter(f.code for f in findings)
    fixable_codes = {f.code for f in findings if fixable(f, summary)}
    rows = [
        {"code": code, "name": rule_name(code), "count": count, "fixable": code in fixable_codes, "url": rule_url(code)}
        for code, count in counts.items()
    ]
    return sorted(rows, key=lambda row: (-row["count"], row["code"]))


def write_statistics(format_name: str, findings: list[Finding], summary: RunSummary, stream: TextIO) -> None:
    """ruff's `--statistics`: `COUNT<tab>CODE<tab>[*] name` (JSON: a list of rows)."""
    rows = statistics(findings, summary)
    if format_name == "json":
        import json

        json.dump(rows, stream, indent=2, ensure_ascii=not can_encode(stream, "\u00b7"))
        stream.write("\n")
        return
    if rows:
        count_width = max(len(str(row["count"])) for row in rows)
        code_width = max(len(row["code"]) for row in rows)
        any_fixable = any(row["fixable"] for row in rows)
        for row in rows:
            marker = ("[*] " if row["fixable"] else "[ ] ") if any_fixable else ""
            stream.write(f"{row['count']:>{count_width}}\t{row['code']:<{code_width}}\t{marker}{row['name']}\n")
    if summary.quiet:
        return
    total = len(findings)
    stream.write(f"Found {plural(total, 'finding')}.\n" if total else "All checks passed!\n")
    hint = fix_summary(findings, summary)
    if hint:
        stream.write(hint + "\n")


def can_encode(stream: TextIO, text: str) -> bool:
    """Whether `stream` can write `text` as it is (not an ASCII console, say)."""
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def assumed_versions(findings: list[Finding]) -> list:
    """The target versions the findings were judged against (`TargetVersion`s), each once, in order."""
    seen: dict = {}
    for finding in findings:
        for entry in finding.assumed:
            seen.setdefault((entry.library, entry.shown, entry.source), entry)
    return list(seen.values())


def write(format_name: str, findings: list[Finding], summary: RunSummary, stream: TextIO) -> None:
    if format_name not in FORMATS:
        raise ValueError(f"unknown output format {format_name!r}")
    module = importlib.import_module(f"dldoctor.report.{format_name}_format")
    module.write(findings, summary, stream)
