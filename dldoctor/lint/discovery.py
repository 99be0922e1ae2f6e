"""Which files `dldoctor lint PATH...` looks at.

Directories are walked for `*.py` and `*.ipynb`, skipping version control, virtual
environments, build output and caches (ruff's defaults, which users expect);
a file named on the command line is linted whatever its extension. Symbolic
links to directories are followed once: a loop is reported, not walked.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

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
    """Glob patterns from `exclude` (relative to the config's directory, or bare names)."""

    def __init__(self, patterns: Sequence[str], root: Path) -> None:
        self.patterns = [p.rstrip("/") for p in patterns]
        self.root = os.path.abspath(root)

    def excludes(self, path: Path) -> bool:
        if not self.patterns:
            return False
        # abspath, not resolve(): resolving a symbolic link loop raises.
        relative = os.path.relpath(os.path.abspath(path), self.root)
        if relative.startswith(".."):
            relative = path.as_posix()
        relative = Path(relative).as_posix()
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        for pattern in self.patterns:
            if "/" in pattern:
                if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
                    return True
            elif any(fnmatch.fnmatch(part, pattern) for part in parts):
                return True
        return False


def discover(paths: Sequence[str], excluder: Excluder) -> Iterator[str | Skipped]:
    """Files to lint (as given, relative or absolute) and the paths skipped with a reason."""
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        if not os.path.lexists(given):
            yield Skipped(given, "no such file or directory", missing=True)
            continue
        if excluder.excludes(path):
            continue
        if path.is_dir():
            yield from _walk(os.path.normpath(given), excluder, seen)
        else:
            key = os.path.normpath(os.path.abspath(given))
            if key not in seen:
                seen.add(key)
                yield os.path.normpath(given)


def _walk(top: str, excluder: Excluder, seen: set[str]) -> Iterator[str | Skipped]:
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
        for entry in entries:
            path = entry.name if directory == "." else os.path.join(directory, entry.name)
            try:
                is_dir = entry.is_dir()  # follows symbolic links
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name in SKIPPED_DIRECTORIES or os.path.exists(os.path.join(path, "pyvenv.cfg")):
                    continue
                if excluder.excludes(Path(path)):
                    continue
                yield from walk(path)
            elif entry.name.endswith(PYTHON_SUFFIXES) and not excluder.excludes(Path(path)):
                key = os.path.normpath(os.path.abspath(path))
                if key not in seen:
                    seen.add(key)
                    yield path  # a broken or looping link is reported when it is read

    yield from walk(top)
