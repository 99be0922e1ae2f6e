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
class Edit:
    """Replace the text from (line, column) up to (end_line, end_column) with `content`.

    1-based lines and columns (Unicode code points), end exclusive, as ruff's JSON.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    content: str


@dataclass(frozen=True)
class FixProposal:
    """A finding's fix as text edits: what `--fix` applies and JSON shows."""

    description: str
    applicability: str  # "safe" or "unsafe"
    edits: tuple[Edit, ...]


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
    fix: FixProposal | None = None
    cell: int | None = None  # in a notebook: the cell (1-based), and `line` is within it
    # The target versions the finding depends on (`dldoctor.lint.target.TargetVersion`).
    assumed: tuple = ()

    @property
    def place(self) -> str:
        """`line:column`, or `cell N:line:column` in a notebook."""
        where = f"{self.line}:{self.column}"
        return f"cell {self.cell}:{where}" if self.cell is not None else where

    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.line, self.column, self.code)
