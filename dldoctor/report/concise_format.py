"""`path:line:col: CODE [*] message` (`path:cell N:line:col: ...` in a notebook), one finding
per line, then ruff's summary (`Found 2 findings.`, the fixes available, `Fixed N
findings.` after `--fix`, or `All checks passed!`); `--quiet` keeps the finding lines
only. `[*]` marks a finding whose fix this run's options would apply."""

from __future__ import annotations

from typing import TextIO

from dldoctor.lint.finding import Finding


def write(findings: list[Finding], summary, stream: TextIO) -> None:
    from dldoctor.report import fix_summary, fixable, plural

    for finding in findings:
        marker = "[*] " if fixable(finding, summary) else ""
        stream.write(f"{finding.path}:{finding.place}: {finding.code} {marker}{finding.message}\n")
    if summary.quiet:
        return
    if summary.fixed:
        stream.write(f"Fixed {plural(summary.fixed, 'finding')}.\n")
    if not findings:
        stream.write("All checks passed!\n")
        return
    stream.write(f"Found {plural(len(findings), 'finding')}.\n")
    hint = fix_summary(findings, summary)
    if hint:
        stream.write(hint + "\n")
