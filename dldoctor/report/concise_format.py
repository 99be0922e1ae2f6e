"""`path:line:col: CODE message`, one finding per line: for grep, editors and quick looks."""

from __future__ import annotations

from typing import TextIO

from dldoctor.lint.finding import Finding


def write(findings: list[Finding], summary, stream: TextIO) -> None:
    for finding in findings:
        stream.write(f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {finding.message}\n")
