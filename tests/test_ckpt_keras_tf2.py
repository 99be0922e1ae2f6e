"""`dldoctor ckpt` on TF2 object-based checkpoints and Keras weights (.weights.h5, .keras)."""

from __future__ import annotations

import sys

import pytest

from conftest import run_dldoctor

KMODELS = '''
import keras


def build(classes=3):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, name="hidden"), keras.layers.Dense(classes, name="head")])


def build_5_classes():
    return build(5)
'''


@pytest.fixture(scope="module")
def k(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    root = tmp_path_factory.mktemp("keras")
    (root / "kmodels.py").write_text(KMODELS)
    sys.path.insert(0, str(root))
    try:
        import kmodels
    finally:
        sys.path.remove(str(root))
    import keras

    model = kmodels.build()
    optimizer = keras.optimizers.Adam()
    optimizer.build(model.trainable_variables)
    tf.train.Checkpoint(model=model, optimizer=optimizer).write(str(root / "tf2" / "ckpt"))
    model.save_weights(str(root / "m.weights.h5"))
    model.save(str(root / "m.keras"))
    return root


def test_tf2_object_checkpoint_inventory(k):
    run = run_dldoctor("ckpt", "tf2/ckpt", "--json", cwd=k)
    run.assert_no_traceback()
    assert run.returncode == 0, run.stderr
    data = run.json()
    assert data["facts"]["checkpoint"]["format"] == "tf2-object"
    inventory = data["facts"]["inventory"]
    assert inventory["tensors"] == 4 and inventory["params"] == 4 * 8 + 8 + 8 * 3 + 3
    assert inventory["optimizer"] is True and inventory["optimizer_entries"] > 0


def test_tf2_checkpoint_against_keras_models(k):
    clean = run_dldoctor("ckpt", "tf2/ckpt", "--model", "kmodels.py:build", cwd=k)
    clean.assert_no_traceback()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.lines[-1].startswith("verdict: OK: loads cleanly: all 4 model entries")
    head = run_dldoctor("ckpt", "tf2/ckpt", "--model", "kmodels.py:build_5_classes", cwd=k)
    assert head.returncode == 1
    assert "the number of classes changed from 3 to 5" in head.stdout
    assert "expect_partial()" in head.stdout  # the TF2 way to restore a subset


def test_keras_weights_files(k):
    clean = run_dldoctor("ckpt", "m.weights.h5", "--model", "kmodels.py:build", cwd=k)
    clean.assert_no_traceback()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    head = run_dldoctor("ckpt", "m.keras", "--model", "kmodels.py:build_5_classes", cwd=k)
    head.assert_no_traceback()
    assert head.returncode == 1
    assert "✗ Shape mismatch in the head: the number of classes changed from 3 to 5" in head.stdout
    assert "skip_mismatch=True" in head.stdout
    assert "[Keras .keras archive" in head.lines[0]
