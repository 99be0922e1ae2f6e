"""Cheap scans of a file's text that rule triggers share.

A trigger decides from the text alone whether parsing a file could pay off, so
these scans over-approximate: they may say "yes" to a file the rule will not
report on, never "no" to one it would. Patterns start with a literal word and
check the character before it with a look-behind, so that the regular
expression engine can skip ahead to the literal instead of trying every
position.
"""

from __future__ import annotations

import re
from functools import lru_cache

_IMPORT = re.compile(r"import(?<![^\W\d]import)(?!\w)")


@lru_cache(maxsize=None)
def _words(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, names)))


def imports_any(text: str, packages: tuple[str, ...]) -> bool:
    """Whether an import statement in `text` names one of `packages` (`import numpy as np`,
    `from PIL import Image`, `import os, scipy.misc`, across backslash continuations)."""
    words = _words(packages)
    for match in _IMPORT.finditer(text):
        start = text.rfind("\n", 0, match.start()) + 1
        while start > 1 and text[start - 2] == "\\":  # the statement began on a continued line
            start = text.rfind("\n", 0, start - 1) + 1
        end = text.find("\n", match.end())
        while end > 0 and text[end - 1] == "\\":
            end = text.find("\n", end + 1)
        if words.search(text, start, end if end >= 0 else len(text)):
            return True
    return False


def search_code(pattern: re.Pattern[str], text: str) -> bool:
    """Whether `pattern` matches `text` outside comment lines and doctest lines.

    A line that starts with `#` or `>>>` cannot be code (`>>>` is a syntax error
    at the start of a statement), so a match there cannot be what a rule reports:
    docstrings full of `>>> loss.backward()` then no longer make a file worth
    parsing. Text after code on the same line still counts, string or not.
    """
    return any(not _in_comment_or_doctest(text, match.start()) for match in pattern.finditer(text))


# What ends the value of an assignment: a newline outside brackets, or the
# bracket that closes the one the value sits in (`(names := [...])`). Strings and
# comments are skipped whole, so that the brackets in them do not count.
_VALUE_TOKENS = re.compile(
    r"""[rRbBuUfF]{0,2}(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")"""
    r"|#[^\n]*|\\\r?\n|[()\[\]{}\n]"
)
_MAX_VALUE_TOKENS = 5000


def value_text(text: str, start: int, *, inside_brackets: bool = False) -> str:
    """The text of the expression that starts at `start` (the right side of an `=`),
    up to the end of its logical line; with `inside_brackets`, `start` is just inside
    an opening bracket and the text runs to the bracket that closes it (a call's
    arguments). When the scan gives up, more rather than less: a trigger must not
    miss what the value holds."""
    depth = 0
    for count, token in enumerate(_VALUE_TOKENS.finditer(text, start)):
        kind = token.group()
        if kind in ("(", "[", "{"):
            depth += 1
        elif kind in (")", "]", "}"):
            depth -= 1
            if depth < 0:
                return text[start : token.start()]
        elif kind == "\n" and depth == 0 and not inside_brackets:
            return text[start : token.start()]
        if count > _MAX_VALUE_TOKENS:
            break
    return text[start:]


# `from MODULE import NAMES` (NAMES parenthesized over lines, or continued with
# backslashes) and `import MODULES`.
_FROM_IMPORT = re.compile(
    r"from(?<![^\W\d]from)[ \t\\\r\n]+([\w.]+)[ \t\\\r\n]+import(?!\w)[ \t\\]*(\([^)]*\)|(?:[^\n\\;]|\\\r?\n)*)"
)
_PLAIN_IMPORT = re.compile(r"import(?<![^\W\d.]import)[ \t\\]+((?:[^\n\\;]|\\\r?\n)*)")
_AS = re.compile(r"\s+as\s+")


def imported_names(text: str, packages: tuple[str, ...]) -> dict[str, str]:
    """Local name -> dotted name, for the names that import statements in `text`
    bind to `packages`, their modules and their attributes (`import numpy as np`
    gives np -> numpy; `from PIL import Image as I` gives I -> PIL.Image;
    `import scipy.misc` gives scipy -> scipy).

    Text-level, so it also reads imports in strings and comments: more names,
    never fewer, than the module really binds.
    """
    def ours(module: str) -> bool:
        return module.split(".")[0] in packages

    bound: dict[str, str] = {}
    for match in _FROM_IMPORT.finditer(text):
        module = match.group(1)
        if not ours(module):
            continue
        for item in match.group(2).strip("() \t\r\n").replace("\\", " ").split(","):
            original, _, alias = (part.strip() for part in _AS.sub(" as ", item.strip()).partition(" as "))
            if original:
                bound[alias or original] = f"{module}.{original}"
    for match in _PLAIN_IMPORT.finditer(text):
        for item in match.group(1).replace("\\", " ").split(","):
            original, _, alias = (part.strip() for part in _AS.sub(" as ", item.strip()).partition(" as "))
            original = original.split()[0] if original.split() else ""
            if ours(original):
                if alias:
                    bound[alias.split()[0]] = original
                else:
                    bound[original.split(".")[0]] = original.split(".")[0]
    return bound


def uses_any(text: str, targets: frozenset[str]) -> bool:
    """Whether `text` could use one of `targets` (dotted names such as `torch.load`,
    `PIL.Image.ANTIALIAS`) the way an import-resolving rule sees it: through an
    import (`import torch as T` then `T.load`, `from PIL import Image` then
    `Image.ANTIALIAS`), a plain alias (`N = np`), or imported by name (`from numpy
    import float`, `from torch import load as L`)."""
    packages = tuple(sorted({target.split(".")[0] for target in targets}))
    bound = {
        name: dotted
        for name, dotted in imported_names(text, packages).items()
        if any(target == dotted or target.startswith(dotted + ".") for target in targets)
    }
    while True:  # plain aliases at any depth: `N = np`, `M = N.random`
        if any(dotted in targets for dotted in bound.values()):
            return True
        if not bound:
            return False
        more = {}
        for match in _alias_pattern(tuple(sorted(bound))).finditer(text):
            line_start = text.rfind("\n", 0, match.start()) + 1
            name = _ALIAS_TARGET.fullmatch(text, line_start, match.start())
            if name is not None and name.group(1) not in bound:
                root, _, rest = re.sub(r"\s", "", match.group(1)).partition(".")
                dotted = f"{bound[root]}.{rest}" if rest else bound[root]
                if any(target == dotted or target.startswith(dotted + ".") for target in targets):
                    more[name.group(1)] = dotted
        if not more:
            break
        bound.update(more)
    chain = _chain_pattern(tuple(sorted(bound)))
    attributes = tuple(sorted({target.rsplit(".", 1)[-1] for target in targets}))
    # The attribute first (a literal "." to skip to), then the chain before it.
    for use in _attribute_pattern(attributes).finditer(text):
        window = text[max(0, use.start() - _CHAIN_WINDOW) : use.start()]
        if chain.search(window) and not _in_comment_or_doctest(text, use.start()):
            return True
    return False


_ALIAS_TARGET = re.compile(r"[ \t]*([^\W\d]\w*)[ \t]*")


@lru_cache(maxsize=256)
def _alias_pattern(roots: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(map(re.escape, roots))
    return re.compile(rf"=[ \t]*((?:{names})(?:[ \t]*\.[ \t]*\w+)*)[ \t]*(?:[#;\r\n]|$)")


@lru_cache(maxsize=256)
def _chain_pattern(roots: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(map(re.escape, roots))
    return re.compile(rf"(?<![\w.])(?:{names})(?:\s*\.\s*\w+)*\s*$")


_CHAIN_WINDOW = 300  # characters before `.attribute` in which its `root.module` chain must start


@lru_cache(maxsize=None)
def _attribute_pattern(attributes: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\.\s*(?:%s)(?!\w)" % "|".join(map(re.escape, attributes)))


def _in_comment_or_doctest(text: str, position: int) -> bool:
    line_start = text.rfind("\n", 0, position) + 1
    return text[line_start:position].lstrip().startswith(("#", ">>>"))
