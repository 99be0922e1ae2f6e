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
    assert run.lines[-1].startswith("verdict: FAIL: graph 1 grows")


def test_the_fixed_seed_script_is_ok(tmp_path):
    script(tmp_path, "train.py", FIXED)
    run = graph("run", "train.py", "--steps", "20", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    data = run.json()
    assert data["verdict"] == "ok"
    assert data["facts"]["observations"]["outcome"]["status"] == "finished"
    (g,) = data["facts"]["analysis"]["tf1"]
    assert g["growing"] is False and g["growth_runs"] == 0 and g["finalized"] is True
    assert g["runs"] == 160  # every Session.run of the script ran: nothing was stopped
    assert "the loop ran to the end" in data["facts"]["run"]["stdout_tail"]


def test_numpy_batch_embedded_as_a_constant_grows_fast(tmp_path):
    path = script(tmp_path, "train.py", NUMPY_CONSTANT)
    run = graph("run", "train.py", "--steps", "12", "--json", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    data = run.json()
    (g,) = data["facts"]["analysis"]["tf1"]
    assert g["growing"] and g["cause"] == "constant"
    top = g["sites"][0]
    assert top["line"] == line_of(path, "tf.summary.image(") and top["types"]["Const"] >= 9
    per_run = g["projection"]["bytes_per_run"]
    assert 8 * 32 * 32 * 3 * 4 <= per_run < 2 * 8 * 32 * 32 * 3 * 4  # the 96 KB batch, once per run
    assert g["projection"]["at_run"] < 30_000
    fix = data["checks"][0]["fix"][0]
    assert "tf.placeholder" in fix and "feed_dict" in fix


def test_saver_created_in_the_loop(tmp_path):
    path = script(tmp_path, "train.py", SAVER_IN_LOOP)
    run = graph("run", "train.py", "--steps", "10", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert _sites(run)[0][2] == str(line_of(path, "tf.train.Saver("))
    assert "a `tf.train.Saver` is created in the loop" in run.stdout
    assert "SaveV2" in run.stdout


SCALAR_IN_LOOP = TF1_HEADER + """\
x = tf.placeholder(tf.float32, [None, 4], name="x")
loss = tf.reduce_mean(x)
with tf.Session() as sess:
    for step in range(200):
        sess.run(tf.summary.scalar("loss", loss), feed_dict={x: np.ones((2, 4))})
"""

ASSIGN_AND_SCALAR = TF1_HEADER + """\
weights = tf.Variable(tf.zeros([32, 32]), name="weights")
loss = tf.reduce_sum(weights)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(200):
        sess.run(weights.assign(np.random.rand(32, 32).astype(np.float32)))
        tf.summary.scalar("loss", loss)
        sess.run(loss)
"""

# ASSIGN_AND_SCALAR with the fix it is given applied as written: one assign op fed by a placeholder, one scalar
# summary on the tensor, and a Python number written without any op.
ASSIGN_AND_SCALAR_FIXED = TF1_HEADER + """\
import sys
weights = tf.Variable(tf.zeros([32, 32]), name="weights")
loss = tf.reduce_sum(weights)
value = tf.placeholder(weights.dtype.base_dtype, weights.shape)
assign = weights.assign(value)
loss_summary = tf.summary.scalar('loss', loss)
writer = tf.summary.FileWriter(sys.argv[1])
init = tf.global_variables_initializer()
tf.get_default_graph().finalize()
with tf.Session() as sess:
    sess.run(init)
    for step in range(60):
        sess.run(assign, feed_dict={value: np.random.rand(32, 32).astype(np.float32)})
        writer.add_summary(sess.run(loss_summary), global_step=step)
        writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag='lr', simple_value=0.1)]), step)
writer.close()
print("fixed: ran to the end")
"""

CONSTANT_AND_SCALAR = TF1_HEADER + """\
x = tf.placeholder(tf.float32, [16, 16], name="x")
with tf.Session() as sess:
    for step in range(200):
        noise = tf.constant(np.random.rand(16, 16).astype(np.float32))
        sess.run(tf.summary.scalar("noise", tf.reduce_mean(x + noise)), feed_dict={x: np.ones((16, 16))})
"""


def test_scalar_summary_in_the_loop_gets_the_scalar_fix(tmp_path):
    """The fix was written for images (`tf.summary.image`, a placeholder for images) and doubled its braces
    (`feed_dict={{img: batch}}`) whatever the summary was."""
    path = script(tmp_path, "train.py", SCALAR_IN_LOOP)
    run = graph("run", "train.py", "--steps", "10", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "a `tf.summary.scalar` op is created on every call" in run.stdout
    assert "→ create the scalar summary once, before the loop" in run.stdout
    assert "tf.Summary(value=[tf.Summary.Value(tag='loss', simple_value=value)])" in run.stdout
    assert "image" not in run.stdout and "{{" not in run.stdout and "}}" not in run.stdout
    assert run.lines[-1].startswith("verdict: FAIL: graph 1 grows by ")
    assert f"(new tf.summary.scalar ops), created at train.py:{line_of(path, 'tf.summary.scalar(')}" in run.lines[-1]


def test_arrays_assigned_per_step_are_named_as_constants_not_summaries(tmp_path):
    """`var.assign(np_array)` every step, with a summary created in the same loop: most of the growth is the arrays,
    and the explanation and the first fix say so; the summary is named too, with its own fix."""
    path = script(tmp_path, "train.py", ASSIGN_AND_SCALAR)
    assign_line, scalar_line = line_of(path, "weights.assign("), line_of(path, "tf.summary.scalar(")
    data = graph("run", "train.py", "--steps", "10", "--json", cwd=tmp_path).json()
    (g,) = data["facts"]["analysis"]["tf1"]
    assert g["cause"] == "constant"
    assert [(c["kind"], c["detail"], c["where"]["line"]) for c in g["causes"]] == [
        ("constant", "assign", assign_line), ("summary", "scalar", scalar_line)]
    assert g["causes"][0]["const_bytes"] >= 4 * 32 * 32 * 3  # one 4 KB array per inspected run
    text = graph("run", "train.py", "--steps", "10", cwd=tmp_path)
    assert "`var.assign(array)` (or `tf.assign`) with a NumPy array embeds the array in the graph" in text.stdout
    assert f"also growing at train.py:{scalar_line}: tf.summary.scalar(\"loss\", loss): a `tf.summary.scalar` op" in text.stdout
    assert "→ (1) build the assign op once, before the loop, fed by a placeholder" in text.stdout
    assert "(2) create the scalar summary once" in text.stdout
    assert f"(NumPy arrays embedded as constants), created at train.py:{assign_line}" in text.lines[-1]


def test_the_fix_for_assigned_arrays_and_summaries_works_as_written(tmp_path):
    script(tmp_path, "train.py", ASSIGN_AND_SCALAR_FIXED)
    run = graph("run", "train.py", "--steps", "10", "--json", "--", str(tmp_path / "logs"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    data = run.json()
    assert data["verdict"] == "ok" and "fixed: ran to the end" in data["facts"]["run"]["stdout_tail"]
    (g,) = data["facts"]["analysis"]["tf1"]
    assert g["finalized"] and g["growth_runs"] == 0 and g["runs"] == 1 + 2 * 60  # the init, then every step


def test_tf_constant_of_an_array_per_step_is_named_as_a_constant(tmp_path):
    path = script(tmp_path, "train.py", CONSTANT_AND_SCALAR)
    data = graph("run", "train.py", "--steps", "10", "--json", cwd=tmp_path).json()
    (g,) = data["facts"]["analysis"]["tf1"]
    kinds = [(c["kind"], c["detail"], c["where"]["line"]) for c in g["causes"]]
    assert kinds[0] == ("constant", "", line_of(path, "tf.constant(np.random"))
    assert ("summary", "scalar", line_of(path, "tf.summary.scalar(")) in kinds
    finding = data["checks"][0]
    assert "a TensorFlow op given a NumPy array (`tf.constant(array)`" in finding["title"]
    assert finding["fix"][0].startswith("(1) feed the array through a `tf.placeholder` built once")
