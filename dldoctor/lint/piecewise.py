"""Parse a huge module a few top-level statements at a time, into the tree a whole parse gives.

libcst's native parser holds the tokens and two intermediate trees of the whole file
while it builds the Python one: several hundred bytes per character at its peak (1,400
for a dense numeric table), against 30 for the tree it returns. torch's 1.4 MB
`testing/_internal/common_methods_invocations.py` takes 770 MB that way. Cut at the
lines where top-level statements begin, each piece is a module of its own; the
pieces' statements, put back in order, are the whole file's, so the peak is set by
the largest statement instead of the file, and the rules see the same tree. A
statement that is itself huge, a table assigned as one dict, list or set display
(torch's `sparse/_triton_ops_meta.py`: 466 KB in one dict, 700 MB parsed whole), is
cut the same way between the display's elements.

Where the pieces meet, a whole parse differs in three things. At the end of a piece
the blank and comment lines that no indented block owns become the piece's footer,
while in the whole file they lead the next statement: they are moved there. libcst
keeps a block's indentation relative to the module's (the first indented block's),
so the pieces after the first one that indents are parsed behind a statement that
sets it (`if 1:` and an indented `pass`, then dropped). And a comma before a closing
bracket gives the whitespace after it to the bracket: a run of a display's elements
is parsed followed by a placeholder element (`0`, or `0: 0`), dropped afterwards, so
that its last comma keeps that whitespace as when another element follows. The
module keeps the first piece's header and the last piece's footer. Anything unusual
(a syntax error, `\\r` line ends, code CPython's parser refuses) gives None, and the
file is parsed whole. Cut at every statement and every element, the 3,060 files of
torch and the reviewed corpus give trees equal to their whole parses (`deep_equals`).
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

import libcst as cst

# Files at least this long (characters) are parsed in pieces: the native parser's peak
# for them is over 100 MB. Smaller ones gain nothing worth a second look at the text.
HUGE_TEXT = 256 * 1024
# Consecutive statements are parsed together up to about this many characters.
PIECE_TEXT = 64 * 1024


@dataclass
class _Display:
    """A dict, list or set display that is a top-level statement's whole value."""

    kind: type  # cst.Dict, cst.List or cst.Set
    elements: list[tuple[int, int]]  # (line, character column) of each element after the first
    close: tuple[int, int]  # of its closing bracket


@dataclass
class _Layout:
    starts: list[tuple[int, int]]  # (first line, line after the previous statement), after the first
    displays: dict[int, _Display]  # by the first line of their statement


_DISPLAYS = {ast.Dict: cst.Dict, ast.List: cst.List, ast.Set: cst.Set}
_LONG_STATEMENT_LINES = 200  # shorter statements are never worth cutting inside


def _column(lines: list[str], line: int, byte_column: int) -> int:
    return len(lines[line].encode("utf-8")[:byte_column].decode("utf-8", "replace"))


def layout(text: str) -> _Layout | None:
    """Where the top-level statements begin (a decorated definition at its first decorator)
    and, in long ones whose value is a display, its elements; all 0-based. None if
    CPython cannot parse the text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = text.split("\n")
    starts = []
    displays = {}
    previous_end = 0
    for statement in tree.body:
        first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", ()))])
        if previous_end and first > previous_end:
            starts.append((first - 1, previous_end))
        previous_end = max(previous_end, statement.end_lineno or statement.lineno)
        value = getattr(statement, "value", None)
        if (
            (statement.end_lineno or 0) - statement.lineno >= _LONG_STATEMENT_LINES
            and isinstance(statement, (ast.Assign, ast.AnnAssign, ast.Expr))
            and type(value) in _DISPLAYS
            and value.end_lineno is not None
        ):
            items = value.keys if isinstance(value, ast.Dict) else value.elts
            elements = [
                (item.lineno - 1, _column(lines, item.lineno - 1, item.col_offset)) for item in items[1:] if item is not None
            ]
            close = (value.end_lineno - 1, _column(lines, value.end_lineno - 1, value.end_col_offset) - 1)
            displays[first - 1] = _Display(_DISPLAYS[type(value)], elements, close)
    return _Layout(starts, displays)


def statement_starts(text: str) -> list[tuple[int, int]] | None:
    found = layout(text)
    return None if found is None else found.starts


def _pieces(text: str, starts: list[tuple[int, int]], piece_text: int, alone: frozenset[int] = frozenset()) -> list[tuple[int, str]]:
    """The text cut before some of the statements, each piece about `piece_text` long or one
    statement, with the line each begins at; the statements starting at the lines in `alone`
    get a piece of their own where the text allows it. A cut is made only where the lines
    between the two statements are empty or comments in the first column: lines holding only
    spaces, or indented comments, are placed by libcst differently at the end of a file, so
    no piece ends with them."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    cuts = [0]
    for start, gap in starts:
        if offsets[start] - offsets[cuts[-1]] < piece_text and start not in alone and cuts[-1] not in alone:
            continue
        if not lines[start] or lines[start][0] in " \t\f#":
            continue  # not a statement's own first line
        if all(not line or line[0] == "#" for line in lines[gap:start]):
            cuts.append(start)
    pieces = [(a, text[offsets[a] : offsets[b]]) for a, b in zip(cuts, cuts[1:])]
    pieces.append((cuts[-1], text[offsets[cuts[-1]] :]))
    return pieces


def _indents(statement: cst.CSTNode) -> bool:
    """Whether a top-level statement holds an indented block (where a file's indentation is read)."""
    if type(statement) is cst.SimpleStatementLine:
        return False
    for child in statement.children:
        if type(child) is cst.IndentedBlock:
            return True
        if type(child) in (cst.If, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.MatchCase):
            if _indents(child):
                return True
    return False


class Parser:
    """How a piece becomes libcst nodes: libcst itself here; `reparse` keeps what it gave for
    each piece's text, so that a document linted again re-parses only the pieces that changed."""

    def module(self, source: str, config: cst.PartialParserConfig) -> cst.Module:
        return cst.parse_module(source, config)

    def expression(self, source: str, config: cst.PartialParserConfig) -> cst.BaseExpression:
        return cst.parse_expression(source, config)


_LIBCST = Parser()


def parse(
    text: str,
    encoding: str,
    piece_text: int | None = None,
    element_text: int | None = None,
    parser: Parser = _LIBCST,
    found: _Layout | None = None,
) -> cst.Module | None:
    """The module libcst's whole parse of `text` gives, parsed piece by piece; None when
    the text is not cut (see the module docstring). A piece libcst refuses raises its
    `ParserSyntaxError`, as the whole parse would (the caller parses whole to place it).
    `piece_text` sizes the runs of statements, `element_text` (by default the same) the
    runs of a display's elements; every piece goes through `parser`. `found` is the layout
    when the caller has one (else CPython's parse says where statements begin)."""
    if "\r" in text:
        return None
    found = layout(text) if found is None else found
    if found is None or not found.starts:
        return None
    piece_text = PIECE_TEXT if piece_text is None else piece_text
    element_text = piece_text if element_text is None else element_text
    pieces = _pieces(text, found.starts, piece_text, frozenset(found.displays))
    if len(pieces) < 2:
        return None
    lines = text.split("\n")
    config = cst.PartialParserConfig(encoding=encoding)
    body: list[cst.BaseStatement] = []
    header: tuple = ()
    default_indent = None
    carried: tuple = ()  # the previous piece's footer: it leads this piece's first statement
    last = None
    for number, (first_line, piece) in enumerate(pieces):
        display = found.displays.get(first_line)
        next_line = pieces[number + 1][0] if number + 1 < len(pieces) else len(lines)
        cuts = _element_cuts(lines, first_line, next_line, display, found.starts, element_text) if display else []
        source = piece if not cuts else piece[: cuts[0]] + _placeholder(display) + piece[display_close(lines, first_line, display) :]
        if default_indent is None:
            module = parser.module(source, config)
            statements = list(module.body)
        else:  # a block's indentation is kept relative to the file's: a statement first sets it
            module = parser.module(f"if 1:\n{default_indent}pass\n{source}", config)
            statements = list(module.body[1:])
        if not statements:
            return None
        if cuts:
            statements[0] = _with_all_elements(
                statements[0], piece, cuts, display, display_close(lines, first_line, display), config, parser
            )
            if statements[0] is None:
                return None
        if number == 0:
            header = module.header
        else:
            leading = (*carried, *module.header, *statements[0].leading_lines)
            statements[0] = statements[0].with_changes(leading_lines=leading)
        if default_indent is None and any(_indents(statement) for statement in statements):
            default_indent = module.default_indent
        body += statements
        carried = module.footer
        last = module
    assert last is not None
    return last.with_changes(
        body=body,
        header=header,
        footer=last.footer,
        default_indent=default_indent if default_indent is not None else last.default_indent,
    )


_BRACKETS = {cst.Dict: ("{", "}"), cst.Set: ("{", "}"), cst.List: ("[", "]")}


def _placeholder(display: _Display) -> str:
    return "0: 0" if display.kind is cst.Dict else "0"


def display_close(lines: list[str], first_line: int, display: _Display) -> int:
    """The offset, in the piece that begins at `first_line`, of the display's closing bracket."""
    line, column = display.close
    return sum(len(text) + 1 for text in lines[first_line:line]) + column


def _element_cuts(
    lines: list[str], first_line: int, next_line: int, display: _Display, starts: list, piece_text: int
) -> list[int]:
    """Offsets in the piece where runs of the display's elements begin: at an element that
    starts its line, about `piece_text` apart. None where the piece holds more than the
    statement, or its closing bracket is not where CPython says."""
    following = [start for start, _ in starts if start > first_line]
    if following and following[0] < next_line:
        return []  # the piece holds another statement too
    line, column = display.close
    if lines[line][column : column + 1] != _BRACKETS[display.kind][1]:
        return []
    cuts: list[int] = []
    offset_of_line = {}
    running = 0
    for number in range(first_line, line + 1):
        offset_of_line[number] = running
        running += len(lines[number]) + 1
    previous = 0
    for element_line, element_column in display.elements:
        text = lines[element_line]
        if text[:element_column].strip() or element_column >= len(text) or text[element_column].isspace():
            continue  # not the first thing on its line (or a parenthesized key CPython points into)
        offset = offset_of_line[element_line] + element_column
        if offset - previous >= piece_text:
            cuts.append(offset)
            previous = offset
    return cuts


def _with_all_elements(statement, piece: str, cuts: list[int], display: _Display, close: int, config, parser: Parser):
    """The display statement parsed with its first run of elements and a placeholder, given
    all its elements: each later run parsed as a display of its own, the placeholder that
    follows it dropped, the last run with the real closing bracket."""
    small = statement.body[0] if type(statement) is cst.SimpleStatementLine and statement.body else None
    value = getattr(small, "value", None)
    if type(value) is not display.kind or not value.elements:
        return None
    opening, closing = _BRACKETS[display.kind]
    elements = list(value.elements[:-1])
    ends = [*cuts[1:], None]
    for start, end in zip(cuts, ends):
        run = piece[start:end] + _placeholder(display) + closing if end is not None else piece[start : close + 1]
        parsed = parser.expression(opening + run, config)
        if type(parsed) is not display.kind:
            return None
        if end is not None:
            elements += parsed.elements[:-1]
        else:
            elements += parsed.elements
            bracket = "rbrace" if display.kind is not cst.List else "rbracket"
            value = value.with_changes(elements=elements, **{bracket: getattr(parsed, bracket)})
    return statement.with_changes(body=[small.with_changes(value=value), *statement.body[1:]])
