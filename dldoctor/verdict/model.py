"""The verdict types: a `Check` (one question answered about the facts) and a `Report` (a probe's run).

A check has a stable catalogue id (`env.driver-too-old`), a status, a one-line
title, detail, the fix (ways to repair it, the first to try first), evidence
(facts as data: paths, steps, values, counts) and, when it points at code or a
file, a location. `subject` tells apart the checks of one id in one report (the
GPU, the framework, the package it is about); `section` groups them for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
STATUSES = (OK, WARN, FAIL, SKIP)
EXIT_CLEAN, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Location:
    """Where a check points: a file, and a 1-based line (and notebook cell) when it is code."""

    file: str
    line: Optional[int] = None
    cell: Optional[int] = None

    def to_json(self) -> dict:
        out: dict[str, Any] = {"file": self.file}
        if self.line is not None:
            out["line"] = self.line
        if self.cell is not None:
            out["cell"] = self.cell
        return out

    def text(self) -> str:
        cell = f"[cell {self.cell}]" if self.cell is not None else ""
        return f"{self.file}{cell}" + (f":{self.line}" if self.line is not None else "")


@dataclass
class Check:
    id: str
    status: str
    title: str
    detail: str = ""
    fix: list[str] = field(default_factory=list)
    evidence: dict = field(default_factory=dict)
    location: Optional[Location] = None
    subject: Optional[str] = None
    section: Optional[str] = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"check {self.id}: status {self.status!r} is not one of {', '.join(STATUSES)}")
        self.fix = [self.fix] if isinstance(self.fix, str) else list(self.fix or [])

    def to_json(self) -> dict:
        out: dict[str, Any] = {"id": self.id, "status": self.status, "title": self.title, "detail": self.detail,
                               "fix": list(self.fix), "evidence": self.evidence}
        if self.subject is not None:
            out["subject"] = self.subject
        if self.section is not None:
            out["section"] = self.section
        if self.location is not None:
            out["location"] = self.location.to_json()
        return out


def overall(statuses) -> str:
    """`fail` if any check fails, else `warn` if any warns, else `ok` (skips are not problems)."""
    statuses = set(statuses)
    return FAIL if FAIL in statuses else WARN if WARN in statuses else OK


@dataclass
class Report:
    """What one probe run concluded: its checks, the facts they were judged on, a one-line headline."""

    command: str  # "env", "ckpt", "graph run", "graph meta"
    checks: list[Check]
    facts: dict = field(default_factory=dict)
    headline: Optional[str] = None  # the conclusion in one line; the counts of each status when None

    @property
    def verdict(self) -> str:
        return overall(check.status for check in self.checks)

    def exit_code(self, strict: bool = False) -> int:
        """1 when a check fails (or, with `strict`, warns); 0 otherwise."""
        verdict = self.verdict
        return EXIT_FAILURES if verdict == FAIL or (strict and verdict == WARN) else EXIT_CLEAN

    def counts(self) -> dict[str, int]:
        return {status: sum(1 for c in self.checks if c.status == status) for status in STATUSES}

    def count_text(self) -> str:
        counts = self.counts()
        return ", ".join([f"{counts[OK]} ok", f"{counts[WARN]} warning{'s' if counts[WARN] != 1 else ''}",
                          f"{counts[FAIL]} failure{'s' if counts[FAIL] != 1 else ''}", f"{counts[SKIP]} skipped"])

    def headline_text(self) -> str:
        return self.headline if self.headline else self.count_text()

    def to_json(self) -> dict:
        import dldoctor

        return {"command": self.command, "dldoctor_version": dldoctor.__version__, "verdict": self.verdict,
                "headline": self.headline_text(), "checks": [c.to_json() for c in self.checks], "facts": self.facts}


class ProbeError(Exception):
    """A probe could not run on what it was given (a missing file, a bad option, a missing extra).

    The command prints `message` as one `dldoctor: error:` line and exits with `exit_code`;
    an API caller catches it. Raised instead of printing so that the probe's work can be
    called from Python (`dldoctor.api`) as well as from the command line.
    """

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
