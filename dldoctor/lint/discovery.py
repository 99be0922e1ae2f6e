"""Which files `dldoctor lint PATH...` looks at.

Directories are walked for `*.py` and `*.ipynb`, skipping version control, virtual
environments, build output and caches (ruff's defaults, which users expect;
`exclude` replaces them, `extend-exclude` adds to them), and what `.gitignore`,
`.ignore` and `.git/info/exclude` list (`dldoctor.lint.gitignore`; off with
`--no-respect-gitignore`). A file named on the command line is linted whatever
its extension, and whatever the exclusions say unless `--force-exclude` is given
(as ruff: pre-commit names every staged file). Symbolic links to directories are
followed once: a loop is reported, not walked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dldoctor.lint import gitignore
from dldoctor.lint.inputs import consulted
from dldoctor.lint.config import PathPattern, Resolver, Settings, matches

SKIPPED_DIRECTORIES = frozenset(
    {
        ".bzr", ".direnv", ".eggs", ".git", ".hg", ".svn", ".ipynb_checkpoints", ".mypy_cache",
        ".nox", ".pytest_cache", ".ruff_cache", ".dldoctor_cache", ".tox", ".venv", ".vscode",
        "__pycache__", "__pypackages__", "_build", "build", "dist", "node_modules",
        "site-packages", "venv",
    }
)
PYTHON_SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Skipped:
    """A path given or met that yields no file to lint, and why."""

    path: str
    reason: str
    missing: bool = False  # a path named on the command line that does not exist
    unreadable: bool = False  # a directory that could not be listed: its files are lost, a DL000


class Excluder:
    """One set of settings for every path: the default exclusions, `.gitignore`, and
    `patterns` relative to `root` (for callers that walk a tree the way `lint` does
    without a configuration, such as the corpus benchmark)."""

    def __init__(self, patterns: Sequence[str], root: Path) -> None:
        root_text = os.path.abspath(root)
        self.settings = Settings(extend_exclude=[PathPattern(pattern, root_text) for pattern in patterns], root=Path(root_text))

    def for_path(self, path: str, is_dir: bool | None = None) -> Settings:
        return self.settings


def excluded(path: str, settings: Settings, *, is_dir: bool) -> bool:
    """Whether `exclude`/`extend-exclude` (or, with `exclude` unset, the default
    directories) leave out this file or directory."""
    if settings.exclude is None and is_dir and os.path.basename(os.path.normpath(path)) in SKIPPED_DIRECTORIES:
        return True
    return any(matches(pattern, path) for pattern in settings.excludes)


def _gitignored(path: str, settings: Settings, *, is_dir: bool, check_parents: bool = False) -> bool:
    return settings.respect_gitignore and gitignore.ignored(path, is_dir, check_parents=check_parents)


def force_excluded(path: str, resolver: Resolver | Excluder) -> bool:
    """With `--force-exclude`, whether a path named explicitly (or `--stdin-filename`)
    is excluded: the path or a directory above it matches an exclusion, as ruff
    checks for pre-commit, which names every staged file."""
    if not resolver.for_path(path, is_dir=False).force_exclude:
        return False
    return excluded_anywhere(path, resolver)


def excluded_anywhere(path: str, resolver: Resolver | Excluder) -> bool:
    """Whether a walk of the directories above `path` would leave it out: the path or a
    directory above it matches an exclusion, a default-skipped directory, or `.gitignore`."""
    settings = resolver.for_path(path, is_dir=False)
    absolute = os.path.abspath(path)
    is_dir = os.path.isdir(absolute)
    candidates = [absolute]
    parent = os.path.dirname(absolute)
    while parent != os.path.dirname(parent):
        candidates.append(parent)
        parent = os.path.dirname(parent)
    for index, candidate in enumerate(candidates):
        owner = resolver.for_path(os.path.dirname(candidate), is_dir=True)
        if any(matches(pattern, candidate) for pattern in owner.excludes):
            return True
        if (index or is_dir) and owner.exclude is None and os.path.basename(candidate) in SKIPPED_DIRECTORIES:
            return True
    return _gitignored(absolute, settings, is_dir=is_dir, check_parents=True)


def discover(paths: Sequence[str], resolver: Resolver | Excluder) -> Iterator[str | Skipped]:
    """Files to lint (as given, relative or absolute) and the paths skipped with a reason.

    A path named explicitly is linted whatever the exclusions say (as ruff), unless
    `force-exclude` is on; a directory's entries are left out by the exclusions of
    the configuration that governs the directory, and by `.gitignore`/`.ignore`
    unless `respect-gitignore` is off.
    """
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        consulted(given)
        if not os.path.lexists(given):
            yield Skipped(given, "no such file or directory", missing=True)
            continue
        if force_excluded(given, resolver):
            continue
        if path.is_dir():
            yield from _walk(os.path.normpath(given), resolver, seen)
        else:
            key = os.path.normpath(os.path.abspath(given))
            if key not in seen:
                seen.add(key)
                yield os.path.normpath(given)


def _walk(top: str, resolver: Resolver | Excluder, seen: set[str]) -> Iterator[str | Skipped]:
    visited_dirs: set[tuple[int, int]] = set()

    def walk(directory: str) -> Iterator[str | Skipped]:
        try:
            stat = os.stat(directory)
        except OSError as error:
            yield Skipped(directory, f"cannot enter directory: {error.strerror}", unreadable=True)
            return
        if (stat.st_dev, stat.st_ino) in visited_dirs:
            yield Skipped(directory, "symbolic link loop: directory already visited, skipped")
            return
        visited_dirs.add((stat.st_dev, stat.st_ino))
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as error:
            yield Skipped(directory, f"cannot list directory: {error.strerror}", unreadable=True)
            return
        settings = resolver.for_path(directory, is_dir=True)  # the directory's own configuration decides
        for entry in entries:
            path = entry.name if directory == "." else os.path.join(directory, entry.name)
            try:
                is_dir = entry.is_dir()  # follows symbolic links
            except OSError:
                is_dir = False
            if is_dir:
                consulted(os.path.join(path, "pyvenv.cfg"))
                if os.path.exists(os.path.join(path, "pyvenv.cfg")):
                    continue
                if excluded(path, settings, is_dir=True) or _gitignored(path, settings, is_dir=True):
                    continue
                yield from walk(path)
            elif entry.name.endswith(PYTHON_SUFFIXES):
                if excluded(path, settings, is_dir=False) or _gitignored(path, settings, is_dir=False):
                    continue
                key = os.path.normpath(os.path.abspath(path))
                if key not in seen:
                    seen.add(key)
                    yield path  # a broken or looping link is reported when it is read

    yield from walk(top)
