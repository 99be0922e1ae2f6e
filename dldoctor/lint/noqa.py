"""Suppression comments, as flake8 and ruff users write them.

- `# noqa` or `# noqa: DL101, DL301` at the end of the reported line;
- `# dldoctor: noqa` (the whole file) or `# dldoctor: noqa: DL301` (those codes,
  the whole file) in a comment anywhere in the file.

Codes of other tools in the same comment (`# noqa: E501, DL101`) are fine. A
finding on a line that ends inside a multi-line string (or with a backslash)
is suppressed by a `# noqa` where that string or statement line ends, since its
own line cannot take a comment (as ruff reads it).

DL100 (`unused-noqa`) judges the comments themselves once the other rules have
run (`runner._unused_noqa`), and `--add-noqa` writes them (`add_noqa`); both read
real comments only (`directives`), never text inside a string.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

_LINE_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_FILE_NOQA = re.compile(
    r"#\s*dldoctor\s*:\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
_MENTIONS_DLDOCTOR = re.compile("dldoctor", re.IGNORECASE)  # as case-blind as _FILE_NOQA
UNUSED_NOQA_CODE = "DL100"  # the rule that judges the comments themselves (rules/dl100_unused_noqa.py)

@dataclass(frozen=True)
class FileSuppression:
    """What `# dldoctor: noqa` comments turn off for the whole file."""

    everything: bool
    codes: frozenset[str]

    def suppresses(self, code: str) -> bool:
        return self.everything or code in self.codes


def file_suppression(text: str) -> FileSuppression:
    if not _MENTIONS_DLDOCTOR.search(text):  # the common case, without the full regex scan
        return FileSuppression(False, frozenset())
    everything, codes = False, set()
    for match in _FILE_NOQA.finditer(text):
        if match.group("codes"):
            codes |= {code.upper() for code in _CODE.findall(match.group("codes"))}
        else:
            everything = True
    return FileSuppression(everything, frozenset(codes))


def line_suppresses(line: str, code: str) -> bool:
    """Whether `line` carries a `# noqa` that covers `code`."""
    if "noqa" not in line.lower():
        return False
    for match in _LINE_NOQA.finditer(line):
        codes = match.group("codes")
        if codes is None or code.upper() in {c.upper() for c in _CODE.findall(codes)}:
            return True
    return False


# --- the comments themselves: what DL100 judges and where --add-noqa writes ----------------------

_OURS = re.compile(r"DL[0-9]+", re.IGNORECASE)  # codes of this tool; any other code belongs to another


@dataclass(frozen=True)
class Directive:
    """A `# noqa: CODES` in a real comment (never text inside a string).

    `start`/`end` are 0-based columns of the directive within its line, `codes` each
    code with its (start, end) columns, `comment_start` the column of the comment's `#`.
    """

    line: int  # 1-based
    start: int
    end: int
    codes: tuple[tuple[str, int, int], ...]
    comment_start: int
    comment: str


def _normalized(text: str) -> str:
    """Line breaks as "\\n", keeping every line and column (a lone "\\r" breaks lines too)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@dataclass(frozen=True)
class _Comments:
    """What tokenizing a text tells about its comments: each comment's (line, column, text),
    and the (first, last) lines of each token that spans lines (a multi-line string)."""

    comments: tuple[tuple[int, int, str], ...]
    spans: tuple[tuple[int, int], ...]

    def shifted(self, lines: int) -> _Comments:
        return _Comments(
            tuple((line + lines, column, comment) for line, column, comment in self.comments),
            tuple((first + lines, last + lines) for first, last in self.spans),
        )


def _tokenized(text: str) -> _Comments | None:
    import io
    import tokenize

    comments, spans = [], []
    try:
        for token in tokenize.generate_tokens(io.StringIO(_normalized(text)).readline):
            if token.type == tokenize.COMMENT:
                comments.append((token.start[0], token.start[1], token.string))
            elif token.start[0] < token.end[0] and token.type not in (tokenize.NL, tokenize.NEWLINE):
                spans.append((token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return _Comments(tuple(comments), tuple(spans))


# The last text scanned: placing findings (`comment_lines`) and judging the comments
# (`directives`) both read it, and tokenizing costs as much as a fifth of the parse.
_last: tuple[str | None, _Comments | None] = (None, None)
# Pieces of texts cut between top-level statements, by their text: a document linted
# again after a keystroke tokenizes the statement that changed only. Bounded by text.
_PIECES_TEXT = 4 * 1024 * 1024
_pieces: OrderedDict[str, _Comments | None] = OrderedDict()
_pieces_text = 0


def _scan(text: str, cuts: list[int] | None = None) -> _Comments | None:
    """The comments of `text`, tokenized whole, or piece by piece where `cuts` (0-based
    lines where top-level statements begin, as a parse found them) say the tokenizer's
    state is its initial one; None when the text cannot be tokenized."""
    global _last
    last_text, last = _last
    if text is last_text or text == last_text:
        return last
    found = _by_pieces(text, cuts) if cuts and "\r" not in text else None
    if found is None:
        found = _tokenized(text)
    _last = (text, found)
    return found


def _by_pieces(text: str, cuts: list[int]) -> _Comments | None:
    global _pieces_text
    lines = text.split("\n")
    comments: list = []
    spans: list = []
    for first, end in zip([0, *cuts], [*cuts, len(lines)]):
        piece = "\n".join(lines[first:end]) + ("\n" if end < len(lines) else "")
        found = _pieces.get(piece, _MISSING)
        if found is _MISSING:
            found = _tokenized(piece)
            _pieces[piece] = found
            _pieces_text += len(piece)
            while _pieces_text > _PIECES_TEXT:
                dropped, _ = _pieces.popitem(last=False)
                _pieces_text -= len(dropped)
        else:
            _pieces.move_to_end(piece)
        if found is None:
            return None  # the whole text's tokenizing says what is wrong
        found = found.shifted(first) if first else found
        comments += found.comments
        spans += found.spans
    return _Comments(tuple(comments), tuple(spans))


_MISSING = object()


def directives(text: str, cuts: list[int] | None = None) -> list[Directive]:
    """Every `# noqa` with codes in the comments of `text` (bare ones are not listed).
    `cuts`: where top-level statements begin, when the caller knows (see `_scan`)."""
    if "noqa" not in text.lower() or not any(match.group("codes") for match in _LINE_NOQA.finditer(text)):
        return []  # a comment is a piece of the text: no directive with codes in the text, none in a comment
    scanned = _scan(text, cuts)
    found = []
    for line, base, comment in scanned.comments if scanned is not None else ():
        if "noqa" not in comment.lower():
            continue
        for match in _LINE_NOQA.finditer(comment):
            if not match.group("codes"):
                continue
            codes_at = match.start("codes")
            codes = tuple(
                (code.group(0), base + codes_at + code.start(), base + codes_at + code.end())
                for code in _CODE.finditer(match.group("codes"))
            )
            found.append(Directive(line, base + match.start(), base + match.end(), codes, base, comment))
    return found


def is_ours(code: str) -> bool:
    return bool(_OURS.fullmatch(code))


def names_ours(text: str) -> bool:
    """Whether some `# noqa: CODES` in `text` (in a comment or not) names a code of this tool.

    Only those are judged by DL100, so a file without one needs no tokenizing for it
    (`directives` reads real comments only, which are pieces of the text).
    """
    if "noqa" not in text.lower():
        return False
    for match in _LINE_NOQA.finditer(text):
        codes = match.group("codes")
        if codes and any(is_ours(code) for code in _CODE.findall(codes)):
            return True
    return False


def comment_lines(text: str, cuts: list[int] | None = None) -> dict[int, int] | None:
    """Physical line -> the line whose end may carry its `# noqa`.

    A line that ends inside a multi-line string, or with a backslash continuation,
    cannot take a comment at its end: its `# noqa` goes where that string or
    statement line ends (as ruff reads it). None when the text cannot be tokenized.
    `cuts`: where top-level statements begin, when the caller knows (see `_scan`).
    """
    scanned = _scan(text, cuts)
    if scanned is None:
        return None
    lines = _normalized(text).split("\n")
    commented = {line for line, _, _ in scanned.comments}
    moved: dict[int, int] = {}
    for first, last in scanned.spans:
        for line in range(first, last):
            moved[line] = last
    in_string = set(moved)
    for number in range(len(lines), 0, -1):  # a backslash continues onto the next line
        if number not in in_string and number not in commented and lines[number - 1].endswith("\\"):
            moved[number] = moved.get(number + 1, number + 1)
    # Follow chains (a string ending on a continued line).
    resolved = {}
    for line in moved:
        target, hops = moved[line], 0
        while target in moved and hops < len(lines):
            target, hops = moved[target], hops + 1
        resolved[line] = target
    return resolved


def suppressed_at(lines: list[str], line: int, code: str, moved: dict[int, int] | None) -> bool:
    """Whether the finding of `code` reported on `line` is suppressed: a `# noqa` on
    that line, or where the line's comment has to go when it ends inside a string."""
    if line <= len(lines) and line_suppresses(lines[line - 1], code):
        return True
    target = (moved or {}).get(line)
    return target is not None and target <= len(lines) and line_suppresses(lines[target - 1], code)


def with_noqa(text: str, wanted: dict[int, set[str]]) -> tuple[str, int, list[tuple[int, str]]]:
    """`text` with `# noqa: CODES` written for each line -> codes of `wanted` (`--add-noqa`).

    Each comment goes where the line's comment can go (`comment_lines`: after the
    multi-line string or the backslash-continued statement the line belongs to),
    joined to a `# noqa: ...` already there, else after the line's code and any
    comment. Returns the new text, how many lines were changed, and the lines
    skipped with why.
    """
    if not wanted:
        return text, 0, []
    moved = comment_lines(text)
    if moved is None:
        return text, 0, [(line, "the file cannot be tokenized, so no comment can be placed safely") for line in sorted(wanted)]
    by_target: dict[int, set[str]] = {}
    for line, codes in wanted.items():
        by_target.setdefault(moved.get(line, line), set()).update(codes)
    existing = {directive.line: directive for directive in directives(text)}
    pieces = re.split(r"(\r\n|\r|\n)", text)  # lines and their breaks, alternately
    skipped: list[tuple[int, str]] = []
    changed = 0
    for line, codes in sorted(by_target.items()):
        index = 2 * (line - 1)
        if index >= len(pieces):
            skipped.append((line, "past the end of the file"))
            continue
        content = pieces[index]
        directive = existing.get(line)
        if directive is not None:
            have = {code.upper() for code, _, _ in directive.codes}
            new = sorted(code for code in codes if code not in have)
            if not new:
                continue
            at = directive.codes[-1][2]
            pieces[index] = content[:at] + ", " + ", ".join(new) + content[at:]
        else:
            stripped = content.rstrip(" \t")
            pieces[index] = f"{stripped}  # noqa: {', '.join(sorted(codes))}"
        changed += 1
    return "".join(pieces), changed, skipped
