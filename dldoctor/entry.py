"""The `dldoctor` console script: the plain forms of `dldoctor lint` run without the command-line
parser, everything else goes to it (`cli`).

A pre-commit hook runs `dldoctor lint --force-exclude FILES` on every commit, and importing
typer (and click under it) is a fifth of linting one file cold. The forms read here are the
flags and the few options with a value that such runs use, with click's own syntax for them
(`--select DL1`, `--select=DL1`, repeated options adding up, `--` before paths); anything
else, `--help` and `--version` included, or a value that starts with `-`, or a setting taken
from the environment (`DLDOCTOR_CACHE_DIR`), is handed to the full command line, which
parses it as always. The test suite checks that what is read here is what typer parses.
"""

from __future__ import annotations

import os
import sys

from dldoctor import replay

# Flags: option -> (parameter, value).
FLAGS = {
    "--force-exclude": ("force_exclude", True), "--no-force-exclude": ("force_exclude", False),
    "--respect-gitignore": ("respect_gitignore", True), "--no-respect-gitignore": ("respect_gitignore", False),
    "--fix": ("fix", True), "--unsafe-fixes": ("unsafe_fixes", True), "--diff": ("diff", True),
    "--fix-only": ("fix_only", True), "--no-cache": ("no_cache", True), "--exit-zero": ("exit_zero", True),
    "--isolated": ("isolated", True), "--statistics": ("statistics", True),
    "--quiet": ("quiet", True), "-q": ("quiet", True), "--silent": ("silent", True), "-s": ("silent", True),
    "--verbose": ("verbose", True), "-v": ("verbose", True),
}
# Options with a value: option -> (parameter, whether repeating it adds to a list).
VALUED = {
    "--select": ("select", True), "--extend-select": ("extend_select", True), "--ignore": ("ignore", True),
    "--config": ("config_path", True), "--target-version": ("target_version", True),
    "--output-format": ("output_format", False), "--cache-dir": ("cache_dir", False),
}
# Settings typer would take from the environment when the option is absent.
ENVIRONMENT = ("DLDOCTOR_CACHE_DIR",)


def plain_lint(argv: list[str]) -> dict | None:
    """`lint_command.run`'s keywords for `dldoctor ARGV`, or None when it is not a plain lint."""
    if not argv or argv[0] != "lint" or any(name in os.environ for name in ENVIRONMENT):
        return None
    options: dict = {}
    paths: list[str] = []
    rest = iter(argv[1:])
    for argument in rest:
        if argument == "--":
            paths.extend(rest)
            break
        if argument in FLAGS:
            name, value = FLAGS[argument]
            options[name] = value
            continue
        option, equals, value = argument.partition("=")
        if option in VALUED:
            if not equals:
                value = next(rest, None)
                if value is None or value.startswith("-"):
                    return None  # a missing value, or one click may read otherwise: its own message
            name, repeatable = VALUED[option]
            if repeatable:
                options.setdefault(name, []).append(value)
            else:
                options[name] = value
            continue
        if argument.startswith("-") and argument != "-":
            return None  # an option read here does not know
        paths.append(argument)
    options["paths"] = paths or None
    return options


def main() -> None:
    plain = plain_lint(sys.argv[1:])
    if plain is None:
        from dldoctor.cli import main as command_line

        command_line()
        return
    from dldoctor.console import run_guarded

    if not replay.recordable(plain):
        from dldoctor import lint_command

        run_guarded(lambda: lint_command.run(**plain))
        return
    run_guarded(lambda: _replayed_or_recorded(sys.argv[1:], plain))


def _replayed_or_recorded(argv: list[str], plain: dict) -> int:
    """The recorded output of this very run if nothing it read has changed (`replay`); else the
    lint, recorded for the next time."""
    try:
        key = replay.run_key(argv)
        code = replay.replayed(key, plain.get("cache_dir"))
    except OSError:  # no working directory left, say: nothing to replay, nothing to record
        key = code = None
    if code is not None:
        return code
    from dldoctor import lint_command

    if key is None:
        return lint_command.run(**plain)
    recorder = replay.Recorder(plain["paths"], plain.get("cache_dir"))
    out, err = recorder.capture()
    try:
        code = lint_command.run(**plain)
    except BaseException:
        recorder.save(key, -1, out, err)  # restores the streams, records nothing
        raise
    recorder.save(key, code, out, err)
    return code


if __name__ == "__main__":
    main()
