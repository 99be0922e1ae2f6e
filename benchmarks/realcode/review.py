r"""Score `dldoctor lint` on the reviewed corpus of public deep-learning repositories.

REVIEW.tsv (beside this script) holds, for each repository at a pinned commit, every
finding `dldoctor lint --select ALL` made there, read and judged by a person: `tp` (the
bug the rule describes), `fp` (a false alarm), `debatable`, and `fn` rows for true
bugs a rule should have reported and did not. Only the review is committed; the
repositories' code never is.

    # once: put each reviewed commit in benchmarks/realcode/.repos/ (git-ignored)
    .venv/bin/python benchmarks/realcode/review.py extract OWNER/NAME GIT_DIR
    # then, after any rule change:
    .venv/bin/python benchmarks/realcode/review.py score

`extract` copies the recorded commit out of a git directory (a clone or a mirror)
with `git archive`; `score` fetches nothing: it lints every local copy and prints, per
repository and in total, the lines linted, the findings by verdict, precision, recall
on the reviewed true sites (tp and fn rows), false alarms per 100,000 lines, and every
finding the review has not judged yet (exit 1 while there is one: a rule change lands
when every finding it makes here has been read).

The review was made against the library versions installed beside this script's
interpreter (the project's `.venv`: torch 2.13, TensorFlow 2.21, NumPy 2, Keras 3), so
`score` lints with `--python` naming that interpreter: the versions a repository
pins (`tensorflow==1.15` in its requirements.txt) or asserts do not move the findings
the review judged. Findings whose rules depend on versions are judged against those.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REVIEW = HERE / "REVIEW.tsv"
REPOS = HERE / ".repos"
COLUMNS = ["repo", "commit", "path", "cell", "line", "code", "verdict", "reason"]
VERDICTS = {"tp", "fp", "debatable", "fn"}


def read_review(path: Path = REVIEW) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for number, row in enumerate(rows, start=2):
        if list(row) != COLUMNS or row["verdict"] not in VERDICTS:
            raise SystemExit(f"{path}:{number}: expected columns {COLUMNS} and a verdict in {sorted(VERDICTS)}")
    return rows


def local_copy(repo: str) -> Path:
    return REPOS / repo.replace("/", "__")


def key(repo: str, path: str, cell, line, code: str) -> tuple:
    return repo, path, str(cell or ""), int(line), code


def lint(repo: str) -> list[tuple]:
    """The keys of every finding `dldoctor lint --select ALL` makes in the local copy."""
    root = local_copy(repo)
    done = subprocess.run(
        [sys.executable, "-m", "dldoctor", "lint", "--no-cache", "--select", "ALL", "--output-format", "json",
         "--python", sys.executable, "."],
        cwd=root, capture_output=True, text=True,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"{repo}: dldoctor lint exited {done.returncode}: {done.stderr.strip()[-500:]}")
    found = []
    for finding in json.loads(done.stdout):
        path = os.path.relpath(finding["filename"], root) if os.path.isabs(finding["filename"]) else finding["filename"]
        found.append(key(repo, Path(path).as_posix(), finding.get("cell"), finding["location"]["row"], finding["code"]))
    return found


def lines_of_code(repo: str) -> int:
    """Lines of the Python files and of the notebooks' code cells, as `lint` walks them."""
    from dldoctor.lint import discovery

    root = local_copy(repo)
    total = 0
    for item in discovery.discover([str(root)], discovery.Excluder([], root)):
        if isinstance(item, discovery.Skipped):
            continue
        try:
            if item.endswith(".ipynb"):
                cells = json.loads(Path(item).read_text(encoding="utf-8")).get("cells", [])
                for cell in cells:
                    if isinstance(cell, dict) and cell.get("cell_type") == "code":
                        source = cell.get("source", "")
                        total += len(source) if isinstance(source, list) else source.count("\n") + 1
            else:
                with open(item, "rb") as handle:
                    total += handle.read().count(b"\n")
        except (OSError, ValueError):
            continue
    return total


def score(rows: list[dict]) -> int:
    repos = sorted({row["repo"] for row in rows})
    missing = [repo for repo in repos if not local_copy(repo).is_dir()]
    if missing:
        raise SystemExit(
            "no local copy of " + ", ".join(missing) + f" in {REPOS}: run `review.py extract OWNER/NAME GIT_DIR` first"
        )
    verdict = {key(r["repo"], r["path"], r["cell"], r["line"], r["code"]): r["verdict"] for r in rows}
    totals: Counter = Counter()
    unreviewed: list[tuple] = []
    print("| repository | lines | findings | tp | fp | debatable | unreviewed | true sites found |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for repo in repos:
        found = set(lint(repo))
        lines = lines_of_code(repo)
        counts = Counter(verdict.get(site, "unreviewed") for site in found)
        true_sites = [site for site, judged in verdict.items() if site[0] == repo and judged in ("tp", "fn")]
        found_true = sum(site in found for site in true_sites)
        unreviewed += sorted(site for site in found if site not in verdict)
        print(
            f"| {repo} | {lines:,} | {len(found)} | {counts['tp'] + counts['fn']} | {counts['fp']} | {counts['debatable']} "
            f"| {counts['unreviewed']} | {found_true}/{len(true_sites)} |"
        )
        totals.update(counts)
        totals.update({"lines": lines, "findings": len(found), "true_sites": len(true_sites), "found_true": found_true})
    tp, fp = totals["tp"] + totals["fn"], totals["fp"]
    print(
        f"| **total** | {totals['lines']:,} | {totals['findings']} | {tp} | {fp} | {totals['debatable']} "
        f"| {totals['unreviewed']} | {totals['found_true']}/{totals['true_sites']} |"
    )
    print()
    precision = tp / (tp + fp) if tp + fp else 1.0
    strict = tp / (tp + fp + totals["debatable"]) if tp + fp + totals["debatable"] else 1.0
    recall = totals["found_true"] / totals["true_sites"] if totals["true_sites"] else 1.0
    per_100k = fp / totals["lines"] * 100_000 if totals["lines"] else 0.0
    print(f"precision {precision:.3f} (debatable counted as false: {strict:.3f}); recall on reviewed true sites {recall:.3f}")
    print(f"false alarms per 100,000 lines: {per_100k:.2f} ({fp} in {totals['lines']:,} lines)")
    for site in unreviewed:
        repo, path, cell, line, code = site
        print(f"unreviewed: {repo} {path}{':cell ' + cell if cell else ''}:{line} {code}")
    return 1 if unreviewed else 0


def extract(repo: str, git_dir: str, rows: list[dict]) -> None:
    commits = {row["commit"] for row in rows if row["repo"] == repo}
    if len(commits) != 1:
        raise SystemExit(f"{repo}: the review records {len(commits)} commits for it (expected one)")
    [commit] = commits
    target = local_copy(repo)
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.Popen(["git", "--git-dir", git_dir, "archive", "--format=tar", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(target)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise SystemExit(f"{repo}: git archive of {commit} failed")
    print(f"{repo} @ {commit[:12]} -> {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("score", help="lint the local copies and score the findings against the review")
    take = commands.add_parser("extract", help="copy a reviewed commit out of a git directory")
    take.add_argument("repo")
    take.add_argument("git_dir")
    arguments = parser.parse_args()
    rows = read_review()
    if arguments.command == "extract":
        extract(arguments.repo, arguments.git_dir, rows)
    else:
        sys.exit(score(rows))


if __name__ == "__main__":
    main()
