"""The default, human output: findings grouped by file, the source line with a caret,
and a count per rule at the end, with the library versions the findings were judged
against and where each came from (`Judged against TensorFlow <2 from requirements.txt:3.`).

Colour only on a terminal (or with FORCE_COLOR) and never when NO_COLOR is set;
lines are not wrapped, so CI logs and pipes keep one finding per header line.
Each line is built once as styled pieces: rich renders them on a terminal, and
everywhere else (pre-commit, CI, pipes) they are written as plain text without
importing rich at all, which is a tenth of the time of linting one file.
"""

from __future__ import annotations

import os
from collections import Counter
from itertools import groupby
from typing import TextIO

from dldoctor.lint import registry
from dldoctor.report import assumed_versions, fix_summary, fixable, plural, rule_url
from dldoctor.lint.finding import Finding, Severity

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold blue"}
_TAB = 4

Line = list[tuple[str, str]]  # (text, rich style; "" for none)


def _cells(text: str) -> int:
    """Terminal cells `text` takes: wide (CJK) characters take two."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _caret(finding: Finding) -> tuple[str, str] | None:
    """The source line (tabs expanded) and a caret line under the reported span.

    Positions are counted in terminal cells, so a caret stays under its span
    after wide (CJK) characters.
    """
    line = _visible(finding.source_line)
    if not line.strip():
        return None
    start = _cells(line[: finding.column - 1].expandtabs(_TAB))
    shown = line.expandtabs(_TAB).rstrip()
    if finding.end_line == finding.line:
        end = _cells(line[: max(finding.end_column, finding.column + 1) - 1].expandtabs(_TAB))
    else:
        end = _cells(shown)
    return shown, " " * start + "^" * max(1, end - start)


def _visible(line: str) -> str:
    """The line with each non-printable character but a tab (a form feed, an escape,
    a bidirectional override) shown as a space: the terminal never acts on the
    file's bytes, and the caret stays under its span."""
    if line.isprintable():
        return line
    return "".join(char if char == "\t" or char.isprintable() else " " for char in line)


def _lines(findings: list[Finding], summary) -> list[Line]:
    lines: list[Line] = []
    for path, group in groupby(findings, key=lambda f: f.path):
        lines.append([(path, "bold")])
        for finding in group:
            style = _STYLE[finding.severity]
            line: Line = [("  ", ""), (finding.place, "dim"), ("  ", ""), (finding.code, style)]
            if fixable(finding, summary):
                line += [(" ", ""), ("[*]", "cyan")]
            line += [(" ", ""), (finding.name, "dim"), ("  " + finding.message, "")]
            lines.append(line)
            caret = _caret(finding)
            if caret is not None:
                gutter = str(finding.line)
                lines.append([("  ", ""), (f"{gutter} |", "dim"), (" " + caret[0], "")])
                lines.append([("  ", ""), (f"{' ' * len(gutter)} |", "dim"), (" ", ""), (caret[1], style)])
        lines.append([])
    return lines + ([] if summary.quiet else _summary(findings, summary))


def _summary(findings: list[Finding], summary) -> list[Line]:
    lines: list[Line] = []
    checked = f"{summary.files_checked} file{'s' if summary.files_checked != 1 else ''} checked"
    if summary.fixed:
        lines.append([(f"Fixed {plural(summary.fixed, 'finding')}.", "bold")])
    if not findings:
        lines.append([("All checks passed!", "bold green"), (f" ({checked})", "")])
        return lines
    files = len({f.path for f in findings})
    total = len(findings)
    lines.append([
        (f"Found {total} finding{'s' if total != 1 else ''} in {files} file{'s' if files != 1 else ''}", "bold"),
        (f" ({checked}):", ""),
    ])
    counts = Counter(f.code for f in findings)
    width = len(str(max(counts.values())))
    name_width = max(len(registry.name_of(code)) for code in counts)
    for code, count in sorted(counts.items()):
        name = registry.name_of(code)
        lines.append([(f"  {count:>{width}}  {code}  {name:<{name_width}}  ", ""), (rule_url(code), "dim")])
    hint = fix_summary(findings, summary)
    if hint and hint.startswith("[*]"):
        lines.append([("[*]", "cyan"), (hint[3:], "")])
    elif hint:
        lines.append([(hint, "")])
    assumed = assumed_versions(findings)
    if assumed:
        lines.append([("Judged against ", ""), ("; ".join(entry.describe() for entry in assumed), "bold"), (".", "")])
    lines.append([("Explain a rule with `dldoctor rule CODE`; silence one line with `# noqa: CODE`.", "")])
    return lines


def _in_colour(stream: TextIO) -> bool:
    """What rich decides, without importing it: NO_COLOR wins, then FORCE_COLOR, then a terminal."""
    if os.environ.get("NO_COLOR", ""):
        return False
    if os.environ.get("FORCE_COLOR", ""):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM", "") != "dumb"


def write(findings: list[Finding], summary, stream: TextIO) -> None:
    lines = _lines(findings, summary)
    if getattr(summary, "plain", False) or not _in_colour(stream):
        stream.write("".join("".join(text for text, _ in line) + "\n" for line in lines))
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, highlight=False, soft_wrap=True, emoji=False, force_terminal=True)
    for line in lines:
        console.print(Text.assemble(*((text, style) if style else text for text, style in line)))
