"""Suppression comments, as flake8 and ruff users write them.

- `# noqa` or `# noqa: DL101, DL301` at the end of the reported line;
- `# dldoctor: noqa` (the whole file) or `# dldoctor: noqa: DL301` (those codes,
  the whole file) in a comment anywhere in the file.

Codes of other tools in the same comment (`# noqa: E501, DL101`) are fine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_FILE_NOQA = re.compile(
    r"#\s*dldoctor\s*:\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
_MENTIONS_DLDOCTOR = re.compile("dldoctor", re.IGNORECASE)  # as case-blind as _FILE_NOQA

@dataclass(frozen=True)
class FileSuppression:
    """What `# dldoctor: noqa` comments turn off for the whole file."""

    everything: bool
    codes: frozenset[str]

    def suppresses(self, code: str) -> bool:
        return self.everything or code in self.codes


def file_suppression(text: str) -> FileSuppression:
    if not _MENTIONS_DLDOCTOR.search(text):  # the common case, without the full regex scan
        return FileSuppression(False, frozenset())
    everything, codes = False, set()
    for match in _FILE_NOQA.finditer(text):
        if match.group("codes"):
            codes |= {code.upper() for code in _CODE.findall(match.group("codes"))}
        else:
            everything = True
    return FileSuppression(everything, frozenset(codes))


def line_suppresses(line: str, code: str) -> bool:
    """Whether `line` carries a `# noqa` that covers `code`."""
    if "noqa" not in line.lower():
        return False
    for match in _LINE_NOQA.finditer(line):
        codes = match.group("codes")
        if codes is None or code.upper() in {c.upper() for c in _CODE.findall(codes)}:
            return True
    return False
