"""The `examples/graph/` walk-through, as its README tells it: `graph run` on the growing loop, `graph meta` on the
checkpoints a plain run leaves (and with one of them cut short), `graph run` on the fixed loop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import clean_env
from test_graph_helpers import graph, line_of

ROOT = Path(__file__).resolve().parent.parent
GROW = ROOT / "examples" / "graph" / "grow.py"
README = (ROOT / "examples" / "graph" / "README.md").read_text(encoding="utf-8")


def test_graph_run_names_the_summary_built_in_the_loop(tmp_path):
    run = graph("run", "examples/graph/grow.py", "--quiet", "--", str(tmp_path / "run"), cwd=ROOT)
    assert run.returncode == 1, run.stdout + run.stderr
    bad = line_of(GROW, "loss_summary = tf.summary.scalar(")
    assert f"  1. examples/graph/grow.py:{bad} in <module>: " in run.stdout
    assert "→ create the scalar summary once, before the loop, on the tensor it reports" in run.stdout
    assert run.lines[-1].startswith("verdict: FAIL: graph 1 grows by ")
    assert f"(new tf.summary.scalar ops), created at examples/graph/grow.py:{bad}" in run.lines[-1]
    assert f"examples/graph/grow.py:{bad} in <module>" in README and "(new tf.summary.scalar ops)" in README


def test_graph_meta_on_the_checkpoints_then_with_one_cut_short(tmp_path):
    train = tmp_path / "train"
    subprocess.run([sys.executable, str(GROW), str(train)], check=True, capture_output=True, env=clean_env(), timeout=180)
    run = graph("meta", str(train), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "(5 .meta file(s))" in run.stdout and "Const x16, ScalarSummary x16" in run.stdout
    assert run.lines[-1] == "verdict: FAIL: the graph saved with each checkpoint grows (new tf.summary.scalar ops)"
    last = train / "model.ckpt-160.meta"
    last.write_bytes(last.read_bytes()[:5000])  # as `head -c 5000` in the README
    run = graph("meta", str(train), "--json", cwd=tmp_path)
    analysis = run.json()["facts"]["analysis"]
    assert analysis["last"].endswith("model.ckpt-120.meta") and analysis["unreadable"][0][1].startswith("truncated: 5,000 bytes")
    assert analysis["growing"] and run.returncode == 1


def test_the_fixed_loop_is_ok(tmp_path):
    run = graph("run", "examples/graph/grow_fixed.py", "--quiet", "--", str(tmp_path / "run"), cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "✓ graph 1: stable, 68 ops over 227 Session.run calls (finalized)" in run.stdout
    assert run.lines[-1] == "verdict: OK: the graph does not grow"
