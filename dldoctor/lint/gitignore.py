"""`.gitignore`, `.ignore` and `.git/info/exclude`, read the way git reads them.

ML projects keep copies of their code where runs write their output
(`wandb/run-*/files/code.py`, `lightning_logs/`, `outputs/`, `mlruns/`) and list
those directories in `.gitignore`; linting the copies repeats every finding. As
ruff (and ripgrep) do, the files are honoured by default:

- `.gitignore` files apply inside a git repository (a directory holding `.git`,
  and below it), each to the directory it sits in and below, together with
  `.git/info/exclude` at the repository's top;
- `.ignore` files apply wherever they are, git repository or not, and win over a
  `.gitignore` of the same directory;
- a deeper file wins over a shallower one, and within a file the last matching
  pattern wins (`!pattern` re-includes); a path inside an ignored directory is
  ignored whatever a deeper pattern says, as in git.

Patterns follow gitignore(5): `#` comments, `\\` escapes, a trailing `/` for
directories only, a `/` at the start or in the middle anchors the pattern to the
file's directory, `*`, `?`, `[...]` and `**` (any number of directories).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from dldoctor.lint.inputs import consulted

# Larger ignore files are not read (no real one comes near this).
_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    negated: bool
    directory_only: bool
    text: str


def _translate(glob: str) -> str:
    """A gitignore glob (without anchoring slashes handled) as a regular expression."""
    out = []
    index, length = 0, len(glob)
    while index < length:
        char = glob[index]
        if char == "\\" and index + 1 < length:
            out.append(re.escape(glob[index + 1]))
            index += 2
            continue
        if char == "*":
            if glob.startswith("**", index):
                before_ok = index == 0 or glob[index - 1] == "/"
                after = index + 2
                if before_ok and (after == length or glob[after] == "/"):
                    if after == length:  # `foo/**`: everything inside
                        out.append(".*")
                        index = after
                    else:  # `**/` : zero or more directories
                        out.append("(?:.*/)?")
                        index = after + 1
                    continue
            out.append("[^/]*")
            index += 1
            while index < length and glob[index] == "*":
                index += 1
            continue
        if char == "?":
            out.append("[^/]")
        elif char == "[":
            end = index + 1
            if end < length and glob[end] in "!^":
                end += 1
            if end < length and glob[end] == "]":
                end += 1
            while end < length and glob[end] != "]":
                end += 1
            if end >= length:  # no closing bracket: a literal `[`
                out.append(re.escape(char))
            else:
                body = glob[index + 1 : end]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def parse(text: str) -> list[Pattern]:
    """The patterns of one ignore file, in order."""
    patterns = []
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if not line or line.startswith("#"):
            continue
        # Trailing spaces are dropped unless escaped with a backslash.
        stripped = line.rstrip(" ")
        if stripped.endswith("\\") and len(stripped) < len(line):
            stripped += " "
        line = stripped
        negated = line.startswith("!")
        if negated:
            line = line[1:]
        elif line.startswith("\\!") or line.startswith("\\#"):
            line = line[1:]
        directory_only = line.endswith("/") and not line.endswith("\\/")
        line = line.rstrip("/") if directory_only else line
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        body = _translate(line)
        regex = ("" if anchored else "(?:.*/)?") + body
        patterns.append(Pattern(re.compile(f"^{regex}$", re.DOTALL), negated, directory_only, raw))
    return patterns


@lru_cache(maxsize=4096)
def _patterns_in(path: str) -> tuple[Pattern, ...]:
    try:
        if os.path.getsize(path) > _MAX_BYTES:
            return ()
        with open(path, encoding="utf-8", errors="replace") as handle:
            return tuple(parse(handle.read()))
    except OSError:
        return ()


def _is_file(path: str) -> bool:
    consulted(path)
    try:
        return os.path.isfile(path)
    except OSError:
        return False


@lru_cache(maxsize=4096)
def _git_root(directory: str) -> str | None:
    """The top of the git repository holding `directory` (the directory with `.git`), if any."""
    consulted(os.path.join(directory, ".git"))
    if os.path.exists(os.path.join(directory, ".git")):
        return directory
    parent = os.path.dirname(directory)
    return None if parent == directory else _git_root(parent)


@lru_cache(maxsize=4096)
def _sources(directory: str) -> tuple[tuple[str, bool, tuple[Pattern, ...]], ...]:
    """(base directory, from git?, patterns) of every ignore file that applies in `directory`, weakest first."""
    parent = os.path.dirname(directory)
    inherited = () if parent == directory else _sources(parent)
    git_root = _git_root(directory)
    if git_root == directory:
        # An enclosing repository's git files stop at a nested repository's top.
        inherited = tuple(source for source in inherited if not source[1])
    found = []
    if git_root == directory:
        exclude = os.path.join(directory, ".git", "info", "exclude")
        if _is_file(exclude):
            found.append((directory, True, _patterns_in(exclude)))
    if git_root is not None:
        ignore_file = os.path.join(directory, ".gitignore")
        if _is_file(ignore_file):
            found.append((directory, True, _patterns_in(ignore_file)))
    ignore_file = os.path.join(directory, ".ignore")
    if _is_file(ignore_file):
        found.append((directory, False, _patterns_in(ignore_file)))
    return inherited + tuple(found)


def _matches(path: str, is_dir: bool) -> bool | None:
    """True (ignored), False (re-included by `!`) or None (no pattern speaks of it)."""
    directory = os.path.dirname(path)
    decision = None
    for base, _, patterns in _sources(directory):
        relative = os.path.relpath(path, base).replace(os.sep, "/")
        if relative.startswith("../"):
            continue
        for pattern in patterns:
            if pattern.directory_only and not is_dir:
                continue
            if pattern.regex.match(relative):
                decision = not pattern.negated
    return decision


def ignored(path: str, is_dir: bool, *, check_parents: bool = False) -> bool:
    """Whether the ignore files exclude `path` (a directory when `is_dir`).

    A walk asks of each entry once its parent was let in; a path named directly
    asks with `check_parents`, so that a file in an ignored directory is ignored.
    """
    path = os.path.abspath(path)
    if check_parents:
        parent = os.path.dirname(path)
        while parent != os.path.dirname(parent):
            if _matches(parent, True):
                return True
            parent = os.path.dirname(parent)
    return bool(_matches(path, is_dir))
