"""`dldoctor ckpt scan PATH...`: is any of these files unsafe to load? Many files, one process, no torch.

Every path is a file or a directory (walked recursively, links not followed out of it;
in a directory, the files named like model or data files: MODEL_SUFFIXES). Each file is read under every format its bytes admit (containers.py: pickles of
any protocol, zips, tars, compressed streams, .npy object arrays, Keras configs) and
its globals are checked against torch's weights-only allow-list; nothing is unpickled
and no framework is imported. One line a file; exit 1 when any file is unsafe or could
not be scanned whole, 2 when a path does not exist.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from dldoctor.probes.ckpt import containers, guard, pickle_scan, safety

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
# Files a directory scan reads (a file named on the command line is scanned whatever its name).
MODEL_SUFFIXES = (
    ".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle", ".joblib", ".jbl", ".npy", ".npz", ".h5", ".hdf5", ".keras",
    ".safetensors", ".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".lzma", ".lz4", ".model", ".dat", ".data", ".sav", ".mar", ".nemo",
)


_IMPORTABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _model_file(path: Path) -> bool:
    """A file a directory scan reads: named like a model or data file, or whose bytes are a pickle or a container
    (a payload renamed `notes.txt`); text that only parses as a pickle with globals no import can name
    (`import torch` read as INST) is source code, not a pickle."""
    lowered = path.name.lower()
    if lowered.endswith(MODEL_SUFFIXES) or ".data-" in lowered or lowered.endswith(".index"):
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(containers.SNIFF)
    except OSError:
        return True  # reported as unreadable
    if head.startswith((containers.HDF5_MAGIC, containers.NPY_MAGIC)) or containers._container_head(head):
        return True
    if not pickle_scan.looks_like_pickle(head):
        return False
    names = pickle_scan.scan(head).globals
    return not names or any(_IMPORTABLE.match(n) for n in names)


def files(paths: list[str]) -> tuple[list[Path], list[str]]:
    """(regular files to scan, problems) for the paths as given; directories in sorted order."""
    found: list[Path] = []
    problems: list[str] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs.sort()
                for name in sorted(names):
                    child = Path(root) / name
                    if child.is_file() and guard.inside(path, child) and _model_file(child):
                        found.append(child)
        elif path.is_file():
            found.append(path)
        elif os.path.lexists(path):
            problems.append(f"{text}: not a regular file (not scanned)")
        else:
            problems.append(f"{text}: no such file or directory")
    return found, problems


def verdict(path: Path) -> dict:
    """{path, safe, globals, note, what} for one file."""
    try:
        report = containers.scan_path(path)
    except OSError as problem:
        return {"path": str(path), "safe": False, "globals": [], "note": f"cannot be read ({problem.strerror})", "what": ""}
    names, places = safety.unsafe_names(report)
    names = sorted(names)
    what = "; ".join(sorted({w for _, w in report.scanned if not w.startswith("npy ")}))[:120] or "no pickle, no code"
    note = safety.describe_globals(names, places) if names else ""
    return {"path": str(path), "safe": not names, "globals": names, "note": note, "what": what}


def run(paths: list[str], output_format: str = "text", allow_global: list[str] | None = None, strict: bool = False) -> int:
    from dldoctor.verdict import ProbeError, reporters

    try:
        outcome = build_report(paths, allow_global)
    except ProbeError as problem:
        print(f"dldoctor: error: {problem.message}", file=sys.stderr)
        return problem.exit_code
    problems = outcome.facts["problems"]
    if output_format == "text":
        for problem in problems:
            print(f"dldoctor: error: {guard.printable(problem)}", file=sys.stderr)
    reporters.write(outcome, output_format, sys.stdout)
    missing = [p for p in problems if p.endswith("no such file or directory")]
    if missing and not outcome.facts["files"]:
        return EXIT_USAGE
    return outcome.exit_code(strict)


def build_report(paths: list[str], allow_global: list[str] | None = None):
    """One check a file scanned (`ckpt.unsafe-to-load`) and one a path that could not be scanned
    whole; `ProbeError` when there is nothing to scan or a global to allow is not module.name."""
    from dldoctor.verdict import ProbeError

    if not paths:
        raise ProbeError("`ckpt scan` needs at least one file or directory")
    safety.clear_allowed()  # each run allows only what its own --allow-global names
    if allow_global:
        try:
            safety.allow_globals(allow_global)
        except ValueError as problem:
            raise ProbeError(str(problem)) from None
    targets, problems = files(paths)
    return report([verdict(path) for path in targets], problems)


def report(results: list[dict], problems: list[str]):
    """One check a file (ckpt.unsafe-to-load, about that file) and one a path that could not be scanned whole."""
    from dldoctor.verdict import FAIL, OK, Check, Location, Report

    checks = []
    for result in results:
        shown = guard.printable(result["path"], 300)
        if result["safe"]:
            title = f"{shown}: safe ({guard.printable(result['what'], 200)})"
        else:
            title = guard.printable(f"{shown}: UNSAFE: {', '.join(result['globals'])} ({result['note']})")
        checks.append(Check("ckpt.unsafe-to-load", OK if result["safe"] else FAIL, title,
                            evidence={"globals": result["globals"], "what": result["what"], "note": result["note"]},
                            location=Location(shown), subject=shown))
    for index, problem in enumerate(problems, 1):
        checks.append(Check("ckpt.scan-incomplete", FAIL, guard.printable(problem), evidence={"problem": problem},
                            subject=str(index)))
    unsafe = [r for r in results if not r["safe"]]
    headline = (f"{len(results)} file{'s' if len(results) != 1 else ''} scanned: {len(unsafe)} unsafe to load"
                + (f" ({', '.join(guard.printable(r['path'], 200) for r in unsafe[:5])}{', ...' if len(unsafe) > 5 else ''})"
                   if unsafe else ""))
    return Report("ckpt scan", checks, {"files": results, "problems": problems, "unsafe": len(unsafe)}, headline)
