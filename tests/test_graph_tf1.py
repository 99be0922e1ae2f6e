"""`dldoctor graph run` on real TF1 scripts (tensorflow-cpu): growth found and located, or OK."""

from __future__ import annotations

import re

from test_graph_helpers import TF1_HEADER, graph, line_of, script

SEED = TF1_HEADER + """\
images = tf.placeholder(tf.float32, [None, 8, 8, 3], name="images")
loss = tf.reduce_mean(images)
with tf.Session() as sess:
    batch = np.zeros((2, 8, 8, 3), np.float32)
    for step in range(400):
        sess.run(loss, feed_dict={images: batch})
        if step % 3 == 0:
            summary = tf.summary.image("sample_%d" % step, images, max_outputs=1)
            sess.run(summary, feed_dict={images: batch})
print("the loop ran to the end")
"""

FIXED = TF1_HEADER + """\
images = tf.placeholder(tf.float32, [None, 8, 8, 3], name="images")
loss = tf.reduce_mean(images)
summary = tf.summary.image("sample", images, max_outputs=1)
tf.get_default_graph().finalize()
with tf.Session() as sess:
    batch = np.zeros((2, 8, 8, 3), np.float32)
    for step in range(120):
        sess.run(loss, feed_dict={images: batch})
        if step % 3 == 0:
            sess.run(summary, feed_dict={images: batch})
print("the loop ran to the end")
"""

NUMPY_CONSTANT = TF1_HEADER + """\
with tf.Session() as sess:
    for step in range(200):
        batch = np.random.rand(8, 32, 32, 3).astype(np.float32)
        sess.run(tf.summary.image("batch", batch, max_outputs=1))
"""

SAVER_IN_LOOP = TF1_HEADER + """\
weights = tf.Variable(tf.zeros([4]), name="weights")
train = tf.assign_add(weights, tf.ones([4]))
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(200):
        sess.run(train)
        saver = tf.train.Saver(max_to_keep=1)
"""


def _sites(run):
    """The ranked `N. file:line` entries of the report."""
    return re.findall(r"^  (\d+)\. (\S+):(\d+) in ", run.stdout, re.MULTILINE)


def test_seed_case_summary_image_created_in_the_loop(tmp_path):
    path = script(tmp_path, "train.py", SEED)
    run = graph("run", "train.py", "--steps", "30", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    run.assert_no_traceback()
    bad_line = line_of(path, "tf.summary.image(")
    assert _sites(run)[0] == ("1", "train.py", str(bad_line))
    assert f"created at train.py:{bad_line}" in run.stdout
    assert "ImageSummary" in run.stdout and "sample_3" in run.stdout
    assert re.search(r"reaches protobuf's 2 GB limit at run ~[\d,]+", run.stdout)
    assert "finalize()" in run.stdout and "placeholder" in run.stdout
    assert "stopped by dldoctor after 30 runs" in run.stdout
    assert "the loop ran to the end" not in run.stdout  # the script was stopped, not run for 400 steps
    assert run.lines[-1].startswith("verdict: GROWTH: graph 1 grows")


def test_the_fixed_seed_script_is_ok(tmp_path):
    script(tmp_path, "train.py", FIXED)
    run = graph("run", "train.py", "--steps", "20", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    data = run.json()
    assert data["diagnosis"]["verdict"] == "OK"
    assert data["observations"]["outcome"]["status"] == "finished"
    (g,) = data["analysis"]["tf1"]
    assert g["growing"] is False and g["growth_runs"] == 0 and g["finalized"] is True
    assert g["runs"] == 160  # every Session.run of the script ran: nothing was stopped
    assert "the loop ran to the end" in data["run"]["stdout_tail"]


def test_numpy_batch_embedded_as_a_constant_grows_fast(tmp_path):
    path = script(tmp_path, "train.py", NUMPY_CONSTANT)
    run = graph("run", "train.py", "--steps", "12", "--json", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    data = run.json()
    (g,) = data["analysis"]["tf1"]
    assert g["growing"] and g["cause"] == "constant"
    top = g["sites"][0]
    assert top["line"] == line_of(path, "tf.summary.image(") and top["types"]["Const"] >= 9
    per_run = g["projection"]["bytes_per_run"]
    assert 8 * 32 * 32 * 3 * 4 <= per_run < 2 * 8 * 32 * 32 * 3 * 4  # the 96 KB batch, once per run
    assert g["projection"]["at_run"] < 30_000
    fix = data["diagnosis"]["findings"][0]["fix"]
    assert "tf.placeholder" in fix and "feed_dict" in fix


def test_saver_created_in_the_loop(tmp_path):
    path = script(tmp_path, "train.py", SAVER_IN_LOOP)
    run = graph("run", "train.py", "--steps", "10", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert _sites(run)[0][2] == str(line_of(path, "tf.train.Saver("))
    assert "a `tf.train.Saver` is created in the loop" in run.stdout
    assert "SaveV2" in run.stdout
