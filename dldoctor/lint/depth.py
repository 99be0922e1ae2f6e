"""Screen files that could crash libcst's parser before it sees them.

libcst's native parser dies (SIGSEGV, not an exception) on code nested a few
thousand levels deep: 3,000 nested brackets, 6,000 chained attributes or calls,
20,000 `and`s in one statement. Such files are generated or hostile, never
written by hand, but one of them must not end the run. A cheap scan bounds how
deep a file can nest (its bracket depth, and its longest logical line: a chain
deeper than its own length is impossible); a file past either bound is first
given to CPython's parser, which refuses deep nesting with a clean error
("too many nested parentheses") that becomes the file's DL000, and the runner
parses what CPython accepts in a separate process, where a crash costs that
file alone (`pool.run_isolated`).
"""

from __future__ import annotations

import ast
import re
import warnings

from dldoctor.lint.source import SourceProblem

# Measured with libcst 1.9 on an 8 MB stack: it survives 1,000 nested brackets
# (CPython allows 200), 5,000 chained unary minus signs (5,000 characters) and
# 2,000 chained calls `f(a)(a)...` (6,000 characters); it dies at 3,000 brackets,
# 10,000 minus signs, 3,000 calls. A file past either bound is checked by CPython
# and parsed in a process of its own: 40 of 5,036 files of torch, TensorFlow and
# Keras are (data tables on one logical line).
MAX_SAFE_BRACKET_DEPTH = 100
MAX_SAFE_LOGICAL_LINE = 5_000

# Strings, comments and continued lines are taken whole, so that what they hold
# neither opens nor closes a bracket nor ends a line.
_STRUCTURE = re.compile(
    r"""[rRbBuUfF]{0,2}(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")"""
    r"|#[^\n]*|\\\n|[()\[\]{}\n]"
)


def bounds(text: str) -> tuple[int, int]:
    """(deepest bracket nesting, longest logical line), bounds on how deep the file's
    code can nest. A logical line ends at a newline outside brackets; its length is
    counted with each string and comment as one character, since a docstring of
    20,000 characters is one token, however long."""
    depth = deepest = longest = 0
    start = skipped = 0
    for match in _STRUCTURE.finditer(text):
        char = match.group()
        if len(char) != 1:  # a string, a comment, a continued line
            skipped += len(char) - 1
            continue
        if char == "\n":
            if depth <= 0:
                longest = max(longest, match.start() - start - skipped)
                start, depth, skipped = match.start(), 0, 0
        elif char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest, max(longest, len(text) - start - skipped)


def could_crash_libcst(text: str) -> bool:
    deepest, longest = bounds(text.replace("\r", "\n") if "\r" in text else text)
    return deepest > MAX_SAFE_BRACKET_DEPTH or longest > MAX_SAFE_LOGICAL_LINE


def cpython_refusal(text: str) -> SourceProblem | None:
    """CPython's own verdict on a file that could be too deep: its error as a DL000
    problem, or None when it parses the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as error:
        return SourceProblem(f"SyntaxError: {error.msg}", error.lineno or 1, error.offset or 1)
    except (RecursionError, MemoryError):
        return SourceProblem("too deeply nested to lint (CPython's parser refuses it too)")
    except ValueError as error:
        return SourceProblem(f"SyntaxError: {error}")
    return None
