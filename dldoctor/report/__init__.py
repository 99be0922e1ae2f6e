"""Reporters: one module per output format, each turning findings into text.

`text` needs rich; the machine-readable formats import nothing heavy, so a CI
job asking for `github` or `json` output does not pay for rich's renderer.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TextIO

from dldoctor.lint.finding import Finding

FORMATS = ("text", "concise", "json", "sarif", "github")


@dataclass
class RunSummary:
    """What reporters say besides the findings."""

    files_checked: int
    selected_codes: frozenset[str]
    fixed: int = 0  # findings fixed by --fix in this run
    unsafe_fixes: bool = False  # whether --unsafe-fixes was given


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
