"""One verdict model for every runtime check (`env`, `ckpt`, `graph`, and the probes to come).

A probe collects facts (JSON-serialisable data), diagnoses them with pure functions
into `Check`s, and hands a `Report` to the shared reporters here: text (rich on a
terminal, plain when piped, ASCII when the stream cannot encode), JSON (one shape,
`schema.json`) and GitHub annotations. Every check id is documented in the
catalogue (`dldoctor explain ID`), and one exit-code rule holds for all probes:
0 when nothing fails (warnings too, unless `--strict`), 1 when a check fails,
2 for usage errors and unreadable input the user named.

Module-level imports are the standard library only, so a probe that registers a
command pays nothing for this package until it runs.
"""

from dldoctor.verdict.model import (
    EXIT_CLEAN, EXIT_FAILURES, EXIT_USAGE, FAIL, OK, SKIP, STATUSES, WARN, Check, Location, ProbeError, Report, overall,
)

__all__ = [
    "Check", "Location", "ProbeError", "Report", "overall", "OK", "WARN", "FAIL", "SKIP", "STATUSES",
    "EXIT_CLEAN", "EXIT_FAILURES", "EXIT_USAGE",
]
