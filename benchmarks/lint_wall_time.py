"""Whole-process wall time of `dldoctor lint` on one file, on examples/, and on the
pure-Python source of the installed torch package (median of N runs, no cache).

    .venv/bin/python benchmarks/lint_wall_time.py [--runs 3]

Peers (ruff, TorchFix, Fixit) on the same corpora are a separate benchmark; this
one answers "what does a user wait for" on this machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def corpus_size(path: Path) -> tuple[int, int]:
    files = [path] if path.is_file() else [p for p in path.rglob("*.py")]
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    return len(files), lines


def wall_time(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dldoctor", "lint", "--exit-zero", "--output-format", "concise", *args],
                       stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    corpora = [
        ("one file", REPO / "examples" / "im2txt" / "build_flickr_data.py"),
        ("examples/", REPO / "examples"),
    ]
    spec = importlib.util.find_spec("torch")
    if spec is not None and spec.origin:
        corpora.append(("torch package source", Path(spec.origin).parent))
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; median of {options.runs} runs")
    print(f"{'corpus':<24}{'files':>8}{'lines':>11}{'wall (s)':>10}")
    for label, path in corpora:
        files, lines = corpus_size(path)
        seconds = wall_time([str(path)], options.runs)
        print(f"{label:<24}{files:>8}{lines:>11,}{seconds:>10.2f}")


if __name__ == "__main__":
    main()
