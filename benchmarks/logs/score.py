"""Precision and recall of `dldoctor logs` per diagnosis on the labelled runs of runs.py, per split.

    python benchmarks/logs/score.py [RUNS_DIR]     # generates the runs first when RUNS_DIR has no labels.json

The tuning runs (the thresholds were set on them) and the held-out runs (another data set,
other models, seeds and tag names, never looked at to set a number) are scored apart;
the held-out table is the figure to quote.

A diagnosis counts as found on a run when a check of that id warns or fails there.
On a run labelled with it: a true positive (a miss where it is absent); on a run not
labelled with it and where it is not allowed: a false alarm. Healthy runs carry no
label, so every diagnosis on them is a false alarm (the goal: 0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def found_ids(run_dir: str) -> set[str]:
    """The ids that warn or fail on one run, from `dldoctor logs --json` (the command users run)."""
    result = subprocess.run([sys.executable, "-m", "dldoctor", "logs", run_dir, "--json"], capture_output=True,
                            text=True, cwd=REPO)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"dldoctor logs {run_dir}: exit {result.returncode}: {result.stderr}")
    document = json.loads(result.stdout)
    return ids_of(document["checks"])


def ids_of(checks) -> set[str]:
    """The ids that warn or fail, and `logs.divergence@warmup` where a divergence is tied to the warm-up."""
    out = set()
    for check in checks:
        check = check if isinstance(check, dict) else check.to_json()
        if check["status"] in ("warn", "fail") and check["id"] != "logs.read":
            out.add(check["id"])
            evidence = check.get("evidence") or {}
            if evidence.get("after_warmup") or evidence.get("during_warmup"):
                out.add(check["id"] + "@warmup")
    return out


def score(runs_dir: str, found=found_ids, split: str = None) -> dict:
    with open(os.path.join(runs_dir, "labels.json"), encoding="utf-8") as handle:
        labels = [label for label in json.load(handle) if split is None or label.get("split", "tuning") == split]
    per_run, table = [], {}
    for label in labels:
        ids = found(os.path.join(runs_dir, label["name"]))
        # "a|b": the cause is named by either id; it is scored as the first, and the other is not a false alarm
        expected, allowed = set(), set(label["allowed"])
        for entry in label["expected"]:
            choices = entry.split("|")
            expected.add(choices[0])
            allowed.update(choices[1:])
            if any(choice in ids for choice in choices):
                ids = ids | {choices[0]}
        if any(e.startswith("logs.divergence@") for e in expected):
            allowed.add("logs.divergence")  # the detail is what is scored; the divergence itself is implied
        per_run.append({"run": label["name"], "expected": sorted(expected), "found": sorted(ids),
                        "missed": sorted(expected - ids), "false_alarms": sorted(ids - expected - allowed)})
        for check_id in ids | expected:
            row = table.setdefault(check_id, {"tp": 0, "fp": 0, "fn": 0})
            if check_id in expected:
                row["tp" if check_id in ids else "fn"] += 1
            elif check_id not in allowed:
                row["fp"] += 1
    healthy = [r for r in per_run if not r["expected"]]
    return {"runs": per_run, "diagnoses": table,
            "healthy_false_alarms": sum(len(r["false_alarms"]) for r in healthy), "healthy_runs": len(healthy)}


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "-"


def main() -> None:
    runs_dir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="dldoctor-logs-runs-")
    if not os.path.exists(os.path.join(runs_dir, "labels.json")):
        sys.path.insert(0, HERE)
        import runs

        runs.generate(runs_dir)
    cache: dict = {}

    def found(run_dir: str) -> set[str]:
        if run_dir not in cache:
            cache[run_dir] = found_ids(run_dir)
        return cache[run_dir]

    for split in ("tuning", "held-out"):
        print(f"== {split} ==")
        table(score(runs_dir, found, split))
        print()


def table(result: dict) -> None:
    for run in result["runs"]:
        mark = "ok " if not run["missed"] and not run["false_alarms"] else "BAD"
        print(f"{mark} {run['run']:30} expected {', '.join(run['expected']) or '-':22} "
              f"found {', '.join(run['found']) or '-'}")
    print()
    print(f"{'diagnosis':26} {'tp':>3} {'fp':>3} {'fn':>3}  precision  recall")
    total = {"tp": 0, "fp": 0, "fn": 0}
    for check_id, row in sorted(result["diagnoses"].items()):
        for key in total:
            total[key] += row[key]
        print(f"{check_id:26} {row['tp']:>3} {row['fp']:>3} {row['fn']:>3}  {_ratio(row['tp'], row['tp'] + row['fp']):>9}"
              f"  {_ratio(row['tp'], row['tp'] + row['fn']):>6}")
    print(f"{'all':26} {total['tp']:>3} {total['fp']:>3} {total['fn']:>3}  "
          f"{_ratio(total['tp'], total['tp'] + total['fp']):>9}  {_ratio(total['tp'], total['tp'] + total['fn']):>6}")
    print(f"false alarms on {result['healthy_runs']} healthy runs: {result['healthy_false_alarms']}")
    print("false alarms on labelled runs (ids neither expected nor allowed there): "
          f"{sum(len(r['false_alarms']) for r in result['runs'] if r['expected'])}")


if __name__ == "__main__":
    main()
