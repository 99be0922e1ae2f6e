"""`dldoctor graph meta TRAIN_DIR`: .meta files written by a real TF1 loop, read without TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import clean_env
from test_graph_helpers import TF1_HEADER, graph, script

WRITER = TF1_HEADER + """\
import sys
images = tf.placeholder(tf.float32, [None, 8, 8, 3], name="images")
weights = tf.Variable(tf.zeros([3]), name="weights")
saver = tf.train.Saver(max_to_keep=None)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(0, 30, 10):
        saver.save(sess, sys.argv[1] + "/model.ckpt", global_step=step)
    for step in range(0, 500, 100):
        tf.summary.image("step_%d" % step, images, max_outputs=1)
        saver.save(sess, sys.argv[2] + "/model.ckpt", global_step=step)
"""


@pytest.fixture(scope="module")
def train_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("meta")
    (root / "stable").mkdir()
    (root / "grow").mkdir()
    path = script(root, "write.py", WRITER)
    subprocess.run([sys.executable, str(path), str(root / "stable"), str(root / "grow")], check=True,
                   capture_output=True, env=clean_env(), timeout=120)
    return root


def test_growing_meta_files_of_a_real_loop(train_dirs):
    run = graph("meta", "grow", "--json", cwd=train_dirs)
    assert run.returncode == 1, run.stdout + run.stderr
    data = run.json()
    analysis = data["analysis"]
    assert [f["step"] for f in analysis["files"]] == [0, 100, 200, 300, 400]
    sizes = [f["size"] for f in analysis["files"]]
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]
    assert analysis["growing"] and analysis["cause"] == "summary"
    group = analysis["groups"][0]
    assert group["pattern"] == "step_N" and group["scopes"] == 4
    assert group["examples"][:2] == ["step_100", "step_200"]
    assert analysis["added_types"]["ImageSummary"] == 4
    assert analysis["projection"]["at_run"] > 400


def test_growing_meta_text_report(train_dirs):
    run = graph("meta", "grow", cwd=train_dirs)
    assert run.returncode == 1
    run.assert_no_traceback()
    assert "created in a loop: 4 scopes named like `step_N` (step_100, step_200, step_300, ...)" in run.stdout
    assert "reaches protobuf's 2 GB limit at step ~" in run.stdout
    assert "write_meta_graph=False" in run.stdout
    assert run.lines[-1].startswith("verdict: GROWTH")


def test_stable_meta_files_are_ok(train_dirs):
    run = graph("meta", "stable", cwd=train_dirs)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the graph is the same size in every checkpoint" in run.stdout
    assert run.lines[-1].startswith("verdict: OK")


def test_corrupt_and_truncated_meta_files_are_reported(train_dirs, tmp_path):
    good = (train_dirs / "grow" / "model.ckpt-400.meta").read_bytes()
    (tmp_path / "model.ckpt-1.meta").write_bytes(good)
    (tmp_path / "model.ckpt-2.meta").write_bytes(good[: len(good) // 2])
    (tmp_path / "model.ckpt-3.meta").write_bytes(b"\xff" * 64)
    (tmp_path / "model.ckpt-4.meta").write_bytes(b"")
    run = graph("meta", ".", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    run.assert_no_traceback()
    assert "model.ckpt-2.meta: not a MetaGraphDef, or corrupt" in run.stdout
    assert "model.ckpt-3.meta: not a MetaGraphDef, or corrupt" in run.stdout
    assert "model.ckpt-4.meta: empty file (0 bytes)" in run.stdout


def test_oversized_meta_file_is_reported_not_crashed_on(tmp_path):
    with open(tmp_path / "model.ckpt-9.meta", "wb") as stream:  # sparse: no 2 GB written
        stream.truncate(2**31 + 16)
    run = graph("meta", str(tmp_path), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    run.assert_no_traceback()
    assert "is 2 GB or more: protobuf cannot parse it" in run.stdout


def test_meta_usage_errors(tmp_path):
    missing = graph("meta", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.strip() == "dldoctor: error: nowhere: no such file or directory"
    empty = graph("meta", ".", cwd=tmp_path)
    assert empty.returncode == 2 and "no .meta files" in empty.stderr
    for run in (missing, empty):
        run.assert_no_traceback()
        assert run.stderr.count("\n") == 1
