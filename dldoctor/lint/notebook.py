"""Jupyter notebooks as Python source: where much deep-learning code lives.

The code cells of a notebook become one Python text, cells separated by a
marker line, so every rule sees the imports of earlier cells. IPython syntax
(`%magic`, `!shell`, `obj?`, `?obj`, `files = !ls`, a `%%bash` cell) becomes
`pass` at the same indentation: line numbers do not move and indented blocks
stay valid. IPython reads that syntax only where a statement starts, so a line
inside brackets, a string or a backslash continuation is Python whatever it
looks like (`x = f(a,  # why?`, `% b)` continuing an expression, a docstring
line ending in `?`), and so is a comment. A finding is then placed back in its
cell (1-based, counting every cell as Jupyter shows them) at the line within
the cell.

Jupyter compiles each cell on its own, so one cell that is not Python (a
Python 2 `print` statement) does not stop the others from running: the runner
lints the notebook with such cells left empty and reports each as its own
DL000 in its cell (`broken_cells`, `without_cells`).

Fixes are applied to the joined text and split back into cells; the IPython
lines come back as they were, and the notebook is written only when its JSON
round-trips to the very same text, so outputs, metadata and layout stay as
they are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from dldoctor.lint import depth
from dldoctor.lint.finding import Edit, Finding, FixProposal
from dldoctor.lint.source import SourceProblem, check_size, parse

CELL_SEPARATOR = "# %% [dldoctor cell boundary]"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)pass  # dldoctor: ipython (?P<index>\d+)$")
# Cell magics whose body is still Python.
_PYTHON_CELL_MAGICS = {"%%time", "%%timeit", "%%capture", "%%prun", "%%debug", "%%memit", "%%autoreload"}


class NotebookError(Exception):
    """A notebook that cannot be read as one: bad JSON, not nbformat 4."""


@dataclass
class Notebook:
    """A parsed notebook and the Python text made of its code cells."""

    data: dict
    raw: str
    text: str
    line_map: list[tuple[int, int] | None]  # joined line (0-based) -> (cell, line in cell), 1-based
    ipython_lines: list[str]  # original lines replaced by placeholders

    def place(self, finding: Finding) -> Finding:
        """The finding with its line made cell-relative (and its fix's edits likewise)."""
        cell, line = self.line_map[finding.line - 1] or (0, finding.line)
        end_cell, end_line = self.line_map[finding.end_line - 1] or (cell, finding.end_line)
        end_line = end_line if end_cell == cell else line
        return replace(finding, line=line, end_line=end_line, cell=cell)

    def cells(self) -> list[tuple[int, int, int]]:
        """(cell number, first joined line, last joined line) of each code cell, 1-based."""
        spans: list[tuple[int, int, int]] = []
        for joined, place in enumerate(self.line_map, start=1):
            if place is None:
                continue
            if spans and spans[-1][0] == place[0]:
                spans[-1] = (place[0], spans[-1][1], joined)
            else:
                spans.append((place[0], joined, joined))
        return spans


_SHELL_ASSIGNMENT = re.compile(r"^\s*[\w.]+(\s*,\s*[\w.]+)*\s*=\s*[!%]")  # files = !ls
_QUOTES = ('"""', "'''", '"', "'")
# What changes the structure a line leaves open: quotes, brackets, a comment, a backslash.
_STRUCTURE = re.compile(r"\"\"\"|'''|[\"'()\[\]{}#\\]")


def _is_ipython(line: str, code: str, closes: bool) -> bool:
    """Whether a line that starts a statement is IPython syntax; `code` is the line
    without its comment, `closes` whether its brackets and strings close on it."""
    stripped = line.strip()
    if stripped.startswith(("%", "!", "?")):
        return True
    if closes and code.rstrip().endswith("?"):  # obj?, obj.method??; not `x = 1  # why?`
        return True
    return bool(_SHELL_ASSIGNMENT.match(line))


class _LineScanner:
    """Python's structure across the lines of one cell: open brackets, an open string,
    a backslash continuation; enough to know where a statement starts."""

    def __init__(self) -> None:
        self.depth = 0
        self.string: str | None = None  # the quote that closes the string the line is in
        self.continued = False

    @property
    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.string is None and not self.continued

    def scan(self, line: str) -> str:
        """Advance over `line`; the line's code without its comment."""
        position, code_end = 0, len(line)
        while True:
            match = _STRUCTURE.search(line, position)
            if match is None:
                break
            token, position = match.group(), match.end()
            if self.string is not None:
                if token == "\\":
                    position += 1  # an escaped character
                elif token == self.string:
                    self.string = None
                elif len(self.string) == 1 and token[0] == self.string:  # `"a"""`: the first quote closes
                    self.string, position = None, match.start() + 1
                continue
            if token == "#":
                code_end = match.start()
                break
            if token == "\\":
                position += 1
            elif token in _QUOTES:
                self.string = token
            elif token in "([{":
                self.depth += 1
            else:
                self.depth = max(0, self.depth - 1)
        code = line[:code_end]
        self.continued = self.string is None and code.endswith("\\")
        if self.string in ('"', "'") and not line.endswith("\\"):
            self.string = None  # a one-line string left open: a syntax error the parser reports
        return code


def _ipython_lines(cell_lines: list[str]) -> list[bool]:
    """For each line of a cell: whether it is IPython syntax that Python would not parse."""
    scanner = _LineScanner()
    found = []
    for line in cell_lines:
        if scanner.at_statement_start:
            probe = _LineScanner()
            code = probe.scan(line)
            if _is_ipython(line, code, probe.at_statement_start):
                found.append(True)
                continue
        scanner.scan(line)
        found.append(False)
    return found


def load(raw: str) -> Notebook:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise NotebookError(f"not a notebook: invalid JSON at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise NotebookError("not a notebook: JSON nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("not a notebook: no list of cells (nbformat 4 expected)")
    lines: list[str] = []
    line_map: list[tuple[int, int] | None] = []
    ipython: list[str] = []
    first = True
    for index, cell in enumerate(data["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _source_text(cell, index)
        if not first:
            lines.append(CELL_SEPARATOR)
            line_map.append(None)
        first = False
        cell_lines = _LINE_BREAK.split(source)  # the lines the parser will see, "\r" included
        whole_cell_magic = bool(cell_lines) and cell_lines[0].startswith("%%") and (
            cell_lines[0].split()[0] not in _PYTHON_CELL_MAGICS
        )
        ipython_lines = _ipython_lines(cell_lines) if not whole_cell_magic else [True] * len(cell_lines)
        for number, (line, is_ipython) in enumerate(zip(cell_lines, ipython_lines), start=1):
            if is_ipython:
                indent = "" if whole_cell_magic else line[: len(line) - len(line.lstrip())]
                lines.append(f"{indent}pass  # dldoctor: ipython {len(ipython)}")
                ipython.append(line)
            else:
                lines.append(line)
            line_map.append((index, number))
    text = "\n".join(lines) + "\n"
    try:
        check_size(len(text.encode("utf-8")))
    except SourceProblem as problem:
        raise NotebookError(problem.message.replace("too large to lint:", "too large to lint: code cells of")) from None
    return Notebook(data, raw, text, line_map, ipython)


def _source_text(cell: dict, index: int) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        if not all(isinstance(line, str) for line in source):
            raise NotebookError(f"not a notebook: the source of cell {index} holds something other than text")
        return "".join(source)
    if not isinstance(source, str):
        raise NotebookError(f"not a notebook: the source of cell {index} is not text")
    return source


def broken_cells(notebook: Notebook) -> dict[int, SourceProblem]:
    """The code cells that do not parse on their own (as Jupyter compiles them), each
    with its problem at a line of the joined text; a cell too deep to parse safely in
    this process is judged by CPython's parser alone."""
    lines = notebook.text.split("\n")
    broken = {}
    for cell, first, last in notebook.cells():
        text = "\n".join(lines[first - 1 : last]) + "\n"
        if depth.could_crash_libcst(text):
            problem = depth.cpython_refusal(text)
        else:
            try:
                parse(text, "utf-8")
                problem = None
            except SourceProblem as error:
                problem = error
        if problem is not None:
            broken[cell] = SourceProblem(problem.message, first + problem.line - 1, problem.column)
    return broken


def without_cells(notebook: Notebook, cells) -> str:
    """The joined text with the lines of these cells left empty: every other line,
    and so every finding's place, stays where it was."""
    lines = notebook.text.split("\n")
    for cell, first, last in notebook.cells():
        if cell in cells:
            lines[first - 1 : last] = [""] * (last - first + 1)
    return "\n".join(lines)


def to_cell_findings(notebook: Notebook, findings: list[Finding]) -> list[Finding]:
    placed = []
    for finding in findings:
        if finding.fix is not None:
            finding = replace(finding, fix=_cell_fix(notebook, finding.fix))
        placed.append(notebook.place(finding))
    return placed


def _cell_fix(notebook: Notebook, fix: FixProposal) -> FixProposal | None:
    """Edits in cell coordinates; a fix spanning two cells is dropped (it cannot be shown)."""
    edits = []
    for edit in fix.edits:
        start, end = notebook.line_map[edit.line - 1], notebook.line_map[edit.end_line - 1]
        if start is None or end is None or start[0] != end[0]:
            return None
        edits.append(Edit(start[1], edit.column, end[1], edit.end_column, edit.content))
    return replace(fix, edits=tuple(edits))


def rewrite(notebook: Notebook, fixed_text: str) -> str | None:
    """The notebook's JSON with the fixed code in its cells; None when that cannot be done
    without changing anything else (a fix crossed a cell boundary or an IPython line, or
    the file's JSON layout would not survive a rewrite)."""
    if json_text(notebook.data, notebook.raw) != notebook.raw:
        return None
    chunks = fixed_text[:-1].split("\n" + CELL_SEPARATOR + "\n") if fixed_text.endswith("\n") else None
    code_cells = [cell for cell in notebook.data["cells"] if isinstance(cell, dict) and cell.get("cell_type") == "code"]
    if chunks is None or len(chunks) != len(code_cells):
        return None
    if any("\r" in _source_text(cell, index) for index, cell in enumerate(code_cells, start=1)):
        return None  # a cell with "\r" line breaks: its lines cannot be put back as they were
    data = json.loads(notebook.raw)
    cells = [cell for cell in data["cells"] if isinstance(cell, dict) and cell.get("cell_type") == "code"]
    for cell, chunk in zip(cells, chunks):
        restored = []
        for line in chunk.split("\n"):
            match = _PLACEHOLDER.match(line)
            if match:
                restored.append(notebook.ipython_lines[int(match.group("index"))])
            elif "# dldoctor: ipython" in line:
                return None  # a fix touched an IPython line
            else:
                restored.append(line)
        source = "\n".join(restored)
        if isinstance(cell.get("source"), list):
            cell["source"] = [line + "\n" for line in source.split("\n")[:-1]] + [source.split("\n")[-1]]
            if cell["source"] and cell["source"][-1] == "":
                cell["source"].pop()
        else:
            cell["source"] = source
    return json_text(data, notebook.raw)


def json_text(data: dict, like: str) -> str:
    """`data` as JSON in the layout of the text `like` (indent, escapes, final newline)."""
    match = re.search(r"\n([ \t]+)\"", like)
    indent = match.group(1) if match else None
    text = json.dumps(data, indent=indent, ensure_ascii="\\u" in like and not _has_non_ascii(like))
    return text + "\n" if like.endswith("\n") else text


def _has_non_ascii(text: str) -> bool:
    return any(ord(character) > 127 for character in text)
