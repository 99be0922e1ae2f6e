r"""How long does `dldoctor lint` take on real deep-learning code, next to the linters
a user would otherwise run on it (ruff, TorchFix, Fixit)? Does its time grow
linearly with the size of the code? What does the cache buy? And do the speed-ups
(the cache, the prefilter that skips files no rule can match) leave the findings
exactly as they are?

    .venv/bin/python benchmarks/lint_vs_peers.py                      # torch-208 and torch, 3 runs
    .venv/bin/python benchmarks/lint_vs_peers.py --corpus scaling     # every 11th, every 3rd, every torch file
    .venv/bin/python benchmarks/lint_vs_peers.py --corpus tensorflow --corpus keras --runs 5 --json out.json

Corpora are the Python sources of installed packages (nothing is downloaded):

    torch-208       sorted(every *.py under the torch package, by full path)[::11]
    torch-every3rd  sorted(...)[::3]
    torch           every *.py of torch
    tensorflow      every *.py of tensorflow
    keras           every *.py of keras
    scaling         torch-208, torch-every3rd and torch together

Each corpus is copied (plain files, relative paths kept) to benchmarks/.corpora/<name>/,
rebuilt when missing or when the installed package changed. Its root gets a
pyproject.toml with empty [tool.dldoctor] and [tool.ruff] tables and `[tool.fixit]
root = true`, and a .flake8 with an empty [flake8] section (the tools run from the
corpus root), so every tool stops looking for configuration there and runs with its
defaults. This also keeps this repository's .gitignore, which lists benchmarks/.corpora/,
out of reach: Fixit honours the .gitignore of the project it finds, and would
otherwise lint no file at all.

Every run times a whole process (start-up included, as a user waits for it) with
time.perf_counter, and takes the peak resident memory of its largest process from
`/usr/bin/time -f %M`. Tools alternate run by run (run 1 of every tool, then run 2
of every tool, ...), so a slow patch of a shared machine hits them all. The report
gives the median of --runs runs. dldoctor, flake8, TorchFix and Fixit all spread files
over one process per CPU; ruff uses threads. The tools do not run the same checks (ruff
--select ALL runs hundreds of rules, Fixit 25, TorchFix its TOR rules): the question
is what a user waits for, not the cost of one rule.

Before timing, dldoctor's JSON findings on the corpus are compared between a run
with --no-cache, a run with the prefilter turned off (DLDOCTOR_NO_PREFILTER=1), the
run that writes a cache and a run that reads it back. Any difference, or any command
that fails, makes the script exit 1.

The peers live in their own virtual environment (so they cannot disturb dldoctor's),
found at benchmarks/.peers-venv, or --peers-venv DIR, or else on PATH:

    python3 -m venv benchmarks/.peers-venv && benchmarks/.peers-venv/bin/pip install \
        torchfix==0.7.0 fixit==2.2.1 ruff==0.17.6 flake8==7.5.0

(the versions last measured; the report prints the versions it ran). Peers are slow
(about a minute each for TorchFix and Fixit on torch-208), so they run only on
corpora of up to 150,000 lines unless --peers-on-all is given.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA_DIR = REPO / "benchmarks" / ".corpora"
DEFAULT_PEERS_VENV = REPO / "benchmarks" / ".peers-venv"
ONE_FILE = REPO / "examples" / "im2txt" / "build_flickr_data.py"
GNU_TIME = "/usr/bin/time"
PEERS_MAX_LINES = 150_000
NO_PREFILTER_VARIABLE = "DLDOCTOR_NO_PREFILTER"
STDERR_TAIL_LINES = 15

# Placeholders in a tool's command line, filled in for each run.
CORPUS = "{corpus}"
CACHE_DIR = "{cache_dir}"

NEUTRAL_CONFIG_FILES = {
    "pyproject.toml": (
        "# Makes this corpus a project of its own: each linter takes its defaults from here\n"
        "# and looks no further up for configuration or .gitignore files.\n"
        "[tool.dldoctor]\n\n[tool.ruff]\n\n[tool.fixit]\nroot = true\n"
    ),
    ".flake8": "[flake8]\n",
}


# --------------------------------------------------------------------------- corpora


@dataclass(frozen=True)
class CorpusDefinition:
    name: str
    package: str
    step: int  # every step-th file of the package's *.py files sorted by full path
    description: str


CORPUS_DEFINITIONS = {
    definition.name: definition
    for definition in (
        CorpusDefinition("torch-208", "torch", 11, "every 11th *.py of torch"),
        CorpusDefinition("torch-every3rd", "torch", 3, "every 3rd *.py of torch"),
        CorpusDefinition("torch", "torch", 1, "every *.py of torch"),
        CorpusDefinition("tensorflow", "tensorflow", 1, "every *.py of tensorflow"),
        CorpusDefinition("keras", "keras", 1, "every *.py of keras"),
    )
}
CORPUS_GROUPS = {"scaling": ["torch-208", "torch-every3rd", "torch"]}
DEFAULT_CORPORA = ["torch-208", "torch"]


@dataclass
class Corpus:
    name: str
    description: str
    path: Path  # a directory (or, for the one-file case, a file)
    files: int
    lines: int
    is_directory: bool = True

    @property
    def working_directory(self) -> Path:
        return self.path if self.is_directory else REPO


def package_directory(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent


def package_version(package: str) -> str:
    """The installed version of an import package, whatever its distribution's name (tensorflow-cpu)."""
    distributions = importlib.metadata.packages_distributions().get(package, [package])
    for distribution in distributions:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def selected_sources(definition: CorpusDefinition, limit_files: int | None) -> tuple[Path, list[Path]] | None:
    """The package directory and the files of this corpus, in the definition's order."""
    directory = package_directory(definition.package)
    if directory is None:
        return None
    every_file = sorted(str(path) for path in directory.rglob("*.py") if path.is_file())
    chosen = every_file[:: definition.step]
    if limit_files is not None:
        chosen = chosen[:limit_files]
    return directory, [Path(path) for path in chosen]


def count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def materialise(name: str, package_dir: Path, sources: list[Path], package: str) -> Path:
    """Copy the sources to CORPORA_DIR/name (relative paths kept), unless an identical copy is there."""
    target = CORPORA_DIR / name
    manifest_path = CORPORA_DIR / f"{name}.manifest.json"
    base = package_dir.parent  # so the copy keeps the package's own directory: torch/nn/...
    manifest = {
        "package": package,
        "version": package_version(package),
        "source_directory": str(package_dir),
        "files": [[str(source.relative_to(base)), source.stat().st_size] for source in sources],
        "config_files": NEUTRAL_CONFIG_FILES,
    }
    if target.is_dir() and manifest_path.is_file() and json.loads(manifest_path.read_text()) == manifest:
        return target  # built before from the same files
    CORPORA_DIR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{name}.building-", dir=CORPORA_DIR))
    for source in sources:
        destination = staging / source.relative_to(base)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    for file_name, text in NEUTRAL_CONFIG_FILES.items():
        (staging / file_name).write_text(text)
    staging.chmod(0o755)  # mkdtemp made it private
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return target


def build_corpus(definition: CorpusDefinition, limit_files: int | None) -> Corpus | None:
    found = selected_sources(definition, limit_files)
    if found is None:
        print(f"skipping corpus {definition.name}: package {definition.package!r} is not installed", file=sys.stderr)
        return None
    package_dir, sources = found
    name = definition.name if limit_files is None else f"{definition.name}-first{limit_files}"
    path = materialise(name, package_dir, sources, definition.package)
    copies = sorted(path.rglob("*.py"))
    description = f"{definition.description} {package_version(definition.package)}"
    if limit_files is not None:
        description += f", first {limit_files} files only"
    return Corpus(name, description, path, len(copies), sum(count_lines(copy) for copy in copies))


def one_file_corpus() -> Corpus:
    relative = ONE_FILE.relative_to(REPO)
    return Corpus("one file", str(relative), ONE_FILE, 1, count_lines(ONE_FILE), is_directory=False)


# --------------------------------------------------------------------------- tools


@dataclass(frozen=True)
class Tool:
    name: str
    command: tuple[str, ...]  # with CORPUS (and CACHE_DIR) placeholders
    accepted_exit_codes: frozenset[int] | None = frozenset({0})  # None: any exit code
    reads_warm_cache: bool = False  # a run that writes the cache goes, untimed, before each timed run
    is_peer: bool = False

    def argv(self, corpus: Path, cache_dir: Path | None = None) -> list[str]:
        return [part.replace(CORPUS, str(corpus)).replace(CACHE_DIR, str(cache_dir)) for part in self.command]


def default_dldoctor() -> Path:
    candidate = Path(sys.prefix) / "bin" / "dldoctor"
    if candidate.is_file():
        return candidate
    found = shutil.which("dldoctor")
    if found is None:
        sys.exit("dldoctor is not installed in this Python's environment nor on PATH")
    return Path(found)


def dldoctor_tools(dldoctor: Path) -> list[Tool]:
    lint = (str(dldoctor), "lint", "--select", "ALL")
    return [
        Tool("dldoctor cold", (*lint, "--no-cache", "--exit-zero", "--output-format", "concise", CORPUS)),
        Tool("dldoctor warm", (*lint, "--cache-dir", CACHE_DIR, "--exit-zero", "--output-format", "concise", CORPUS),
             reads_warm_cache=True),
    ]


def dldoctor_one_file_tools(dldoctor: Path) -> list[Tool]:
    return [
        Tool("dldoctor one file", (str(dldoctor), "lint", "--select", "ALL", "--no-cache", "--exit-zero", CORPUS)),
        # The floor for a libcst linter: start Python, import libcst, parse the file.
        Tool("reference: Python + libcst parse", (*_parse_reference(dldoctor), "--processes", "1", CORPUS)),
    ]


def reference_tools(dldoctor: Path) -> list[Tool]:
    """What parsing alone costs: the yardstick of the speed targets."""
    processes = str(os.cpu_count() or 1)
    return [
        Tool(f"reference: libcst parse, {processes} processes", (*_parse_reference(dldoctor), "--processes", processes, CORPUS)),
        Tool("reference: ast.parse, 1 process", (*_parse_reference(dldoctor), "--parser", "ast", "--processes", "1", CORPUS)),
    ]


def _parse_reference(dldoctor: Path) -> tuple[str, ...]:
    """benchmarks/parse_reference.py, run by the Python that runs dldoctor (it has libcst)."""
    python = dldoctor.parent / "python"
    return (str(python if python.exists() else sys.executable), str(REPO / "benchmarks" / "parse_reference.py"))


def peer_finder(peers_venv: Path | None):
    """A function from a command's name to its path: the peers' venv first, then PATH."""

    def find(name: str) -> str | None:
        if peers_venv is not None and (peers_venv / "bin" / name).is_file():
            return str(peers_venv / "bin" / name)
        return shutil.which(name)

    return find


def command_output(argv: Sequence[str]) -> str:
    try:
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"? ({error})"
    return (completed.stdout or completed.stderr).strip()


def peer_tools(find) -> tuple[list[Tool], list[str]]:
    """The peers installed, and a note for each one that is not."""
    tools: list[Tool] = []
    notes: list[str] = []
    ruff = find("ruff")
    if ruff:
        tools.append(Tool("ruff --select ALL", (ruff, "check", "--select", "ALL", "--exit-zero", "--no-cache", CORPUS),
                          is_peer=True))
        tools.append(Tool("ruff (default rules)", (ruff, "check", "--exit-zero", "--no-cache", CORPUS), is_peer=True))
    else:
        notes.append("ruff: not installed")
    flake8 = find("flake8")
    if flake8 and "TorchFix" in command_output([flake8, "--version"]):
        # flake8 exits 1 when it reports findings.
        tools.append(Tool("TorchFix via flake8", (flake8, "--select", "TOR", CORPUS), accepted_exit_codes=None,
                          is_peer=True))
    else:
        notes.append("TorchFix via flake8: " + ("flake8 has no TorchFix plugin" if flake8 else "flake8 not installed"))
    torchfix = find("torchfix")
    if torchfix:
        tools.append(Tool("TorchFix CLI", (torchfix, CORPUS), is_peer=True))
    else:
        notes.append("TorchFix CLI: not installed")
    fixit = find("fixit")
    if fixit:
        # fixit exits 1 when it reports findings, 2 when it could not lint a file.
        tools.append(Tool("Fixit", (fixit, "lint", CORPUS), accepted_exit_codes=None, is_peer=True))
    else:
        notes.append("Fixit: not installed")
    return tools, notes


# --------------------------------------------------------------------------- running commands


@dataclass
class CommandFailure:
    tool: str
    corpus: str
    command: str
    exit_code: int
    stderr_tail: str

    def describe(self) -> str:
        tail = "\n".join("    " + line for line in self.stderr_tail.splitlines()) or "    (no output on stderr)"
        return f"{self.tool} on {self.corpus}: exit {self.exit_code}\n  $ {self.command}\n{tail}"


@dataclass
class Measurement:
    seconds: float
    peak_rss_kb: int | None


def base_environment() -> dict[str, str]:
    """The caller's environment, as a user's shell has it: without the prefilter switch,
    and with bytecode caching on (PYTHONDONTWRITEBYTECODE would make every Python tool
    compile its own sources again on every run, which no pip-installed tool does)."""
    environment = dict(os.environ)
    environment.pop(NO_PREFILTER_VARIABLE, None)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def stderr_tail(data: bytes) -> str:
    lines = data.decode(errors="replace").rstrip().splitlines()
    return "\n".join(lines[-STDERR_TAIL_LINES:])


def peak_rss_from(report: Path) -> int | None:
    """The last line of `/usr/bin/time -f %M -o report`: kilobytes (earlier lines may say how the command exited)."""
    try:
        lines = [line for line in report.read_text().splitlines() if line.strip()]
        return int(lines[-1])
    except (OSError, ValueError, IndexError):
        return None


def run_command(argv: list[str], cwd: Path, environment: dict[str, str], scratch: Path,
                capture_stdout: bool = False) -> tuple[float, int, bytes, bytes, int | None]:
    """Wall seconds, exit code, stdout (if captured), stderr and peak RSS in KB of one whole process."""
    rss_report = scratch / "peak_rss"
    rss_report.unlink(missing_ok=True)
    measured = [GNU_TIME, "-f", "%M", "-o", str(rss_report), *argv] if os.access(GNU_TIME, os.X_OK) else argv
    with open(scratch / "stdout", "w+b") as stdout, open(scratch / "stderr", "w+b") as stderr:
        start = time.perf_counter()
        completed = subprocess.run(measured, cwd=cwd, env=environment, stdin=subprocess.DEVNULL,
                                   stdout=stdout if capture_stdout else subprocess.DEVNULL, stderr=stderr)
        seconds = time.perf_counter() - start
        stdout.seek(0)
        stderr.seek(0)
        output = stdout.read() if capture_stdout else b""
        return seconds, completed.returncode, output, stderr.read(), peak_rss_from(rss_report)


def accepted(tool: Tool, exit_code: int) -> bool:
    return tool.accepted_exit_codes is None or exit_code in tool.accepted_exit_codes


def fill_warm_cache(tool: Tool, corpus: Corpus, scratch: Path) -> tuple[Path, CommandFailure | None]:
    """A fresh cache directory, written by one untimed run of the tool."""
    cache_dir = Path(tempfile.mkdtemp(prefix="dldoctor-cache-", dir=scratch))
    argv = tool.argv(corpus.path, cache_dir)
    _, exit_code, _, stderr, _ = run_command(argv, corpus.working_directory, base_environment(), scratch)
    if exit_code != 0:
        return cache_dir, CommandFailure(tool.name + " (writing the cache)", corpus.name, shlex.join(argv),
                                         exit_code, stderr_tail(stderr))
    return cache_dir, None


def timed_run(tool: Tool, corpus: Corpus, scratch: Path) -> Measurement | CommandFailure:
    cache_dir = None
    if tool.reads_warm_cache:
        cache_dir, failure = fill_warm_cache(tool, corpus, scratch)
        if failure is not None:
            return failure
    argv = tool.argv(corpus.path, cache_dir)
    try:
        seconds, exit_code, _, stderr, peak_rss_kb = run_command(argv, corpus.working_directory, base_environment(),
                                                                 scratch)
    finally:
        if cache_dir is not None:
            shutil.rmtree(cache_dir, ignore_errors=True)
    if not accepted(tool, exit_code):
        return CommandFailure(tool.name, corpus.name, shlex.join(argv), exit_code, stderr_tail(stderr))
    return Measurement(seconds, peak_rss_kb)


# --------------------------------------------------------------------------- findings check


@dataclass
class FindingsCheck:
    identical: bool
    findings: int | None = None
    differences: list[str] = field(default_factory=list)
    failure: CommandFailure | None = None


def finding_keys(report: bytes) -> list[tuple]:
    """(filename, code, row, column, message) of each finding of `--output-format json`, sorted."""
    findings = json.loads(report)
    return sorted(
        (f["filename"], f["code"], f["location"]["row"], f["location"]["column"], f["message"]) for f in findings
    )


def compare_findings(reference_name: str, reference: list[tuple], other_name: str, other: list[tuple],
                     shown: int = 5) -> list[str]:
    missing = list((Counter(reference) - Counter(other)).elements())
    extra = list((Counter(other) - Counter(reference)).elements())
    lines = [f"only with {reference_name}: {finding}" for finding in sorted(missing)[:shown]]
    lines += [f"only with {other_name}: {finding}" for finding in sorted(extra)[:shown]]
    if len(missing) > shown or len(extra) > shown:
        lines.append(f"... {len(missing)} findings only with {reference_name}, {len(extra)} only with {other_name}")
    return lines


def check_findings(dldoctor: Path, corpus: Corpus, scratch: Path) -> FindingsCheck:
    """dldoctor's findings with --no-cache, with the prefilter off, writing the cache and reading it back."""
    cache_dir = Path(tempfile.mkdtemp(prefix="dldoctor-cache-", dir=scratch))
    lint = [str(dldoctor), "lint", "--select", "ALL", "--exit-zero", "--output-format", "json"]
    no_prefilter = {**base_environment(), NO_PREFILTER_VARIABLE: "1"}
    variants = [
        ("--no-cache", [*lint, "--no-cache", str(corpus.path)], base_environment()),
        (f"{NO_PREFILTER_VARIABLE}=1", [*lint, "--no-cache", str(corpus.path)], no_prefilter),
        ("the run writing the cache", [*lint, "--cache-dir", str(cache_dir), str(corpus.path)], base_environment()),
        ("a warm cache", [*lint, "--cache-dir", str(cache_dir), str(corpus.path)], base_environment()),
    ]
    results: list[tuple[str, list[tuple]]] = []
    try:
        for name, argv, environment in variants:
            _, exit_code, stdout, stderr, _ = run_command(argv, corpus.working_directory, environment, scratch,
                                                          capture_stdout=True)
            command = shlex.join(argv)
            if environment is no_prefilter:
                command = f"{NO_PREFILTER_VARIABLE}=1 {command}"
            if exit_code != 0:
                failure = CommandFailure(f"dldoctor findings check ({name})", corpus.name, command, exit_code,
                                         stderr_tail(stderr))
                return FindingsCheck(False, failure=failure)
            try:
                results.append((name, finding_keys(stdout)))
            except (ValueError, KeyError, TypeError) as error:
                failure = CommandFailure(f"dldoctor findings check ({name})", corpus.name, command, exit_code,
                                         f"output is not the expected JSON: {error}\n" + stderr_tail(stderr))
                return FindingsCheck(False, failure=failure)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    reference_name, reference = results[0]
    differences = []
    for name, keys in results[1:]:
        differences += compare_findings(reference_name, reference, name, keys)
    return FindingsCheck(not differences, len(reference), differences)


def describe_check(check: FindingsCheck) -> str:
    if check.failure is not None:
        return "findings identical: could not check, a command failed (see Failures)"
    if check.identical:
        return f"findings identical: yes ({check.findings:,} findings)"
    return "findings identical: NO\n" + "\n".join("  " + line for line in check.differences)


# --------------------------------------------------------------------------- benchmark


@dataclass
class ToolResult:
    tool: str
    command: str
    seconds: list[float] = field(default_factory=list)
    peak_rss_kb: list[int] = field(default_factory=list)
    failure: CommandFailure | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds and self.failure is None else None


@dataclass
class CorpusResult:
    corpus: Corpus
    tools: list[ToolResult]
    check: FindingsCheck | None
    peers_note: str | None = None


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def benchmark_corpus(corpus: Corpus, tools: list[Tool], runs: int, scratch: Path) -> list[ToolResult]:
    """Run 1 of every tool, then run 2 of every tool, ...; a tool that fails is not run again."""
    results = {tool.name: ToolResult(tool.name, shlex.join(tool.argv(corpus.path, Path(CACHE_DIR))))
               for tool in tools}
    for run in range(1, runs + 1):
        for tool in tools:
            result = results[tool.name]
            if result.failure is not None:
                continue
            outcome = timed_run(tool, corpus, scratch)
            if isinstance(outcome, CommandFailure):
                result.failure = outcome
                progress(f"  {corpus.name}: run {run}/{runs} {tool.name}: FAILED, exit {outcome.exit_code} "
                         "(command and error at the end)")
                continue
            result.seconds.append(outcome.seconds)
            if outcome.peak_rss_kb is not None:
                result.peak_rss_kb.append(outcome.peak_rss_kb)
            progress(f"  {corpus.name}: run {run}/{runs} {tool.name}: {outcome.seconds:.2f} s")
    return list(results.values())


def ratio_to(seconds: float | None, baseline: float | None) -> str:
    if seconds is None or not baseline:
        return "—"
    ratio = seconds / baseline
    shown = f"{ratio:.2f}" if ratio < 0.1 else f"{ratio:.1f}"
    if shown == "1.0":
        return "1.0× (same)"
    return f"{shown}× slower" if ratio > 1 else f"{shown}× (faster)"


def per_100k_lines(seconds: float | None, lines: int) -> str:
    return f"{seconds / lines * 100_000:.2f}" if seconds is not None and lines else "—"


def markdown_table(result: CorpusResult) -> str:
    corpus = result.corpus
    baseline = next((tool.median for tool in result.tools if tool.tool == "dldoctor cold"), None)
    rows = [
        f"### {corpus.name}: {corpus.files:,} file{'s' if corpus.files != 1 else ''}, {corpus.lines:,} lines "
        f"({corpus.description})",
        "",
        "| tool | median wall (s) | min–max | s / 100k lines | peak RSS MB (largest process) "
        "| ratio to dldoctor cold |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for tool in result.tools:
        if tool.failure is not None:
            rows.append(f"| {tool.tool} | failed (exit {tool.failure.exit_code}) | | | | |")
            continue
        median = tool.median
        spread = f"{min(tool.seconds):.2f}–{max(tool.seconds):.2f}"
        rss = f"{max(tool.peak_rss_kb) / 1024:.0f}" if tool.peak_rss_kb else "n/a"
        ratio = "baseline" if tool.tool == "dldoctor cold" else ratio_to(median, baseline)
        per_lines = per_100k_lines(median, corpus.lines)
        rows.append(f"| {tool.tool} | {median:.2f} | {spread} | {per_lines} | {rss} | {ratio} |")
    if result.peers_note:
        rows += ["", result.peers_note]
    if result.check is not None:
        rows += ["", describe_check(result.check)]
    return "\n".join(rows)


def scaling_table(results: list[CorpusResult]) -> str:
    rows = [
        "### Scaling: dldoctor cold, seconds per 100k lines",
        "",
        "| corpus | files | lines | median wall (s) | s / 100k lines |",
        "|---|---:|---:|---:|---:|",
    ]
    for result in results:
        cold = next((tool for tool in result.tools if tool.tool == "dldoctor cold"), None)
        median = cold.median if cold else None
        shown = f"{median:.2f}" if median is not None else "failed"
        rows.append(f"| {result.corpus.name} | {result.corpus.files:,} | {result.corpus.lines:,} | {shown} "
                    f"| {per_100k_lines(median, result.corpus.lines)} |")
    return "\n".join(rows)


# --------------------------------------------------------------------------- machine and versions


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> str:
    head = command_output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = command_output(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])
    return f"{head}{' (uncommitted changes)' if dirty else ''}"


def machine_description() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
        "peak_rss_source": GNU_TIME if os.access(GNU_TIME, os.X_OK) else None,
    }


def tool_versions(dldoctor: Path, find) -> dict[str, str]:
    versions = {"dldoctor": f"{command_output([str(dldoctor), '--version'])}, commit {git_revision()}"}
    for name in ("ruff", "flake8", "torchfix", "fixit"):
        executable = find(name)
        if executable:
            versions[name] = command_output([executable, "--version"]).splitlines()[0]
    for package in ("torch", "tensorflow", "keras"):
        versions[f"{package} (corpus source)"] = package_version(package)
    return versions


# --------------------------------------------------------------------------- main


def parse_options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", action="append", choices=[*CORPUS_DEFINITIONS, *CORPUS_GROUPS],
                        help=f"corpus to measure, repeatable (default: {' and '.join(DEFAULT_CORPORA)})")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each tool per corpus (default 3)")
    parser.add_argument("--dldoctor", type=Path, metavar="PATH",
                        help="the dldoctor executable to measure (default: the one installed beside this Python)")
    parser.add_argument("--peers-venv", type=Path,
                        help="virtual environment holding ruff, flake8 + TorchFix, torchfix and fixit "
                             f"(default: {DEFAULT_PEERS_VENV.relative_to(REPO)} if it exists, then PATH)")
    parser.add_argument("--peers-on-all", action="store_true",
                        help=f"run the peers on every corpus, not only those of up to {PEERS_MAX_LINES:,} lines")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write every raw number to this file")
    parser.add_argument("--limit-files", type=int, help=argparse.SUPPRESS)  # smoke test: first N files of each corpus
    options = parser.parse_args(argv)
    if options.runs < 1:
        parser.error("--runs must be at least 1")
    if options.dldoctor is not None:
        options.dldoctor = options.dldoctor.absolute()  # the tools run from each corpus's directory
        if not os.access(options.dldoctor, os.X_OK):
            parser.error(f"--dldoctor {options.dldoctor}: not an executable file")
    if options.peers_venv is not None:
        options.peers_venv = options.peers_venv.absolute()
    elif DEFAULT_PEERS_VENV.is_dir():
        options.peers_venv = DEFAULT_PEERS_VENV
    if options.peers_venv is not None and not (options.peers_venv / "bin").is_dir():
        parser.error(f"--peers-venv {options.peers_venv}: no bin/ directory there")
    return options


def corpus_names(requested: list[str] | None) -> list[str]:
    names: list[str] = []
    for name in requested or DEFAULT_CORPORA:
        for member in CORPUS_GROUPS.get(name, [name]):
            if member not in names:
                names.append(member)
    return names


def print_header(machine: dict[str, object], versions: dict[str, str], runs: int, peer_notes: list[str]) -> None:
    load = ", ".join(str(value) for value in machine["load_average_at_start"])
    print(f"machine: {machine['cpus']} CPUs, {machine['cpu_model']}; Python {machine['python']}; "
          f"load average at start {load}")
    for name, version in versions.items():
        print(f"{name}: {version}")
    for note in peer_notes:
        print(f"peer skipped: {note}")
    print(f"wall time of the whole process, median of {runs} runs, tools alternating run by run\n")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    dldoctor = options.dldoctor or default_dldoctor()
    find = peer_finder(options.peers_venv)
    peers, peer_notes = peer_tools(find)
    machine = machine_description()
    versions = tool_versions(dldoctor, find)
    print_header(machine, versions, options.runs, peer_notes)

    results: list[CorpusResult] = []
    CORPORA_DIR.mkdir(parents=True, exist_ok=True)
    # Caches and captured output go on the disk of the corpora, as a project's cache would.
    with tempfile.TemporaryDirectory(prefix="scratch-", dir=CORPORA_DIR) as scratch_name:
        scratch = Path(scratch_name)
        one_file = one_file_corpus()
        results.append(CorpusResult(one_file, benchmark_corpus(one_file, dldoctor_one_file_tools(dldoctor),
                                                               options.runs, scratch), None))
        print(markdown_table(results[-1]) + "\n", flush=True)
        for name in corpus_names(options.corpus):
            corpus = build_corpus(CORPUS_DEFINITIONS[name], options.limit_files)
            if corpus is None:
                continue
            progress(f"{corpus.name}: {corpus.files:,} files, {corpus.lines:,} lines in {corpus.path}")
            check = check_findings(dldoctor, corpus, scratch)
            progress(f"  {corpus.name}: {describe_check(check).splitlines()[0]}")
            tools = dldoctor_tools(dldoctor) + reference_tools(dldoctor)
            peers_note = None
            if peers and (options.peers_on_all or corpus.lines <= PEERS_MAX_LINES):
                tools += peers
            elif peers:
                peers_note = (f"peers not run: {corpus.lines:,} lines is over {PEERS_MAX_LINES:,} "
                              "(--peers-on-all runs them)")
            results.append(CorpusResult(corpus, benchmark_corpus(corpus, tools, options.runs, scratch), check,
                                        peers_note))
            print(markdown_table(results[-1]) + "\n", flush=True)

    corpus_results = [result for result in results if result.corpus.is_directory]
    if len(corpus_results) > 1:
        print(scaling_table(corpus_results) + "\n")
    failures = [tool.failure for result in results for tool in result.tools if tool.failure is not None]
    failures += [result.check.failure for result in results if result.check and result.check.failure]
    if failures:
        print("### Failures\n")
        for failure in failures:
            print(failure.describe() + "\n")
    if options.json:
        write_json(options.json, machine, versions, options, results)
        print(f"raw numbers written to {options.json}")
    different = any(result.check and not result.check.identical and not result.check.failure for result in results)
    return 1 if failures or different else 0


def write_json(path: Path, machine: dict[str, object], versions: dict[str, str], options: argparse.Namespace,
               results: list[CorpusResult]) -> None:
    document = {
        "machine": machine,
        "versions": versions,
        "runs": options.runs,
        "limit_files": options.limit_files,
        "corpora": [
            {
                "name": result.corpus.name,
                "description": result.corpus.description,
                "path": str(result.corpus.path),
                "files": result.corpus.files,
                "lines": result.corpus.lines,
                "peers_note": result.peers_note,
                "findings_check": asdict(result.check) if result.check else None,
                "tools": [{**asdict(tool), "median_seconds": tool.median} for tool in result.tools],
            }
            for result in results
        ],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
