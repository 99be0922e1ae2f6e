"""The `dldoctor` command line.

Exit codes, for every command: 0 clean, 1 findings (or failures), 2 usage
error, bad configuration or an internal error. Options follow ruff's names,
since those are what users' hands already know.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

import dldoctor

app = typer.Typer(
    name="dldoctor",
    help="A troubleshooting doctor for deep-learning projects (PyTorch, TensorFlow).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


# How much the run says on stderr besides errors, as ruff's log levels:
# 0 --silent and --quiet (no warnings), 1 the default, 2 --verbose (debug lines too).
_log_level = 1


def _set_log_level(*, silent: bool = False, quiet: bool = False, verbose: bool = False) -> None:
    global _log_level
    _log_level = 0 if silent or quiet else 2 if verbose else 1


def _error(message: str) -> None:
    print(f"dldoctor: error: {message}", file=sys.stderr)


def _warning(message: str) -> None:
    if _log_level >= 1:
        print(f"dldoctor: warning: {message}", file=sys.stderr)


def _debug(message: str) -> None:
    if _log_level >= 2:
        print(f"dldoctor: debug: {message}", file=sys.stderr)


def _selectors(values: Optional[List[str]]) -> list[str]:
    """`--select DL1,DL201 --select DL401` -> ['DL1', 'DL201', 'DL401']."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


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
    from dldoctor import api
    from dldoctor.report import FORMATS, RunSummary

    _set_log_level(silent=silent, quiet=quiet, verbose=verbose)
    if watch and not os.environ.get(_WATCHED_RUN):
        raise typer.Exit(_watch(paths or ["."], stdin_filename is not None or paths == ["-"] or diff))

    if output_format not in FORMATS:
        _error(f"unknown output format {output_format!r} (choose from {', '.join(FORMATS)})")
        raise typer.Exit(EXIT_USAGE)
    if not paths:
        paths = ["-"] if stdin_filename else ["."]  # as ruff: a stdin name with no path reads stdin
    reading_stdin = paths == ["-"]
    if "-" in paths and not reading_stdin:
        _error("`-` (stdin) cannot be combined with other paths")
        raise typer.Exit(EXIT_USAGE)
    if not max_file_size > 0:
        _error(f"--max-file-size must be a positive number of MB, not {max_file_size:g}")
        raise typer.Exit(EXIT_USAGE)
    unfixable_codes = _expanded(_selectors(unfixable), "--unfixable")
    try:
        linter = api.Linter(
            config=config_path or [], isolated=isolated,
            select=_selectors(select) if select else None, extend_select=_selectors(extend_select),
            ignore=_selectors(ignore), exclude=exclude, extend_exclude=extend_exclude or [],
            per_file_ignores=per_file_ignores, extend_per_file_ignores=extend_per_file_ignores or [],
            respect_gitignore=respect_gitignore, force_exclude=force_exclude,
            target_versions=target_version or [], python=python, unfixable=sorted(unfixable_codes),
            max_file_size_mb=max_file_size,
        )
        first = stdin_filename if reading_stdin and stdin_filename else paths[0] if not reading_stdin else "."
        settings = linter.settings_for(first, is_dir=None if not (reading_stdin and stdin_filename) else False)
    except api.ConfigurationError as problem:
        for message in problem.messages:
            _error(message)
        raise typer.Exit(EXIT_USAGE)
    codes = frozenset(settings.selected_codes())

    started = time.perf_counter()
    _debug(f"settings from {getattr(settings, 'source', None) or 'the defaults (no configuration file)'}; {len(codes)} rules selected")
    usage_problem = False
    fixing = fix or diff or fix_only
    outcomes = None
    internal_errors: list[tuple[str, str]] = []
    if reading_stdin:
        from dldoctor.lint import source

        name = stdin_filename or "-"
        source.configure(linter.max_file_bytes)  # before reading: stdin obeys --max-file-size too
        data = source.read_stream(sys.stdin.buffer, name)
        file_codes = linter.rules_for(name)
        if _settings_or_files_only(show_settings, show_files, add_noqa, [name], linter):
            raise typer.Exit(EXIT_CLEAN)
        findings = []
        try:
            if fixing:
                done = linter.fix(data, name, unsafe=unsafe_fixes)
                findings = done.findings
                outcomes = [done]
                if done.refused:
                    _warning(f"{name}: {done.refused}")
            else:
                findings = linter.lint(data, name)
        except api.InternalError as problem:
            internal_errors.append((name, problem.details))
        for note in linter.target_notes([name]):
            _warning(note)
        files_checked = 1 if file_codes else 0
    else:
        found = linter.files(paths)
        for missing in found.missing:
            _error(f"{missing}: no such file or directory")
        for path, reason in found.skipped:
            _warning(f"{path}: {reason}")
        usage_problem = bool(found.missing)
        if _settings_or_files_only(show_settings, show_files, add_noqa, [path for path, _ in found.jobs], linter, found):
            raise typer.Exit(EXIT_USAGE if usage_problem else EXIT_CLEAN)
        if not found.jobs and not found.unreadable and not usage_problem:
            _warning("No Python files found under the given path(s)")
        codes = frozenset(codes.union(*(job_codes for _, job_codes in found.jobs)))
        if fixing:
            for note in linter.target_notes([path for path, _ in found.jobs]):
                _warning(note)
            fixed_outcomes = linter.fix_files(found, paths, unsafe=unsafe_fixes, write=not diff)
            results = [outcome.result for outcome in fixed_outcomes] + found.unreadable
            outcomes = fixed_outcomes
            for outcome in fixed_outcomes:
                if outcome.refused:
                    _warning(f"{outcome.path}: {outcome.refused}")
        else:
            run = linter.lint_files(found, cache=not no_cache, cache_dir=cache_dir, first=paths[0])
            for note in run.notes:
                _warning(note)
            results = None
        files_checked = len(found.jobs)
        if results is not None:
            internal_errors = [(result.path, result.internal_error) for result in results if result.internal_error]
            findings = [finding for result in results for finding in result.findings]
        else:
            internal_errors, findings = run.internal_errors, run.findings

    fixed_count = 0
    report_stream = sys.stdout
    if outcomes is not None:
        fixed_count = sum(outcome.applied for outcome in outcomes)
        if diff:
            if reading_stdin:
                changes = [(name, data.decode(done.encoding, "replace"), done.text)] if done.applied else []
            else:
                changes = [(outcome.path, outcome.original, outcome.fixed) for outcome in outcomes if outcome.changed]
            _print_diffs(changes)
            if not (quiet or silent):
                print(f"Would fix {fixed_count} finding{'s' if fixed_count != 1 else ''}.", file=sys.stderr)
            raise typer.Exit(EXIT_USAGE if usage_problem else EXIT_FINDINGS if fixed_count else EXIT_CLEAN)
        if reading_stdin:
            # As ruff: the fixed source goes to stdout, the report to stderr.
            done = outcomes[0]
            # Bytes in the source's own encoding, whatever the console's: a source is not a report.
            fixed = done.text.encode(done.encoding) if done.applied else data
            sys.stdout.flush()
            buffer = getattr(sys.stdout, "buffer", None)
            if buffer is not None:
                buffer.write(fixed)
                buffer.flush()
            else:
                sys.stdout.write(fixed.decode(done.encoding if done.applied else "utf-8", "replace"))
            sys.stdout.flush()
            report_stream = sys.stderr

    for path, details in internal_errors:
        _error(f"internal error while linting {path} (please report it):\n{details}")
    findings = sorted(findings, key=lambda f: f.sort_key())
    _debug(f"{files_checked} file{'s' if files_checked != 1 else ''} checked in {time.perf_counter() - started:.2f} s")
    summary = RunSummary(
        files_checked, codes, fixed=fixed_count, unsafe_fixes=unsafe_fixes, quiet=quiet, unfixable=unfixable_codes
    )
    if not silent:
        _report(output_format, findings, summary, report_stream, output_file, statistics, fix_only)
    if internal_errors or usage_problem:
        raise typer.Exit(EXIT_USAGE)
    if fix_only:  # as ruff: what is left unfixed does not fail the run
        raise typer.Exit(EXIT_CLEAN)
    raise typer.Exit(EXIT_FINDINGS if findings and not exit_zero else EXIT_CLEAN)


def _report(output_format, findings, summary, stream, output_file, statistics, fix_only) -> None:
    """The run's report, on `stream` or in `--output-file` (written as UTF-8, never in colour)."""
    from dldoctor.report import plural, write, write_statistics

    handle = None
    if output_file is not None:
        try:
            handle = stream = open(output_file, "w", encoding="utf-8", newline="")
        except OSError as problem:
            _error(f"cannot write {output_file}: {problem.strerror or problem}")
            raise typer.Exit(EXIT_USAGE)
    if handle is not None:
        summary.plain = True
    try:
        if fix_only:
            if not summary.quiet:
                stream.write(f"Fixed {plural(summary.fixed, 'finding')}.\n" if summary.fixed else "No findings fixed.\n")
        elif statistics:
            write_statistics(output_format, findings, summary, stream)
        else:
            write(output_format, findings, summary, stream)
        stream.flush()
    finally:
        if handle is not None:
            handle.close()


def _expanded(selectors: list[str], option: str) -> frozenset[str]:
    """The codes that `--unfixable` (say) names; an unknown one is a usage error."""
    from dldoctor.lint import registry

    codes: set[str] = set()
    for selector in selectors:
        matched = registry.expand_selector(selector)
        if not matched:
            _error(f"{option}: no rule matches {selector!r} (see `dldoctor rules`)")
            raise typer.Exit(EXIT_USAGE)
        codes |= matched
    return frozenset(codes)


_WATCHED_RUN = "DLDOCTOR_WATCHED_RUN"  # set in the runs `--watch` starts: they lint once
# What a change must touch to be worth linting again: sources and what settings and pins are read from.
_WATCHED_SUFFIXES = (".py", ".pyi", ".ipynb", ".toml", ".txt", ".cfg", ".lock", ".yml", ".yaml")


def _watch(paths: list[str], unsupported: bool) -> int:
    """`--watch`: lint, then lint again on every change the filesystem watcher reports.

    Each run is a fresh `dldoctor lint` with the same arguments, so a changed
    configuration or pin file is read again; the cache makes the unchanged files a
    hash each, so what is linted again is what changed."""
    import subprocess

    if unsupported:
        _error("--watch lints files on disk: it cannot be combined with stdin (-) or --diff")
        return EXIT_USAGE
    try:
        import watchfiles
    except ImportError:
        _error("--watch needs the watchfiles package: pip install 'dldoctor[watch]'")
        return EXIT_USAGE
    missing = [path for path in paths if not os.path.exists(path)]
    if missing:
        _error(f"{missing[0]}: no such file or directory")
        return EXIT_USAGE

    class SourcesOnly(watchfiles.DefaultFilter):
        ignore_dirs = (*watchfiles.DefaultFilter.ignore_dirs, ".dldoctor_cache")

        def __call__(self, change, path: str) -> bool:
            return path.endswith(_WATCHED_SUFFIXES) and super().__call__(change, path)

    command = [sys.executable, "-m", "dldoctor", *sys.argv[1:]]
    environment = {**os.environ, _WATCHED_RUN: "1"}

    def run_once(headline: str) -> None:
        if sys.stdout.isatty():
            print("\x1b[2J\x1b[H", end="")  # a fresh screen for each report, as ruff
        print(headline, flush=True)
        subprocess.run(command, env=environment)
        sys.stdout.flush()

    run_once("Starting linter in watch mode...")
    for changes in watchfiles.watch(*paths, watch_filter=SourcesOnly(), debounce=300, raise_interrupt=False):
        _debug("changed: " + ", ".join(sorted(path for _, path in changes)))
        run_once("File change detected...")
    return EXIT_CLEAN


def _settings_or_files_only(show_settings: bool, show_files: bool, add_noqa: bool, files: list[str], linter, found=None) -> bool:
    """`--show-settings`, `--show-files` and `--add-noqa`: do that instead of reporting; True when done."""
    if show_files:
        for path in sorted(files):
            print(path)
        return True
    if show_settings:
        if not files:
            _warning("No Python files found under the given path(s)")
            return True
        print(linter.describe(files[0]))
        return True
    if add_noqa:
        if found is None or not found.jobs:
            _error("--add-noqa writes comments into files: it needs files, not stdin")
            raise typer.Exit(EXIT_USAGE)
        added = 0
        for outcome in linter.add_noqa(found):
            added += outcome.added
            if outcome.problem:
                _warning(f"{outcome.path}: {outcome.problem}")
            for line, why in outcome.skipped:
                _warning(f"{outcome.path}:{line}: no `# noqa` added: {why}")
        print(f"Added {added} noqa directive{'s' if added != 1 else ''}.", file=sys.stderr)
        return True
    return False


def _print_diffs(changes) -> None:
    """A unified diff of each (path, original, fixed) text."""
    import difflib

    for path, original, fixed in changes:
        sys.stdout.writelines(
            difflib.unified_diff(
                original.splitlines(keepends=True), fixed.splitlines(keepends=True), fromfile=f"a/{path}", tofile=f"b/{path}"
            )
        )


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
        _error("name one rule (`dldoctor rule DL101`) or give --all")
        raise typer.Exit(EXIT_USAGE)
    if show_all:
        codes = [row[0] for row in _catalogue_rows()]
    else:
        found = _rule_code(code)
        if found is None:
            _error(f"no rule {code!r} (see `dldoctor rules`)")
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
        _error(f"no check {check_id!r} (see `dldoctor explain` for the list)")
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


class _AsciiFallback:
    """A text stream for a console that cannot show the report's symbols (`PYTHONIOENCODING=ascii`,
    cp437): `·`, `→`, `—`, `✓` are written as their ASCII look-alikes (`-`, `->`), and what
    has none is escaped (`\\xe9`), never an encoding error that would lose the whole report.
    Bytes written to `.buffer` (the fixed source `--fix` prints for stdin) pass untouched."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        from dldoctor.verdict.reporters import to_ascii

        self._stream.write(to_ascii(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _tolerant_streams() -> None:
    """Every command's output survives a console that cannot encode it: characters with an
    ASCII look-alike get it, the rest are escaped (`\\xb7`), on stdout and stderr alike."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            continue  # not a text stream we may reconfigure (a test harness's buffer)
        try:
            "\u00b7\u2192\u2014\u2713".encode(stream.encoding or "utf-8")
        except (UnicodeEncodeError, LookupError):
            setattr(sys, name, _AsciiFallback(stream))


def main() -> None:
    """Console-script entry point: any unexpected exception is an internal error, exit 2."""
    _tolerant_streams()
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        _error("interrupted")
        sys.exit(130)
    except Exception as error:  # a bug in dldoctor: one line, exit 2, no traceback wall
        _error(f"internal error: {type(error).__name__}: {error} (please report it)")
        sys.exit(EXIT_USAGE)
