"""Findings and fixes as the Language Server Protocol's diagnostics, edits and code actions.

A finding is placed in 1-based lines and columns counted in code points, end exclusive;
LSP wants 0-based lines and columns in the encoding negotiated at `initialize` (UTF-16
code units unless the client offers another), so a Chinese comment or an emoji before a
bug on the same line moves the LSP column but not the finding's. Every conversion takes
the lines of the text the finding counts in (the file, or its notebook cell) and the
position codec the session negotiated.

Lines are split where Python and LSP both end them (`\\r\\n`, `\\r`, `\\n`) and nowhere
else: `str.splitlines` also breaks at form feeds and U+2028, which would shift every
line after one.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path

from lsprotocol import types

from dldoctor import api

SOURCE = "dldoctor"
FIX_ALL_KIND = "source.fixAll.dldoctor"
UNUSED_NOQA = "DL100"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

_SEVERITY = {
    api.Severity.ERROR: types.DiagnosticSeverity.Error,
    api.Severity.WARNING: types.DiagnosticSeverity.Warning,
    api.Severity.INFO: types.DiagnosticSeverity.Information,
}


class Codec:
    """Counts the code units of a line's prefix in the session's position encoding (pygls'
    `PositionCodec` has the counters; this keeps the one call the conversions need)."""

    def __init__(self, position_codec) -> None:
        self._codec = position_codec

    def units(self, text: str) -> int:
        return self._codec.client_num_units(text)


def split_lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text)


def position(lines: Sequence[str], line: int, column: int, codec: Codec) -> types.Position:
    """The LSP position of a 1-based (line, code-point column); past the text's end it is
    the start of the line after the last, which clients show at the end."""
    index = max(line - 1, 0)
    if index >= len(lines):
        return types.Position(line=len(lines), character=0)
    text = lines[index]
    return types.Position(line=index, character=codec.units(text[: max(column - 1, 0)]))


def text_range(lines: Sequence[str], line: int, column: int, end_line: int, end_column: int, codec: Codec) -> types.Range:
    start = position(lines, line, column, codec)
    end = position(lines, end_line, end_column, codec)
    if (end.line, end.character) < (start.line, start.character):
        end = start
    return types.Range(start=start, end=end)


def finding_range(lines: Sequence[str], finding: api.Finding, codec: Codec) -> types.Range:
    return text_range(lines, finding.line, finding.column, finding.end_line, finding.end_column, codec)


def rule_page_uri(code: str) -> str | None:
    """A URI editors open for the rule's page: the generated `docs/rules/CODE.md` beside the
    package (a checkout, an editable install). An installed wheel has no docs folder; its
    findings carry the page in the hover instead. A project that declares its documentation
    online (`[project.urls]`) links there."""
    url = api.rule_url(code)
    if url.startswith("https://"):
        return url
    page = Path(__file__).resolve().parent.parent.parent / "docs" / "rules" / f"{code}.md"
    if page.is_file():
        return page.as_uri()
    return None


def diagnostic(lines: Sequence[str], finding: api.Finding, codec: Codec) -> types.Diagnostic:
    href = rule_page_uri(finding.code)
    return types.Diagnostic(
        range=finding_range(lines, finding, codec),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
        code_description=types.CodeDescription(href=href) if href else None,
        source=SOURCE,
        # An unused `# noqa` is dead text: editors fade it, as they do ruff's RUF100.
        tags=[types.DiagnosticTag.Unnecessary] if finding.code == UNUSED_NOQA else None,
        data={"name": finding.name, "fixable": finding.fix is not None},
    )


def text_edit(lines: Sequence[str], edit: api.Edit, codec: Codec) -> types.TextEdit:
    return types.TextEdit(
        range=text_range(lines, edit.line, edit.column, edit.end_line, edit.end_column, codec),
        new_text=edit.content,
    )


def workspace_edit(changes: dict[str, list[types.TextEdit]], versions: dict[str, int | None]) -> types.WorkspaceEdit:
    """Edits of open documents, each pinned to the version it was computed on, so a client
    refuses an edit that a newer keystroke has made stale."""
    return types.WorkspaceEdit(document_changes=[
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=versions.get(uri)),
            edits=list(edits),
        )
        for uri, edits in changes.items() if edits
    ])


def overlaps(a: types.Range, b: types.Range) -> bool:
    """Whether two ranges touch: a cursor (an empty range) at either end of a finding counts."""
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and (
        b.start.line, b.start.character) <= (a.end.line, a.end.character)


def fix_action(uri: str, version: int | None, lines: Sequence[str], finding: api.Finding, codec: Codec,
               diagnostic_: types.Diagnostic) -> types.CodeAction | None:
    """The finding's own fix: a quick fix, preferred when safe; an unsafe one says so in its
    title (it may change what the code does) and is never preferred."""
    fix = finding.fix
    if fix is None or not fix.edits:
        return None
    unsafe = fix.applicability != "safe"
    title = f"dldoctor ({finding.code}): {fix.description}" + (" (unsafe)" if unsafe else "")
    edits = [text_edit(lines, edit, codec) for edit in fix.edits]
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic_],
        is_preferred=not unsafe,
        edit=workspace_edit({uri: edits}, {uri: version}),
    )


def noqa_action(uri: str, version: int | None, text: str, lines: Sequence[str], finding: api.Finding, codec: Codec,
                diagnostic_: types.Diagnostic) -> types.CodeAction | None:
    edit = api.noqa_edit(text, finding)
    if edit is None:
        return None
    return types.CodeAction(
        title=f"dldoctor ({finding.code}): add `# noqa: {finding.code}` on this line",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic_],
        edit=workspace_edit({uri: [text_edit(lines, edit, codec)]}, {uri: version}),
    )


def whole_text_edit(old: str, new: str, codec: Codec) -> list[types.TextEdit]:
    """One edit turning `old` into `new`, spanning only the lines between their common head and
    tail, so an editor keeps its cursor, folds and marks on the lines a fix-all leaves alone."""
    if old == new:
        return []
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    head = 0
    while head < min(len(old_lines), len(new_lines)) and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while (tail < min(len(old_lines), len(new_lines)) - head
           and old_lines[len(old_lines) - 1 - tail] == new_lines[len(new_lines) - 1 - tail]):
        tail += 1
    removed = "".join(old_lines[head:len(old_lines) - tail])
    kept = "".join(old_lines[:head])
    start, end = _end_of(kept, codec), _end_of(kept + removed, codec)
    return [types.TextEdit(range=types.Range(start=start, end=end), new_text="".join(new_lines[head:len(new_lines) - tail]))]


def _end_of(text: str, codec: Codec) -> types.Position:
    lines = split_lines(text)
    return types.Position(line=len(lines) - 1, character=codec.units(lines[-1]))


def fix_all_action(changes: dict[str, list[types.TextEdit]], versions: dict[str, int | None],
                   applied: int) -> types.CodeAction | None:
    if not any(changes.values()):
        return None
    return types.CodeAction(
        title=f"dldoctor: fix all ({applied} safe fix{'es' if applied != 1 else ''})",
        kind=FIX_ALL_KIND,
        edit=workspace_edit(changes, versions),
    )


def wants(only: Iterable[str] | None, kind: str) -> bool:
    """Whether a code action request filtered to `only` asks for actions of `kind`
    (`source` and `source.fixAll` both include `source.fixAll.dldoctor`)."""
    if only is None:
        return True
    return any(kind == wanted or kind.startswith(f"{wanted}.") for wanted in only)


def hover_markdown(codes: Iterable[str]) -> str:
    pages = []
    for code in dict.fromkeys(codes):
        try:
            pages.append(api.rule_documentation(code))
        except KeyError:
            continue
    return "\n---\n\n".join(pages)


def client_converter():
    """pygls' converter for a Python client of this server (the tests, the latency benchmark),
    plus the structure hook lsprotocol lacks for a notebook filter's `notebook` field (a string
    or a filter), without which a client cannot read the server's notebook capabilities."""
    from pygls.protocol import default_converter

    made = default_converter()
    field = typing.Union[str, types.NotebookDocumentFilterNotebookType, types.NotebookDocumentFilterScheme,
                         types.NotebookDocumentFilterPattern, None]

    def structure(value, _):
        if value is None or isinstance(value, str):
            return value
        for kind, key in ((types.NotebookDocumentFilterNotebookType, "notebookType"),
                          (types.NotebookDocumentFilterScheme, "scheme"), (types.NotebookDocumentFilterPattern, "pattern")):
            if key in value:
                return made.structure(value, kind)
        return value

    made.register_structure_hook(field, structure)
    return made
