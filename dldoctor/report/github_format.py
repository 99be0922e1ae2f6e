"""GitHub Actions workflow commands: findings show as annotations on the pull request.

`::error file=PATH,line=L,col=C,endLine=..,endColumn=..,title=DL101 name::message`;
warnings become `::warning`, info findings `::notice`. The library versions the findings
were judged against, and where each came from, follow as one `::notice` of the run.
"""

from __future__ import annotations

from typing import TextIO

from dldoctor.lint.finding import Finding, Severity

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write(findings: list[Finding], summary, stream: TextIO) -> None:
    for f in findings:
        properties = ",".join(
            [
                f"file={_escape_property(f.path)}",
                f"line={f.line}",
                f"col={f.column}",
                f"endLine={f.end_line}",
                f"endColumn={f.end_column}",
                f"title={_escape_property(f'{f.code} {f.name}')}",
            ]
        )
        cell = f"cell {f.cell}: " if f.cell is not None else ""  # lines of a notebook count within the cell
        stream.write(f"::{_COMMAND[f.severity]} {properties}::{_escape_data(f'{cell}{f.code} {f.message}')}\n")
    from dldoctor.report import assumed_versions

    assumed = assumed_versions(findings)
    if assumed:
        described = "; ".join(entry.describe() for entry in assumed)
        stream.write(f"::notice title=dldoctor target versions::{_escape_data('judged against ' + described)}\n")
