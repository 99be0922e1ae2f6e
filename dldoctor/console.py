"""What every command prints besides its report: errors, warnings and debug lines on stderr, at
the run's log level, and standard streams that survive a console that cannot encode them.

Kept apart from the command-line parser, so that the lint entry point (`entry`) that runs
without it prints the same lines.
"""

from __future__ import annotations

import sys

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

# How much the run says on stderr besides errors, as ruff's log levels:
# 0 --silent and --quiet (no warnings), 1 the default, 2 --verbose (debug lines too).
_log_level = 1


def set_log_level(*, silent: bool = False, quiet: bool = False, verbose: bool = False) -> None:
    global _log_level
    _log_level = 0 if silent or quiet else 2 if verbose else 1


def error(message: str) -> None:
    print(f"dldoctor: error: {message}", file=sys.stderr)


def warning(message: str) -> None:
    if _log_level >= 1:
        print(f"dldoctor: warning: {message}", file=sys.stderr)


def debug(message: str) -> None:
    if _log_level >= 2:
        print(f"dldoctor: debug: {message}", file=sys.stderr)


def selectors(values: list[str] | None) -> list[str]:
    """`--select DL1,DL201 --select DL401` -> ['DL1', 'DL201', 'DL401']."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


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


def tolerant_streams() -> None:
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


def run_guarded(command) -> None:
    """Run a command (the typer app, or `entry`'s lint) and exit with its code: an unexpected
    exception is an internal error (one line, exit 2, no traceback wall), ^C exits 130."""
    tolerant_streams()
    try:
        code = command()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        error("interrupted")
        sys.exit(130)
    except Exception as problem:  # a bug in dldoctor
        error(f"internal error: {type(problem).__name__}: {problem} (please report it)")
        sys.exit(EXIT_USAGE)
    sys.exit(code or 0)
