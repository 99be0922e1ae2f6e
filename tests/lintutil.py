"""Lint a source string in-process, the way rule tests want it."""

from __future__ import annotations

import textwrap

import libcst as cst

from dldoctor.lint.names import ImportTable, ImportTracker
from dldoctor.lint.registry import all_rules
from dldoctor.lint.rule import LintContext
from dldoctor.lint.runner import lint_text
from dldoctor.lint.walk import BatchedWalker


def lint(source: str, *codes: str, path: str = "t.py") -> list[tuple[int, int, str]]:
    """(line, column, code) of every finding for `source` (dedented), with the given rules."""
    result = lint_text(path, textwrap.dedent(source), "utf-8", frozenset(codes))
    assert result.internal_error is None, result.internal_error
    return [(f.line, f.column, f.code) for f in result.findings]


def messages(source: str, *codes: str) -> list[str]:
    result = lint_text("t.py", textwrap.dedent(source), "utf-8", frozenset(codes))
    assert result.internal_error is None, result.internal_error
    return [f.message for f in result.findings]


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
