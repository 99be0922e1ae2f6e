"""What `dldoctor lint` does once its options are parsed: settings, files, the lint or the fixes,
the report, the exit code (0 clean, 1 findings, 2 usage or internal error).

The command line (`cli`) parses the options with typer and calls `run`; so does the console
entry point (`entry`) for the plain forms a pre-commit hook or a user types most (`dldoctor
lint --force-exclude a.py b.py`), without importing typer, which costs a fifth of linting
one file cold.
"""

from __future__ import annotations

import os
import sys
import time

from dldoctor.console import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, debug, error, selectors, set_log_level, warning


def run(
    paths: list[str] | None = None,
    *,
    select: list[str] | None = None,
    extend_select: list[str] | None = None,
    ignore: list[str] | None = None,
    extend_exclude: list[str] | None = None,
    exclude: list[str] | None = None,
    per_file_ignores: list[str] | None = None,
    extend_per_file_ignores: list[str] | None = None,
    respect_gitignore: bool | None = None,
    force_exclude: bool | None = None,
    isolated: bool = False,
    show_settings: bool = False,
    show_files: bool = False,
    add_noqa: bool = False,
    output_format: str = "text",
    exit_zero: bool = False,
    config_path: list[str] | None = None,
    stdin_filename: str | None = None,
    fix: bool = False,
    unsafe_fixes: bool = False,
    diff: bool = False,
    max_file_size: float = 10,
    no_cache: bool = False,
    cache_dir: str | None = None,
    target_version: list[str] | None = None,
    python: str | None = None,
    statistics: bool = False,
    output_file: str | None = None,
    quiet: bool = False,
    silent: bool = False,
    verbose: bool = False,
    fix_only: bool = False,
    unfixable: list[str] | None = None,
    watch: bool = False,
) -> int:
    """`dldoctor lint` with its options as keywords (the command line's names, parsed); the exit code."""
    try:
        _run(**locals())
    except _Exit as done:
        return done.code
    return EXIT_CLEAN


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _run(
    paths, select, extend_select, ignore, extend_exclude, exclude, per_file_ignores, extend_per_file_ignores,
    respect_gitignore, force_exclude, isolated, show_settings, show_files, add_noqa, output_format, exit_zero,
    config_path, stdin_filename, fix, unsafe_fixes, diff, max_file_size, no_cache, cache_dir, target_version,
    python, statistics, output_file, quiet, silent, verbose, fix_only, unfixable, watch,
) -> None:
    """Find deep-learning bugs in Python files without running them."""
    from dldoctor import api
    from dldoctor.report import FORMATS, RunSummary

    set_log_level(silent=silent, quiet=quiet, verbose=verbose)
    if watch and not os.environ.get(_WATCHED_RUN):
        raise _Exit(_watch(paths or ["."], stdin_filename is not None or paths == ["-"] or diff))

    if output_format not in FORMATS:
        error(f"unknown output format {output_format!r} (choose from {', '.join(FORMATS)})")
        raise _Exit(EXIT_USAGE)
    if not paths:
        paths = ["-"] if stdin_filename else ["."]  # as ruff: a stdin name with no path reads stdin
    reading_stdin = paths == ["-"]
    if "-" in paths and not reading_stdin:
        error("`-` (stdin) cannot be combined with other paths")
        raise _Exit(EXIT_USAGE)
    if not max_file_size > 0:
        error(f"--max-file-size must be a positive number of MB, not {max_file_size:g}")
        raise _Exit(EXIT_USAGE)
    unfixable_codes = _expanded(selectors(unfixable), "--unfixable")
    try:
        linter = api.Linter(
            config=config_path or [], isolated=isolated,
            select=selectors(select) if select else None, extend_select=selectors(extend_select),
            ignore=selectors(ignore), exclude=exclude, extend_exclude=extend_exclude or [],
            per_file_ignores=per_file_ignores, extend_per_file_ignores=extend_per_file_ignores or [],
            respect_gitignore=respect_gitignore, force_exclude=force_exclude,
            target_versions=target_version or [], python=python, unfixable=sorted(unfixable_codes),
            max_file_size_mb=max_file_size,
        )
        first = stdin_filename if reading_stdin and stdin_filename else paths[0] if not reading_stdin else "."
        settings = linter.settings_for(first, is_dir=None if not (reading_stdin and stdin_filename) else False)
    except api.ConfigurationError as problem:
        for message in problem.messages:
            error(message)
        raise _Exit(EXIT_USAGE)
    codes = frozenset(settings.selected_codes())

    started = time.perf_counter()
    debug(f"settings from {getattr(settings, 'source', None) or 'the defaults (no configuration file)'}; {len(codes)} rules selected")
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
            raise _Exit(EXIT_CLEAN)
        findings = []
        try:
            if fixing:
                done = linter.fix(data, name, unsafe=unsafe_fixes)
                findings = done.findings
                outcomes = [done]
                if done.refused:
                    warning(f"{name}: {done.refused}")
            else:
                findings = linter.lint(data, name)
        except api.InternalError as problem:
            internal_errors.append((name, problem.details))
        for note in linter.target_notes([name]):
            warning(note)
        files_checked = 1 if file_codes else 0
    else:
        found = linter.files(paths)
        for missing in found.missing:
            error(f"{missing}: no such file or directory")
        for path, reason in found.skipped:
            warning(f"{path}: {reason}")
        usage_problem = bool(found.missing)
        if _settings_or_files_only(show_settings, show_files, add_noqa, [path for path, _ in found.jobs], linter, found):
            raise _Exit(EXIT_USAGE if usage_problem else EXIT_CLEAN)
        if not found.jobs and not found.unreadable and not usage_problem:
            warning("No Python files found under the given path(s)")
        codes = frozenset(codes.union(*(job_codes for _, job_codes in found.jobs)))
        if fixing:
            for note in linter.target_notes([path for path, _ in found.jobs]):
                warning(note)
            fixed_outcomes = linter.fix_files(found, paths, unsafe=unsafe_fixes, write=not diff)
            results = [outcome.result for outcome in fixed_outcomes] + found.unreadable
            outcomes = fixed_outcomes
            for outcome in fixed_outcomes:
                if outcome.refused:
                    warning(f"{outcome.path}: {outcome.refused}")
        else:
            run = linter.lint_files(found, cache=not no_cache, cache_dir=cache_dir, first=paths[0])
            for note in run.notes:
                warning(note)
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
            raise _Exit(EXIT_USAGE if usage_problem else EXIT_FINDINGS if fixed_count else EXIT_CLEAN)
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
        error(f"internal error while linting {path} (please report it):\n{details}")
    findings = sorted(findings, key=lambda f: f.sort_key())
    debug(f"{files_checked} file{'s' if files_checked != 1 else ''} checked in {time.perf_counter() - started:.2f} s")
    summary = RunSummary(
        files_checked, codes, fixed=fixed_count, unsafe_fixes=unsafe_fixes, quiet=quiet, unfixable=unfixable_codes
    )
    if not silent:
        _report(output_format, findings, summary, report_stream, output_file, statistics, fix_only)
    if internal_errors or usage_problem:
        raise _Exit(EXIT_USAGE)
    if fix_only:  # as ruff: what is left unfixed does not fail the run
        raise _Exit(EXIT_CLEAN)
    raise _Exit(EXIT_FINDINGS if findings and not exit_zero else EXIT_CLEAN)


def _report(output_format, findings, summary, stream, output_file, statistics, fix_only) -> None:
    """The run's report, on `stream` or in `--output-file` (written as UTF-8, never in colour)."""
    from dldoctor.report import plural, write, write_statistics

    handle = None
    if output_file is not None:
        try:
            handle = stream = open(output_file, "w", encoding="utf-8", newline="")
        except OSError as problem:
            error(f"cannot write {output_file}: {problem.strerror or problem}")
            raise _Exit(EXIT_USAGE)
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
            error(f"{option}: no rule matches {selector!r} (see `dldoctor rules`)")
            raise _Exit(EXIT_USAGE)
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
        error("--watch lints files on disk: it cannot be combined with stdin (-) or --diff")
        return EXIT_USAGE
    try:
        import watchfiles
    except ImportError:
        error("--watch needs the watchfiles package: pip install 'dldoctor[watch]'")
        return EXIT_USAGE
    missing = [path for path in paths if not os.path.exists(path)]
    if missing:
        error(f"{missing[0]}: no such file or directory")
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
        debug("changed: " + ", ".join(sorted(path for _, path in changes)))
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
            warning("No Python files found under the given path(s)")
            return True
        print(linter.describe(files[0]))
        return True
    if add_noqa:
        if found is None or not found.jobs:
            error("--add-noqa writes comments into files: it needs files, not stdin")
            raise _Exit(EXIT_USAGE)
        added = 0
        for outcome in linter.add_noqa(found):
            added += outcome.added
            if outcome.problem:
                warning(f"{outcome.path}: {outcome.problem}")
            for line, why in outcome.skipped:
                warning(f"{outcome.path}:{line}: no `# noqa` added: {why}")
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
