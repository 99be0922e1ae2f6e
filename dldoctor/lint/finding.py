"""What a rule reports: one finding at one place in one file."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(str, enum.Enum):
    """How bad a finding is. `info` rules are not selected unless asked for."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """A diagnostic. Lines and columns are 1-based, as editors and ruff show them."""

    path: str
    code: str
    name: str
    severity: Severity
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    source_line: str = ""  # the text of `line`, for reporters that show it

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code)
