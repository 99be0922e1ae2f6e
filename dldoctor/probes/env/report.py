"""Verdicts -> the `dldoctor env` report: grouped by section, ✓ / ! / ✗ / -, advice under each problem.

Colour only on a terminal and never with NO_COLOR (as the lint reporter);
otherwise plain text, one verdict per line, advice indented under it.
"""

from __future__ import annotations

import os
from typing import TextIO

from dldoctor.probes.env.diagnosis import FAIL, OK, SECTIONS, SKIP, WARN

SYMBOLS = {OK: "✓", WARN: "!", FAIL: "✗", SKIP: "-"}
ASCII_SYMBOLS = {OK: "+", WARN: "!", FAIL: "x", SKIP: "-"}
STYLES = {OK: "bold green", WARN: "bold yellow", FAIL: "bold red", SKIP: "dim"}


def summary_line(verdicts: list[dict], seconds=None) -> str:
    counts = {status: sum(1 for v in verdicts if v["status"] == status) for status in (OK, WARN, FAIL, SKIP)}
    parts = [f"{counts[OK]} ok", f"{counts[WARN]} warning{'s' if counts[WARN] != 1 else ''}",
             f"{counts[FAIL]} failure{'s' if counts[FAIL] != 1 else ''}", f"{counts[SKIP]} skipped"]
    text = ", ".join(parts)
    if seconds is not None:
        text += f" ({seconds:.1f} s)"
    verdict = "problems found" if counts[FAIL] else "no failures"
    return f"{verdict}: {text}"


def lines(verdicts: list[dict], symbols: dict[str, str]) -> list[tuple[str, str, str]]:
    """(kind, status, text) rows: kind is section / verdict / detail / advice."""
    rows = []
    order = {name: i for i, name in enumerate(SECTIONS)}
    sections = sorted({v["section"] for v in verdicts}, key=lambda s: order.get(s, len(order)))
    for section in sections:
        rows.append(("section", "", section))
        for v in (v for v in verdicts if v["section"] == section):
            rows.append(("verdict", v["status"], f"  {symbols[v['status']]} {v['summary']}"))
            show_detail = v["status"] != OK or v.get("detail")
            if show_detail and v.get("detail"):
                for line in str(v["detail"]).splitlines():
                    rows.append(("detail", v["status"], f"      {line}"))
            if v["status"] != OK:
                for advice in v.get("advice") or []:
                    rows.append(("advice", v["status"], f"      → {advice}"))
    return rows


def write(verdicts: list[dict], stream: TextIO, *, seconds=None, header: str = "") -> None:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "✓✗→≤".encode(encoding)
        symbols = SYMBOLS
    except (UnicodeEncodeError, LookupError):
        symbols = ASCII_SYMBOLS
    rows = lines(verdicts, symbols)
    footer = summary_line(verdicts, seconds)
    plain = os.environ.get("NO_COLOR", "") != "" or not (hasattr(stream, "isatty") and stream.isatty())
    if plain:
        out = []
        if header:
            out.append(header)
        out += [text for _, _, text in rows]
        out.append("")
        out.append(footer)
        text = "\n".join(out) + "\n"
        if symbols is ASCII_SYMBOLS:
            text = text.replace("→", "->").replace("≤", "<=").replace("≥", ">=").replace("°", " deg")
        stream.write(text)
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=stream, highlight=False, soft_wrap=True, emoji=False)
    if header:
        console.print(f"[bold]{escape(header)}[/]")
    for kind, status, text in rows:
        if kind == "section":
            console.print(f"[bold]{escape(text)}[/]")
        elif kind == "verdict":
            symbol, _, rest = text.strip().partition(" ")
            console.print(f"  [{STYLES[status]}]{escape(symbol)}[/] {escape(rest)}")
        elif kind == "detail":
            console.print(f"[dim]{escape(text)}[/]")
        else:
            console.print(f"[{STYLES[status] if status == FAIL else 'yellow' if status == WARN else 'dim'}]"
                          f"{escape(text)}[/]")
    console.print()
    style = "bold red" if any(v["status"] == FAIL for v in verdicts) else "bold green"
    console.print(f"[{style}]{escape(footer)}[/]")
