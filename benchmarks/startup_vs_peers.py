r"""What a user waits for on the short runs, and what the biggest run costs in memory,
beside ruff on the same files in the same run:

1. a run where every file is in the cache: `dldoctor lint examples/` (target 0.15 s,
   whole process), and whether that run imported libcst (it must not). Repeated with
   nothing changed, the run is answered from its record (`dldoctor.replay`: the first timed
   run records it); beside it the same run with `DLDOCTOR_NO_REPLAY=1`, every file from
   the lint cache;
2. one file without a cache, the pre-commit case: `dldoctor lint FILE` (target 0.3 s),
   beside the floor of a libcst linter (start Python, import libcst, parse that file:
   benchmarks/parse_reference.py);
3. the peak memory of the largest process linting every file of torch (target 400 MB),
   whose one huge module (torch/testing/_internal/common_methods_invocations.py, 27,820
   lines) libcst's parser would need about 800 MB for if it were parsed whole.

    .venv/bin/python benchmarks/startup_vs_peers.py                     # all three, 7 runs of the short ones
    .venv/bin/python benchmarks/startup_vs_peers.py --check-whole-parse # and prove the huge-file parse changes nothing
    .venv/bin/python benchmarks/startup_vs_peers.py --skip-memory --runs 11

Each figure is the median over --runs runs (--memory-runs for torch), tools alternating
run by run. Times are whole processes (start-up included) by time.perf_counter; memory
is `/usr/bin/time -f %M`: the peak resident set of the largest single process (dldoctor's
workers included). The torch corpus is benchmarks/lint_vs_peers.py's (a copy of the
installed package under benchmarks/.corpora/torch). ruff comes from benchmarks/.peers-venv
(`benchmarks/.peers-venv/bin/pip install ruff`) or PATH; without it the ruff columns say so.

With --check-whole-parse the torch run is repeated with DLDOCTOR_WHOLE_PARSE=1 (huge files
parsed whole, as before) and the JSON findings of both runs must be identical, else the
script exits 1.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lint_vs_peers as shared  # noqa: E402  (the corpora, the timing and the peers' lookup)

REPO = shared.REPO
EXAMPLES = REPO / "examples"
ONE_FILE = shared.ONE_FILE
WARM_TARGET_S, ONE_FILE_TARGET_S, PEAK_TARGET_MB = 0.15, 0.3, 400


@dataclass
class Timing:
    name: str
    argv: list[str]
    cwd: Path
    environment: dict[str, str] = field(default_factory=shared.base_environment)
    seconds: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)
    failure: str | None = None
    stdout: bytes = b""

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds and self.failure is None else None

    @property
    def peak_mb(self) -> float | None:
        return max(self.peak_kb) / 1024 if self.peak_kb and self.failure is None else None


def run_alternating(timings: list[Timing], runs: int, scratch: Path, accepted=(0, 1), capture: bool = False) -> None:
    for run in range(runs):
        for timing in timings:
            if timing.failure is not None:
                continue
            seconds, code, stdout, stderr, peak = shared.run_command(
                timing.argv, timing.cwd, timing.environment, scratch, capture_stdout=capture
            )
            if code not in accepted:
                timing.failure = f"exit {code}: $ {shlex.join(timing.argv)}\n{shared.stderr_tail(stderr)}"
                continue
            timing.seconds.append(seconds)
            if peak is not None:
                timing.peak_kb.append(peak)
            if capture:
                timing.stdout = stdout
            shared.progress(f"  run {run + 1}/{runs} {timing.name}: {seconds:.3f} s"
                            + (f", {peak / 1024:.0f} MB" if peak else ""))


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f} s"


def megabytes(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} MB"


def ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or not theirs:
        return "—"
    return f"{ours / theirs:.1f}×"


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "—"
    return "met" if value <= target else "missed"


def imports_of_warm_run(python: Path, cache_dir: Path, scratch: Path, output_format: str) -> list[str]:
    """The libcst and rule modules a cache-hit run of `dldoctor lint examples/` imports."""
    argv = [str(python), "-X", "importtime", "-m", "dldoctor", "lint", "--cache-dir", str(cache_dir),
            "--output-format", output_format, str(EXAMPLES)]
    _, _, _, stderr, _ = shared.run_command(argv, REPO, shared.base_environment(), scratch)
    found = []
    for line in stderr.decode(errors="replace").splitlines():
        name = line.rpartition("|")[2].strip()
        if name == "libcst" or name.startswith("dldoctor.rules.") or name == "dldoctor.lint.rule":
            found.append(name)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of the short figures (default 7)")
    parser.add_argument("--memory-runs", type=int, default=1, help="runs on torch (default 1)")
    parser.add_argument("--dldoctor", type=Path, help="the dldoctor executable (default: this Python's)")
    parser.add_argument("--peers-venv", type=Path, default=shared.DEFAULT_PEERS_VENV if shared.DEFAULT_PEERS_VENV.is_dir() else None)
    parser.add_argument("--skip-memory", action="store_true", help="leave out the torch figure (2-3 minutes on 2 CPUs)")
    parser.add_argument("--check-whole-parse", action="store_true",
                        help="lint torch a second time with huge files parsed whole; the findings must be identical")
    options = parser.parse_args(argv)

    dldoctor = options.dldoctor or shared.default_dldoctor()
    python = dldoctor.parent / "python"
    find = shared.peer_finder(options.peers_venv)
    ruff = find("ruff")
    machine = shared.machine_description()
    print(f"# start-up and memory of dldoctor lint beside ruff\n\nmachine: {machine}")
    print(f"dldoctor: {shared.command_output([str(dldoctor), '--version'])} ({shared.git_revision()}); "
          f"ruff: {shared.command_output([ruff, '--version']) if ruff else 'not installed'}\n")
    current = shared.command_output([str(python), "-c", "from dldoctor.lint import catalogue, registry; "
                                     "print(catalogue.SOURCES_DIGEST == registry.sources_digest())"])
    if current != "True":
        print("warning: dldoctor/lint/catalogue.py is stale (a rule changed since it was generated): every run "
              "imports the rules; `python -m dldoctor.lint.registry` writes it again\n")
    rows: list[tuple[str, ...]] = []
    failures: list[str] = []
    different = False
    shared.CORPORA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="startup-", dir=shared.CORPORA_DIR) as scratch_name:
        scratch = Path(scratch_name)

        # 1. every file from the cache
        shared.progress("warm cache: examples/")
        ours_cache, ruff_cache = scratch / "dldoctor-cache", scratch / "ruff-cache"
        warm = [
            Timing("dldoctor lint examples/ (text report)", [str(dldoctor), "lint", "--cache-dir", str(ours_cache), str(EXAMPLES)], REPO),
            Timing("dldoctor lint --output-format concise", [str(dldoctor), "lint", "--cache-dir", str(ours_cache), "--output-format", "concise", str(EXAMPLES)], REPO),
            Timing("python -c pass (the floor of any Python tool)", [str(python), "-c", "pass"], REPO),
            Timing("dldoctor lint examples/ with DLDOCTOR_NO_REPLAY=1 (every file from the lint cache, no record)",
                   [str(dldoctor), "lint", "--cache-dir", str(ours_cache), str(EXAMPLES)], REPO,
                   {**shared.base_environment(), "DLDOCTOR_NO_REPLAY": "1"}),
        ]
        if ruff:
            warm.append(Timing("ruff check examples/", [ruff, "check", "--cache-dir", str(ruff_cache), "--exit-zero", str(EXAMPLES)], REPO))
        run_alternating(warm, 1, scratch)  # fills both caches (and this Python's bytecode caches)
        for timing in warm:
            timing.seconds.clear()
            timing.peak_kb.clear()
        run_alternating(warm, options.runs, scratch)
        ruff_warm = warm[-1].median if ruff else None
        for timing in warm[:2]:
            rows.append(("every file cached", timing.name, seconds(timing.median), f"≤ {WARM_TARGET_S} s",
                         verdict(timing.median, WARM_TARGET_S), seconds(ruff_warm), ratio(timing.median, ruff_warm)))
        rows.append(("every file cached", warm[2].name, seconds(warm[2].median), "", "", "", ""))
        rows.append(("every file cached", warm[3].name, seconds(warm[3].median), "", "", seconds(ruff_warm),
                     ratio(warm[3].median, ruff_warm)))
        for output_format in ("text", "concise"):
            imported = sorted(set(imports_of_warm_run(python, ours_cache, scratch, output_format)))
            shown = ", ".join(imported[:3]) + (f" and {len(imported) - 3} more" if len(imported) > 3 else "")
            rows.append(("every file cached", f"libcst or rules imported by the cached run ({output_format} report)",
                         shown or "none", "none", "met" if not imported else "missed", "", ""))

        # 2. one file, no cache
        shared.progress(f"one file, no cache: {ONE_FILE.relative_to(REPO)}")
        relative = str(ONE_FILE.relative_to(REPO))
        one = [
            Timing("dldoctor lint FILE", [str(dldoctor), "lint", "--no-cache", relative], REPO),
            Timing("dldoctor lint --select ALL FILE", [str(dldoctor), "lint", "--select", "ALL", "--no-cache", relative], REPO),
            Timing("dldoctor lint --output-format concise FILE", [str(dldoctor), "lint", "--no-cache", "--output-format", "concise", relative], REPO),
            Timing("floor: Python + import libcst + parse", [*shared._parse_reference(dldoctor), "--processes", "1", relative], REPO),
        ]
        if ruff:
            one.append(Timing("ruff check --no-cache FILE", [ruff, "check", "--no-cache", "--exit-zero", relative], REPO))
            one.append(Timing("ruff check --select ALL --no-cache FILE", [ruff, "check", "--select", "ALL", "--no-cache", "--exit-zero", relative], REPO))
        run_alternating(one, options.runs, scratch)
        floor = one[3].median
        ruff_one = [one[4].median, one[5].median, one[4].median] if ruff else [None, None, None]  # default rules, ALL
        for timing, theirs in zip(one[:3], ruff_one):
            rows.append(("one file, no cache", timing.name, seconds(timing.median), f"≤ {ONE_FILE_TARGET_S} s",
                         verdict(timing.median, ONE_FILE_TARGET_S), seconds(theirs), ratio(timing.median, theirs)))
        rows.append(("one file, no cache", one[3].name, seconds(floor), "", "", "", ""))

        # 3. peak memory on all of torch
        if not options.skip_memory:
            corpus = shared.build_corpus(shared.CORPUS_DEFINITIONS["torch"], None)
            if corpus is None:
                rows.append(("torch, peak memory", "torch is not installed", "—", "", "", "", ""))
            else:
                shared.progress(f"torch: {corpus.files:,} files, {corpus.lines:,} lines")
                lint = [str(dldoctor), "lint", "--select", "ALL", "--no-cache", "--exit-zero", "--output-format", "json", "."]
                heavy = [Timing("dldoctor lint --select ALL torch/", lint, corpus.path)]
                if ruff:
                    heavy.append(Timing("ruff check --select ALL torch/", [ruff, "check", "--select", "ALL", "--no-cache", "--exit-zero", "."], corpus.path))
                run_alternating(heavy, options.memory_runs, scratch, accepted=(0,), capture=True)
                ruff_peak = heavy[1].peak_mb if ruff else None
                rows.append(("torch, peak memory", heavy[0].name, megabytes(heavy[0].peak_mb), f"≤ {PEAK_TARGET_MB} MB",
                             verdict(heavy[0].peak_mb, PEAK_TARGET_MB), megabytes(ruff_peak), ratio(heavy[0].peak_mb, ruff_peak)))
                rows.append(("torch, time", heavy[0].name, seconds(heavy[0].median), "", "",
                             seconds(heavy[1].median if ruff else None), ratio(heavy[0].median, heavy[1].median if ruff else None)))
                if options.check_whole_parse and heavy[0].failure is None:
                    shared.progress("torch again, huge files parsed whole (DLDOCTOR_WHOLE_PARSE=1)")
                    whole = Timing("dldoctor, huge files parsed whole", lint, corpus.path,
                                   {**shared.base_environment(), "DLDOCTOR_WHOLE_PARSE": "1"})
                    run_alternating([whole], 1, scratch, accepted=(0,), capture=True)
                    if whole.failure is None:
                        ours, before = shared.finding_keys(heavy[0].stdout), shared.finding_keys(whole.stdout)
                        differences = shared.compare_findings("whole parse", before, "piecewise parse", ours)
                        different = bool(differences)
                        rows.append(("torch, peak memory", whole.name, megabytes(whole.peak_mb), "", "", "", ""))
                        rows.append(("torch, findings", "piecewise parse of huge files vs whole parse",
                                     f"{len(ours)} vs {len(before)} findings", "identical",
                                     "met" if not differences else "missed", "", ""))
                        failures += differences
                    else:
                        failures.append(whole.failure)
                failures += [timing.failure for timing in heavy if timing.failure]
        failures += [timing.failure for timing in warm + one if timing.failure]

    print(f"median of {options.runs} runs (torch: {options.memory_runs}), whole processes, tools alternating\n")
    print("| figure | command | dldoctor | target | | ruff | dldoctor / ruff |")
    print("|---|---|---:|---|---|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if failures:
        print("\n### Failures\n")
        for failure in failures:
            print(failure + "\n")
    return 1 if failures or different else 0


if __name__ == "__main__":
    sys.exit(main())
