"""`dldoctor graph run` on real TF2 (tf.function) and PyTorch scripts."""

from __future__ import annotations

import pytest

from test_graph_helpers import graph, line_of, script
from verdictutil import assert_valid_report

RETRACE = """\
import tensorflow as tf

@tf.function
def scaled(x, factor):
    return x * factor

x = tf.ones([4])
for step in range(40):
    scaled(x, 0.5 + step * 0.1)

for step in range(40):
    square = tf.function(lambda t: t * t)
    square(x)
"""

NO_RETRACE = """\
import tensorflow as tf

@tf.function
def scaled(x, factor):
    return x * factor

x = tf.ones([4])
for step in range(40):
    scaled(x, tf.constant(0.5 + step * 0.1))
print("done")
"""

TORCH_LOOP = """\
import torch

def train(steps):
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    total = 0
    for step in range(steps):
        loss = model(torch.randn(16, 8)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss{suffix}
    return total

print("mean loss", float(train(200)) / 200)
"""


def test_tf2_function_retracing_on_python_floats(tmp_path):
    path = script(tmp_path, "train.py", RETRACE)
    run = graph("run", "train.py", "--steps", "10", "--json", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    data = run.json()
    retraces = {r["kind"]: r for r in data["facts"]["analysis"]["tf2"]}
    scaled = retraces["retrace"]
    assert scaled["name"] == "scaled" and scaled["traces"] == scaled["calls"] >= 10
    assert scaled["defined"]["line"] == line_of(path, "@tf.function")
    (reason,) = scaled["reasons"]
    assert reason[0] == "python" and "argument 2 is a Python float" in reason[1] and "0.6" in reason[1]
    finding = data["checks"][0]
    assert "tf.constant" in finding["fix"][0]


def test_tf2_function_created_in_a_loop(tmp_path):
    path = script(tmp_path, "train.py", RETRACE.replace("range(40):\n    scaled", "range(2):\n    scaled"))
    run = graph("run", "train.py", "--steps", "10", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"is created" in run.stdout and f"train.py:{line_of(path, 'tf.function(lambda')}" in run.stdout
    assert "create the tf.function once, outside the loop" in run.stdout


def test_tf2_function_called_with_tensors_is_ok(tmp_path):
    script(tmp_path, "train.py", NO_RETRACE)
    run = graph("run", "train.py", "--steps", "10", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "tf.function: 1 function(s), 40 call(s), no retracing" in run.stdout
    assert "1 trace(s) in 40 call(s)" in run.stdout
    assert run.lines[-1].startswith("verdict: OK")


def test_torch_total_plus_equals_loss_keeps_the_graph_alive(tmp_path):
    path = script(tmp_path, "train.py", TORCH_LOOP.replace("{suffix}", ""))
    run = graph("run", "train.py", "--steps", "8", "--json", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    data = run.json()
    (growth,) = data["facts"]["analysis"]["torch"]
    assert growth["name"] == "total" and growth["function"] == "train"
    assert growth["nodes_per_step"] > 0 and growth["last_nodes"] > growth["first_nodes"]
    assert growth["accumulated_at"]["line"] == line_of(path, "total += loss")
    assert ".item()" in data["checks"][0]["fix"][0]
    assert_valid_report(data, "graph run")
    kept = data["checks"][0]
    assert (kept["id"], kept["status"], kept["subject"]) == ("graph.autograd-graph-kept", "fail", "total")
    assert kept["location"] == {"file": "train.py", "line": line_of(path, "total += loss")}
    assert data["facts"]["observations"]["stopped"]["framework"] == "torch"
    assert "mean loss" not in data["facts"]["run"]["stdout_tail"]


def test_torch_total_plus_equals_loss_item_is_ok(tmp_path):
    script(tmp_path, "train.py", TORCH_LOOP.replace("{suffix}", ".item()"))
    run = graph("run", "train.py", "--steps", "8", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PyTorch: no autograd graph kept alive" in run.stdout
    assert "200 backward steps" in run.stdout
    assert run.lines[-1].startswith("verdict: OK")


def _png_height(path) -> int:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[20:24], "big")


def test_plot_of_torch_accumulation(tmp_path):
    """`--plot` drew TF1 graphs only; a PyTorch script got `error: --plot: no Session.run observed` with its growth."""
    pytest.importorskip("matplotlib")
    script(tmp_path, "train.py", TORCH_LOOP.replace("{suffix}", ""))
    run = graph("run", "train.py", "--steps", "8", "--plot", "nodes.png", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "error" not in run.stderr and run.stderr.strip().endswith("dldoctor: wrote nodes.png")
    assert _png_height(tmp_path / "nodes.png") == 350  # one chart: autograd nodes per backward step


def test_plot_of_tf_function_retracing(tmp_path):
    pytest.importorskip("matplotlib")
    script(tmp_path, "train.py", RETRACE)
    run = graph("run", "train.py", "--steps", "10", "--plot", "traces.png", "--json", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "dldoctor: wrote traces.png" in run.stderr and "error" not in run.stderr.split("dldoctor: wrote")[-1]
    tf2 = run.json()["facts"]["observations"]["tf2"]
    assert tf2["traces"] == sum(f["traces"] for f in tf2["functions"])
    scaled = next(f for f in tf2["functions"] if f["name"] == "scaled")
    assert scaled["series"][:3] == [[1, 1], [2, 2], [3, 3]]  # a new trace at each call: what the chart draws
    assert _png_height(tmp_path / "traces.png") == 350
