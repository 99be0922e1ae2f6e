"""`dldoctor lint --watch`: the real command, a real file change, the new report."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import BAD, CLEAN, clean_env, run_dldoctor, write

pytest.importorskip("watchfiles")  # the `watch` extra; the test extra installs it

DEADLINE = 60  # seconds for each report to appear


class Watching:
    """`dldoctor lint --watch ARGS` in `cwd`, its stdout read line by line as it comes."""

    def __init__(self, cwd, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dldoctor", "lint", "--watch", *args],
            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, wanted: str) -> list[str]:
        """The lines up to and including the first one equal to `wanted`."""
        got: list[str] = []
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            got.append(line)
            self.seen.append(line)
            if line == wanted:
                return got
        self.stop()
        pytest.fail(f"no {wanted!r} within {DEADLINE} s; output so far: {self.seen}; stderr: {self.process.stderr.read()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def test_watch_lints_again_when_a_file_changes(project):
    write(project / "train.py", BAD)
    write(project / "notes.md", "not linted\n")
    watching = Watching(project, "--output-format", "concise", ".")
    try:
        first = watching.until("[*] 1 fixable with the `--fix` option.")
        assert first[0] == "Starting linter in watch mode..."
        assert any(line.startswith("train.py:2:") and " DL201 " in line for line in first), first
        time.sleep(1.5)  # the watcher starts once the first report is out; give it a moment
        write(project / "train.py", CLEAN)
        second = watching.until("All checks passed!")
        assert second[0] == "File change detected..."
        write(project / "model.py", BAD)  # a new file is seen too
        third = watching.until("[*] 1 fixable with the `--fix` option.")
        assert any(line.startswith("model.py:2:") for line in third), third
    finally:
        watching.stop()
    # Only sources (and settings) count: the cache the runs write, and notes.md, never set it off.
    assert watching.seen.count("File change detected...") == 2, watching.seen


def test_watch_refuses_stdin_and_missing_paths(project):
    stdin = run_dldoctor("lint", "--watch", "-", "--stdin-filename", "x.py", cwd=project, stdin=BAD)
    assert stdin.returncode == 2 and "--watch" in stdin.stderr
    missing = run_dldoctor("lint", "--watch", "nothere", cwd=project)
    assert missing.returncode == 2 and "nothere" in missing.stderr
