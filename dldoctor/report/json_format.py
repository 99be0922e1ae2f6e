"""A JSON array of findings with ruff's field names, so tools that read ruff read us.

Each object: `code`, `message`, `filename`, `location` {row, column},
`end_location`, `fix` (null, or {applicability, message, edits}), `url` (the rule's
documentation page), `noqa_row`, `cell`,
plus dldoctor's `name`, `severity` and `assumed_versions`: for findings that depend on a
library's version, the target versions they were judged against
(`[{"library": "tensorflow", "version": "<2", "source": "requirements.txt:3"}]`; empty
for the others), so the output stays a list of findings, as ruff's.
"""

from __future__ import annotations

import json
import os
from typing import TextIO

from dldoctor.lint.finding import Finding
from dldoctor.report import can_encode, rule_url


def _fix(finding: Finding) -> dict | None:
    if finding.fix is None:
        return None
    return {
        "applicability": finding.fix.applicability,
        "message": finding.fix.description,
        "edits": [
            {
                "content": edit.content,
                "location": {"column": edit.column, "row": edit.line},
                "end_location": {"column": edit.end_column, "row": edit.end_line},
            }
            for edit in finding.fix.edits
        ],
    }


def as_dict(finding: Finding) -> dict:
    return {
        "assumed_versions": [entry.as_json() for entry in finding.assumed],
        "cell": finding.cell,
        "code": finding.code,
        "end_location": {"column": finding.end_column, "row": finding.end_line},
        "filename": finding.path if finding.path == "-" else os.path.abspath(finding.path),
        "fix": _fix(finding),
        "location": {"column": finding.column, "row": finding.line},
        "message": finding.message,
        "name": finding.name,
        "noqa_row": finding.line,
        "severity": finding.severity.value,
        "url": rule_url(finding.code),
    }


def write(findings: list[Finding], summary, stream: TextIO) -> None:
    # On a stream that cannot encode every character (an ASCII console), JSON's own
    # escapes (`\u00b7`) keep the document valid.
    json.dump([as_dict(finding) for finding in findings], stream, indent=2, ensure_ascii=not can_encode(stream, "\u00b7\u2192"))
    stream.write("\n")
