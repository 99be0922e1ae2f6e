"""The `dldoctor` command line.

Exit codes, for every command: 0 clean, 1 findings (or failures), 2 usage
error, bad configuration or an internal error. Options follow ruff's names,
since those are what users' hands already know.
"""

from __future__ import annotations

import sys
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


def _error(message: str) -> None:
    print(f"dldoctor: error: {message}", file=sys.stderr)


def _warning(message: str) -> None:
    print(f"dldoctor: warning: {message}", file=sys.stderr)


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
    output_format: str = typer.Option("text", "--output-format", help="text, concise, json, sarif or github."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when there are findings."),
    config_path: Optional[str] = typer.Option(None, "--config", help="Read settings from this file instead of the nearest pyproject.toml."),
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
) -> None:
    """Find deep-learning bugs in Python files without running them."""
    from dldoctor.lint import config, discovery, runner
    from dldoctor.report import FORMATS, RunSummary, write

    if output_format not in FORMATS:
        _error(f"unknown output format {output_format!r} (choose from {', '.join(FORMATS)})")
        raise typer.Exit(EXIT_USAGE)
    if not paths:
        paths = ["-"] if stdin_filename else ["."]  # as ruff: a stdin name with no path reads stdin
    reading_stdin = paths == ["-"]
    if "-" in paths and not reading_stdin:
        _error("`-` (stdin) cannot be combined with other paths")
        raise typer.Exit(EXIT_USAGE)
    try:
        settings = config.resolve(
            config_path,
            [stdin_filename] if reading_stdin and stdin_filename else paths,
            select=_selectors(select) if select else None,
            extend_select=_selectors(extend_select),
            ignore=_selectors(ignore),
            extra_exclude=extend_exclude,
            target_versions=[part.strip() for value in target_version or [] for part in value.split(",") if part.strip()],
        )
        _configure_targets(settings, python)
    except config.ConfigError as problem:
        _error(str(problem))
        raise typer.Exit(EXIT_USAGE)
    codes = frozenset(settings.selected_codes())
    if not max_file_size > 0:
        _error(f"--max-file-size must be a positive number of MB, not {max_file_size:g}")
        raise typer.Exit(EXIT_USAGE)
    from dldoctor.lint import source

    source.configure(int(max_file_size * 1024 * 1024))

    usage_problem = False
    fixing = fix or diff
    outcomes = None
    if reading_stdin:
        name = stdin_filename or "-"
        file_codes = frozenset(codes - settings.ignored_for(name))
        data = source.read_stream(sys.stdin.buffer, name)
        if fixing:
            from dldoctor.lint import fixes

            outcomes = [fixes.fix_bytes(name, data, file_codes, unsafe_fixes)]
        else:
            results = [runner.lint_bytes(name, data, file_codes)]
        _warn_about_pins([name])
        files_checked = 1
    else:
        excluder = discovery.Excluder(settings.exclude, settings.root)
        jobs = []
        unlisted = []  # directories that could not be listed: a DL000 each, not a silent pass
        for item in discovery.discover(paths, excluder):
            if isinstance(item, discovery.Skipped) and item.unreadable:
                unlisted.append(runner.unreadable_result(item.path, item.reason, codes))
            elif isinstance(item, discovery.Skipped):
                (_error if item.missing else _warning)(f"{item.path}: {item.reason}")
                usage_problem |= item.missing
            else:
                jobs.append((item, frozenset(codes - settings.ignored_for(item))))
        _warn_about_pins([path for path, _ in jobs])
        if fixing:
            from dldoctor.lint import fixes

            refusals = fixes.write_refusals([path for path, _ in jobs], paths)
            outcomes = fixes.fix_paths(
                [(path, job_codes, unsafe_fixes, not diff, refusal) for (path, job_codes), refusal in zip(jobs, refusals)]
            )
        else:
            lint_cache = None
            if not no_cache and runner.PREFILTER:  # without the prefilter: a check of it, so lint everything
                from dldoctor.lint.cache import DIRECTORY_NAME, LintCache

                lint_cache = LintCache(Path(cache_dir) if cache_dir else settings.root / DIRECTORY_NAME)
            results = runner.lint_paths(jobs, lint_cache=lint_cache)
            if lint_cache is not None and lint_cache.problem:
                _warning(lint_cache.problem)
        files_checked = len(jobs)
        if outcomes is not None:
            outcomes += [fixes.FixOutcome(result.path, result) for result in unlisted]
        else:
            results += unlisted

    fixed_count = 0
    report_stream = sys.stdout
    if outcomes is not None:
        results = [outcome.result for outcome in outcomes]
        for outcome in outcomes:
            if outcome.refused:
                _warning(f"{outcome.path}: {outcome.refused}")
        fixed_count = sum(outcome.applied for outcome in outcomes)
        if diff:
            _print_diffs(outcomes)
            print(f"Would fix {fixed_count} finding{'s' if fixed_count != 1 else ''}.", file=sys.stderr)
            raise typer.Exit(EXIT_USAGE if usage_problem else EXIT_FINDINGS if fixed_count else EXIT_CLEAN)
        if reading_stdin:
            # As ruff: the fixed source goes to stdout, the report to stderr.
            outcome = outcomes[0]
            sys.stdout.write(outcome.fixed if outcome.fixed is not None else data.decode("utf-8", "replace"))
            sys.stdout.flush()
            report_stream = sys.stderr

    internal_errors = [result for result in results if result.internal_error]
    for result in internal_errors:
        _error(f"internal error while linting {result.path} (please report it):\n{result.internal_error}")
    findings = sorted((f for result in results for f in result.findings), key=lambda f: f.sort_key())
    summary = RunSummary(files_checked, codes, fixed=fixed_count, unsafe_fixes=unsafe_fixes)
    write(output_format, findings, summary, report_stream)
    report_stream.flush()
    if internal_errors or usage_problem:
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_FINDINGS if findings and not exit_zero else EXIT_CLEAN)


def _configure_targets(settings, python: Optional[str]) -> None:
    """The run's target versions: the command line's and the configuration's, and `--python`'s."""
    from dldoctor.lint import config, target

    environment = None
    if python is not None:
        try:
            environment = target.environment_targets(python)
        except target.TargetError as problem:
            raise config.ConfigError(str(problem)) from None
    target.configure(target.RunTargets(tuple(settings.target_versions), environment, python))


def _warn_about_pins(paths: list[str]) -> None:
    """One warning per pin that could not be read where these files' versions are inferred."""
    from dldoctor.lint import target

    said = set()
    for path in paths:
        for note in target.for_path(path).notes:
            if note not in said:
                said.add(note)
                _warning(note)


def _print_diffs(outcomes) -> None:
    import difflib

    for outcome in outcomes:
        if outcome.changed:
            sys.stdout.writelines(
                difflib.unified_diff(
                    outcome.original.splitlines(keepends=True),
                    outcome.fixed.splitlines(keepends=True),
                    fromfile=f"a/{outcome.path}",
                    tofile=f"b/{outcome.path}",
                )
            )


@app.command("rules")
def list_rules(
    as_json: bool = typer.Option(False, "--json", help="Print the catalogue as JSON."),
) -> None:
    """List every rule: code, name, severity, and what it finds."""
    from dldoctor.lint import registry

    catalogue = registry.all_rules()
    default = registry.default_selection()
    if as_json:
        import json

        rows = [
            {"code": code, "name": rule.name, "severity": rule.severity.value, "default": code in default, "summary": rule.summary}
            for code, rule in catalogue.items()
        ]
        print(json.dumps(rows, indent=2))
        return
    rows = [
        (code, rule.name, rule.severity.value + ("" if code in default else " (off by default)"), rule.summary)
        for code, rule in catalogue.items()
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


@app.command("rule")
def show_rule(code: str = typer.Argument(..., help="A rule code, e.g. DL101.")) -> None:
    """Explain one rule: what it finds, why it matters, the fix."""
    from dldoctor.lint import registry

    code = code.strip().upper()
    if code == registry.UNREADABLE_CODE:
        text = f"# {code} {registry.UNREADABLE_NAME} (error)\n\n{registry.UNREADABLE_DOCUMENTATION}"
    elif code in registry.all_rules():
        rule = registry.all_rules()[code]
        header = f"# {rule.code} {rule.name} ({rule.severity.value})\n\n{rule.summary}\n\n"
        text = header + rule.documentation()
    else:
        _error(f"no rule {code!r} (see `dldoctor rules`)")
        raise typer.Exit(EXIT_USAGE)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        print(text)


# -- env command (dldoctor/probes/env) --
from dldoctor.probes.env.command import env_command  # noqa: E402
app.command("env")(env_command)

# -- ckpt command (dldoctor/probes/ckpt) --
from dldoctor.probes.ckpt.command import ckpt_command  # noqa: E402
app.command("ckpt")(ckpt_command)
from dldoctor.probes.graph.command import graph_app  # noqa: E402
app.add_typer(graph_app, name="graph")


def _tolerant_streams() -> None:
    """A console that cannot show a character (`PYTHONIOENCODING=ascii`, cp437, a file
    name that is not UTF-8) gets it escaped (`\\xb7`), never an encoding error that
    would lose the whole report."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass  # not a text stream we may reconfigure (a test harness's buffer)


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
