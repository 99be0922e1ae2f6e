"""Run per-file jobs in worker processes, where a crash costs one file, not the run.

libcst's native parser can die on a file (a stack overflow in its Rust code is a
SIGSEGV, not an exception), and a worker that dies breaks the whole process
pool: every other file's results would be lost. Here the jobs that were in
flight when a pool broke are run again one by one, each in a process of its
own, so the file that kills its process is named (`on_crash`) and every other
file gets its real result. Workers die with the parent (`lifetime`).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence

from dldoctor import lifetime
from dldoctor.lint import source, target

# Below this many files a process pool costs more to start than it saves.
PARALLEL_THRESHOLD = 16


def map_jobs(
    function: Callable, jobs: Sequence, workers: int | None = None, on_crash: Callable | None = None
) -> list:
    """`function` over jobs whose first item is a path, in worker processes when there
    are many; results in job order. `on_crash(job, why)` gives the result for a job
    whose process died.

    Workers take the largest files first, one at a time: a few big files decide
    the wall time, and starting them last would leave one worker alone at the end.
    """
    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(jobs) < PARALLEL_THRESHOLD:
        return [function(job) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    results: list = [None] * len(jobs)
    pending = sorted(range(len(jobs)), key=lambda index: -_size(jobs[index][0]))
    while pending:
        lost = []
        with ProcessPoolExecutor(
            max_workers=min(workers, len(pending)), initializer=_worker_start,
            initargs=(os.getpid(), source.max_file_bytes(), target.configured()),
        ) as pool:
            futures = [(index, pool.submit(function, jobs[index])) for index in pending]
            for index, future in futures:
                try:
                    results[index] = future.result()
                except BrokenProcessPool:
                    lost.append(index)
        # The job that killed its worker was running or queued: among the first lost
        # ones, in the order they were handed out. Those run alone; the rest go round again.
        suspects, pending = lost[: 2 * workers + 1], lost[2 * workers + 1 :]
        for index in suspects:
            results[index] = run_isolated(function, jobs[index], on_crash)
    return results


def _worker_start(parent_pid: int, max_file_bytes: int, run_targets: target.RunTargets) -> None:
    lifetime.worker_start(parent_pid)
    source.configure(max_file_bytes)
    target.configure(run_targets)  # a spawned worker does not inherit the parent's settings


def run_isolated(function: Callable, job, on_crash: Callable | None):
    """`function(job)` in a process of its own; `on_crash(job, why)` if that process dies."""
    import multiprocessing

    context = multiprocessing.get_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_isolated_child, args=(function, job, sender, os.getpid(), source.max_file_bytes(), target.configured()))
    process.start()
    sender.close()
    try:
        result = receiver.recv()
    except EOFError:
        result = None
    finally:
        receiver.close()
        process.join()
    if process.exitcode == 0 and result is not None:
        return result[0]
    why = _death(process.exitcode)
    if on_crash is None:
        raise RuntimeError(f"the process linting {job[0]} {why}")
    return on_crash(job, why)


def _isolated_child(function: Callable, job, sender, parent_pid: int, max_file_bytes: int, run_targets) -> None:
    _worker_start(parent_pid, max_file_bytes, run_targets)
    sender.send((function(job),))
    sender.close()


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"died of {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"died of signal {-exitcode}"
    return f"exited with status {exitcode}"


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
