"""The catalogue of check ids: what each checks, why, the error text users meet, and the fix.

Each probe documents its checks beside its diagnosis, in `dldoctor/probes/<probe>/checks.py`
(a `CHECKS` tuple of `CheckDoc`), as a lint rule carries its own documentation; this
module gathers them for `dldoctor explain ID`, the README's list and the tests that
hold every emitted id to a documented one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache

# The probes whose checks are catalogued, in the order they are listed.
PROBES = ("env", "ckpt", "graph", "logs", "data")


@dataclass(frozen=True)
class CheckDoc:
    id: str  # "env.driver-too-old": the probe, a dot, what is checked
    title: str  # a few words
    checks: str  # what it checks (and when it is ok, warn, fail or skipped)
    why: str  # why it matters
    error: str = ""  # the real error text users meet, verbatim
    fix: str = ""  # what to do about it

    @property
    def probe(self) -> str:
        return self.id.split(".", 1)[0]

    def markdown(self) -> str:
        parts = [f"# {self.id}: {self.title}", "", f"## What it checks\n\n{self.checks}", "", f"## Why it matters\n\n{self.why}"]
        if self.error:
            quoted = "\n".join(f"    {line}" for line in self.error.strip().splitlines())
            parts += ["", f"## What you see\n\n{quoted}"]
        if self.fix:
            parts += ["", f"## Fix\n\n{self.fix}"]
        return "\n".join(parts) + "\n"


@lru_cache(maxsize=1)
def all_checks() -> dict[str, CheckDoc]:
    """Every documented check id, probe by probe."""
    out: dict[str, CheckDoc] = {}
    for probe in PROBES:
        for doc in importlib.import_module(f"dldoctor.probes.{probe}.checks").CHECKS:
            if doc.id in out or doc.probe != probe:
                raise ValueError(f"check id {doc.id!r}: documented twice, or by another probe than {probe}")
            out[doc.id] = doc
    return out


def lookup(check_id: str) -> CheckDoc | None:
    return all_checks().get(check_id.strip().lower())
