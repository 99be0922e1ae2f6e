"""Paths a lint's answer depends on that it looks at without opening or listing them.

The findings of a run rest on files it reads (sources, settings, pins, ignore files)
and directories it lists, and also on files it only tests for: a `dldoctor.toml` that
does not exist, a `.git/info/exclude`, a project module's size and time. Opening and
listing raise Python's own audit events (`open`, `os.scandir`, `os.listdir`); these
tests raise `dldoctor.consulted` here, so that what replays a run whose inputs have not
changed (`dldoctor.replay`) sees every path the run's answer depended on. With no audit
hook installed (everywhere but the command line's lint) an event costs next to nothing.
"""

from __future__ import annotations

import sys

EVENT = "dldoctor.consulted"


def consulted(path: str | object) -> None:
    """`path` (existing or not) decided something in this run."""
    sys.audit(EVENT, path)
