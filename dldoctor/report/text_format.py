"""The default, human output: findings grouped by file, the source line with a caret,
and a count per rule at the end.

Colour only on a terminal and never when NO_COLOR is set (rich decides both);
lines are not wrapped, so CI logs and pipes keep one finding per header line.
"""

from __future__ import annotations

import os
from collections import Counter
from itertools import groupby
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape

from dldoctor.lint import registry
from dldoctor.lint.finding import Finding, Severity

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold blue"}
_TAB = 4


def _caret(finding: Finding) -> tuple[str, str] | None:
    """The source line (tabs expanded) and a caret line under the reported span.

    Positions are counted in terminal cells, so a caret stays under its span
    after wide (CJK) characters.
    """
    line = finding.source_line
    if not line.strip():
        return None
    start = cell_len(line[: finding.column - 1].expandtabs(_TAB))
    shown = line.expandtabs(_TAB).rstrip()
    if finding.end_line == finding.line:
        end = cell_len(line[: max(finding.end_column, finding.column + 1) - 1].expandtabs(_TAB))
    else:
        end = cell_len(shown)
    return shown, " " * start + "^" * max(1, end - start)


def write(findings: list[Finding], summary, stream: TextIO) -> None:
    # NO_COLOR means plain text: rich's own NO_COLOR handling drops colours but keeps bold and dim.
    plain = os.environ.get("NO_COLOR", "") != ""
    console = Console(
        file=stream, highlight=False, soft_wrap=True, emoji=False, color_system=None if plain else "auto"
    )
    for path, group in groupby(findings, key=lambda f: f.path):
        console.print(f"[bold]{escape(path)}[/]")
        for finding in group:
            style = _STYLE[finding.severity]
            fixable = " [cyan]\\[*][/]" if finding.fix is not None and finding.fix.applicability == "safe" else ""
            console.print(
                f"  [dim]{finding.place}[/]  [{style}]{finding.code}[/]{fixable} "
                f"[dim]{finding.name}[/]  {escape(finding.message)}"
            )
            caret = _caret(finding)
            if caret is not None:
                gutter = str(finding.line)
                console.print(f"  [dim]{gutter} |[/] {escape(caret[0])}")
                console.print(f"  [dim]{' ' * len(gutter)} |[/] [{style}]{caret[1]}[/]")
        console.print()
    _summary(console, findings, summary)


def _summary(console: Console, findings: list[Finding], summary) -> None:
    checked = f"{summary.files_checked} file{'s' if summary.files_checked != 1 else ''} checked"
    if summary.fixed:
        console.print(f"[bold]Fixed {summary.fixed} finding{'s' if summary.fixed != 1 else ''}.[/]")
    if not findings:
        console.print(f"[bold green]All checks passed![/] ({checked})")
        return
    files = len({f.path for f in findings})
    total = len(findings)
    console.print(
        f"[bold]Found {total} finding{'s' if total != 1 else ''} in {files} "
        f"file{'s' if files != 1 else ''}[/] ({checked}):"
    )
    catalogue = registry.all_rules()
    counts = Counter(f.code for f in findings)
    width = len(str(max(counts.values())))
    for code, count in sorted(counts.items()):
        name = catalogue[code].name if code in catalogue else registry.UNREADABLE_NAME
        console.print(f"  {count:>{width}}  {code}  {name}")
    safe = sum(1 for f in findings if f.fix is not None and f.fix.applicability == "safe")
    unsafe = sum(1 for f in findings if f.fix is not None and f.fix.applicability == "unsafe")
    if safe:
        console.print(f"[cyan]\\[*][/] {safe} fixable with the `--fix` option.")
    if unsafe and not summary.unsafe_fixes:
        console.print(f"{unsafe} more fixable with `--fix --unsafe-fixes` (they may change behaviour: see `dldoctor rule CODE`).")
    console.print("Explain a rule with `dldoctor rule CODE`; silence one line with `# noqa: CODE`.")
