"""Which processes are alive, read from /proc: what the no-orphan tests assert on.

Read independently of dldoctor's own supervisor code, so that a bug there cannot
hide itself. Zombies count as gone: they run nothing and hold no pipe.
"""

from __future__ import annotations

import os
from pathlib import Path


def _stat(pid: int | str) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, session, ...)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in (b"Z", b"X")


def living(pgid: int = -1, sid: int = -1) -> list[int]:
    """Processes (zombies excepted) of process group `pgid` or session `sid`."""
    found = []
    for entry in os.listdir("/proc"):
        fields = _stat(entry) if entry.isdigit() else None
        if fields is not None and fields[0] != b"Z" and (int(fields[2]) == pgid or int(fields[3]) == sid):
            found.append(int(entry))
    return found


def children(pid: int) -> list[int]:
    """The direct children of `pid`, over all its threads."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found
