"""The yardstick for `dldoctor lint`: only parse every file of a corpus, nothing else.

    python benchmarks/parse_reference.py [--parser libcst|ast] [--processes N] PATH

A linter built on libcst cannot lint a file faster than libcst parses it, so
"parse every file with libcst on the machine's processes" is the cost that a
linter which parses everything pays before it has looked at a node. dldoctor's
target is to stay below it on the same corpus, by not parsing the files no
selected rule can match. Files go to the processes largest first, one at a
time, as dldoctor schedules them. `--parser ast` gives CPython's own parser for
scale.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from multiprocessing import Pool
from pathlib import Path


def parse_libcst(path: str) -> bool:
    import libcst

    try:
        libcst.parse_module(Path(path).read_bytes())
    except Exception:  # a syntax this parser does not know: counted, as a linter would report it
        return False
    return True


def parse_ast(path: str) -> bool:
    try:
        ast.parse(Path(path).read_bytes())  # this Python's grammar: torch has a PEP 695 test file
    except (SyntaxError, ValueError):
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--parser", choices=("libcst", "ast"), default="libcst")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    options = parser.parse_args()
    files = [options.path] if options.path.is_file() else list(options.path.rglob("*.py"))
    files = [str(path) for path in sorted(files, key=lambda path: -path.stat().st_size)]
    parse = parse_libcst if options.parser == "libcst" else parse_ast
    if options.processes < 2:
        parsed = [parse(path) for path in files]
    else:
        with Pool(options.processes) as pool:
            parsed = list(pool.imap_unordered(parse, files))
    if not all(parsed):
        print(f"{parsed.count(False)} of {len(files)} files not parsed by {options.parser}", file=sys.stderr)


if __name__ == "__main__":
    main()
