"""The `dldoctor` command line.

Exit codes, for every command: 0 clean, 1 findings (or failures), 2 usage
error, bad configuration or an internal error. Options follow ruff's names,
since those are what users' hands already know.
"""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

import dldoctor
from dldoctor.console import EXIT_USAGE, error, run_guarded

app = typer.Typer(
    name="dldoctor",
    help="A troubleshooting doctor for deep-learning projects (PyTorch, TensorFlow).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)



def _version(value: bool) -> None:
    if value:
        print(f"dldoctor {dldoctor.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """A troubleshooting doctor for deep-learning projects (PyTorch, TensorFlow)."""


@app.command()
def lint(
    paths: Optional[List[str]] = typer.Argument(None, help="Files and directories to lint (default: .); - reads stdin."),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Rules to run: codes, prefixes or ALL (replaces the config's select)."),
    extend_select: Optional[List[str]] = typer.Option(None, "--extend-select", help="Rules to run in addition to the selection."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Rules to turn off: codes or prefixes."),
    extend_exclude: Optional[List[str]] = typer.Option(None, "--extend-exclude", help="More glob patterns of paths to skip."),
    exclude: Optional[List[str]] = typer.Option(
        None, "--exclude", help="Glob patterns of paths to skip, replacing the config's exclude and the default directories."
    ),
    per_file_ignores: Optional[List[str]] = typer.Option(
        None, "--per-file-ignores", metavar="PATTERN:CODES", help="Rules to turn off in matching files (tests/*:DL101,DL2), replacing the config's."
    ),
    extend_per_file_ignores: Optional[List[str]] = typer.Option(
        None, "--extend-per-file-ignores", metavar="PATTERN:CODES", help="Like --per-file-ignores, in addition to the config's."
    ),
    respect_gitignore: Optional[bool] = typer.Option(
        None, "--respect-gitignore/--no-respect-gitignore", help="Skip what .gitignore, .ignore and .git/info/exclude list (default: on)."
    ),
    force_exclude: Optional[bool] = typer.Option(
        None, "--force-exclude/--no-force-exclude", help="Apply the exclusions to paths named explicitly too (for pre-commit)."
    ),
    isolated: bool = typer.Option(False, "--isolated", help="Read no configuration file: the defaults and the command line only."),
    show_settings: bool = typer.Option(False, "--show-settings", help="Show the settings the first file is linted with, and where they come from."),
    show_files: bool = typer.Option(False, "--show-files", help="List the files that would be linted, and exit."),
    add_noqa: bool = typer.Option(False, "--add-noqa", help="Write a `# noqa: CODE` on the line of every current finding."),
    output_format: str = typer.Option("text", "--output-format", help="text, concise, json, sarif or github."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when there are findings."),
    config_path: Optional[List[str]] = typer.Option(
        None, "--config", metavar="PATH | KEY=VALUE",
        help="A configuration file to use for every path (instead of each file's nearest), or a TOML `key = value` override (repeatable).",
    ),
    stdin_filename: Optional[str] = typer.Option(None, "--stdin-filename", help="The name to report for source read from stdin."),
    fix: bool = typer.Option(False, "--fix", help="Apply safe fixes to the files (fixed source to stdout for stdin)."),
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="With --fix or --diff, apply unsafe fixes too."),
    diff: bool = typer.Option(False, "--diff", help="Show the fixes as a unified diff; change nothing."),
    max_file_size: float = typer.Option(
        10, "--max-file-size", metavar="MB", help="Skip (DL000) source files larger than this; notebooks may hold 10x in JSON."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Lint every file, without reading or writing the cache."),
    cache_dir: Optional[str] = typer.Option(
        None, "--cache-dir", envvar="DLDOCTOR_CACHE_DIR", help="Where the cache lives (default: .dldoctor_cache in the project root)."
    ),
    target_version: Optional[List[str]] = typer.Option(
        None, "--target-version", metavar="LIBRARY=VERSION",
        help="Judge against this library version (torch=2.5, tensorflow=1.15; repeatable), over the config and the project's pins.",
    ),
    python: Optional[str] = typer.Option(
        None, "--python", metavar="PATH",
        help="Judge against the library versions installed in this interpreter's environment (read from its metadata).",
    ),
    statistics: bool = typer.Option(False, "--statistics", help="Show a count per rule (ruff's table) instead of the findings."),
    output_file: Optional[str] = typer.Option(None, "--output-file", "-o", metavar="FILE", help="Write the report to this file instead of stdout."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print the findings and nothing else (no summary, no warnings)."),
    silent: bool = typer.Option(False, "--silent", "-s", help="Print nothing (errors aside); the exit status still tells."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Say on stderr what is read, linted and how long it takes."),
    fix_only: bool = typer.Option(False, "--fix-only", help="Apply fixes and report only how many; exit 0 unless something fails."),
    unfixable: Optional[List[str]] = typer.Option(None, "--unfixable", help="Rules whose fixes are never applied or offered: codes or prefixes."),
    watch: bool = typer.Option(False, "--watch", "-w", help="Lint again whenever a file under the paths changes (needs dldoctor[watch])."),
) -> None:
    """Find deep-learning bugs in Python files without running them."""
    options = dict(locals())  # the parameters, by the names `lint_command.run` takes
    from dldoctor import lint_command

    raise typer.Exit(lint_command.run(**options))


def _catalogue_rows():
    """(code, name, severity, default?, summary) of every code `lint` can report, DL000 first."""
    from dldoctor import api

    for rule in api.rules():
        yield (rule.code, rule.name, rule.severity.value, rule.default, rule.summary)


@app.command("rules")
def list_rules(
    as_json: bool = typer.Option(False, "--json", help="Print the catalogue as JSON."),
) -> None:
    """List every rule: code, name, severity, and what it finds."""
    from dldoctor.report import rule_url

    catalogue = list(_catalogue_rows())
    if as_json:
        import json

        rows = [
            {"code": code, "name": name, "severity": severity, "default": default, "summary": summary, "url": rule_url(code)}
            for code, name, severity, default, summary in catalogue
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    rows = [
        (code, name, severity + ("" if default else " (off by default)"), summary)
        for code, name, severity, default, summary in catalogue
    ]
    if not sys.stdout.isatty():  # pipes and CI logs: one line a rule, never wrapped
        name_width = max(len(row[1]) for row in rows)
        severity_width = max(len(row[2]) for row in rows)
        for code, name, severity, summary in [("code", "name", "severity", "summary"), *rows]:
            print(f"{code:<5}  {name:<{name_width}}  {severity:<{severity_width}}  {summary}")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, show_edge=False, pad_edge=False)
    for column in ("code", "name", "severity"):
        table.add_column(column, no_wrap=True)
    table.add_column("summary", overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console(highlight=False).print(table)


def rule_page(code: str) -> str:
    """A rule's documentation as Markdown: `dldoctor rule CODE` and `docs/rules/CODE.md`."""
    from dldoctor import api

    return api.rule_documentation(code)


def _rule_code(code_or_name: str) -> Optional[str]:
    """`DL101`, `dl101` or `binary-read-in-text-mode` -> `DL101`; None when no rule has it."""
    from dldoctor import api

    found = api.rule(code_or_name)
    return found.code if found is not None else None


@app.command("rule")
def show_rule(
    code: Optional[str] = typer.Argument(None, metavar="CODE|NAME", help="A rule code (DL101) or name (binary-read-in-text-mode)."),
    show_all: bool = typer.Option(False, "--all", help="Explain every rule, one after the other."),
    as_json: bool = typer.Option(False, "--json", help="As JSON: code, name, severity, summary, url and the documentation."),
) -> None:
    """Explain one rule: what it finds, why it matters, the fix."""
    if code is not None and "." in code:  # a runtime check's id (env.driver-too-old): the same documentation as `explain`
        return explain(code)
    if show_all == (code is not None):
        error("name one rule (`dldoctor rule DL101`) or give --all")
        raise typer.Exit(EXIT_USAGE)
    if show_all:
        codes = [row[0] for row in _catalogue_rows()]
    else:
        found = _rule_code(code)
        if found is None:
            error(f"no rule {code!r} (see `dldoctor rules`)")
            raise typer.Exit(EXIT_USAGE)
        codes = [found]
    if as_json:
        import json

        from dldoctor.report import rule_url

        rows = [
            {"code": c, "name": name, "severity": severity, "default": default, "summary": summary, "url": rule_url(c),
             "explanation": rule_page(c)}
            for c, name, severity, default, summary in _catalogue_rows() if c in codes
        ]
        print(json.dumps(rows if show_all else rows[0], indent=2, ensure_ascii=False))
        return
    text = "\n".join(rule_page(c) for c in codes)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        print(text, end="" if text.endswith("\n") else "\n")


@app.command("explain")
def explain(
    check_id: Optional[str] = typer.Argument(None, metavar="ID", help="A check id (env.driver-too-old) or a rule code (DL101)."),
) -> None:
    """Explain a runtime check (env, ckpt, graph) or a lint rule: what it checks, why, the error users meet, the fix.

    Without an ID, list every check id."""
    from dldoctor.verdict import catalogue

    if check_id is None:
        docs = catalogue.all_checks().values()
        width = max(len(doc.id) for doc in docs)
        for doc in docs:
            print(f"{doc.id:<{width}}  {doc.title}")
        return
    if "." not in check_id:
        return show_rule(check_id, show_all=False, as_json=False)
    doc = catalogue.lookup(check_id)
    if doc is None:
        error(f"no check {check_id!r} (see `dldoctor explain` for the list)")
        raise typer.Exit(EXIT_USAGE)
    from dldoctor.verdict import reporters

    text = reporters.to_ascii(doc.markdown()) if reporters.ascii_only() else doc.markdown()
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        print(text, end="")

# -- env command (dldoctor/probes/env) --
from dldoctor.probes.env.command import env_command  # noqa: E402
app.command("env")(env_command)

# -- ckpt command (dldoctor/probes/ckpt) --
from dldoctor.probes.ckpt.command import ckpt_command  # noqa: E402
app.command("ckpt")(ckpt_command)
from dldoctor.probes.graph.command import graph_app  # noqa: E402
app.add_typer(graph_app, name="graph")

# -- data command (dldoctor/probes/data) --
from dldoctor.probes.data.command import data_command  # noqa: E402
app.command("data")(data_command)

# -- logs command (dldoctor/probes/logs) --
from dldoctor.probes.logs.command import logs_command  # noqa: E402
app.command("logs")(logs_command)

# -- server command (dldoctor/server) --
from dldoctor.server import server_command  # noqa: E402  (stdlib only: pygls loads when it starts)
app.command("server")(server_command)


def main() -> None:
    """The whole command line (`entry.main` runs the plain forms of `lint` without it)."""
    run_guarded(app)
