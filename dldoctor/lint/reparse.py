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

A piece that holds a function or a class (a training script's 400-line `train()`) is
not parsed whole again either when only some statements of its body changed: its last
version's tree gives the others, and libcst parses the header with the changed
statements (`Reparser._derive`).

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
        self.parsed_text = 0  # characters of the pieces parsed from one of their statements (`_derive`)
        self.reused = 0  # pieces taken from here (hits)
        # The code of the statements kept, for placing findings without generating them again.
        self.statement_code = StatementCode(max_text)
        # The last text parsed in pieces cut by its lines, and those cuts (0-based lines where
        # top-level statements begin: libcst accepted every piece, which proves them).
        self._cut: tuple[str | None, list[int] | None] = (None, None)
        # The last piece seen of each function or class, by the text before its body: where an
        # edited version of it takes its unchanged inner statements from (`_derive`).
        self._by_header: OrderedDict[tuple[str, str], tuple[str, tuple]] = OrderedDict()  # -> (text, its layout)
        self.derived = 0  # pieces assembled from an earlier version and their changed statements

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
                module = piecewise.parse(text, encoding, _PIECE_TEXT, piecewise.PIECE_TEXT, _Session(self, text), found)
            except cst.ParserSyntaxError:
                module = None  # a piece libcst refuses: a wrong cut, or a syntax error
            if module is not None:
                self._cut = (text, [line for line, _ in found.starts] if found is not None else None)
                return module
        self._cut = (None, None)
        # Not cut (one statement, `\r` line ends, a syntax error): the whole text is one piece,
        # and libcst's error for it is the one reported.
        return _Session(self, text, derive=False).module(text, cst.PartialParserConfig(encoding=encoding))

    def cuts(self, text: str) -> list[int] | None:
        """The lines where top-level statements begin in `text`, when it is the last text parsed
        here and was cut by its lines (`noqa` tokenizes it piece by piece then)."""
        cut_text, cuts = self._cut
        return cuts if text is cut_text or text == cut_text else None

    def _note(self, source: str, encoding: str, inner: tuple | None) -> None:
        if inner is None:
            return
        key = (source[: inner[0]], encoding)
        self._by_header[key] = (source, inner)
        self._by_header.move_to_end(key)
        while len(self._by_header) > _HEADERS_KEPT:
            self._by_header.popitem(last=False)

    def _derive(self, source: str, inner: tuple | None, config: cst.PartialParserConfig, document: str) -> cst.Module | None:
        """The module of a piece holding one function or class whose text differs from an earlier
        piece's only in some statements of its body: that piece's tree with those statements
        parsed again (the function's header and the changed statements, parsed together), so
        that a keystroke in a 400-line function re-parses one of its statements; None when the
        piece is not of that kind (libcst then parses it whole).

        The earlier tree gives its other statements, so it must not be in the document too (a
        second copy of the same function): a node twice in one tree is what `reparse` avoids.
        `inner` is the piece's `_inner_layout`."""
        if inner is None:
            return None
        header_end, cuts = inner
        header = source[:header_end]
        found = self._by_header.get((header, config.encoding))
        if found is None:
            return None
        earlier, old_inner = found
        if earlier == source or earlier in document:
            return None
        old_module = self._kept.get(("module", earlier, config.encoding, 0))
        if type(old_module) is not cst.Module or old_inner[0] != header_end:
            return None
        old_statement = old_module.body[-1] if old_module.body else None
        if type(old_statement) not in (cst.FunctionDef, cst.ClassDef) or type(old_statement.body) is not cst.IndentedBlock:
            return None
        new_texts = _cut_texts(source, header_end, cuts)
        old_texts = _cut_texts(earlier, header_end, old_inner[1])
        old_counts = [count for _, count in old_inner[1]]
        new_counts = [count for _, count in cuts]
        old_body = old_statement.body.body
        if sum(old_counts) != len(old_body):
            return None
        same_before = 0
        while same_before < min(len(new_texts), len(old_texts)) and new_texts[same_before] == old_texts[same_before]:
            same_before += 1
        same_after = 0
        while (same_after < min(len(new_texts), len(old_texts)) - same_before
               and new_texts[-1 - same_after] == old_texts[-1 - same_after]):
            same_after += 1
        changed = new_texts[same_before : len(new_texts) - same_after]
        if not changed:
            return None
        self.parsed_text += len(header) + sum(map(len, changed))
        try:
            mini = cst.parse_module(header + "".join(changed), config)
        except cst.ParserSyntaxError:
            return None  # the piece's own parse says whether, and where, it is wrong
        statement = mini.body[-1] if mini.body else None
        if type(statement) is not type(old_statement) or type(statement.body) is not cst.IndentedBlock:
            return None
        if len(statement.body.body) != sum(new_counts[same_before : len(new_counts) - same_after]):
            return None
        kept_before = sum(old_counts[:same_before])
        kept_after = sum(old_counts[len(old_counts) - same_after :])
        at_end = same_after == 0  # the changed statements run to the piece's end, and its last lines
        body = (*old_body[:kept_before], *statement.body.body, *old_body[len(old_body) - kept_after :])
        block = old_statement.body.with_changes(body=body, footer=statement.body.footer if at_end else old_statement.body.footer)
        self.derived += 1
        return old_module.with_changes(
            body=[*old_module.body[:-1], old_statement.with_changes(body=block)],
            footer=mini.footer if at_end else old_module.footer,
            has_trailing_newline=mini.has_trailing_newline if at_end else old_module.has_trailing_newline,
        )

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

    def __init__(self, owner: Reparser, text: str = "", derive: bool = True) -> None:
        self.owner = owner
        self.text = text  # the whole document being parsed
        self.derive = derive  # whether a piece may be assembled from an earlier version (`_derive`)
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
        return self._node("module", source, config, self._parse_module)

    def _parse_module(self, source: str, config: cst.PartialParserConfig) -> cst.Module:
        """A piece not kept: assembled from the last version of its function where it can be,
        else parsed; either way remembered as that function's last version."""
        inner = _inner_layout(source)
        derived = self.owner._derive(source, inner, config, self.text) if self.derive else None
        found = derived if derived is not None else cst.parse_module(source, config)
        self.owner._note(source, config.encoding, inner)
        return found

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
    found = _line_starts(text)
    if found is None:
        return None
    lines = text.split("\n")
    starts: list[tuple[int, int]] = []
    after_decorator = text.startswith("@")
    seen_statement = not _BLANK_OR_COMMENT.fullmatch(lines[0])
    for line in found[1:]:
        first = lines[line][:1]
        if not first or first in " \t\f#\r":
            continue  # indented, a comment or a blank line: no statement of the module begins here
        follows_decorator, after_decorator = after_decorator, first == "@"
        if follows_decorator or _CLAUSE.match(lines[line]):
            continue
        if not seen_statement:  # the file's first statement: no cut before it
            seen_statement = True
            continue
        gap = line
        while gap > 0 and _BLANK_OR_COMMENT.fullmatch(lines[gap - 1]):
            gap -= 1
        starts.append((line, gap))
    return piecewise._Layout(starts, {})


_HEADERS_KEPT = 256  # functions and classes whose last version is remembered
_DEFINITION = re.compile(r"(?:async[ \t]+def|def|class)[ \t]")


def _inner_layout(source: str) -> tuple[int, list[tuple[int, int]]] | None:
    """Where the body of a piece's one function or class begins, and how it is cut: (the offset
    that ends the header, [(offset where a run of body statements begins, how many)]); None for
    any other piece, or a body too short to be worth it.

    Read from lines as `guess` reads a module's: the statements are the lines at the body's
    indentation outside brackets, strings and continued lines (not a clause, not after a
    decorator). A run begins at the blank and comment lines before its first statement, where
    they are empty or comments at the body's own indentation (libcst gives an indented block
    the comments indented as its statements that end it, and the blank lines before them);
    elsewhere the statement joins the run before it. A wrong reading gives a text whose parse
    has another number of statements, or a tree whose code is not the piece's; the tests
    compare every version with a whole parse."""
    starts = _line_starts(source)
    if starts is None:
        return None
    lines = source.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    code = [(number, len(lines[number]) - len(lines[number].lstrip(" \t"))) for number in starts
            if not _BLANK_OR_COMMENT.fullmatch(lines[number])]
    # The definition's own line: the last at the first column that is not a decorator (a piece
    # may begin with `if 1:` and an indented `pass`, which set the file's indentation).
    definition = next((index for index in range(len(code) - 1, -1, -1)
                       if code[index][1] == 0 and not lines[code[index][0]].startswith("@")), None)
    if definition is None or not _DEFINITION.match(lines[code[definition][0]]):
        return None
    body = code[definition + 1 :]
    if len(body) < 2 or body[0][1] == 0:
        return None
    indent = body[0][1]
    prefix = lines[body[0][0]][:indent]
    line_starts = set(starts)
    runs: list[list[int]] = []
    after_decorator = False
    for number, depth in body:
        text = lines[number][indent:]
        if depth == indent and not after_decorator and not _CLAUSE.match(text):
            gap = number
            while gap - 1 in line_starts and gap - 1 > code[definition][0] and _BLANK_OR_COMMENT.fullmatch(lines[gap - 1]):
                gap -= 1
            between = lines[gap:number]
            if runs and not all(line == "" or (line.startswith(prefix + "#")) for line in between):
                runs[-1][1] += 1
            else:
                runs.append([offsets[gap], 1])
        after_decorator = depth == indent and text.startswith("@")
    if len(runs) < 2:
        return None
    header_end = runs[0][0]
    return header_end, [(start, count) for start, count in runs]


def _cut_texts(source: str, header_end: int, runs: list[tuple[int, int]]) -> list[str]:
    """The texts of the body's runs of statements: each from where it begins to the next's."""
    bounds = [start for start, _ in runs]
    bounds[0] = header_end
    return [source[start:end] for start, end in zip(bounds, [*bounds[1:], len(source)])]


def _line_starts(text: str) -> list[int] | None:
    """The 0-based lines that begin outside any bracket, string or continued line; None where a
    string is not terminated."""
    search = _STRUCTURE.search
    length = len(text)
    starts = [0]
    position = depth = 0
    line = 0
    while True:
        found = search(text, position)
        if found is None:
            break
        token = found.group()
        position = found.end()
        mark = token[0]
        if mark == "\n":
            line += 1
            if not depth and position < length:
                starts.append(line)
        elif mark == "\\":
            line += 1  # the line it continues does not begin a statement
        elif mark in "([{":
            depth += 1
        elif mark in ")]}":
            depth = max(depth - 1, 0)
        elif mark in "\"'":
            end = _STRING_END[token].match(text, position)
            if end is None:
                return None
            line += text.count("\n", position, end.end())
            position = end.end()
    return starts
