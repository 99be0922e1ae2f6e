"""Turn a file on disk into Python source text and a libcst module, or say plainly why not.

Much deep-learning code of the TF1 era is Python 2, saved in GBK or Latin-1, or
sits beside binaries named `.py`. Each of those becomes one `SourceProblem`
with a line and column and a sentence a user can act on; nothing here raises
anything else for bad input.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from typing import TYPE_CHECKING

from dldoctor import regular_file

if TYPE_CHECKING:  # imported where a file is decoded or parsed: a cached file is only read
    import libcst as cst

    from dldoctor.lint import reparse

_BINARY_SNIFF_BYTES = 8192

# CPython's messages for Python 2 constructs, and the statement that gives most away.
_PY2_MESSAGES = (
    "Missing parentheses in call to",
    "leading zeros in decimal integer literals",
    "multiple exception types must be parenthesized",
)
# `print "x"`, `print x, y`, `print >>f, x`: a statement, not a docstring line such as
# "print the log when debugging", which would turn any syntax error into "Python 2".
_PY2_PRINT = re.compile(r"^\s*print(?:\s*>>|\s+(?:[\"']|[\w.\[\]]+\s*(?:[,%#]|$)))", re.MULTILINE)


class SourceProblem(Exception):
    """A file that cannot be linted, with the place (1-based) and a one-line reason."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


DEFAULT_MAX_FILE_MB = 10
# A notebook's JSON holds its outputs (images in base64): its code is what the limit is for.
_NOTEBOOK_JSON_FACTOR = 10
_max_file_bytes = DEFAULT_MAX_FILE_MB * 1024 * 1024


def configure(max_file_bytes: int) -> None:
    """Set the size limit (bytes of source) for this process; workers get it as their initializer."""
    global _max_file_bytes
    _max_file_bytes = max_file_bytes


def max_file_bytes() -> int:
    return _max_file_bytes


def _megabytes(count: int) -> str:
    return f"{count / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def check_size(size: int) -> None:
    """Refuse source text larger than the limit: libcst needs several hundred times a
    file's size in memory, so a 50 MB generated file would take gigabytes."""
    if size > _max_file_bytes:
        raise _too_large(size, _max_file_bytes)


def read_bytes(path: str) -> bytes:
    """The bytes of a regular file, within the size limit (`regular_file.read`: a fifo
    named `x.py` or a link to `/dev/zero` is refused, never read)."""
    limit = _max_file_bytes * (_NOTEBOOK_JSON_FACTOR if path.endswith(".ipynb") else 1)
    try:
        return regular_file.read(path, limit)
    except OSError as error:
        raise SourceProblem(_describe_os_error(error)) from None
    except regular_file.NotRegularFile as problem:
        if stat.S_ISDIR(problem.mode):
            raise SourceProblem("cannot read: is a directory") from None
        raise SourceProblem(f"cannot read: not a regular file ({_file_kind(problem.mode)}); skipped") from None
    except regular_file.TooLarge as problem:
        raise _too_large(problem.size, limit) from None


def read_stream(stream, name: str) -> bytes:
    """Read stdin within the limit: past it, only the first bytes are kept, and
    `decode` then refuses them as too large (they are never parsed)."""
    limit = _max_file_bytes * (_NOTEBOOK_JSON_FACTOR if name.endswith(".ipynb") else 1)
    return stream.read(limit + 1)


def _too_large(size: int, limit: int) -> SourceProblem:
    if limit == _max_file_bytes:
        return SourceProblem(
            f"too large to lint: {_megabytes(size)} MB (the limit is {_megabytes(limit)} MB; raise it with --max-file-size)"
        )
    return SourceProblem(
        f"too large to lint: a notebook of {_megabytes(size)} MB (the limit for notebooks is {_megabytes(limit)} MB, "
        f"{_NOTEBOOK_JSON_FACTOR} times --max-file-size; clear its outputs or raise --max-file-size)"
    )


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _describe_os_error(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "cannot read: symbolic link loop (too many levels of symbolic links)"
    if error.errno == errno.ENOENT:
        return "cannot read: no such file (a broken symbolic link?)"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "cannot read: permission denied"
    if error.errno == errno.EISDIR:
        return "cannot read: is a directory"
    return f"cannot read: {error.strerror or error}"


def decode(data: bytes) -> tuple[str, str]:
    """The text of a Python file and its encoding, honouring a PEP 263 coding cookie."""
    check_size(len(data))
    nul = data.find(b"\0", 0, _BINARY_SNIFF_BYTES)
    if nul != -1:
        raise SourceProblem(f"binary file, not Python source (NUL byte at offset {nul})")
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "unknown encoding" in str(error) or "encoding problem" in str(error):
            raise SourceProblem(f"bad coding cookie: {error}") from None
        encoding = "utf-8"  # undecodable bytes in the first two lines: say which, below
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        byte = data[error.start : error.start + 1].hex()
        declared = "UTF-8" if encoding in ("utf-8", "utf-8-sig") else f"{encoding}, as its coding cookie says"
        raise SourceProblem(
            f"not valid {declared}: byte 0x{byte} at line {line}, column {column} cannot be decoded; "
            "re-save the file as UTF-8 or declare its encoding (`# -*- coding: gbk -*-`)",
            line,
            column,
        ) from None


# `DLDOCTOR_WHOLE_PARSE=1` parses huge files whole, as small ones: more memory, and by
# design the same findings (benchmarks/startup_vs_peers.py checks that on torch).
WHOLE_PARSE = os.environ.get("DLDOCTOR_WHOLE_PARSE", "") not in ("", "0")


def parse(text: str, encoding: str, reparser: reparse.Reparser | None = None) -> cst.Module:
    """Parse with libcst; a syntax error becomes a `SourceProblem` at CPython's position.

    A huge file is parsed a few statements at a time (`piecewise`), into the same
    tree, so that the parser's peak memory follows its largest statement, not the file.
    With a `reparser` (a process that lints the same documents again and again), the
    statements whose text it has seen are not parsed again (`reparse`), into the same tree.
    """
    import libcst as cst

    from dldoctor.lint import piecewise

    try:
        if reparser is not None and not WHOLE_PARSE:
            return reparser.parse(text, encoding)  # its syntax error is the whole text's
        if len(text) >= piecewise.HUGE_TEXT and not WHOLE_PARSE:
            try:
                module = piecewise.parse(text, encoding)
            except cst.ParserSyntaxError:
                module = None  # the whole parse places the error as it always does
            if module is not None:
                return module
        return cst.parse_module(text, cst.PartialParserConfig(encoding=encoding))
    except cst.ParserSyntaxError as error:
        raise _syntax_problem(text, error) from None
    except RecursionError:
        raise SourceProblem("too deeply nested to lint (recursion limit reached)") from None


def _syntax_problem(text: str, libcst_error: cst.ParserSyntaxError) -> SourceProblem:
    # libcst's native parser places some errors loosely; CPython's compiler
    # names the exact place and says "Missing parentheses in call to 'print'".
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as error:
        message = f"SyntaxError: {error.msg}"
        line, column = error.lineno or 1, error.offset or 1
    except (ValueError, RecursionError, MemoryError) as error:
        message, line, column = f"SyntaxError: {error}", 1, 1
    else:
        message = f"SyntaxError: {libcst_error.message.splitlines()[0]}"
        line, column = libcst_error.raw_line, libcst_error.raw_column + 1
    if any(signature in message for signature in _PY2_MESSAGES) or _PY2_PRINT.search(text):
        message += " (this looks like Python 2 code; dldoctor lints Python 3: port it, e.g. with `2to3`)"
    return SourceProblem(message, line, column)
