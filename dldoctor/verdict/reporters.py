"""The shared reporters of every probe: text, JSON and GitHub annotations of a `Report`.

Text is rich on a terminal (never with NO_COLOR), plain when piped, and ASCII when
the stream cannot encode the symbols (`PYTHONIOENCODING=ascii`, cp437 consoles).
A probe may put its own facts above the checks (`body`: (style, line) pairs, the
graph's charts and creation sites, say); the checks and the verdict line are
printed here, the same way for every probe. No decisions are made here.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Iterable, Optional, TextIO

from dldoctor.verdict.model import FAIL, OK, SKIP, WARN, Check, Report

FORMATS = ("text", "json", "github")
SYMBOLS = {OK: "✓", WARN: "!", FAIL: "✗", SKIP: "-"}
ASCII_SYMBOLS = {OK: "+", WARN: "!", FAIL: "x", SKIP: "-"}
STYLES = {OK: "bold green", WARN: "bold yellow", FAIL: "bold red", SKIP: "dim"}
FIX_STYLES = {FAIL: "bold red", WARN: "yellow"}
VERDICT_STYLES = {OK: "bold green", WARN: "bold yellow", FAIL: "bold red"}
# What plain text becomes on a stream that cannot encode it.
ASCII_TEXT = {"→": "->", "≤": "<=", "≥": ">=", "°": " deg", "…": "...", "×": "x", "—": "-", "–": "-", "·": "-",
              "✓": "+", "✗": "x", "²": "^2"}
# A stream that can encode these shows the report as written.
_PROBE_TEXT = "✓✗→≤≥°▁▂▃▄▅▆▇█"


def ascii_only(stream: Optional[TextIO] = None) -> bool:
    """Whether `stream` cannot encode the report's symbols (and charts): then ASCII is written."""
    stream = stream or sys.stdout
    try:
        _PROBE_TEXT.encode(getattr(stream, "encoding", None) or "utf-8")
        return False
    except (UnicodeEncodeError, LookupError):
        return True


# C0/C1 controls, DEL, zero-width and bidirectional marks, line/paragraph separators, BOM.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def escape_controls(text: str) -> str:
    """`text` with every control character written as an escape (`\\x1b`, `\\t`, `\\u202e`)."""
    def one(match: re.Match) -> str:
        code = ord(match.group(0))
        return {9: "\\t", 10: "\\n", 13: "\\r"}.get(code) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")

    return _CONTROLS.sub(one, text)


def to_ascii(text: str) -> str:
    for glyph, plain in ASCII_TEXT.items():
        text = text.replace(glyph, plain)
    return text


def write(report: Report, output_format: str = "text", stream: Optional[TextIO] = None, *, header: str = "",
          body: Iterable[tuple[str, str]] = ()) -> None:
    stream = stream or sys.stdout
    if output_format == "json":
        write_json(report, stream)
    elif output_format == "github":
        write_github(report, stream)
    elif output_format == "text":
        write_text(report, stream, header=header, body=body)
    else:
        raise ValueError(f"unknown output format {output_format!r}")
    stream.flush()


# --- JSON -----------------------------------------------------------------------------------------


def write_json(report: Report, stream: TextIO) -> None:
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("_", "-")
    # Non-ASCII as \u escapes where the stream is not Unicode: the document stays valid JSON.
    text = json.dumps(report.to_json(), indent=2, ensure_ascii=not encoding.startswith("utf"), default=_default)
    stream.write(text + "\n")


def _default(value):
    if hasattr(value, "to_json"):
        return value.to_json()
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    return str(value)


# --- GitHub annotations ---------------------------------------------------------------------------

_COMMAND = {FAIL: "error", WARN: "warning"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write_github(report: Report, stream: TextIO) -> None:
    """`::error file=F,line=L,title=ID::title` for each failing or warning check (file and line where it has a
    location, else an annotation of the run); then the verdict as a plain line of the log."""
    for check in report.checks:
        if check.status not in _COMMAND:
            continue
        properties = []
        if check.location is not None:
            properties.append(f"file={_escape_property(check.location.file)}")
            if check.location.line is not None:
                properties.append(f"line={check.location.line}")
        properties.append(f"title={_escape_property('dldoctor ' + check.id)}")
        lines = [check.title, *check.detail.splitlines(), *(f"fix: {fix}" for fix in check.fix)]
        message = "\n".join(escape_controls(line) for line in lines)
        stream.write(f"::{_COMMAND[check.status]} {','.join(properties)}::{_escape_data(message)}\n")
    stream.write(f"dldoctor {report.command}: verdict: {report.verdict.upper()}: {report.headline_text()}\n")


# --- text -----------------------------------------------------------------------------------------


def check_lines(checks: list[Check], symbols: dict[str, str]) -> list[tuple[str, str, str]]:
    """(kind, status, text) rows: kind is section / check / detail / fix, grouped by section in first-seen order.

    Control characters in a check's text (names read from a file) are written as escapes, so no text can move
    the cursor or start a line of its own."""
    rows: list[tuple[str, str, str]] = []
    sections = list(dict.fromkeys(check.section for check in checks))
    grouped = any(section is not None for section in sections)
    indent, under = ("  ", "      ") if grouped else ("", "  ")
    for section in sections:
        if grouped:
            rows.append(("section", "", section or "Other"))
        for check in (c for c in checks if c.section == section):
            rows.append(("check", check.status, f"{indent}{symbols[check.status]} {escape_controls(check.title)}"))
            for line in check.detail.splitlines():
                rows.append(("detail", check.status, f"{under}{escape_controls(line)}"))
            for fix in check.fix:
                rows.append(("fix", check.status, f"{under}→ {escape_controls(fix)}"))
    return rows


def verdict_line(report: Report) -> str:
    return f"verdict: {report.verdict.upper()}: {report.headline_text()}"


def write_text(report: Report, stream: TextIO, *, header: str = "", body: Iterable[tuple[str, str]] = ()) -> None:
    ascii = ascii_only(stream)
    symbols = ASCII_SYMBOLS if ascii else SYMBOLS
    body = list(body)
    rows = check_lines(report.checks, symbols)
    footer = verdict_line(report)
    plain = os.environ.get("NO_COLOR", "") != "" or not (hasattr(stream, "isatty") and stream.isatty())
    if plain:
        out = ([header] if header else []) + [line for _, line in body] + ([""] if body else [])
        out += [text for _, _, text in rows] + ["", footer]
        text = "\n".join(out) + "\n"
        stream.write(to_ascii(text) if ascii else text)
        return
    from rich.console import Console
    from rich.text import Text

    convert = to_ascii if ascii else (lambda text: text)
    console = Console(file=stream, highlight=False, soft_wrap=True, emoji=False)
    if header:
        console.print(Text(convert(header), style="bold"))
    for style, line in body:
        console.print(Text(convert(line), style=style or ""))
    if body:
        console.print()
    for kind, status, text in rows:
        text = convert(text)
        if kind == "section":
            console.print(Text(text, style="bold"))
        elif kind == "check":
            lead = len(text) - len(text.lstrip())
            symbol, _, rest = text.strip().partition(" ")
            line = Text(text[:lead])
            line.append(symbol, style=STYLES[status])
            line.append(" " + rest)
            console.print(line)
        elif kind == "detail":
            console.print(Text(text, style="dim"))
        else:
            console.print(Text(text, style=FIX_STYLES.get(status, "dim")))
    console.print()
    console.print(Text(convert(footer), style=VERDICT_STYLES[report.verdict]))
