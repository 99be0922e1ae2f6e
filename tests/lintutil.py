"""Lint a source string in-process, the way rule tests want it."""

from __future__ import annotations

import textwrap

from dldoctor.lint.runner import lint_text


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
