"""Parse a document that is linted version after version by re-parsing only the statements that changed.

An editor sends the whole document again after every keystroke, and libcst's parse
of it is the largest single cost of linting it (about 100 ms for 1,000 lines). The
text is cut as `piecewise` cuts a huge file, but before every top-level statement it
can be cut at, and what libcst gave for each piece is kept, keyed by the exact text
it parsed (so also by the context it was parsed under: the indentation prefix that
follows the first indented block, a display's placeholder element) and the
encoding. The next version's pieces are the same texts but for the statement the
user is typing in: those are taken from here, and `piecewise` assembles them into the
tree a whole parse gives, as it does for a huge file.

Where statements begin is read from the text's lines (`guess`): CPython's parse of
the whole text, which `piecewise` asks, would cost more than the pieces that changed.

libcst's nodes are immutable, so a statement kept here can sit in the trees of
several versions; what must not happen is one node twice in the same tree (two
identical statements, `import os` written twice): positions and the rules key their
per-lint state on node identity, so the n-th occurrence of a piece in a text is kept as
a copy of its own. Nothing that outlives one lint keys on a node.

The pieces kept are bounded by their total text (least recently used dropped
first); a libcst tree takes about 30 bytes per character of its text.
"""

from __future__ import annotations

import re
from collections import OrderedDict

import libcst as cst

from dldoctor.lint import piecewise
from dldoctor.lint.positions import StatementCode

DEFAULT_MAX_TEXT = 4 * 1024 * 1024  # characters of piece text kept
# One top-level statement a piece: an edit re-parses the statement it falls in, and a
# statement added or removed leaves every other piece's text as it was.
_PIECE_TEXT = 1


class Reparser:
    """The pieces of earlier parses, for documents parsed again and again in one process.

    Not for concurrent use: one parse at a time (the language server lints on one thread).
    """

    def __init__(self, max_text: int = DEFAULT_MAX_TEXT) -> None:
        self.max_text = max_text
        self.text_kept = 0  # total length of the kept pieces' texts
        # (kind, text, encoding, copy) -> what libcst gave for it: a node, or its refusal (a
        # wrong cut is then not parsed again at the next version).
        self._kept: OrderedDict[tuple[str, str, str, int], cst.CSTNode | _Refused] = OrderedDict()
        self.parsed = 0  # pieces libcst parsed (misses), for the benchmarks
        self.reused = 0  # pieces taken from here (hits)
        # The code of the statements kept, for placing findings without generating them again.
        self.statement_code = StatementCode(max_text)
        # The last text parsed in pieces cut by its lines, and those cuts (0-based lines where
        # top-level statements begin: libcst accepted every piece, which proves them).
        self._cut: tuple[str | None, list[int] | None] = (None, None)

    def __len__(self) -> int:
        return len(self._kept)

    def parse(self, text: str, encoding: str) -> cst.Module:
        """The module `cst.parse_module(text)` gives (`deep_equals` it), from kept pieces where the
        text has them. A syntax error raises the `ParserSyntaxError` of the whole text's parse."""
        # Cut where the text's lines say (`guess`), else where CPython's parse says (which
        # also cuts a huge file's long displays); a wrong guess leaves a piece libcst refuses.
        layouts = (guess(text), None) if len(text) < piecewise.HUGE_TEXT else (None,)
        for found in layouts:
            if found is not None and not found.starts:
                continue  # one statement, or an unterminated string: nothing to cut by lines
            try:
                module = piecewise.parse(text, encoding, _PIECE_TEXT, piecewise.PIECE_TEXT, _Session(self), found)
            except cst.ParserSyntaxError:
                module = None  # a piece libcst refuses: a wrong cut, or a syntax error
            if module is not None:
                self._cut = (text, [line for line, _ in found.starts] if found is not None else None)
                return module
        self._cut = (None, None)
        # Not cut (one statement, `\r` line ends, a syntax error): the whole text is one piece,
        # and libcst's error for it is the one reported.
        return _Session(self).module(text, cst.PartialParserConfig(encoding=encoding))

    def cuts(self, text: str) -> list[int] | None:
        """The lines where top-level statements begin in `text`, when it is the last text parsed
        here and was cut by its lines (`noqa` tokenizes it piece by piece then)."""
        cut_text, cuts = self._cut
        return cuts if text is cut_text or text == cut_text else None

    def _get(self, key: tuple[str, str, str, int]) -> cst.CSTNode | _Refused | None:
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
        return found

    def _keep(self, key: tuple[str, str, str, int], found: cst.CSTNode | _Refused) -> None:
        size = len(key[1])
        if size > self.max_text:
            return
        self._kept[key] = found
        self.text_kept += size
        while self.text_kept > self.max_text:
            (_, dropped, _, _), _ = self._kept.popitem(last=False)
            self.text_kept -= len(dropped)


class _Refused:
    """A piece libcst refused, and its error."""

    __slots__ = ("error",)

    def __init__(self, error: cst.ParserSyntaxError) -> None:
        self.error = error


class _Session(piecewise.Parser):
    """One parse: pieces come from the reparser, each kept node at most once in the tree (the
    second `import os` of a file is the kept second copy of that piece, parsed on its own)."""

    def __init__(self, owner: Reparser) -> None:
        self.owner = owner
        self.taken: dict[tuple[str, str, str], int] = {}  # pieces taken so far, how many times

    def _node(self, kind: str, source: str, config: cst.PartialParserConfig, parse) -> cst.CSTNode:
        text_key = (kind, source, config.encoding)
        copy = self.taken.get(text_key, 0)
        self.taken[text_key] = copy + 1
        key = (*text_key, copy)
        found = self.owner._get(key)
        if found is None:
            self.owner.parsed += 1
            try:
                found = parse(source, config)
            except cst.ParserSyntaxError as error:
                found = _Refused(error.with_traceback(None))
            self.owner._keep(key, found)
        else:
            self.owner.reused += 1
        if isinstance(found, _Refused):
            raise found.error
        return found

    def module(self, source: str, config: cst.PartialParserConfig) -> cst.Module:
        return self._node("module", source, config, cst.parse_module)

    def expression(self, source: str, config: cst.PartialParserConfig) -> cst.BaseExpression:
        return self._node("expression", source, config, cst.parse_expression)


# What moves the tokenizer's state from line to line: string quotes, comments, a backslash
# that continues the line, brackets, line ends.
_STRUCTURE = re.compile(r'"""|' + r"'''" + r"""|["']|#[^\n]*|\\\n|[()\[\]{}]|\n""")
_STRING_END = {
    '"""': re.compile(r'[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""', re.S),
    "'''": re.compile(r"[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''", re.S),
    '"': re.compile(r'[^"\\\n]*(?:\\.[^"\\\n]*)*"', re.S),
    "'": re.compile(r"[^'\\\n]*(?:\\.[^'\\\n]*)*'", re.S),
}
# A line at the first column that goes on with the statement above it.
_CLAUSE = re.compile(r"(?:else|elif|except|finally)\b")
_BLANK_OR_COMMENT = re.compile(r"[ \t\f]*(?:#.*)?")


def guess(text: str) -> piecewise._Layout | None:
    """Where top-level statements begin, read from the text's lines in one pass over quotes,
    brackets and comments, far cheaper than CPython's parse; None where a string is not
    terminated.

    A guess needs no proof. It cuts where a line begins at the first column outside any
    bracket, string or continued line, unless the line is `else:` or its kin or follows a
    decorator. Where the guess is wrong (a string form it does not know), the piece before
    the cut ends inside a string, a bracket, a continued line or after a decorator, or
    the piece after it begins with a clause: libcst refuses that piece, and the text is cut
    again where CPython's parse says. So when libcst accepts every piece, every cut is
    where a top-level statement begins, as `piecewise` requires.
    """
    starts: list[tuple[int, int]] = []
    lines: list[str] | None = None
    search = _STRUCTURE.search
    length = len(text)
    position = depth = line = counted = 0
    after_decorator = text.startswith("@")
    seen_statement = not _BLANK_OR_COMMENT.fullmatch(text.split("\n", 1)[0])
    while True:
        found = search(text, position)
        if found is None:
            break
        token = found.group()
        position = found.end()
        mark = token[0]
        if mark == "\n":
            if depth or position >= length or text[position] in " \t\f#\n\r":
                continue
            line += text.count("\n", counted, position)
            counted = position
            follows_decorator, after_decorator = after_decorator, text[position] == "@"
            if follows_decorator or _CLAUSE.match(text, position):
                continue
            if not seen_statement:  # the file's first statement: no cut before it
                seen_statement = True
                continue
            if lines is None:
                lines = text.split("\n")
            gap = line
            while gap > 0 and _BLANK_OR_COMMENT.fullmatch(lines[gap - 1]):
                gap -= 1
            starts.append((line, gap))
        elif mark in "([{":
            depth += 1
        elif mark in ")]}":
            depth = max(depth - 1, 0)
        elif mark in "\"'":
            end = _STRING_END[token].match(text, position)
            if end is None:
                return None
            position = end.end()
        # a comment, or a backslash and the line end it escapes: nothing changes
    return piecewise._Layout(starts, {})
