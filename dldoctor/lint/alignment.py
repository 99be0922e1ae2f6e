"""Positions in the text the user has, when libcst's code for it differs.

libcst does not always give back the text it parsed: it drops a form feed that
opens a top-level line (`\\f` is legal there; CPython's tokenizer resets the
column on it), repeats a block's first indentation (a form feed in it included)
on the block's other lines, and can drop a last `\\r` (or a last comment that
follows a form feed, with no newline after it). Positions from its code
generation are then positions in *its* text, and an edit placed by them in the
user's file lands beside its node: `\\finit = tf.initialize_all_variables()` became
`init =tf.global_variables_initializers()`, which still compiles. A `TextMap`
turns positions in libcst's text into positions in the original, by the
whitespace libcst left out or added.
"""

from __future__ import annotations

import bisect
import re

from dldoctor.lint.positions import Position

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# What libcst may leave out of a module's code: whitespace, never a token.
_DROPPABLE = frozenset(" \t\f\v\r\n")


def line_starts(text: str) -> list[int]:
    """The offset at which each line of `text` starts (`\\r\\n`, `\\r` and `\\n` end lines,
    as both CPython's tokenizer and libcst count them)."""
    return [0] + [match.end() for match in _LINE_BREAK.finditer(text)]


def _common_prefix(a: str, i: int, b: str, j: int) -> int:
    """How many characters `a[i:]` and `b[j:]` share from their start (galloping, so
    that a long equal run costs a few slice comparisons, not a Python loop)."""
    limit = min(len(a) - i, len(b) - j)
    length, step = 0, 256
    while length < limit:
        size = min(step, limit - length)
        if a[i + length : i + length + size] == b[j + length : j + length + size]:
            length += size
            step *= 2
            continue
        low, high = 0, size  # a[..+low] equal; the first difference lies before +high
        while high - low > 1:
            middle = (low + high) // 2
            if a[i + length : i + length + middle] == b[j + length : j + length + middle]:
                low = middle
            else:
                high = middle
        return length + low
    return length


def _align(generated: str, text: str) -> tuple[list[int], list[int]] | None:
    """How `generated` differs from `text` by whitespace alone: the places (offsets in
    `generated`) before which a character of `text` was left out, and the offsets of
    the characters `generated` added; None when they differ by more than whitespace.

    At each difference the cheaper reading wins: the one after which the two texts
    agree longer (libcst drops a top-level `\f`, and repeats a block's first
    indentation, `\f` included, on the lines after it).
    """
    gaps: list[int] = []
    added: list[int] = []
    i = j = 0
    while True:
        common = _common_prefix(generated, i, text, j)
        i, j = i + common, j + common
        if i == len(generated):
            # The rest of the text is past everything libcst gave back: whitespace, or a
            # last comment it lost (`\f# note` with no newline at the end of the file).
            # No node lies there, so no position needs it.
            return gaps + [i] * (len(text) - j), added
        if j == len(text):
            if not set(generated[i:]) <= _DROPPABLE:
                return None
            return gaps, added + list(range(i, len(generated)))
        can_drop, can_add = text[j] in _DROPPABLE, generated[i] in _DROPPABLE
        if not can_drop and not can_add:
            return None
        after_drop = _common_prefix(generated, i, text, j + 1) if can_drop else -1
        after_add = _common_prefix(generated, i + 1, text, j) if can_add else -1
        if after_drop >= after_add:
            gaps.append(i)
            j += 1
        else:
            added.append(i)
            i += 1


class TextMap:
    """Maps (line, column) positions in libcst's code of a module to the original text."""

    def __init__(self, generated: str, text: str) -> None:
        self.generated_starts = line_starts(generated)
        if generated == text:  # the common case: nothing to align, one table of lines
            self.text_starts, self.exact, self._gaps, self._added = self.generated_starts, True, [], []
            return
        self.text_starts = line_starts(text)
        alignment = _align(generated, text)
        self.exact = alignment is not None
        self._gaps, self._added = alignment or ([], [])

    def generated_offset(self, position: Position) -> int:
        line, column = position
        return self.generated_starts[line - 1] + column

    def text_offset(self, position: Position, *, end: bool) -> int:
        """The offset in the original text. A start skips a dropped character just
        before it; an end stops before one just after it, so that a span never takes
        in what libcst left out around it."""
        offset = self.generated_offset(position)
        dropped = bisect.bisect_left(self._gaps, offset) if end else bisect.bisect_right(self._gaps, offset)
        return offset + dropped - bisect.bisect_left(self._added, offset)

    def to_text(self, position: Position, *, end: bool) -> Position:
        offset = self.text_offset(position, end=end)
        line = bisect.bisect_right(self.text_starts, offset)
        return line, offset - self.text_starts[line - 1]
