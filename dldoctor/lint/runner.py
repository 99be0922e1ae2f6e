"""Lint files: read, decide which rules could fire, parse once, traverse once, place findings.

Work is skipped wherever it can be proved useless: a file whose text could hold
no finding of a selected rule is never parsed, an unchanged file comes from the
cache, and positions (a code generation pass) are computed only for files with
something to report, and only for the reported nodes. Files are spread over
worker processes when there are enough to pay for them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dldoctor.lint import cache, notebook, pool, project_imports, registry, source, target
from dldoctor.lint.finding import Edit, Finding, FixProposal, Severity

# The parser, the rules and what places their reports are imported where a file is
# really linted: a run whose files all come from the cache never loads them.
if TYPE_CHECKING:
    import libcst as cst

    from dldoctor.lint import reparse
    from dldoctor.lint.alignment import TextMap
    from dldoctor.lint.rule import Fix, Rule

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# `DLDOCTOR_NO_PREFILTER=1` parses every file for every selected rule: slower, and
# by design the same findings (the benchmark checks that on whole corpora).
PREFILTER = os.environ.get("DLDOCTOR_NO_PREFILTER", "") in ("", "0")


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    internal_error: str | None = None  # a bug in dldoctor, reported with exit code 2
    # Other files the findings rest on (a project module's re-export of OpenCV), as
    # (path, size, mtime_ns): the cache lints the file again when one changes.
    dependencies: tuple[tuple[str, int, int], ...] = ()
    # A part's lint (`as_part`) of a text that was parsed and checked: (code, line) of every
    # report, suppressed or not, and each line its `# noqa` may sit on, for `judge_noqa` to
    # see what the comments suppressed. None when the text was not checked (unreadable).
    reported_at: frozenset[tuple[str, int]] | None = None
    # A part's lint: the libraries its rules looked up; its findings name the versions of all
    # their rule's libraries, for `judged_against` to keep those some part looked up.
    consulted: frozenset[str] = frozenset()


def lint_path(path: str, codes: frozenset[str]) -> FileResult:
    """Lint one file on disk with the rules whose codes are given."""
    try:
        data = source.read_bytes(path)
    except source.SourceProblem as problem:
        return FileResult(path, _unreadable(path, problem, codes))
    return lint_bytes(path, data, codes)


def lint_bytes(
    path: str, data: bytes, codes: frozenset[str], reparser: reparse.Reparser | None = None, as_part: bool = False
) -> FileResult:
    """Lint the raw bytes of a file (or of stdin) reported under the name `path`; a `reparser`
    keeps the statements parsed, for a process that lints the same documents again and again.

    `as_part`: `codes` are part of the rules a file is linted with, the others linted
    elsewhere (another process): its `# noqa` comments are not judged here (DL100 needs
    every rule's reports), but where the reports fell is returned for `judge_noqa`. Not
    for notebooks."""
    if path.endswith(".ipynb"):
        return lint_notebook(path, data, codes, reparser)
    try:
        text, encoding = source.decode(data)
    except source.SourceProblem as problem:
        return FileResult(path, _unreadable(path, problem, codes))
    return lint_text(path, text, encoding, codes, reparser=reparser, as_part=as_part)


def lint_notebook(path: str, data: bytes, codes: frozenset[str], reparser: reparse.Reparser | None = None) -> FileResult:
    """Lint a notebook's code cells; findings carry their cell and the line in it."""
    try:
        book = notebook.load(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return FileResult(path, _unreadable(path, source.SourceProblem("not a notebook: not UTF-8 JSON"), codes))
    except notebook.NotebookError as problem:
        return FileResult(path, _unreadable(path, source.SourceProblem(str(problem)), codes))
    with_unreadable = codes | {registry.UNREADABLE_CODE}  # to know the text could not be linted
    result = lint_text(path, book.text, "utf-8", with_unreadable, reparser=reparser)
    if any(finding.code == registry.UNREADABLE_CODE for finding in result.findings):
        # Jupyter compiles cells one by one: a cell that is not Python hides no other.
        broken = notebook.broken_cells(book)
        retry = lint_text(path, notebook.without_cells(book, broken), "utf-8", with_unreadable, reparser=reparser) if broken else None
        if retry is not None and retry.internal_error is None and not any(
            finding.code == registry.UNREADABLE_CODE for finding in retry.findings
        ):
            cells = [finding for problem in broken.values() for finding in _unreadable(path, problem, codes, book.text)]
            result = FileResult(path, sorted(retry.findings + cells, key=Finding.sort_key))
    if registry.UNREADABLE_CODE not in codes:
        result.findings = [finding for finding in result.findings if finding.code != registry.UNREADABLE_CODE]
    result.findings = notebook.to_cell_findings(book, result.findings)
    return result


def lint_text(
    path: str, text: str, encoding: str, codes: frozenset[str], prefilter: bool | None = None,
    reparser: reparse.Reparser | None = None, as_part: bool = False,
) -> FileResult:
    """Lint source text that claims to come from `path` (stdin, a file already read).

    With `prefilter` off (default: on unless `DLDOCTOR_NO_PREFILTER` is set), every
    selected rule visits the file whatever its triggers say. `as_part`: see `lint_bytes`.
    """
    from dldoctor.lint import depth, noqa

    suppression = noqa.file_suppression(text)
    if suppression.everything:
        return FileResult(path)
    codes = frozenset(code for code in codes if not suppression.suppresses(code))
    rules = rules_that_could_fire(text, codes, PREFILTER if prefilter is None else prefilter)
    if not rules:
        return FileResult(path)
    if not _isolated and depth.could_crash_libcst(text):
        problem = depth.cpython_refusal(text)
        if problem is not None:
            return FileResult(path, _unreadable(path, problem, codes, text))
        return pool.run_isolated(_lint_isolated, (path, codes, text, encoding, prefilter, as_part), crashed)
    try:
        module = source.parse(text, encoding, reparser)
    except source.SourceProblem as problem:
        return FileResult(path, _unreadable(path, problem, codes, text))
    try:
        if as_part:
            rules = [rule for rule in rules if rule.code != noqa.UNUSED_NOQA_CODE]
        consulted: set[str] | None = set() if as_part else None
        reports = _run_rules(path, module, rules, text, consulted)
        judging_noqa = noqa.UNUSED_NOQA_CODE in codes and any(rule.code == noqa.UNUSED_NOQA_CODE for rule in rules)
        reported_at: set[tuple[str, int]] = set()
        findings = (
            _place(path, module, text, reports, codes if judging_noqa else None, reparser, reported_at)
            if reports or judging_noqa else []
        )
    except RecursionError:
        problem = source.SourceProblem("too deeply nested to lint (recursion limit reached)")
        return FileResult(path, _unreadable(path, problem, codes))
    except Exception:  # a bug in a rule must not end the run; it is reported as one
        import traceback

        return FileResult(path, internal_error=traceback.format_exc(limit=-3).strip())
    if not as_part:
        return FileResult(path, findings)
    return FileResult(path, findings, reported_at=frozenset(reported_at), consulted=frozenset(consulted or ()))


def judged_against(findings: list[Finding], consulted: frozenset[str]) -> list[Finding]:
    """The findings of parts' lints (`as_part`) with the versions of the libraries that some part
    looked up in the file, as one lint of every rule would name them."""
    import dataclasses

    return [
        dataclasses.replace(finding, assumed=tuple(entry for entry in finding.assumed if entry.library in consulted))
        if finding.assumed else finding
        for finding in findings
    ]


def judge_noqa(
    path: str, data: bytes, codes: frozenset[str], reported_at: frozenset[tuple[str, int]],
    reparser: reparse.Reparser | None = None,
) -> list[Finding]:
    """DL100's findings for a file whose rules (`codes`, all of them) were linted in parts
    (`lint_bytes(as_part=True)`), given where the parts' reports fell: what a lint of the
    whole selection at once finds of DL100."""
    from dldoctor.lint import noqa

    if noqa.UNUSED_NOQA_CODE not in codes:
        return []
    try:
        text, _ = source.decode(data)
    except source.SourceProblem:
        return []  # each part reported the file unreadable
    suppression = noqa.file_suppression(text)
    if suppression.everything or suppression.suppresses(noqa.UNUSED_NOQA_CODE):
        return []
    codes = frozenset(code for code in codes if not suppression.suppresses(code))
    if not rules_that_could_fire(text, frozenset({noqa.UNUSED_NOQA_CODE}), PREFILTER):
        return []
    if "noqa" not in text.lower():
        return []
    lines = _LINE_BREAK.split(text)
    return _unused_noqa(path, text, lines, codes, set(reported_at), reparser.cuts(text) if reparser is not None else None)


_isolated = False  # this process lints one risky file for a parent (see `depth`)


def _lint_isolated(job: tuple) -> FileResult:
    global _isolated
    _isolated = True
    path, codes, text, encoding, prefilter, as_part = job
    return lint_text(path, text, encoding, codes, prefilter, as_part=as_part)


def rules_that_could_fire(text: str, codes: frozenset[str], prefilter: bool = True) -> list[type[Rule]]:
    """The selected rules whose triggers hold in `text` (all of them without the prefilter).

    A rule whose test is its plain triggers is tested from the catalogue and imported
    only when they hold; the others are imported to ask their own `could_fire`.
    """
    from dldoctor.lint.triggers import hold

    catalogue = registry.facts()
    selected = [code for code in sorted(codes) if code in catalogue]
    if not prefilter:
        return [registry.rule_class(code) for code in selected]
    if "\r" in text:  # triggers read lines ending in "\n"; the parser ends them at "\r" too
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lowered = text.lower()
    rules = []
    for code in selected:
        facts = catalogue[code]
        if facts.triggers is not None:
            if hold(text, lowered, facts.triggers, facts.also_triggers, facts.compiled_pattern()):
                rules.append(registry.rule_class(code))
        elif (rule := registry.rule_class(code)).could_fire(text, lowered):
            rules.append(rule)
    if rules and all(rule.second_look for rule in rules):  # nobody needs the parse yet
        rules = [rule for rule in rules if rule.worth_parsing(text)]
    return rules


def _run_rules(
    path: str, module: cst.Module, rules: Sequence[type[Rule]], text: str = "", consulted: set[str] | None = None
) -> list:
    """The rules' reports, each with the target versions of its rule's libraries that some rule
    looked up in the file (after the traversal, so whatever the order of the lookups). With
    `consulted`, the reports get the entries of all their rule's libraries instead, and the
    libraries looked up are added to `consulted`: a part's lint, whose other part looks up others."""
    from dldoctor.lint.names import ImportTable, ImportTracker
    from dldoctor.lint.rule import LintContext, libraries_read
    from dldoctor.lint.walk import BatchedWalker

    names = ImportTable.from_module(module)
    context = LintContext(path=path, module=module, names=names, target=_target_of(path, module, names, rules, text))
    visitors: list[cst.BatchableCSTVisitor] = [ImportTracker(names)]
    visitors += [rule(context) for rule in rules]
    target.set_current(context.target)
    try:
        BatchedWalker(visitors).walk(module)
    finally:
        target.set_current(None)
    for report in context.reports:
        if report.rule.reads_installed:
            libraries = libraries_read(report.rule)
            report.assumed = context.target.assumed(libraries, libraries if consulted is not None else None)
    if consulted is not None:
        consulted |= context.target.consulted
    return context.reports


def _target_of(path: str, module: cst.Module, names, rules: Sequence[type[Rule]], text: str) -> target.Target:
    """The versions this file is judged against: the project's, then the file's own checks
    (`assert tf.__version__.startswith("1.")`), read only when a rule needs versions."""
    if not any(rule.reads_installed for rule in rules):
        return target.Target({}, frozenset())
    found = target.for_path(path)
    if target.MENTIONS_VERSION.search(text):
        found = found.with_file_checks(target.asserted(module, names.qualify, os.path.basename(path)))
    return found


def _place(
    path: str, module: cst.Module, text: str, reports: list, noqa_codes: frozenset[str] | None = None,
    reparser: reparse.Reparser | None = None, reported_at: set[tuple[str, int]] | None = None,
) -> list[Finding]:
    """Positions for the reported nodes only (in the user's text), then `# noqa` on those lines.

    With `noqa_codes` (the codes that ran on the file, DL100 among them), the `# noqa`
    comments that suppressed nothing are reported too (`_unused_noqa`). A `reparser` lends
    what it keeps of earlier versions: the code of unchanged statements, the cuts between them.
    `reported_at` collects the (code, line) of every report and of its `# noqa` line.
    """
    from dldoctor.lint import noqa
    from dldoctor.lint.alignment import TextMap
    from dldoctor.lint.positions import positions

    nodes = [report.node for report in reports]
    nodes += [old for report in reports if report.fix is not None for old, _ in report.fix.replacements]
    placed, generated = positions(module, nodes, reparser.statement_code if reparser is not None else None)
    # Identical texts need no map for the findings, but fixes are checked through one.
    has_fix = any(report.fix is not None for report in reports)
    text_map = TextMap(generated, text) if has_fix or generated != text else None
    lines = _LINE_BREAK.split(text)
    findings = []
    seen = set()
    has_noqa = "noqa" in text.lower()
    moved: dict[int, int] | None = None  # where a line's `# noqa` goes, computed once if needed
    cuts = reparser.cuts(text) if reparser is not None else None
    if reported_at is None:
        reported_at = set()  # (code, line of its noqa) of every report, suppressed or not
    for report in reports:
        (line, column), (end_line, end_column) = _in_text(placed[report.node], text_map)
        key = (report.rule.code, line, column)
        if key in seen:
            continue
        seen.add(key)
        if has_noqa:
            if moved is None:
                moved = noqa.comment_lines(text, cuts) or {}
            reported_at |= {(report.rule.code, line), (report.rule.code, moved.get(line, line))}
            if noqa.suppressed_at(lines, line, report.rule.code, moved):
                continue
        findings.append(
            Finding(
                path=path,
                code=report.rule.code,
                name=report.rule.name,
                severity=report.severity or report.rule.severity,
                message=report.message,
                line=line,
                column=column + 1,
                end_line=end_line,
                end_column=end_column + 1,
                source_line=lines[line - 1] if line <= len(lines) else "",
                fix=_proposal(module, placed, report.fix, text, generated, text_map),
                assumed=report.assumed,
            )
        )
    if noqa_codes is not None and has_noqa:
        findings += _unused_noqa(path, text, lines, noqa_codes, reported_at, cuts)
    return sorted(findings, key=Finding.sort_key)


def _unused_noqa(
    path: str, text: str, lines: list[str], codes: frozenset[str], reported_at: set, cuts: list[int] | None = None
) -> list[Finding]:
    """DL100: each `# noqa: DL...` naming a code that ran here and reported nothing on its
    line, or a code that is no rule. Other tools' codes, bare `# noqa`, codes of rules that
    did not run, and DL000/DL100 themselves are not judged."""
    from dldoctor.lint import noqa

    rule = registry.rule_class(noqa.UNUSED_NOQA_CODE)
    known = set(registry.facts()) | {registry.UNREADABLE_CODE}
    found = []
    for directive in noqa.directives(text, cuts):
        unused, unknown = [], []
        for code, _, _ in directive.codes:
            code = code.upper()
            if not noqa.is_ours(code) or code in (registry.UNREADABLE_CODE, noqa.UNUSED_NOQA_CODE):
                continue
            if code not in known:
                unknown.append(code)
            elif code in codes and (code, directive.line) not in reported_at:
                unused.append(code)
        if not (unused or unknown):
            continue
        line_text = lines[directive.line - 1] if directive.line <= len(lines) else ""
        if noqa.line_suppresses(line_text, noqa.UNUSED_NOQA_CODE):
            continue
        found.append(
            Finding(
                path=path,
                code=rule.code,
                name=rule.name,
                severity=rule.severity,
                message=rule.message(unused, unknown),
                line=directive.line,
                column=directive.start + 1,
                end_line=directive.line,
                end_column=directive.end + 1,
                source_line=line_text,
                fix=rule.fix(directive, line_text, {*unused, *unknown}),
            )
        )
    return found


def _in_text(span: tuple, text_map: TextMap | None) -> tuple:
    if text_map is None or not text_map.exact:
        return span
    start, end = span
    return text_map.to_text(start, end=False), text_map.to_text(end, end=True)


def _proposal(
    module: cst.Module, placed: dict, fix: Fix | None, text: str, generated: str, text_map: TextMap | None
) -> FixProposal | None:
    """A rule's node replacements as text edits of the file.

    Each edit is checked before it is offered: the text it replaces in the user's
    file must be, character for character, the node's own text in libcst's code.
    A fix that cannot be placed so (libcst's code differs from the file in a way
    `TextMap` cannot follow) is not offered at all: a wrong fix is worse than none.
    """
    if fix is None:
        return None
    if text_map is None or not text_map.exact:
        return None
    edits = []
    for old, new in fix.replacements:
        start, end = placed[old]
        generated_span = generated[text_map.generated_offset(start) : text_map.generated_offset(end)]
        if text[text_map.text_offset(start, end=False) : text_map.text_offset(end, end=True)] != generated_span:
            return None
        (line, column), (end_line, end_column) = text_map.to_text(start, end=False), text_map.to_text(end, end=True)
        edits.append(Edit(line, column + 1, end_line, end_column + 1, module.code_for_node(new)))
    return FixProposal(fix.description, fix.applicability.value, tuple(edits))


def unreadable_result(path: str, message: str, codes: frozenset[str]) -> FileResult:
    """A path that yields nothing to lint (a directory that cannot be listed), as a DL000."""
    return FileResult(path, _unreadable(path, source.SourceProblem(message), codes))


def _unreadable(
    path: str, problem: source.SourceProblem, codes: frozenset[str], text: str | None = None
) -> list[Finding]:
    if registry.UNREADABLE_CODE not in codes:
        return []
    lines = _LINE_BREAK.split(text) if text is not None else []
    return [
        Finding(
            path=path,
            code=registry.UNREADABLE_CODE,
            name=registry.UNREADABLE_NAME,
            severity=Severity.ERROR,
            message=problem.message,
            line=problem.line,
            column=problem.column,
            end_line=problem.line,
            end_column=problem.column,
            source_line=lines[problem.line - 1] if 0 < problem.line <= len(lines) else "",
        )
    ]


def _lint_job(job: tuple[str, frozenset[str]]) -> FileResult:
    return lint_path(*job)


def _lint_job_for_cache(job: tuple[str, frozenset[str]]) -> tuple[FileResult, str | None]:
    """Lint a file and give the digest of the bytes linted (None if it could not be read)."""
    path, codes = job
    try:
        data = source.read_bytes(path)
    except source.SourceProblem as problem:
        return FileResult(path, _unreadable(path, problem, codes)), None
    project_imports.take_consulted()  # what an earlier file consulted is not this file's
    result = lint_bytes(path, data, codes)
    result.dependencies = project_imports.take_consulted()
    return result, cache.digest(data)


def crashed(job: tuple, why: str) -> FileResult:
    """The result for a file whose worker process died (libcst's parser overflowing its
    stack on a file nested thousands of levels deep): DL000 for that file alone."""
    path, codes = job[0], job[1]
    problem = source.SourceProblem(f"dldoctor's parser crashed on this file (its process {why}); it cannot be linted")
    return FileResult(path, _unreadable(path, problem, codes))


def _crashed_for_cache(job: tuple, why: str) -> tuple[FileResult, None]:
    return crashed(job, why), None


def lint_paths(
    jobs: Sequence[tuple[str, frozenset[str]]], workers: int | None = None, lint_cache: cache.LintCache | None = None
) -> list[FileResult]:
    """Lint (path, codes) jobs; results in job order.

    With a cache, files whose bytes and rules match an entry are not linted: the
    parent reads and hashes every file (a hash costs about a hundredth of a
    parse), and only the rest go to the workers, which hash what they lint so
    that a file changed in between is stored under its new bytes.
    """
    if lint_cache is None:
        return pool.map_jobs(_lint_job, jobs, workers, crashed)
    results: list[FileResult | None] = [None] * len(jobs)
    misses = []
    # A file's findings also depend on the versions its project pins (its own checks are in its bytes).
    targets = [target.for_path(path).key() for path, _ in jobs]
    for index, (path, codes) in enumerate(jobs):
        try:
            found = lint_cache.get(path, cache.digest(source.read_bytes(path)), codes, targets[index])
        except source.SourceProblem:
            found = None  # reported by the worker that tries it
        if found is None:
            misses.append(index)
        else:
            results[index] = FileResult(path, found)
    linted = pool.map_jobs(_lint_job_for_cache, [jobs[index] for index in misses], workers, _crashed_for_cache)
    for index, (result, data_digest) in zip(misses, linted):
        results[index] = result
        if data_digest is not None and result.internal_error is None:
            lint_cache.put(result.path, data_digest, jobs[index][1], result.findings, targets[index], result.dependencies)
    lint_cache.save()
    return results  # type: ignore[return-value]
