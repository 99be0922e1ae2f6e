"""SARIF 2.1.0, the format GitHub code scanning and most security dashboards ingest.

The run carries every rule's metadata (its summary and full documentation as
`help.markdown`, which code scanning shows beside an alert) and one result per
finding. Columns count Unicode code points, as the rest of dldoctor does, and
the run says so (`columnKind`). The library versions findings were judged against
and where each came from are in the run's `properties.assumedVersions`, and each
version-dependent result's own in its `properties.assumedVersions`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

import dldoctor
from dldoctor.lint import registry
from dldoctor.lint.finding import Finding, Severity

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _descriptors() -> list[dict]:
    descriptors = [
        {
            "id": registry.UNREADABLE_CODE,
            "name": registry.UNREADABLE_NAME,
            "shortDescription": {"text": "A file that could not be read, decoded or parsed, so it was not linted."},
            "defaultConfiguration": {"level": "error"},
        }
    ]
    for code, rule in registry.all_rules().items():
        docs = rule.documentation()
        descriptors.append(
            {
                "id": code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.summary},
                "help": {"text": docs, "markdown": docs},
                "defaultConfiguration": {"level": _LEVEL[rule.severity]},
                "properties": {"tags": ["deep-learning"], "severity": rule.severity.value},
                **_help_uri(code),
            }
        )
    return descriptors


def _help_uri(code: str) -> dict:
    """`helpUri`, the rule's page, where the project declares an address for it (SARIF
    wants an absolute URI there; the relative path of the source tree is not one)."""
    from dldoctor.report import rule_url

    url = rule_url(code)
    return {"helpUri": url} if url.startswith("https://") else {}


def _uri(path: str) -> dict:
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    relative = Path(os.path.normpath(path)).as_posix()
    return {"uri": quote(os.fsencode(relative)), "uriBaseId": "%SRCROOT%"}  # bytes: a name not in UTF-8 too


def _directory_uri(directory: Path) -> str:
    """`file:///work/project/`: a base URI must end with one slash (`/` itself is `file:///`)."""
    uri = directory.as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _result_properties(finding: Finding) -> dict:
    if not finding.assumed:
        return {}
    return {"properties": {"assumedVersions": [entry.as_json() for entry in finding.assumed]}}


def document(findings: list[Finding]) -> dict:
    from dldoctor.report import assumed_versions

    descriptors = _descriptors()
    index = {descriptor["id"]: i for i, descriptor in enumerate(descriptors)}
    results = [
        {
            **_result_properties(f),
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _LEVEL[f.severity],
            "message": {"text": f"cell {f.cell}: {f.message}" if f.cell is not None else f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _uri(f.path),
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        },
                    }
                }
            ],
        }
        for f in findings
    ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dldoctor",
                        "version": dldoctor.__version__,
                        "semanticVersion": dldoctor.__version__,
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": _directory_uri(Path.cwd())}},
                "columnKind": "unicodeCodePoints",
                "properties": {"assumedVersions": [entry.as_json() for entry in assumed_versions(findings)]},
                "results": results,
            }
        ],
    }


def write(findings: list[Finding], summary, stream: TextIO) -> None:
    from dldoctor.report import can_encode

    json.dump(document(findings), stream, indent=2, ensure_ascii=not can_encode(stream, "\u00b7\u2192"))
    stream.write("\n")
