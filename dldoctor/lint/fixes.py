"""Apply rules' fixes to files without ever leaving one corrupt.

A round lints the text, takes the applicable fixes (safe ones, and unsafe ones
when asked) whose edits do not overlap, applies them, and re-parses the result;
rounds repeat until nothing is left to fix (at most `MAX_ROUNDS`), since one
fix can make room for another. A result that does not parse (or no longer
compiles, when the original did) is refused: the file keeps its last good text.
Every edit is checked where it is made (`runner._proposal`): the text it
replaces must be exactly its node's text, so that an edit cannot land beside its
node and still compile. A file is written once, at the end, with its encoding,
BOM, line endings and permissions, never half-written, never through a link out
of the paths named (`write_refusals`, `write_keeping_identity`).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import warnings
from dataclasses import dataclass

from dldoctor.lint import notebook, pool, runner, source
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


def fix_text(
    path: str, text: str, encoding: str, codes: frozenset[str], unsafe: bool, unfixable: frozenset[str] = frozenset()
) -> FixOutcome:
    """Fix source text to a fixed point; the findings left are linted from the final text.
    Findings of the `unfixable` codes (`--unfixable`) keep their fixes unapplied."""
    must_compile = _compiles(text, path)
    current, applied, refused = text, 0, None
    result = runner.lint_text(path, current, encoding, codes)
    for _ in range(MAX_ROUNDS):
        if result.internal_error:
            break
        candidate, count = apply_fixes(current, [f for f in result.findings if f.code not in unfixable], unsafe)
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


def fix_bytes(path: str, data: bytes, codes: frozenset[str], unsafe: bool, unfixable: frozenset[str] = frozenset()) -> FixOutcome:
    """Fix the raw bytes of a file (or of stdin) reported under the name `path`."""
    if path.endswith(".ipynb"):
        return _fix_notebook(path, data, codes, unsafe, unfixable)
    try:
        text, encoding = source.decode(data)
    except source.SourceProblem:
        return FixOutcome(path, runner.lint_bytes(path, data, codes))
    outcome = fix_text(path, text, encoding, codes, unsafe, unfixable)
    outcome.encoding = encoding
    return outcome


def _fix_notebook(path: str, data: bytes, codes: frozenset[str], unsafe: bool, unfixable: frozenset[str]) -> FixOutcome:
    """Fix the code cells; the notebook's JSON changes only in the sources of fixed cells."""
    try:
        raw = data.decode("utf-8")
        book = notebook.load(raw)
    except (UnicodeDecodeError, notebook.NotebookError):
        return FixOutcome(path, runner.lint_bytes(path, data, codes))
    outcome = fix_text(path, book.text, "utf-8", codes, unsafe, unfixable)
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


def fix_path(
    path: str, codes: frozenset[str], unsafe: bool, write: bool, refusal: str | None = None,
    unfixable: frozenset[str] = frozenset(),
) -> FixOutcome:
    """Fix one file on disk; write it back when `write` and it changed.

    With a `refusal` (why this file must not be written: see `write_refusals`), the
    fixes are computed but not applied, and the reason is the outcome's `refused`.
    """
    try:
        data = source.read_bytes(path)
    except source.SourceProblem:
        return FixOutcome(path, runner.lint_path(path, codes))
    outcome = fix_bytes(path, data, codes, unsafe, unfixable)
    if refusal is not None and outcome.changed:
        outcome.refused = refusal
        outcome.fixed, outcome.applied = outcome.original, 0
        outcome.result = runner.lint_bytes(path, data, codes)
        return outcome
    if write and outcome.changed:
        try:
            write_keeping_identity(path, outcome.fixed.encode(outcome.encoding))
        except OSError as error:
            outcome.refused = f"cannot write the fixed file: {error.strerror or error}"
            outcome.fixed = outcome.original
            outcome.applied = 0
            outcome.result = runner.lint_bytes(path, data, codes)
    return outcome


def write_refusals(files: list[str], named: list[str]) -> list[str | None]:
    """For each file to fix, why it must not be written, or None.

    As ruff does, a fix never follows a symbolic link out of the paths the user
    named: `target/link.py -> ../outside/x.py` is reported, not rewritten (name
    the link itself, or its target, to fix it). A file reached twice (a link to a
    file also linted directly) is fixed once, under its first name.
    """
    roots = [os.path.realpath(path) for path in named]
    first_name: dict[str, str] = {}
    refusals: list[str | None] = []
    for path in files:
        real = os.path.realpath(path)
        if not any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
            refusals.append(f"a symbolic link to {real}, outside the paths named; not fixed (name it to fix it)")
        elif real in first_name and first_name[real] != path:
            refusals.append(f"the same file as {first_name[real]}, which is fixed under that name")
        else:
            first_name.setdefault(real, path)
            refusals.append(None)
    return refusals


def write_keeping_identity(path: str, data: bytes) -> None:
    """Replace the content of the file at `path` (a link's target when it is a link),
    never leaving it half-written, and keeping the file what it was.

    A file with one name is replaced in one rename (a temporary file beside it,
    written and synced first), with its permissions and, where allowed, its owner:
    a crash leaves the old file or the new one. A file with several hard links (or
    in a directory we may not create files in) must keep its inode, so it is
    rewritten in place, in one write with termination signals held off, and its
    old content is put back if the write fails (a full disk).
    """
    target = os.path.realpath(path)
    info = os.stat(target)
    directory = os.path.dirname(target) or "."
    if info.st_nlink == 1 and os.access(directory, os.W_OK | os.X_OK):
        _replace_by_rename(target, data, info)
    else:
        _rewrite_in_place(target, data)


def _replace_by_rename(target: str, data: bytes, info: os.stat_result) -> None:
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(target) or ".", prefix=".dldoctor-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        if hasattr(os, "chown"):
            try:
                os.chown(temporary, info.st_uid, info.st_gid)
            except OSError:
                pass  # not allowed to give it away: it stays ours, as any editor's save would
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _rewrite_in_place(target: str, data: bytes) -> None:
    import signal
    import threading

    held = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    can_hold = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held) if can_hold else None
    try:
        with open(target, "r+b") as stream:
            original = stream.read()
            try:
                stream.seek(0)
                stream.write(data)
                stream.truncate()
                stream.flush()
                os.fsync(stream.fileno())
            except OSError:
                stream.seek(0)
                stream.write(original)
                stream.truncate()
                stream.flush()
                raise
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _fix_job(job: tuple[str, frozenset[str], bool, bool, str | None]) -> FixOutcome:
    return fix_path(*job)


def fix_paths(jobs: list[tuple[str, frozenset[str], bool, bool, str | None]], workers: int | None = None) -> list[FixOutcome]:
    """`fix_path` over (path, codes, unsafe, write, refusal[, unfixable]) jobs, in worker processes when many."""
    return pool.map_jobs(_fix_job, jobs, workers, _crashed)


def _crashed(job: tuple, why: str) -> FixOutcome:
    return FixOutcome(job[0], runner.crashed(job, why))


@dataclass
class NoqaOutcome:
    """What `--add-noqa` did to one file."""

    path: str
    added: int = 0  # lines given a `# noqa`
    problem: str | None = None  # why the file was left as it was
    skipped: tuple[tuple[int, str], ...] = ()  # lines that could not take a comment, and why


def add_noqa(path: str, codes: frozenset[str]) -> NoqaOutcome:
    """`--add-noqa`: write `# noqa: CODE` on the line of every current finding in the file.

    Findings that no comment can silence (DL000: the file could not be linted) and
    DL100's own are left alone. The new text must parse (and compile, if the old
    did) before the file is replaced, in one piece (`write_keeping_identity`).
    """
    from dldoctor.lint import noqa, registry

    try:
        data = source.read_bytes(path)
    except source.SourceProblem as problem:
        return NoqaOutcome(path, problem=problem.message)
    book = None
    try:
        if path.endswith(".ipynb"):
            raw = data.decode("utf-8")
            book = notebook.load(raw)
            text, encoding = book.text, "utf-8"
        else:
            text, encoding = source.decode(data)
    except (UnicodeDecodeError, notebook.NotebookError, source.SourceProblem):
        return NoqaOutcome(path, problem="cannot be read as Python source; nothing added")
    result = runner.lint_text(path, text, encoding, codes)
    if result.internal_error:
        return NoqaOutcome(path, problem="an internal error while linting it; nothing added")
    wanted: dict[int, set[str]] = {}
    for finding in result.findings:
        if finding.code not in (registry.UNREADABLE_CODE, noqa.UNUSED_NOQA_CODE):
            wanted.setdefault(finding.line, set()).add(finding.code)
    new_text, added, skipped = noqa.with_noqa(text, wanted)
    if not added:
        return NoqaOutcome(path, 0, None, tuple(skipped))
    try:
        source.parse(new_text, encoding)
    except source.SourceProblem as problem:
        return NoqaOutcome(path, problem=f"the comments would leave the file unparsable ({problem.message}); nothing added")
    if _compiles(text, path) and not _compiles(new_text, path):
        return NoqaOutcome(path, problem="the comments would leave the file unable to compile; nothing added")
    if book is not None:
        rewritten = notebook.rewrite(book, new_text)
        if rewritten is None:
            return NoqaOutcome(path, problem="the notebook cannot be rewritten without changing more than its cells; nothing added")
        payload = rewritten.encode("utf-8")
    else:
        payload = new_text.encode(encoding)
    try:
        write_keeping_identity(path, payload)
    except OSError as error:
        return NoqaOutcome(path, problem=f"cannot write it: {error.strerror or error}")
    return NoqaOutcome(path, added, None, tuple(skipped))
