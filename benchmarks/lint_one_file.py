r"""How long does one lint of one file take in a warm process (what the language server pays)?

    .venv/bin/python benchmarks/lint_one_file.py                    # both files, median of 21 runs
    .venv/bin/python benchmarks/lint_one_file.py --runs 51 --profile 25 --file some/train.py

The language server keeps libcst and the rules imported and lints the changed document
again on every keystroke, so its latency is the lint of one text with every rule selected
(`select = ["ALL"]`), in a process that has linted before. This script times exactly that:
`api.Linter(select=["ALL"], incremental=True).lint(text, path)` (the server's linter, which
re-parses only the statements that changed since the versions it linted before), once to
warm up, then `--runs` times, and reports the median and the spread of the wall and CPU
times (on a busy machine the CPU time is what the lint costs; the wall time also holds the
wait for a CPU). Beside it, the same with a linter that parses every version whole (the
command line's), and, for the incremental one, the parse alone (`source.parse` of each
version with the linter's reparser), so that what the rest of a lint costs is read off.

The files are the two the latency goal (100 ms) is judged on: YOLOv5's `train.py` (975
lines of real PyTorch training code, from the reviewed corpus in `realcode/.repos/`) and
the 1,000 lines `server_latency.py` builds from `examples/` (TF1 graphs, PyTorch loops and
data loading, where many rules fire). `--file` times other files instead.

With `--profile N`, each file is also linted under cProfile (after the warm-up) and the N
entries with the most cumulative time are printed, which says where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

YOLO_TRAIN = REPO / "benchmarks" / "realcode" / ".repos" / "ultralytics__yolov5" / "train.py"


def texts(files: list[str]) -> list[tuple[str, str]]:
    """(label, text) of each file to time."""
    if files:
        return [(name, Path(name).read_text(encoding="utf-8")) for name in files]
    from server_latency import built_file

    found = [("examples/ built to 1,000 lines", built_file())]
    if YOLO_TRAIN.exists():
        found.insert(0, ("yolov5 train.py", YOLO_TRAIN.read_text(encoding="utf-8")))
    else:
        print(f"{YOLO_TRAIN} is missing (benchmarks/realcode/review.py fetches the corpus): timing the built file only", file=sys.stderr)
    return found


def variants(text: str, runs: int) -> list[str]:
    """The versions an editor sends: a comment typed on a line in the middle of the file, a
    character more each time (so no version repeats an earlier one), then taken back."""
    lines = text.split("\n")
    middle = len(lines) // 2
    while middle < len(lines) - 1 and lines[middle].strip() and not lines[middle].startswith(" "):
        middle += 1
    typed = [lines[:middle] + [lines[middle] + "  # " + "x" * number] + lines[middle + 1:] for number in range(1, runs)]
    return ["\n".join(version) for version in typed] + [text]


def time_lint(linter, text: str, path: str, runs: int) -> tuple[list[float], list[float], int]:
    findings = len(linter.lint(text, path))  # warm-up: rule modules imported, caches filled
    wall, cpu = [], []
    for variant in variants(text, runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        linter.lint(variant, path)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu, findings


def time_parse(reparser, text: str, runs: int) -> list[float]:
    from dldoctor.lint import source

    source.parse(text, "utf-8", reparser)
    cpu = []
    for variant in variants(text, runs):
        start = time.process_time()
        source.parse(variant, "utf-8", reparser)
        cpu.append(time.process_time() - start)
    return cpu


def profile(linter, text: str, path: str, entries: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for variant in variants(text, 4):
        linter.lint(variant, path)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(entries)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="timed lints per file (after one warm-up)")
    parser.add_argument("--file", action="append", default=[], help="time this file instead (repeatable)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also print the N top cumulative profile entries")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    from dldoctor import api

    report = []
    for label, text in texts(args.file):
        path = str(REPO / "train.py")
        row = {"file": label, "lines": text.count("\n"), "runs": args.runs}
        for mode, linter in (("incremental", api.Linter(select=["ALL"], incremental=True)), ("whole", api.Linter(select=["ALL"]))):
            wall, cpu, findings = time_lint(linter, text, path, args.runs)
            row["findings"] = findings
            row[mode] = {
                "wall_ms": {"median": statistics.median(wall) * 1000, "min": min(wall) * 1000, "max": max(wall) * 1000},
                "cpu_ms": {"median": statistics.median(cpu) * 1000, "min": min(cpu) * 1000},
            }
            if mode == "incremental":
                row[mode]["parse_cpu_ms"] = {"median": statistics.median(time_parse(linter._reparser, text, args.runs)) * 1000}
            figures = row[mode]
            print(f"{label}: {row['lines']} lines, {findings} findings; {mode} lint median {figures['wall_ms']['median']:.1f} ms wall "
                  f"(min {figures['wall_ms']['min']:.1f}, max {figures['wall_ms']['max']:.1f}), {figures['cpu_ms']['median']:.1f} ms CPU"
                  + (f", of which parse {figures['parse_cpu_ms']['median']:.1f} ms CPU" if "parse_cpu_ms" in figures else "")
                  + f", {args.runs} runs")
            if args.profile and mode == "incremental":
                print(profile(linter, text, path, args.profile))
        report.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
