"""`dldoctor ckpt` on real TF1 (tf.compat.v1 Saver) checkpoints: the seed's InceptionV3/V4 case.

The checkpoints are written once per module by a real `tf.compat.v1.train.Saver` from
the small InceptionV3/InceptionV4-scoped graphs in tests/data/ckpt/inception_models.py,
which is also copied next to them as the `--model` factory file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import run_dldoctor

DATA = Path(__file__).parent / "data" / "ckpt"


def _save(tf, builder, prefix: Path, step=None, meta: Path | None = None) -> str:
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        builder()
        saver = v1.train.Saver()
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            path = saver.save(session, str(prefix), global_step=step)
        if meta is not None:
            saver.export_meta_graph(str(meta))
    return path


@pytest.fixture(scope="module")
def tf1(tmp_path_factory):
    """root/ with: inception_models.py; train/ (state file -> a stale InceptionV3 model.ckpt-0,
    plus inception_v4.ckpt beside it); pretrained/ (InceptionV4, 1001 classes); v4.meta."""
    tf = pytest.importorskip("tensorflow")
    import sys

    root = tmp_path_factory.mktemp("tf1")
    shutil.copy(DATA / "inception_models.py", root / "inception_models.py")
    sys.path.insert(0, str(root))
    try:
        import inception_models as models
    finally:
        sys.path.remove(str(root))
    (root / "train").mkdir()
    (root / "pretrained").mkdir()
    _save(tf, models.inception_v4, root / "pretrained" / "inception_v4.ckpt", meta=root / "v4.meta")
    # The seed: the train dir first held an InceptionV4 download, then an InceptionV3 run
    # saved there and its Saver pointed the `checkpoint` state file at model.ckpt-0.
    for source in (root / "pretrained").glob("inception_v4.ckpt.*"):
        shutil.copy(source, root / "train" / source.name)
    _save(tf, models.inception_v3, root / "train" / "model.ckpt", step=0)
    return root


def test_stale_inception_v3_in_the_train_dir_with_model(tf1):
    run = run_dldoctor("ckpt", "train", "--model", "inception_models.py:inception_v4", cwd=tf1)
    run.assert_no_traceback()
    assert run.returncode == 1, run.stdout + run.stderr
    verdict = [line for line in run.lines if line.startswith("✗ Stale checkpoint in the train dir")]
    assert len(verdict) == 1 and run.lines[-1] == "verdict: FAIL: " + verdict[0][len("✗ "):], run.stdout
    # names the file the state file selected, what it holds and what the model is
    assert "selects model.ckpt-0" in verdict[0] and "holds InceptionV3" in verdict[0] and "the model is InceptionV4" in verdict[0]
    # and the family in the dir that matches the model exactly is the fix
    assert "inception_v4.ckpt in the same dir matches the model exactly (all 41 entries)" in verdict[0]
    assert any(line.startswith("  → load inception_v4.ckpt: restore from the prefix") for line in run.lines), run.stdout
    # the dir's families, the selected one marked
    assert any(line.strip().startswith("* model.ckpt [tensorflow]") and "scopes InceptionV3" in line for line in run.lines)
    assert any(line.strip().startswith("inception_v4.ckpt [tensorflow]") and "scopes InceptionV4" in line for line in run.lines)
    # grouped by scope with counts, not one line per variable
    assert any(line.split()[:2] == ["InceptionV4/Mixed_4a", "8"] for line in run.lines if line.strip()), run.stdout
    assert "1 match, 40 missing, 34 unexpected, 0 shape and 0 dtype mismatches" in run.stdout, run.stdout


def test_stale_checkpoint_against_the_meta_graph_json(tf1):
    run = run_dldoctor("ckpt", "train", "--meta", "v4.meta", "--json", cwd=tf1)
    run.assert_no_traceback()
    assert run.returncode == 1
    data = run.json()
    kinds = [f["evidence"]["kind"] for f in data["checks"]]
    assert kinds == ["stale-checkpoint"]  # the same verdict as with --model
    assert data["facts"]["checkpoint"]["train_dir"]["selected"].endswith("model.ckpt-0")
    assert data["facts"]["checkpoint"]["train_dir"]["step"] == 0
    assert data["facts"]["model"]["format"] == "meta-graph"
    result = data["facts"]["comparison"]
    assert "InceptionV4/Conv2d_1a_3x3/BatchNorm/beta" in result["missing"]  # the seed's missing key
    assert "InceptionV3/Conv2d_1a_3x3/BatchNorm/beta" in result["unexpected"]


def test_against_another_checkpoint(tf1):
    run = run_dldoctor("ckpt", "train/model.ckpt-0", "--against", "pretrained/inception_v4.ckpt", cwd=tf1)
    run.assert_no_traceback()
    assert run.returncode == 1
    assert any(line.startswith("✗ Another architecture: the checkpoint holds InceptionV3, the model is InceptionV4") for line in run.lines), run.stdout


def test_fine_tuning_heads_with_new_class_count(tf1):
    run = run_dldoctor("ckpt", "pretrained/inception_v4.ckpt", "--model", "inception_models.py:inception_v4_flowers", cwd=tf1)
    run.assert_no_traceback()
    assert run.returncode == 1
    text = run.stdout
    assert "✗ Fine-tuning: everything matches except the head scopes InceptionV4/Logits (2 with another shape), InceptionV4/AuxLogits (2 with another shape)" in text
    assert "--checkpoint_exclude_scopes=InceptionV4/Logits,InceptionV4/AuxLogits" in text
    assert "not v.op.name.startswith(('InceptionV4/Logits/', 'InceptionV4/AuxLogits/'))" in text
    assert "the number of classes changed from 1001 to 5" in text
    assert "another architecture" not in text.lower()


def test_fine_tuning_new_head_layer_and_clean_restore(tf1):
    run = run_dldoctor("ckpt", "pretrained/inception_v4.ckpt", "--model", "inception_models.py:inception_v4_new_head", "--json", cwd=tf1)
    run.assert_no_traceback()
    assert run.returncode == 1
    findings = run.json()["checks"]
    assert findings[0]["evidence"]["kind"] == "fine-tuning" and "InceptionV4/Logits_flowers (2 missing)" in findings[0]["title"]
    clean = run_dldoctor("ckpt", "pretrained/inception_v4.ckpt", "--model", "inception_models.py:inception_v4", cwd=tf1)
    assert clean.returncode == 0, clean.stdout
    assert clean.lines[-1].startswith("verdict: OK: loads cleanly: all 41 model entries")


def test_outer_scope_added_gives_the_saver_rename(tf1):
    run = run_dldoctor("ckpt", "pretrained/inception_v4.ckpt", "--model", "inception_models.py:inception_v4_tower", cwd=tf1)
    run.assert_no_traceback()
    assert run.returncode == 1
    assert "✗ Renamed scope/prefix: the model's names carry the prefix 'tower_0/' that the checkpoint's names lack" in run.stdout
    assert "→ saver = tf.compat.v1.train.Saver({v.op.name[8:]: v for v in tf.compat.v1.global_variables()})" in run.stdout


def test_shape_mismatch_that_resource_variables_restore_silently(tf1):
    tf = pytest.importorskip("tensorflow")
    import sys

    sys.path.insert(0, str(tf1))
    try:
        import inception_models as models
    finally:
        sys.path.remove(str(tf1))
    # The premise, with the real framework: TF2's resource variables let Saver.restore
    # put a (3, 3, 3, 8) checkpoint value into a (3, 3, 3, 16) variable without an error.
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        models.inception_v4_wide_stem()
        saver = v1.train.Saver()
        with v1.Session() as session:
            saver.restore(session, str(tf1 / "pretrained" / "inception_v4.ckpt"))  # no exception
    run = run_dldoctor("ckpt", "pretrained/inception_v4.ckpt", "--model", "inception_models.py:inception_v4_wide_stem", cwd=tf1)
    run.assert_no_traceback()
    assert run.returncode == 1
    assert "InceptionV4/Conv2d_1a_3x3/weights (3, 3, 3, 8) vs (3, 3, 3, 16)" in run.stdout
    assert "Saver.restore may not raise" in run.stdout
    assert "Fine-tuning" not in run.stdout  # the stem is not a head


def test_inventory_of_a_moved_train_dir(tf1, tmp_path):
    """A state file written on another machine (a Windows path) still finds the file beside it."""
    moved = tmp_path / "moved"
    moved.mkdir()
    for source in (tf1 / "train").glob("model.ckpt-0.*"):
        shutil.copy(source, moved / source.name)
    (moved / "checkpoint").write_text(
        'model_checkpoint_path: "E:\\\\output\\\\train\\\\model.ckpt-0"\nall_model_checkpoint_paths: "E:\\\\output\\\\train\\\\model.ckpt-0"\n'
    )
    run = run_dldoctor("ckpt", str(moved), "--json", cwd=tmp_path)
    run.assert_no_traceback()
    assert run.returncode == 0, run.stderr
    data = run.json()
    info = data["facts"]["checkpoint"]["train_dir"]
    assert Path(info["selected"]) == moved / "model.ckpt-0"
    assert "does not exist here" in info["how"] and info["step"] == 0 and info["mtime"] > 0
    inventory = data["facts"]["inventory"]
    scopes = {s["name"]: s for s in inventory["scopes"]}
    assert scopes["InceptionV3/Conv2d_1a_3x3"]["count"] == 4
    assert scopes["InceptionV3/Conv2d_1a_3x3"]["params"] == 3 * 3 * 3 * 8 + 3 * 8
    assert inventory["tensors"] == 34 and inventory["global_step"] == 0 and inventory["optimizer"] is False
    assert inventory["bytes"] == inventory["params"] * 4
    assert data["facts"]["checkpoint"]["format"] == "tf1" and data["facts"]["checkpoint"]["safety"]["safe"] is True
    entries = {e["name"]: e for scope in inventory["scopes"] for e in scope["entries"]}
    assert entries["InceptionV3/Conv2d_1a_3x3/BatchNorm/beta"] == {"name": "InceptionV3/Conv2d_1a_3x3/BatchNorm/beta", "shape": [8], "dtype": "float32"}


def test_truncated_index(tf1, tmp_path):
    for source in (tf1 / "pretrained").glob("inception_v4.ckpt.*"):
        shutil.copy(source, tmp_path / source.name)
    index = tmp_path / "inception_v4.ckpt.index"
    index.write_bytes(index.read_bytes()[:40])
    run = run_dldoctor("ckpt", "inception_v4.ckpt", cwd=tmp_path)
    run.assert_no_traceback()
    assert run.returncode == 1
    assert run.stdout == "" and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "not a readable TensorFlow checkpoint" in run.stderr


def test_state_file_pointing_to_a_missing_file(tmp_path):
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-999"\n')
    (tmp_path / "model.ckpt-5.index").write_bytes(b"x")
    run = run_dldoctor("ckpt", ".", cwd=tmp_path)
    run.assert_no_traceback()
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "points to 'model.ckpt-999', which does not exist" in lines[0] and "model.ckpt" in lines[0]


def test_missing_tensorflow_is_one_line(tf1, tmp_path):
    """With tensorflow not importable, a TF checkpoint gets one line and exit 2."""
    fake = tmp_path / "fake"
    (fake / "tensorflow").mkdir(parents=True)
    (fake / "tensorflow" / "__init__.py").write_text("raise ImportError('No module named tensorflow')\n")
    from conftest import clean_env

    run = run_dldoctor("ckpt", "pretrained/inception_v4.ckpt", cwd=tf1, env=clean_env(PYTHONPATH=str(fake)))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs tensorflow" in lines[0], run.stderr
    assert "Traceback" not in run.stderr
