"""Children that do not outlive dldoctor.

A worker or probe process that survives its parent keeps running, keeps the
parent's stdout and stderr open (so a caller waiting for the pipe to close
waits for ever) and holds memory. Each child calls `tie_to_parent` first: on
Linux the kernel then kills it when the parent dies, however the parent dies
(SIGKILL included); elsewhere it checks that its parent is still the one that
started it.
"""

from __future__ import annotations

import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def tie_to_parent(parent_pid: int) -> None:
    """Ask to be killed when the process `parent_pid` ends; end now if it already has."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl here: the check below still catches a parent already gone
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def worker_start(parent_pid: int) -> None:
    """What a pool worker does first: die with the parent, and leave Ctrl-C to it (the
    parent stops the pool; a worker's own KeyboardInterrupt would only print a traceback)."""
    tie_to_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
