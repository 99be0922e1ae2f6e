"""`dldoctor graph meta TRAIN_DIR`: .meta files written by a real TF1 loop, read without TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import clean_env
from test_graph_helpers import TF1_HEADER, graph, script
from verdictutil import assert_valid_report

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
with tf.Graph().as_default():  # a loop that embeds a NumPy array and makes a scalar summary at every save
    loss = tf.Variable(1.0, name="loss")
    saver = tf.train.Saver(max_to_keep=None)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(0, 500, 100):
            tf.constant(np.random.rand(32, 32), name="noise_%d" % step)
            tf.summary.scalar("loss_%d" % step, loss)
            saver.save(sess, sys.argv[3] + "/model.ckpt", global_step=step)
"""


@pytest.fixture(scope="module")
def train_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("meta")
    (root / "stable").mkdir()
    (root / "grow").mkdir()
    (root / "const").mkdir()
    path = script(root, "write.py", WRITER)
    subprocess.run([sys.executable, str(path), str(root / "stable"), str(root / "grow"), str(root / "const")], check=True,
                   capture_output=True, env=clean_env(), timeout=120)
    return root


def test_growing_meta_files_of_a_real_loop(train_dirs):
    run = graph("meta", "grow", "--json", cwd=train_dirs)
    assert run.returncode == 1, run.stdout + run.stderr
    data = run.json()
    assert_valid_report(data, "graph meta")
    (grows,) = data["checks"]
    assert (grows["id"], grows["status"], grows["location"]) == ("graph.saved-graph-grows", "fail", {"file": "grow/model.ckpt-400.meta"})
    analysis = data["facts"]["analysis"]
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
    assert run.lines[-1].startswith("verdict: FAIL")


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
    assert f"model.ckpt-2.meta: truncated: {len(good) // 2:,} bytes, but its fields need at least" in run.stdout
    assert "model.ckpt-3.meta: not a MetaGraphDef, or corrupt" in run.stdout
    assert "model.ckpt-4.meta: empty file (0 bytes)" in run.stdout


def test_embedded_arrays_are_named_as_what_grows_not_the_summaries(train_dirs):
    """Each save adds an 8 KB `tf.constant(np_array)` and a scalar summary: it was explained as summaries (any summary
    op won), with the fix for images. The arrays are most of the bytes: they come first, the summary is named too."""
    run = graph("meta", "const", "--json", cwd=train_dirs)
    assert run.returncode == 1, run.stdout + run.stderr
    analysis = run.json()["facts"]["analysis"]
    assert analysis["cause"] == "constant"
    assert [(c["kind"], c["detail"]) for c in analysis["causes"]] == [("constant", ""), ("summary", "scalar")]
    assert analysis["causes"][0]["const_bytes"] >= 4 * 32 * 32 * 8
    text = graph("meta", "const", cwd=train_dirs)
    assert "does not have; a TensorFlow op given a NumPy array (`tf.constant(array)`" in text.stdout
    assert "also growing: a `tf.summary.scalar` op is created on every call" in text.stdout
    assert "→ (1) feed the array through a `tf.placeholder`" in text.stdout and "(2) create the scalar summary" in text.stdout
    assert "image" not in text.stdout and "{{" not in text.stdout
    assert text.lines[-1] == "verdict: FAIL: the graph saved with each checkpoint grows (NumPy arrays embedded as constants)"


def test_image_summaries_get_the_image_fix_with_single_braces(train_dirs):
    run = graph("meta", "grow", cwd=train_dirs)
    assert "feed_dict={img: batch}" in run.stdout and "{{" not in run.stdout


def _copy(source, target, steps, truncate=None):
    """The .meta files of `steps` from train dir `source` into `target`; the one of step `truncate` cut to half its size."""
    target.mkdir()
    for step in steps:
        data = (source / f"model.ckpt-{step}.meta").read_bytes()
        (target / f"model.ckpt-{step}.meta").write_bytes(data[: len(data) // 2] if step == truncate else data)
    return target


def test_two_good_files_then_a_truncated_one(train_dirs, tmp_path):
    """It crashed (`TypeError: unsupported format string passed to NoneType.__format__`). The truncated file is a
    failure of its own, and the two readable ones are still compared: the growth between them is found."""
    _copy(train_dirs / "grow", tmp_path / "run", [0, 100, 200], truncate=200)
    text = graph("meta", "run", cwd=tmp_path)
    assert text.returncode == 1, text.stdout + text.stderr
    text.assert_no_traceback()
    assert "internal error" not in text.stderr
    assert "run/model.ckpt-200.meta: truncated:" in text.stdout
    assert "nodes in run/model.ckpt-100.meta that run/model.ckpt-0.meta does not have" in text.stdout
    assert "model.ckpt-200.meta              step 200" in text.stdout and text.stdout.count("truncated") >= 2
    assert text.lines[-1] == ("verdict: FAIL: the graph saved with each checkpoint grows (new tf.summary.image ops); "
                              "1 .meta file(s) cannot be read")
    data = graph("meta", "run", "--json", cwd=tmp_path).json()["facts"]["analysis"]
    assert [p for p, _ in data["unreadable"]] == ["run/model.ckpt-200.meta"]
    assert data["first"].endswith("model.ckpt-0.meta") and data["last"].endswith("model.ckpt-100.meta")
    assert data["projection"]["run_now"] == 100  # fitted to the readable files only


def test_a_truncated_file_is_never_growth_evidence(train_dirs, tmp_path):
    """One readable file and a truncated one whose size is larger: once "the graph grows ... 0 nodes in ? that ? does
    not have" with a 2 GB projection from the truncated size. Now: the truncated file fails, nothing is compared."""
    first = (train_dirs / "grow" / "model.ckpt-0.meta").read_bytes()
    last = (train_dirs / "grow" / "model.ckpt-400.meta").read_bytes()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.ckpt-0.meta").write_bytes(first)
    (tmp_path / "run" / "model.ckpt-400.meta").write_bytes(last[: len(first) + 200])  # larger than the first, cut short
    run = graph("meta", "run", "--json", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    data = run.json()
    assert data["facts"]["analysis"]["growing"] is False and data["facts"]["analysis"]["projection"] is None
    assert data["verdict"] == "fail"
    assert data["headline"].startswith("run/model.ckpt-400.meta: truncated:")
    text = graph("meta", "run", cwd=tmp_path)
    assert "?" not in text.stdout and "2 GB limit" not in text.stdout
    assert "fewer than two readable .meta files (1 of 2): no growth can be measured" in text.stdout


def test_a_truncated_file_between_two_equal_ones(train_dirs, tmp_path):
    _copy(train_dirs / "stable", tmp_path / "run", [0, 10, 20], truncate=10)
    run = graph("meta", "run", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "the graph is the same in every readable checkpoint" in run.stdout
    assert run.lines[-1].startswith("verdict: FAIL: run/model.ckpt-10.meta: truncated:")


def test_truncated_files_in_a_large_dir_are_found_without_parsing_them(train_dirs, tmp_path):
    """Above the parse-everything size only the first and last readable files are parsed node by node; the ones in
    between are still checked for truncation, and the first and last readable ones are found past unreadable ends."""
    from dldoctor.probes.graph import growth, metagraph

    _copy(train_dirs / "grow", tmp_path / "run", [0, 100, 200, 300, 400], truncate=200)
    (tmp_path / "run" / "model.ckpt-500.meta").write_bytes(b"")
    files = metagraph.read_dir(str(tmp_path / "run"), parse_all_below=0)
    assert [f.parsed for f in files] == [True, False, False, False, True, False]
    assert [bool(f.error) for f in files] == [False, False, True, False, False, True]
    analysis = growth.analyze_meta(files)
    assert analysis.last.endswith("model.ckpt-400.meta") and analysis.nodes_added == 8 and analysis.readable == 4


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
