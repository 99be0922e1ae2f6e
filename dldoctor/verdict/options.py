"""The output options every probe command shares: `--output-format text|json|github` (`--json` is its alias)
and `--strict`, and the one exit-code rule.

Standard library and typer only at module level: a probe's command module imports
this when it is registered, so `dldoctor lint` pays nothing for it.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

FORMATS = ("text", "json", "github")
EXIT_USAGE = 2

FORMAT_HELP = "text (the default), json (one shape for every probe) or github (annotations)."
JSON_HELP = "The same as --output-format json."
STRICT_HELP = "Exit 1 when a check warns, not only when one fails."


def output_format_option():
    return typer.Option("text", "--output-format", help=FORMAT_HELP)


def json_option():
    return typer.Option(False, "--json", help=JSON_HELP)


def strict_option():
    return typer.Option(False, "--strict", help=STRICT_HELP)


def resolve_format(output_format: Optional[str], as_json: bool) -> str:
    """The chosen format; a usage error (exit 2) for an unknown one or for `--json` with another format."""
    chosen = (output_format or "text").strip().lower()
    if chosen not in FORMATS:
        print(f"dldoctor: error: unknown output format {output_format!r} (choose from {', '.join(FORMATS)})",
              file=sys.stderr)
        raise typer.Exit(EXIT_USAGE)
    if as_json and chosen not in ("text", "json"):
        print(f"dldoctor: error: --json and --output-format {chosen} ask for two formats: give one", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE)
    return "json" if as_json else chosen
