"""A second process that lints part of a document's rules, so that an editor's keystroke waits
for half of them.

A language server lints the same document after every keystroke, and on a file dense with
findings the rules' traversal is most of the wait: Python runs it on one core, whatever the
machine has. The rules are independent of one another (each keeps its own state and reports
its own findings), so a `Linter` made with `processes=2` gives part of them to a helper
process that holds an identical `Linter` (same options, same root, its own re-parser), lints
the rest itself at the same time, and puts the findings together. Only DL100 (`unused-noqa`)
needs every rule's reports; it is judged here once both parts are back, from where each
part's reports fell (`runner.judge_noqa`). The findings are those of one process linting
every rule (tested on every example and on `# noqa` comments of every kind).

The helper's standard input and output are pipes to the process that started it (whose own
standard output may be a language server's protocol stream); anything else it would print
goes to its standard error. It ends when its pipe closes, so also when that process dies.
"""

from __future__ import annotations

import os
import subprocess
import sys
from multiprocessing.connection import Connection

from dldoctor.lint.runner import FileResult


class HelperGone(RuntimeError):
    """The helper process died or cannot be reached: lint its part here instead."""


class HelperProcess:
    """The helper (`python -m dldoctor.lint.helper_process`, talking over its standard input and
    output), started at once and ready once it has imported the parser and the rules.

    Not multiprocessing's spawn: that runs the parent's main module again in the child, which a
    script that makes a `Linter` at its top level does not expect.
    """

    def __init__(self, options: dict) -> None:
        import pickle

        self._process = subprocess.Popen(
            [sys.executable, "-m", "dldoctor.lint.helper_process"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
        )
        self._to = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._from = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        self._process.stdin.close()
        self._process.stdout.close()
        self._ready = False
        try:
            self._to.send_bytes(pickle.dumps(options))
        except OSError:
            pass  # never ready

    def ready(self) -> bool:
        """Whether the helper has started and takes work (never blocks)."""
        if not self._ready and self._process.poll() is None:
            try:
                if self._from.poll():
                    self._ready = self._from.recv() == "ready"
            except (EOFError, OSError):
                return False
        return self._ready and self._process.poll() is None

    def gone(self) -> bool:
        """Whether the helper process has ended (killed, crashed, or it could not start)."""
        return self._process.poll() is not None

    def submit(self, path: str, data: bytes, codes: frozenset[str]) -> None:
        try:
            self._to.send((path, data, codes))
        except (OSError, ValueError) as problem:
            raise HelperGone(str(problem)) from None

    def result(self) -> FileResult:
        try:
            found = self._from.recv()
        except (EOFError, OSError) as problem:
            raise HelperGone(str(problem) or "the helper process ended") from None
        if not isinstance(found, FileResult):
            raise HelperGone(f"the helper process answered {found!r}")
        return found

    def close(self) -> None:
        for connection in (self._to, self._from):
            try:
                connection.close()
            except OSError:
                pass
        try:
            self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=2)


def _serve() -> None:
    import pickle

    # Standard output is the pipe to the parent: a stray print goes to standard error instead.
    to_parent = Connection(os.dup(1), readable=False)
    from_parent = Connection(os.dup(0), writable=False)
    os.dup2(2, 1)
    with open(os.devnull, "rb") as nothing:
        os.dup2(nothing.fileno(), 0)
    try:
        options = pickle.loads(from_parent.recv_bytes())
    except (EOFError, OSError):
        return
    from dldoctor import api
    from dldoctor.lint import registry

    linter = api.Linter(**options)
    for code in registry.facts():  # what the first lint would import
        registry.rule_class(code)
    to_parent.send("ready")
    while True:
        try:
            path, data, codes = from_parent.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            found = linter.lint_part(path, data, codes)
        except Exception:  # a bug here is the part's internal error, as in the parent
            import traceback

            found = FileResult(path, internal_error=traceback.format_exc(limit=-3).strip())
        try:
            to_parent.send(found)
        except OSError:
            return


if __name__ == "__main__":
    _serve()
