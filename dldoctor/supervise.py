"""The supervisor of one child command: it runs it, and kills every process it started when done.

Run by dldoctor (stdlib only, `python -I -S supervise.py WATCH_FD PID_FILE -- COMMAND...`)
as the leader of a new session. It

- becomes a child subreaper (Linux): a process the command starts and abandons (a
  double-forked daemon, even one that called `setsid`) is re-parented to it, not to init;
- starts COMMAND (the command is killed by the kernel if the supervisor dies);
- waits until COMMAND ends, or until WATCH_FD (the read end of a pipe whose write end
  only dldoctor holds) reads EOF: dldoctor closed it (timeout, signal) or died, SIGKILL included;
- then kills, with SIGKILL, every descendant it has (what is left of COMMAND's tree,
  and the abandoned processes re-parented to it), until there is none;
- and ends as COMMAND ended: the same exit status, or the same signal.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
SWEEP_SECONDS = 5.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children_map() -> dict[int, list[int]]:
    """{parent pid: [child pids]} of every process /proc shows."""
    tree: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return tree
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if fields and fields[0] != b"Z":
            tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def descendants(pid: int) -> list[int]:
    """Living descendants of `pid` (not `pid` itself), by /proc."""
    tree = _children_map()
    found, stack = [], list(tree.get(pid, ()))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(tree.get(child, ()))
    return found


def _reap() -> bool:
    """Reap every exited child; False once we have no child at all."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def sweep(me: int) -> None:
    """SIGKILL every descendant of `me`, again and again (a dying process's children come
    back to us, the subreaper), until none is left or SWEEP_SECONDS have passed."""
    deadline = time.monotonic() + SWEEP_SECONDS
    while True:
        living = descendants(me)
        for pid in living:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        more = _reap()
        if (not living and not more) or time.monotonic() > deadline:
            return
        time.sleep(0.01)


def main() -> None:
    watch, pid_file = int(sys.argv[1]), sys.argv[2]
    command = sys.argv[4:] if sys.argv[3] == "--" else sys.argv[3:]
    me = os.getpid()
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    stop_signal = []

    def on_stop(number, frame):
        stop_signal.append(number)

    for number in STOP_SIGNALS:
        signal.signal(number, on_stop)
    signal.signal(signal.SIGCHLD, lambda number, frame: None)

    def tie():  # in the child, before exec: die with the supervisor, whatever kills it
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != me:
            os._exit(1)

    try:
        child = subprocess.Popen(command, preexec_fn=tie, pass_fds=())
    except OSError as error:
        sys.stderr.write(f"cannot start {command[0]}: {error.strerror or error}\n")
        sys.stderr.flush()
        os._exit(127)
    if pid_file != "-":
        try:
            with open(pid_file, "w", encoding="ascii") as handle:
                handle.write(str(child.pid))
        except OSError:
            pass
    status = None
    stopped = False
    while status is None and not stop_signal:
        try:
            ready, _, _ = select.select([watch, wake_r], [], [], 1.0)
        except InterruptedError:
            ready = []
        if wake_r in ready:
            try:
                os.read(wake_r, 512)
            except BlockingIOError:
                pass
        if watch in ready:
            try:
                data = os.read(watch, 512)
            except OSError:
                data = b""
            if not data:  # dldoctor closed its end, or died
                stopped = True
                break
        status = child.poll()
    sweep(me)
    if status is None:
        status = child.poll()
    if stopped or stop_signal or status is None:
        os._exit(128 + (stop_signal[0] if stop_signal else signal.SIGKILL))
    if status < 0:  # die of the same signal, so the caller sees what the command saw
        number = -status
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        except (ImportError, ValueError, OSError):
            pass
        signal.set_wakeup_fd(-1)
        signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [number])
        os.kill(me, number)
        time.sleep(1)
        os._exit(128 + number)
    os._exit(status)


if __name__ == "__main__":
    main()
