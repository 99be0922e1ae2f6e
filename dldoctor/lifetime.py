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


# -- process trees that end with dldoctor (env probes, `graph run` scripts) --------------------
#
# A command dldoctor runs is started under `dldoctor/supervise.py`, the leader of a new
# session, which kills everything the command started when the command ends, when dldoctor
# closes its end of a pipe (timeout, Ctrl-C, SIGTERM, SIGHUP), and when dldoctor dies,
# however it dies: the pipe then reads EOF. `terminating_children()` turns SIGINT, SIGTERM
# and SIGHUP into killing the live trees and `Interrupted`.

SUPERVISOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "supervise.py")
STOP_GRACE_S = 3.0

_LIVE: "set[Supervised]" = set()


class Interrupted(BaseException):
    """dldoctor got SIGINT, SIGTERM or SIGHUP; its children are already killed.
    `code` is the exit status to end with (128 + the signal: 130, 143, 129)."""

    def __init__(self, number: int):
        self.number = number
        self.code = 128 + number
        try:
            self.name = signal.Signals(number).name
        except ValueError:
            self.name = f"signal {number}"
        super().__init__(self.name)


class Supervised:
    """One command run under the supervisor; its whole process tree dies with `stop()`
    or with dldoctor. `process` is the supervisor's Popen, whose exit status is the command's.

    `popen_options` go to subprocess.Popen (stdin, stdout, stderr, cwd, env); the pipes of
    the command are the caller's business: pass files, not PIPE, when a daemon the command
    starts could hold them open.
    """

    def __init__(self, command: list, pid_file: "str | None" = None, **popen_options):
        import subprocess

        self.command = list(command)
        self.pid_file = pid_file
        self._watch: "int | None" = None
        if os.name != "posix":  # no supervisor: the command itself, killed with its tree at stop()
            self.process = subprocess.Popen(self.command, **popen_options)
            _LIVE.add(self)
            return
        read_end, self._watch = os.pipe()  # both non-inheritable; the supervisor gets read_end only
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", SUPERVISOR, str(read_end), pid_file or "-", "--", *self.command],
                pass_fds=(read_end,), start_new_session=True, **popen_options)
        except BaseException:
            os.close(self._watch)
            self._watch = None
            raise
        finally:
            os.close(read_end)
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def command_pid(self) -> "int | None":
        """The command's own pid (the supervisor's child), once the supervisor wrote it."""
        if os.name != "posix":
            return self.process.pid
        try:
            with open(self.pid_file or "", encoding="ascii") as handle:
                return int(handle.read().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def wait(self, timeout: "float | None" = None) -> int:
        """The command's exit status (negative: the signal); subprocess.TimeoutExpired past `timeout`."""
        import subprocess

        if not self._ended(timeout):
            raise subprocess.TimeoutExpired(self.command, timeout)
        self.release()
        return self.process.returncode

    def _ended(self, timeout: "float | None") -> bool:
        """Has the supervisor ended (within `timeout` s)? It is left unreaped (a zombie): its pid,
        which is its session's and group's id, cannot be reused until `release` sweeps the group."""
        import time

        if self.process.returncode is not None:
            return True
        if os.name != "posix" or not hasattr(os, "waitid"):
            import subprocess

            try:
                self.process.wait(timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                if os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                    return True
            except ChildProcessError:  # already reaped
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            pause = min(pause * 2, 0.05)
            time.sleep(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))

    def release(self) -> None:
        """After the supervisor ended: close our end of the pipe, sweep its group (whose id its
        unreaped pid still holds), then reap it."""
        self._close()
        self._killpg()
        self.process.wait()
        _LIVE.discard(self)

    def stop(self, grace: float = STOP_GRACE_S) -> None:
        """Kill the command's whole tree now and wait (up to `grace` s) for the supervisor
        to have done it; then SIGKILL its group, whatever is left of it (the supervisor too)."""
        self._close()
        if os.name != "posix":
            try:
                self.process.kill()
            except OSError:
                pass
        self._ended(grace)
        self._killpg()  # the supervisor is alive or a zombie here: its group id is still its own
        self._ended(grace)
        try:
            self.process.wait(0)
        except Exception:  # noqa: BLE001  (still running after SIGKILL: left to the kernel)
            pass
        _LIVE.discard(self)

    def _close(self) -> None:
        if self._watch is not None:
            try:
                os.close(self._watch)
            except OSError:
                pass
            self._watch = None

    def _killpg(self) -> None:
        if os.name == "posix" and self.process.returncode is None:  # never once reaped: the id may be reused
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def stop_all() -> None:
    """Kill every live tree: close every pipe first (all supervisors start at once), then wait."""
    live = list(_LIVE)
    for child in live:
        child._close()
    for child in live:
        child.stop()


class terminating_children:
    """`with terminating_children():` SIGINT, SIGTERM and SIGHUP kill every supervised tree,
    then raise `Interrupted` in the main thread (the command turns it into exit 128 + N).
    Outside the main thread it does nothing."""

    SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

    def __enter__(self):
        import threading

        self._previous = {}
        if threading.current_thread() is not threading.main_thread():
            return self
        for number in self.SIGNALS:
            try:
                self._previous[number] = signal.signal(number, self._handle)
            except (OSError, ValueError):
                pass
        return self

    @staticmethod
    def _handle(number, frame):
        for other in terminating_children.SIGNALS:  # a second signal must not interrupt the cleanup
            try:
                signal.signal(other, signal.SIG_IGN)
            except (OSError, ValueError):
                pass
        stop_all()
        raise Interrupted(number)

    def __exit__(self, kind, value, tb):
        if kind is not None:  # whatever ended the block early: no child outlives it
            stop_all()
        for number, previous in self._previous.items():
            try:
                signal.signal(number, previous if previous is not None else signal.SIG_DFL)
            except (OSError, ValueError):
                pass
        return False
