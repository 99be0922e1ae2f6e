"""Apply rules' fixes to files without ever leaving one corrupt.

A round lints the text, takes the applicable fixes (safe ones, and unsafe ones
when asked) whose edits do not overlap, applies them, and re-parses the result;
rounds repeat until nothing is left to fix (at most `MAX_ROUNDS`), since one
fix can make room for another. A result that does not parse (or no longer
compiles, when the original did) is refused: the file keeps its last good text.
A file is written once, at the end, atomically (a temporary file in the same
directory, then a rename), with its encoding, BOM, line endings and permissions.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import warnings
from dataclasses import dataclass

from dldoctor.lint import notebook, runner, source
from dldoctor.lint.finding import Edit, Finding

MAX_ROUNDS = 10
_LINE_START = re.compile(r"\r\n|\r|\n")


@dataclass
class FixOutcome:
    """What fixing one file did. `original`/`fixed` are None when it could not be read."""

    path: str
    result: runner.FileResult  # the findings left after fixing
    original: str | None = None
    fixed: str | None = None
    applied: int = 0
    refused: str | None = None  # why the last round's result was not kept
    encoding: str = "utf-8"

    @property
    def changed(self) -> bool:
        return self.original is not None and self.fixed != self.original


def applicable(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is not None and (finding.fix.applicability == "safe" or unsafe)


def _line_starts(text: str) -> list[int]:
    return [0] + [match.end() for match in _LINE_START.finditer(text)]


def _offsets(starts: list[int], edit: Edit) -> tuple[int, int]:
    return starts[edit.line - 1] + edit.column - 1, starts[edit.end_line - 1] + edit.end_column - 1


def apply_fixes(text: str, findings: list[Finding], unsafe: bool) -> tuple[str, int]:
    """The text with every applicable, non-overlapping fix applied; and how many were."""
    starts = _line_starts(text)
    taken: list[tuple[int, int]] = []
    chosen: list[tuple[int, int, str]] = []
    count = 0
    for finding in sorted((f for f in findings if applicable(f, unsafe)), key=Finding.sort_key):
        spans = [(*_offsets(starts, edit), edit.content) for edit in finding.fix.edits]
        if any(start < end_taken and end > start_taken for start, end, _ in spans for start_taken, end_taken in taken):
            continue  # overlaps an edit already chosen: the next round will see it again
        taken += [(start, end) for start, end, _ in spans]
        chosen += spans
        count += 1
    for start, end, content in sorted(chosen, reverse=True):
        text = text[:start] + content + text[end:]
    return text, count


def _compiles(text: str, path: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, path, "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def fix_text(path: str, text: str, encoding: str, codes: frozenset[str], unsafe: bool) -> FixOutcome:
    """Fix source text to a fixed point; the findings left are linted from the final text."""
    must_compile = _compiles(text, path)
    current, applied, refused = text, 0, None
    result = runner.lint_text(path, current, encoding, codes)
    for _ in range(MAX_ROUNDS):
        if result.internal_error:
            break
        candidate, count = apply_fixes(current, result.findings, unsafe)
        if count == 0 or candidate == current:
            break
        try:
            source.parse(candidate, encoding)
        except source.SourceProblem as problem:
            refused = f"a fix would leave the file unparsable ({problem.message}); not applied"
            break
        if must_compile and not _compiles(candidate, path):
            refused = "a fix would leave the file unable to compile; not applied"
            break
        current, applied = candidate, applied + count
        result = runner.lint_text(path, current, encoding, codes)
    return FixOutcome(path, result, text, current, applied, refused)


def fix_bytes(path: str, data: bytes, codes: frozenset[str], unsafe: bool) -> FixOutcome:
    """Fix the raw bytes of a file (or of stdin) reported under the name `path`."""
    if path.endswith(".ipynb"):
        return _fix_notebook(path, data, codes, unsafe)
    try:
        text, encoding = source.decode(data)
    except source.SourceProblem:
        return FixOutcome(path, runner.lint_bytes(path, data, codes))
    outcome = fix_text(path, text, encoding, codes, unsafe)
    outcome.encoding = encoding
    return outcome


def _fix_notebook(path: str, data: bytes, codes: frozenset[str], unsafe: bool) -> FixOutcome:
    """Fix the code cells; the notebook's JSON changes only in the sources of fixed cells."""
    try:
        raw = data.decode("utf-8")
        book = notebook.load(raw)
    except (UnicodeDecodeError, notebook.NotebookError):
        return FixOutcome(path, runner.lint_bytes(path, data, codes))
    outcome = fix_text(path, book.text, "utf-8", codes, unsafe)
    outcome.result.findings = notebook.to_cell_findings(book, outcome.result.findings)
    outcome.original = raw
    if outcome.fixed == book.text:
        outcome.fixed = raw
        return outcome
    rewritten = notebook.rewrite(book, outcome.fixed)
    if rewritten is None:
        outcome.refused = "the notebook cannot be rewritten without changing more than the fixed cells; not fixed"
        outcome.fixed, outcome.applied = raw, 0
        outcome.result = runner.lint_bytes(path, data, codes)
    else:
        outcome.fixed = rewritten
    return outcome


def fix_path(path: str, codes: frozenset[str], unsafe: bool, write: bool) -> FixOutcome:
    """Fix one file on disk; write it back (atomically) when `write` and it changed."""
    try:
        data = source.read_bytes(path)
    except source.SourceProblem:
        return FixOutcome(path, runner.lint_path(path, codes))
    outcome = fix_bytes(path, data, codes, unsafe)
    if write and outcome.changed:
        try:
            write_atomically(path, outcome.fixed.encode(outcome.encoding))
        except OSError as error:
            outcome.refused = f"cannot write the fixed file: {error.strerror or error}"
            outcome.fixed = outcome.original
            outcome.applied = 0
            outcome.result = runner.lint_bytes(path, data, codes)
    return outcome


def write_atomically(path: str, data: bytes) -> None:
    """Replace the file's content in one rename, keeping its permissions; links are followed."""
    target = os.path.realpath(path)
    mode = stat.S_IMODE(os.stat(target).st_mode)
    directory = os.path.dirname(target) or "."
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".dldoctor-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _fix_job(job: tuple[str, frozenset[str], bool, bool]) -> FixOutcome:
    return fix_path(*job)


def fix_paths(jobs: list[tuple[str, frozenset[str], bool, bool]], workers: int | None = None) -> list[FixOutcome]:
    """`fix_path` over (path, codes, unsafe, write) jobs, in worker processes when many."""
    return runner.map_jobs(_fix_job, jobs, workers)
