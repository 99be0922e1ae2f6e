"""`path:line:col: CODE message` (`path:cell N:line:col: ...` in a notebook), one finding
per line: for grep, editors and quick looks."""

from __future__ import annotations

from typing import TextIO

from dldoctor.lint.finding import Finding


def write(findings: list[Finding], summary, stream: TextIO) -> None:
    for finding in findings:
        stream.write(f"{finding.path}:{finding.place}: {finding.code} {finding.message}\n")
