"""Lint a source string in-process, the way rule tests want it."""

from __future__ import annotations

import textwrap

import libcst as cst

from dldoctor.lint.names import ImportTable, ImportTracker
from dldoctor.lint.registry import all_rules
from dldoctor.lint.rule import LintContext
from dldoctor.lint.runner import FileResult as LintResult
from dldoctor.lint.runner import lint_text
from dldoctor.lint.walk import BatchedWalker


def lint_checked(source: str, codes: frozenset[str], path: str = "t.py") -> LintResult:
    """Lint `source` (dedented) and check the prefilter on it.

    Every source a test lints is also linted with the prefilter off: the findings
    must be the same, so a trigger that would hide a finding fails whichever test
    met the case first. So is its CR-only twin (old Mac line endings, which the
    parser accepts): the prefilter must see the lines the parser sees.
    """
    text = textwrap.dedent(source)
    result = lint_text(path, text, "utf-8", codes, prefilter=True)
    assert result.internal_error is None, result.internal_error
    unfiltered = lint_text(path, text, "utf-8", codes, prefilter=False)
    assert unfiltered.internal_error is None, unfiltered.internal_error
    assert _comparable(result.findings) == _comparable(unfiltered.findings), "the prefilter hid a finding"
    if "\r" not in text:
        carriage = lint_text(path, text.replace("\n", "\r"), "utf-8", codes, prefilter=True)
        assert _placed(carriage.findings) == _placed(result.findings), "the prefilter hid a finding in CR-only text"
    return result


def _placed(findings) -> list[tuple]:
    return [(f.line, f.column, f.code) for f in findings]


def _comparable(findings) -> list[tuple]:
    return [(f.line, f.column, f.code, f.message) for f in findings]


def lint(source: str, *codes: str, path: str = "t.py") -> list[tuple[int, int, str]]:
    """(line, column, code) of every finding for `source` (dedented), with the given rules."""
    return [(f.line, f.column, f.code) for f in lint_checked(source, frozenset(codes), path).findings]


def messages(source: str, *codes: str) -> list[str]:
    return [f.message for f in lint_checked(source, frozenset(codes)).findings]


def lines(source: str, code: str) -> list[int]:
    return [line for line, _, _ in lint(source, code)]


def fixes(source: str, code: str) -> list[tuple[str, list[str], str]]:
    """(applicability, each replacement rendered, the whole fixed file) for every fix `code` proposes."""
    module = cst.parse_module(textwrap.dedent(source))
    names = ImportTable.from_module(module)
    context = LintContext("t.py", module, names)
    BatchedWalker([ImportTracker(names), all_rules()[code](context)]).walk(module)
    found = []
    for report in context.reports:
        if report.fix is None:
            continue
        fixed = module
        for old, new in report.fix.replacements:
            fixed = fixed.deep_replace(old, new)
        compile(fixed.code, "fixed.py", "exec")  # the fixed file parses
        rendered = [module.code_for_node(new) for _, new in report.fix.replacements]
        found.append((report.fix.applicability.value, rendered, fixed.code))
    return found
