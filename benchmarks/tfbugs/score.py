r"""Score `dldoctor lint` on the real TensorFlow program bugs of Zhang et al. (ISSTA 2018).

The collection (GitHub `ForeverZyh/TensorFlow-Program-Bugs`) holds reproduced bugs from
Stack Overflow questions and GitHub projects, each as a buggy and a fixed version of the
program, named by root cause: APIC (API change), APIM (API misuse), CCM (confusion with
the computation model), IPS (incorrect model parameter or structure), SI (structure
inefficiency), UT (unaligned tensor) and Others. Each subject asserts the TensorFlow
version it reproduces on (1.8 unless it says otherwise).

Two files beside this script are the committed judgement; the programs' code never is:

* REVIEW.tsv, one row per subject: whether the bug can be seen in the code without
  running it and without knowing the data (`visible`), the bug's pattern (`family`), the
  rule that should name it (`expected_rule`, `none` where no rule covers it yet,
  alternatives joined by `|`), where it is in the buggy version (`buggy_site`,
  `path:line[-line]` joined by `;`), whether that rule landed there when the review was
  made (`detected`) and how many findings in the fixed version are false alarms
  (`fix_findings_fp`).
* FINDINGS.tsv: every finding lint makes on either version, judged `tp` (a true
  problem of that code) or `fp` (a false alarm), with the reason.

    # once: copy the subjects out of a clone or mirror of the collection
    .venv/bin/python benchmarks/tfbugs/score.py extract [GIT_DIR]
    # then, after any rule change:
    .venv/bin/python benchmarks/tfbugs/score.py score

`score` lints, in each version, the Python files and notebooks that differ between the
buggy and the fixed program (the rest of a vendored project is the same code in both
and holds no bug of the subject), with `--target-version tensorflow=` the version the
review records for that version and the era's NumPy, SciPy, Pillow, Keras and
matplotlib (ERA_VERSIONS). It prints the subjects, the visible ones, the visible
ones detected (recall on visible bugs) in total, per cause and per family, the false
alarms in the fixed versions and in all, every subject whose detection differs from the
review, and every finding FINDINGS.tsv has not judged (exit 1 while there is one).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REVIEW = HERE / "REVIEW.tsv"
FINDINGS = HERE / "FINDINGS.tsv"
SUBJECTS = HERE / ".subjects"
DEFAULT_GIT_DIR = "/work/.mirror/ForeverZyh+TensorFlow-Program-Bugs/repo/.git"
REVIEW_COLUMNS = ["subject", "cause", "tf_version", "visible", "family", "expected_rule", "buggy_site", "detected",
                  "fix_findings_fp", "note"]
FINDING_COLUMNS = ["subject", "version", "path", "line", "code", "verdict", "reason"]
VERSIONS = ("buggy", "fix")
LINTED = (".py", ".ipynb")
# What `extract` copies: the programs and the text that says how they run. Data files
# (images, arrays, records, checkpoints) are left in the git directory.
KEPT = (".py", ".ipynb", ".md", ".txt", ".sh", ".rst", ".cfg", ".ini", ".yml", ".yaml", ".json", ".config")
KEPT_NAMES = ("README", "readme", "BUILD", "WORKSPACE")
MAX_BYTES = 1_000_000
DEFAULT_TF = "1.8"
# The rest of the environment the subjects were reproduced in (installs of 2016-2018):
# without these, lint would judge them against the NumPy 2 and SciPy installed here
# and report `np.float` or `scipy.misc.imread`, which those programs' environments had.
ERA_VERSIONS = ("numpy=1.14", "scipy=1.0", "pillow=5.1", "keras=2.1", "matplotlib=2.2")


# --- the collection ------------------------------------------------------------------

def subject_dirs(root: Path = SUBJECTS) -> dict[str, Path]:
    """`StackOverflow/APIC-2` -> its directory, for every subject copied out."""
    found = {}
    for source in ("StackOverflow", "Github"):
        for directory in sorted((root / source).glob("*-*")):
            if directory.is_dir():
                found[f"{source}/{directory.name}"] = directory
    return found


def version_root(directory: Path, version: str) -> Path | None:
    """The buggy or fixed program of a subject: its one child named `*-buggy` / `*-fix`."""
    matches = sorted(child for child in directory.iterdir() if child.is_dir() and child.name.endswith(f"-{version}"))
    return matches[0] if len(matches) == 1 else None


def program_files(root: Path) -> dict[str, bytes]:
    files = {}
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in LINTED:
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def changed_files(directory: Path) -> tuple[Path, Path, list[str]]:
    buggy, fix = version_root(directory, "buggy"), version_root(directory, "fix")
    if buggy is None or fix is None:
        raise SystemExit(f"{directory}: expected one *-buggy and one *-fix directory")
    old, new = program_files(buggy), program_files(fix)
    changed = sorted(path for path in old.keys() | new.keys() if old.get(path) != new.get(path))
    return buggy, fix, changed


# `assert tf.__version__ == "1.8.0"`, `assert tf.__version__[:len("0.12.")] == "0.12."`, and
# the comment the 0.5/0.7 subjects carry instead (those releases had no __version__).
_ASSERTIONS = [
    re.compile(r"__version__\s*==\s*['\"](\d+)\.(\d+)"),
    re.compile(r"__version__\[:len\(['\"](\d+)\.(\d+)\.['\"]\)\]\s*==\s*['\"]\d+\.\d+\.['\"]"),
    re.compile(r"#\s*(\d+)\.(\d+)\.\d+ version tensorflow even does not have"),
]


def asserted_version(directory: Path, version: str) -> str:
    """The TensorFlow release a version's own assertion (or its test script's) names."""
    root = version_root(directory, version)
    texts = [path.read_text(errors="replace") for path in sorted(root.glob("*.py"))] if root else []
    script = directory / "test_script.py"
    if script.is_file():
        texts.append(script.read_text(errors="replace"))
    for text in texts:
        for pattern in _ASSERTIONS:
            match = pattern.search(text)
            if match:
                return f"{int(match.group(1))}.{int(match.group(2))}"
    return DEFAULT_TF


def extract(git_dir: str) -> None:
    """Copy every subject's programs out of the git directory (missing large blobs are skipped)."""
    done = subprocess.run(
        ["git", "--git-dir", git_dir, "ls-tree", "-r", "-l", "HEAD", "StackOverflow", "Github"],
        capture_output=True, text=True,
    )
    if done.returncode != 0 or not done.stdout:
        raise SystemExit(f"{git_dir}: not a git directory of the collection ({done.stderr.strip()[:200] or 'no subjects'})")
    listing = done.stdout
    wanted = []
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        _mode, kind, sha, size = meta.split()
        name = path.rsplit("/", 1)[-1]
        if kind != "blob" or not size.isdigit() or int(size) > MAX_BYTES:
            continue
        if name.endswith(KEPT) or name.startswith(KEPT_NAMES):
            wanted.append((sha, path))
    batch = subprocess.Popen(["git", "--git-dir", git_dir, "cat-file", "--batch"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)

    def feed() -> None:  # from a thread: the answers fill the pipe while the questions are still written
        batch.stdin.write("".join(f"{sha}\n" for sha, _ in wanted).encode())
        batch.stdin.close()

    writer = threading.Thread(target=feed)
    writer.start()
    written = missing = 0
    for sha, path in wanted:
        header = batch.stdout.readline().decode().split()
        if len(header) < 3:
            missing += 1
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)
        target = SUBJECTS / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written += 1
    writer.join()
    batch.wait()
    print(f"{written} files of {len(subject_dirs())} subjects -> {SUBJECTS}" + (f" ({missing} blobs absent)" if missing else ""))


# --- the review ----------------------------------------------------------------------

def read_tsv(path: Path, columns: list[str]) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    for number, row in enumerate(rows, start=2):
        if list(row) != columns or None in row.values():
            raise SystemExit(f"{path}:{number}: expected the columns {columns}")
    return rows


def review_versions(row: dict | None, directory: Path) -> dict[str, str]:
    """`1.8` for both versions, or `0.12/1.0` for buggy/fix; unreviewed subjects use their assertions."""
    if row is None:
        return {version: asserted_version(directory, version) for version in VERSIONS}
    parts = row["tf_version"].split("/")
    return dict(zip(VERSIONS, parts if len(parts) == 2 else parts * 2))


def sites(text: str) -> list[tuple[str, int, int]]:
    found = []
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        path, _, lines = part.rpartition(":")
        first, _, last = lines.partition("-")
        found.append((path, int(first), int(last or first)))
    return found


# --- linting -------------------------------------------------------------------------

def lint(paths: list[str], tf_version: str) -> list[dict]:
    """Every finding in the named files (relative to SUBJECTS), against one TensorFlow release."""
    if not paths:
        return []
    done = subprocess.run(
        [sys.executable, "-m", "dldoctor", "lint", "--select", "ALL", "--no-cache", "--output-format", "json",
         "--isolated", "--no-respect-gitignore", "--target-version", f"tensorflow={tf_version}",
         *(option for pin in ERA_VERSIONS for option in ("--target-version", pin)), *paths],
        cwd=SUBJECTS, capture_output=True, text=True,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"dldoctor lint exited {done.returncode}: {done.stderr.strip()[-500:]}")
    findings = []
    for finding in json.loads(done.stdout):
        path = finding["filename"]
        path = os.path.relpath(path, SUBJECTS) if os.path.isabs(path) else path
        cell = finding.get("cell")
        findings.append({"path": Path(path).as_posix() + (f"#cell{cell}" if cell else ""),
                         "line": finding["location"]["row"], "code": finding["code"],
                         "message": finding.get("message", "")})
    return findings


def lines_of(root: Path, files: list[str]) -> int:
    return sum((root / path).read_bytes().count(b"\n") for path in files if (root / path).is_file())


def source_line(root: Path, path: str, line: int) -> str:
    try:
        return (root / path.split("#cell")[0]).read_text(errors="replace").splitlines()[line - 1].strip()
    except (OSError, IndexError):
        return ""


def run_all(subjects: dict[str, Path], reviewed: dict[str, dict]) -> dict[str, dict]:
    """Lint both versions of every subject: one lint run per TensorFlow release, as start-up dominates."""
    results, batches = {}, defaultdict(list)
    for name, directory in sorted(subjects.items()):
        buggy, fix, changed = changed_files(directory)
        roots = {"buggy": buggy, "fix": fix}
        versions = review_versions(reviewed.get(name), directory)
        results[name] = {"roots": roots, "changed": changed, "versions": versions,
                         "findings": {version: [] for version in VERSIONS},
                         "lines": sum(lines_of(roots[version], changed) for version in VERSIONS)}
        for version in VERSIONS:
            prefix = roots[version].relative_to(SUBJECTS).as_posix() + "/"
            batches[versions[version]] += [(prefix + path, name, version, prefix) for path in changed
                                           if (roots[version] / path).is_file()]
    owner = {}
    for entries in batches.values():
        owner.update({path: (name, version, prefix) for path, name, version, prefix in entries})
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.map(lambda item: lint([entry[0] for entry in item[1]], item[0]), sorted(batches.items()))
        for findings in runs:
            for finding in findings:
                name, version, prefix = owner[finding["path"].split("#cell")[0]]
                finding["path"] = finding["path"][len(prefix):]
                results[name]["findings"][version].append(finding)
    return results


# --- scoring -------------------------------------------------------------------------

def ratio(hit: int, total: int) -> str:
    return f"{hit}/{total} ({hit / total:.0%})" if total else "0/0"


def score(show_all: bool = False) -> int:
    subjects = subject_dirs()
    if not subjects:
        raise SystemExit(f"no subjects in {SUBJECTS}: run `score.py extract` first")
    reviewed = {row["subject"]: row for row in read_tsv(REVIEW, REVIEW_COLUMNS)}
    # One row per finding: two findings of one rule on one line have two rows, in the
    # order lint reports them (by column), and are matched to them in that order.
    judged: dict[tuple, list[dict]] = defaultdict(list)
    for r in read_tsv(FINDINGS, FINDING_COLUMNS):
        judged[(r["subject"], r["version"], r["path"], int(r["line"]), r["code"])].append(r)
    results = run_all(subjects, reviewed)

    unjudged, false_alarms, changes = [], [], []
    per_cause: dict[str, Counter] = defaultdict(Counter)
    per_family: dict[str, Counter] = defaultdict(Counter)
    verdicts: Counter = Counter()
    total_lines = 0
    for name, result in results.items():
        total_lines += result["lines"]
        row = reviewed.get(name)
        for version in VERSIONS:
            seen: Counter = Counter()
            for finding in result["findings"][version]:
                key = (name, version, finding["path"], finding["line"], finding["code"])
                rows = judged.get(key, [])
                judgement = rows[seen[key]] if seen[key] < len(rows) else None
                seen[key] += 1
                if judgement is None:
                    unjudged.append((key, finding, result["roots"][version]))
                    continue
                verdicts[(version, judgement["verdict"])] += 1
                if judgement["verdict"] == "fp":
                    false_alarms.append((key, judgement["reason"]))
        if row is None:
            continue
        cause = name.split("/")[1].rsplit("-", 1)[0]
        visible = row["visible"] == "yes"
        expected = set(row["expected_rule"].split("|")) - {"none"}
        hit = visible and any(
            finding["code"] in expected and finding["path"] == path and first <= finding["line"] <= last
            for finding in result["findings"]["buggy"] for path, first, last in sites(row["buggy_site"])
        )
        for table, group in ((per_cause, cause), (per_family, row["family"])):
            table[group].update({"subjects": 1, "visible": int(visible), "detected": int(hit)})
        if visible and hit != (row["detected"] == "yes"):
            changes.append(f"{name}: review says detected={row['detected']}, lint now {'detects' if hit else 'misses'} it "
                           f"({row['family']}, {row['expected_rule']} at {row['buggy_site']})")

    missing = sorted(set(subjects) - set(reviewed))
    totals = Counter()
    for counts in per_cause.values():
        totals.update(counts)
    print(f"subjects: {len(subjects)} ({len(reviewed)} reviewed), changed lines linted: {total_lines:,}")
    print(f"visible statically: {totals['visible']}; detected among visible: {ratio(totals['detected'], totals['visible'])}")
    print()
    print("| cause | subjects | visible | detected |")
    print("|---|---:|---:|---:|")
    for cause in sorted(per_cause):
        counts = per_cause[cause]
        print(f"| {cause} | {counts['subjects']} | {counts['visible']} | {ratio(counts['detected'], counts['visible'])} |")
    print()
    print("| family (visible) | subjects | detected |")
    print("|---|---:|---:|")
    for family, counts in sorted(per_family.items(), key=lambda item: (-item[1]["visible"], item[0])):
        if counts["visible"]:
            print(f"| {family} | {counts['visible']} | {ratio(counts['detected'], counts['visible'])} |")
    print()
    fix_fp = sum(1 for key, _ in false_alarms if key[1] == "fix")
    print(f"findings judged: buggy {verdicts[('buggy', 'tp')]} tp / {verdicts[('buggy', 'fp')]} fp, "
          f"fixed {verdicts[('fix', 'tp')]} tp / {verdicts[('fix', 'fp')]} fp")
    print(f"false alarms in fixed versions: {fix_fp}; in all: {len(false_alarms)}")
    per_rule = Counter(key[4] for key, _ in false_alarms)
    for code, count in sorted(per_rule.items()):
        fixed = sum(1 for key, _ in false_alarms if key[4] == code and key[1] == "fix")
        print(f"  {code}: {count} false alarms ({fixed} in fixed versions)")
    for (name, version, path, line, code), reason in false_alarms:
        print(f"  false alarm: {name} {version} {path}:{line} {code}: {reason}")
    for change in changes:
        print(f"changed: {change}")
    for name in missing:
        print(f"unreviewed subject: {name}")
    for (name, version, path, line, code), finding, root in unjudged:
        print(f"unjudged: {name}\t{version}\t{path}\t{line}\t{code}\t{finding['message'][:160]}"
              + (f"\t| {source_line(root, path, line)[:120]}" if show_all else ""))
    return 1 if unjudged or missing else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("extract", help="copy the subjects out of a git directory of the collection")
    take.add_argument("git_dir", nargs="?", default=DEFAULT_GIT_DIR)
    run = commands.add_parser("score", help="lint both versions of every subject and score them against the review")
    run.add_argument("--source", action="store_true", help="show the source line of each unjudged finding")
    arguments = parser.parse_args()
    if arguments.command == "extract":
        extract(arguments.git_dir)
    else:
        sys.exit(score(arguments.source))


if __name__ == "__main__":
    main()
