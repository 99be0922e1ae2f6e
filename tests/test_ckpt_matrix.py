"""The ckpt matrix: real checkpoints written by torch, TF1 Saver, TF2 and Keras, crossed with the
situations an engineer meets (identical, renamed layer, added middle layer, new head, width,
input size, dtype, stale checkpoint of another model, wrapper dict, whole pickled model).

Each cell asserts the headline and, where the fix is code, runs that code on the real file and
loads the result into the real model: a fix that does not make the load succeed fails here.
The runs are in-process (`dldoctor ckpt` through its typer app) to keep the matrix quick.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from conftest import clean_env, run_dldoctor
from verdictutil import assert_valid_report

torch = pytest.importorskip("torch")

# The walk-through's models (examples/ckpt/models.py): the one trained, and those a user builds later.
NETS = (Path(__file__).resolve().parent.parent / "examples" / "ckpt" / "models.py").read_text(encoding="utf-8")


def ckpt(cwd: Path, *args) -> tuple[int, list[str]]:
    """`dldoctor ckpt ARGS` in-process, in `cwd`: (exit code, output lines)."""
    from typer.testing import CliRunner

    from dldoctor.cli import app

    here = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, ["ckpt", *map(str, args)])
    finally:
        os.chdir(here)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output.splitlines()


def verdict(lines: list[str]) -> str:
    return next(line for line in reversed(lines) if line.startswith("verdict: "))


def fixes(lines: list[str]) -> list[str]:
    return [line.split("→ ", 1)[1].split("  #")[0] for line in lines if line.startswith("  → ")]


def code_fixes(lines: list[str]) -> list[str]:
    """The fixes that are code (the others are advice in words: "keep the new head untrained ...")."""
    found = []
    for fix in fixes(lines):
        try:
            compile(fix, "<fix>", "exec")
        except SyntaxError:
            assert "= " not in fix and "(" not in fix.split(" ", 1)[0], f"a fix that looks like code does not parse: {fix}"
            continue
        found.append(fix)
    return found


@pytest.fixture(scope="module")
def pt(tmp_path_factory):
    root = tmp_path_factory.mktemp("matrix")
    (root / "matrix_nets.py").write_text(NETS)  # a module name no other test imports
    sys.path.insert(0, str(root))
    try:
        import matrix_nets as nets
    finally:
        sys.path.remove(str(root))
    torch.manual_seed(0)
    model = nets.Net()
    state = model.state_dict()
    torch.save(state, root / "plain.pt")
    torch.save({"module." + k: v for k, v in state.items()}, root / "ddp.pt")
    torch.save({"_orig_mod." + k: v for k, v in state.items()}, root / "compiled.pt")
    torch.save({k: v.double() if v.is_floating_point() else v for k, v in state.items()}, root / "double.pt")
    torch.save({"epoch": 4, "model_state_dict": state, "optimizer_state_dict": {"state": {}, "param_groups": []}, "loss": 0.25},
               root / "wrapper.pt")
    torch.save({"epoch": 1, "global_step": 10, "pytorch-lightning_version": "2.4.0", "state_dict": {"model." + k: v for k, v in state.items()},
                "optimizer_states": [], "lr_schedulers": []}, root / "lightning.ckpt")
    torch.save(model, root / "whole.pt")
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in state.items()}, str(root / "plain.safetensors"))
    # a train dir: the right run's best file, then a newer file of another model saved there
    (root / "runs").mkdir()
    torch.save(state, root / "runs" / "net_best.pt")
    time.sleep(0.02)
    torch.save(nets.AutoEncoder().state_dict(), root / "runs" / "ae_epoch_3.pt")
    os.utime(root / "runs" / "ae_epoch_3.pt", (time.time() + 5, time.time() + 5))
    (root / "other").mkdir()
    torch.save(nets.AutoEncoder().state_dict(), root / "other" / "ae_epoch_3.pt")
    return root, nets, state


def _apply(root: Path, nets, lines, file: str, model, start_with_file: bool = True):
    """Run every fix line in order on the real file, then load strictly unless a fix loaded already."""
    path = str(root / file)
    scope = {"torch": torch, "path": path, "model": model}
    if start_with_file:
        if file.endswith(".safetensors"):
            from safetensors.torch import load_file

            scope["state_dict"] = load_file(path)
        else:
            scope["state_dict"] = torch.load(path, map_location="cpu", weights_only=True)
    for fix in code_fixes(lines):
        exec(fix, scope)
    if not any("load_state_dict" in fix for fix in code_fixes(lines)):
        model.load_state_dict(scope["state_dict"])  # strict: raises if the fix were wrong
    return scope


def test_identical_loads_cleanly(pt):
    root, _, _ = pt
    code, lines = ckpt(root, "plain.pt", "--model", "matrix_nets.py:build")
    assert code == 0 and verdict(lines) == "verdict: OK: loads cleanly: all 23 model entries found with matching shapes and dtypes"


@pytest.mark.parametrize("file", ["plain.pt", "ddp.pt", "plain.safetensors"])
def test_renamed_layer_is_a_rename_and_the_fix_maps_the_keys(pt, file):
    """Item 1: fc -> classifier with the same shapes is a rename; the trained head is kept, not dropped."""
    root, nets, state = pt
    code, lines = ckpt(root, file, "--model", "matrix_nets.py:renamed_head")
    assert code == 1
    assert verdict(lines).startswith("verdict: FAIL: Renamed layer: the checkpoint's fc is classifier in the model (2 entries, the same shapes)")
    assert not any("Fine-tuning" in line or "from scratch" in line for line in lines)
    model = nets.Net(head="classifier")
    _apply(root, nets, lines, file, model)
    assert torch.equal(model.classifier.weight, state["fc.weight"])  # the trained head came along


def test_added_middle_layer_is_not_a_head(pt):
    """Item 8: a layer added in the middle is an added layer; the fix (restore the rest) stays."""
    root, nets, state = pt
    code, lines = ckpt(root, "plain.pt", "--model", "matrix_nets.py:middle_layer")
    assert code == 1
    assert verdict(lines) == ("verdict: FAIL: Changed layers: everything matches except the added layer extra (7 missing): "
                              "restore all the rest and train the new layer from scratch.")
    assert not any("head" in line for line in lines if line.startswith(("✗", "verdict")))
    model = nets.Net(middle=True)
    _apply(root, nets, lines, "plain.pt", model)
    assert torch.equal(model.layer2[0].weight, state["layer2.0.weight"])


def test_new_head_is_fine_tuning(pt):
    root, nets, state = pt
    code, lines = ckpt(root, "plain.pt", "--model", "matrix_nets.py:new_head")
    assert code == 1 and verdict(lines).startswith("verdict: FAIL: Fine-tuning: everything matches except the head scope fc (2 with another shape)")
    assert "✗ Shape mismatch in the head: the number of classes changed from 10 to 3 (fc.weight, fc.bias)." in lines
    model = nets.Net(classes=3)
    _apply(root, nets, lines, "plain.pt", model)
    assert torch.equal(model.conv1.weight, state["conv1.weight"])


def test_width_change_is_not_an_input_size_change(pt):
    """Item 3: 19 of 23 shapes scaled by 2 is the model's width, not the image size."""
    root, _, _ = pt
    code, lines = ckpt(root, "plain.pt", "--model", "matrix_nets.py:wider")
    assert code == 1
    assert verdict(lines).startswith("verdict: FAIL: The model is built at another width: 19 of 23 entries have other shapes, and the model is 2x wider")
    assert not any("input size" in line and "not the input size" not in line for line in lines), lines
    assert not any("resize the inputs" in line for line in lines)


def test_input_size_change_is_the_first_linear_layer_only(pt):
    root, _, _ = pt
    code, lines = ckpt(root, "plain.pt", "--model", "matrix_nets.py:bigger_input")
    assert code == 1
    assert verdict(lines).startswith("verdict: FAIL: fc.weight takes 16 inputs in the checkpoint and 64 in the model: the input size")
    assert not any("another width" in line for line in lines)


def test_dtype_change(pt):
    root, _, _ = pt
    code, lines = ckpt(root, "double.pt", "--model", "matrix_nets.py:build")
    assert code == 1 and "dtype changes that lose information" in verdict(lines)


@pytest.mark.parametrize("file, prefix", [("ddp.pt", "module."), ("compiled.pt", "_orig_mod.")])
def test_wrapper_prefixes(pt, file, prefix):
    root, nets, _ = pt
    code, lines = ckpt(root, file, "--model", "matrix_nets.py:build")
    assert code == 1 and f"the checkpoint's names carry the prefix {prefix!r}" in verdict(lines)
    _apply(root, nets, lines, file, nets.Net())


def test_wrapper_dict_is_not_ok(pt):
    """Item 7: {"epoch", "model_state_dict", ...} does not load with load_state_dict(torch.load(f))."""
    root, nets, _ = pt
    model = nets.Net()
    with pytest.raises(RuntimeError, match="Missing key"):
        model.load_state_dict(torch.load(root / "wrapper.pt", weights_only=True))
    code, lines = ckpt(root, "wrapper.pt", "--model", "matrix_nets.py:build")
    assert code == 1
    assert verdict(lines).startswith("verdict: FAIL: The weights are under ckpt['model_state_dict'] (a wrapper dict beside epoch")
    assert fixes(lines) == ["state_dict = torch.load(path, map_location='cpu', weights_only=True)['model_state_dict']"]
    _apply(root, nets, lines, "wrapper.pt", model, start_with_file=False)
    inventory_code, inventory = ckpt(root, "wrapper.pt")  # no model: an inventory, with the entry to load named
    assert inventory_code == 0 and verdict(inventory) == "verdict: OK: readable and safe to load (23 tensors, under ckpt['model_state_dict'])"


def test_lightning_checkpoint_entry_then_prefix(pt):
    root, nets, _ = pt
    code, lines = ckpt(root, "lightning.ckpt", "--model", "matrix_nets.py:build")
    assert code == 1 and verdict(lines).startswith("verdict: FAIL: The weights are under ckpt['state_dict'] (a Lightning checkpoint")
    assert len(fixes(lines)) == 2  # take the entry, strip `model.`
    _apply(root, nets, lines, "lightning.ckpt", nets.Net(), start_with_file=False)


def test_whole_pickled_model_gets_torchs_own_fix_and_an_inventory(pt):
    """Item 6: add_safe_globals with the class names (sorted), what it holds read without unpickling."""
    root, nets, state = pt
    code, lines = ckpt(root, "whole.pt")
    assert code == 1 and verdict(lines) == "verdict: FAIL: UNSAFE to load: the file runs code when unpickled"
    error = next(line for line in lines if line.startswith("✗ "))
    listed = error.split("the globals ", 1)[1].split(" (", 1)[0].split(", ")
    assert listed == sorted(listed) and "matrix_nets.Net" in listed and "torch.nn.modules.conv.Conv2d" in listed
    assert "holds 23 tensors" in error and "weights_only=False" not in "\n".join(lines)
    assert any(line.strip().startswith("conv1.weight  (8, 3, 3, 3) float32") for line in lines)  # the inventory
    (fix,) = fixes(lines)
    assert "torch.serialization.add_safe_globals([" in fix
    scope = {"path": str(root / "whole.pt")}
    sys.path.insert(0, str(root))
    try:
        exec(fix, scope)  # torch's own advice, applied: the load succeeds
    finally:
        sys.path.remove(str(root))
    assert sorted(scope["obj"].state_dict()) == sorted(state)


def test_payload_is_never_told_to_load(pt, tmp_path):
    """Item 6: os.system-like globals get "do not load this file", never weights_only=False."""
    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'RAN'}",))

    torch.save({"w": torch.zeros(2), "x": Payload()}, tmp_path / "evil.pt")
    code, lines = ckpt(tmp_path, "evil.pt")
    assert code == 1 and verdict(lines) == "verdict: FAIL: UNSAFE to load: do not load this file: it runs code when unpickled"
    assert fixes(lines)[0].startswith("do not load this file") and "weights_only=False" not in "\n".join(lines)
    assert not (tmp_path / "RAN").exists()


def test_pytorch_train_dir_names_the_file_to_load(pt):
    """Items 4 and 5: the newest file is another model's; the file that matches exactly is the fix, by name."""
    root, nets, _ = pt
    code, lines = ckpt(root, "runs", "--model", "matrix_nets.py:build")
    assert code == 1
    assert verdict(lines).startswith("verdict: FAIL: Stale checkpoint in the train dir: the newest file in runs is ae_epoch_3.pt")
    assert "net_best.pt in the same dir matches the model exactly (all 23 entries)" in verdict(lines)
    assert not any("state file" in line for line in lines if "fix:" in line)
    (fix,) = fixes(lines)
    assert fix.startswith("load net_best.pt: ")
    scope = {"torch": torch}
    here = os.getcwd()
    os.chdir(root)
    try:
        exec(fix.split(": ", 1)[1], scope)
    finally:
        os.chdir(here)
    nets.Net().load_state_dict(scope["state_dict"])
    code, lines = ckpt(root, "other", "--model", "matrix_nets.py:build")  # nothing in the dir matches
    assert code == 1 and "Stale checkpoint of another model in the train dir" in verdict(lines)
    assert "state file" not in fixes(lines)[0]


def test_truncated_pt_names_the_truncation(pt, tmp_path):
    """Item 10."""
    root, _, _ = pt
    data = (root / "plain.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 3])
    run = run_dldoctor("ckpt", "cut.pt", cwd=tmp_path)
    assert run.returncode == 1 and run.stdout == ""
    assert f"cut.pt: truncated: {len(data) // 3:,} bytes, the zip's central directory is missing" in run.stderr
    assert "Errno" not in run.stderr


def test_scan_without_torch_many_paths(pt, tmp_path):
    """Item 11: `ckpt scan PATH...` needs no torch, takes files and directories, one line a file."""
    root, _, _ = pt
    fake = tmp_path / "fake"
    (fake / "torch").mkdir(parents=True)
    (fake / "torch" / "__init__.py").write_text("raise ImportError('No module named torch')\n")
    env = clean_env(PYTHONPATH=str(fake))
    run = run_dldoctor("ckpt", "scan", "whole.pt", "plain.pt", "runs", cwd=root, env=env)
    assert run.returncode == 1, run.stderr
    assert run.lines[0].startswith("✗ whole.pt: UNSAFE: matrix_nets.Net, torch.nn.modules.batchnorm.BatchNorm2d")
    assert run.lines[1].startswith("✓ plain.pt: safe (")
    assert [line.split(": ", 1)[0] for line in run.lines[2:4]] == ["✓ runs/ae_epoch_3.pt", "✓ runs/net_best.pt"]
    assert all(": safe (" in line for line in run.lines[2:4])
    assert run.lines[-1] == "verdict: FAIL: 4 files scanned: 1 unsafe to load (whole.pt)"
    document = run_dldoctor("ckpt", "scan", "whole.pt", "plain.pt", "runs", "--output-format", "json", cwd=root, env=env).json()
    assert_valid_report(document, "ckpt scan")
    assert [(c["subject"], c["status"]) for c in document["checks"]] == [
        ("whole.pt", "fail"), ("plain.pt", "ok"), ("runs/ae_epoch_3.pt", "ok"), ("runs/net_best.pt", "ok")]
    assert document["facts"]["unsafe"] == 1
    inventory = run_dldoctor("ckpt", "plain.pt", cwd=root, env=env)  # the inventory, from the opcodes
    assert inventory.returncode == 0, inventory.stderr
    assert "✓ Torch is not installed here: the tensors are listed from the file's pickle opcodes" in inventory.stdout
    assert inventory.lines[-1] == "verdict: OK: readable and safe to load (23 tensors)"


# -- TensorFlow: TF1 Saver train dirs, TF2 object checkpoints, Keras ---------------------------------

TF_MODELS = '''
import keras
import tensorflow as tf

v1 = tf.compat.v1


def _conv(scope, cin, cout):
    with v1.variable_scope(scope):
        v1.get_variable("weights", [3, 3, cin, cout])
        v1.get_variable("biases", [cout])


def v3_like():
    """The previous run's model: most inner layer names and shapes are the new model's."""
    with v1.variable_scope("InceptionV3"):
        _conv("Conv2d_1a_3x3", 3, 8)
        _conv("Conv2d_2a_3x3", 8, 8)
        _conv("Conv2d_2b_3x3", 8, 16)
        _conv("Mixed_5b", 16, 16)
        _conv("Logits", 16, 10)
    v1.train.get_or_create_global_step()


def v4():
    with v1.variable_scope("InceptionV4"):
        _conv("Conv2d_1a_3x3", 3, 8)
        _conv("Conv2d_2a_3x3", 8, 8)
        _conv("Conv2d_2b_3x3", 8, 16)
        _conv("Mixed_4a", 16, 24)
        _conv("Logits", 24, 10)
    v1.train.get_or_create_global_step()


def v4_renamed_logits():
    with v1.variable_scope("InceptionV4"):
        _conv("Conv2d_1a_3x3", 3, 8)
        _conv("Conv2d_2a_3x3", 8, 8)
        _conv("Conv2d_2b_3x3", 8, 16)
        _conv("Mixed_4a", 16, 24)
        _conv("Classifier", 24, 10)
    v1.train.get_or_create_global_step()


def dense(classes=3):
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv2")(inputs)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(classes, name="logits")(x))


def dense_5():
    return dense(5)
'''


def _save_tf1(tf, builder, prefix: Path, step=None, meta: Path | None = None) -> None:
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        builder()
        saver = v1.train.Saver()
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            saver.save(session, str(prefix), global_step=step)
        if meta is not None:
            saver.export_meta_graph(str(meta))


@pytest.fixture(scope="module")
def tfm(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    import numpy as np

    root = tmp_path_factory.mktemp("tfmatrix")
    (root / "tf_models.py").write_text(TF_MODELS)
    sys.path.insert(0, str(root))
    try:
        import tf_models
    finally:
        sys.path.remove(str(root))
    (root / "train").mkdir()
    _save_tf1(tf, tf_models.v4, root / "train" / "inception_v4.ckpt", meta=root / "v4.meta")
    _save_tf1(tf, tf_models.v3_like, root / "train" / "model.ckpt", step=0)  # the state file now selects it
    model = tf_models.dense()
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((2, 8, 8, 3)), np.zeros((2, 3)), verbose=0)
    tf.train.Checkpoint(model=model, optimizer=model.optimizer, step=tf.Variable(7, dtype=tf.int64)).write(str(root / "tf2" / "ckpt"))
    model.save_weights(str(root / "m.weights.h5"))
    model.save(str(root / "m.keras"))
    return root, tf, tf_models


def test_tf1_stale_checkpoint_same_verdict_with_model_and_meta(tfm):
    """Item 4: the inner names match, yet the fix is the exact family in the dir, not a V3 -> V4 rename."""
    root, _, _ = tfm
    with_model = ckpt(root, "train", "--model", "tf_models.py:v4")
    with_meta = ckpt(root, "train", "--meta", "v4.meta")
    for code, lines in (with_model, with_meta):
        assert code == 1
        assert verdict(lines).startswith("verdict: FAIL: Stale checkpoint in the train dir: the `checkpoint` state file in train selects model.ckpt-0")
        assert "inception_v4.ckpt in the same dir matches the model exactly" in verdict(lines)
        assert not any("Renamed" in line for line in lines)
        assert fixes(lines)[0].startswith("load inception_v4.ckpt: restore from the prefix 'train/inception_v4.ckpt'")
    assert verdict(with_model[1]) == verdict(with_meta[1])


def test_tf1_without_the_exact_family_a_partial_rename_is_another_model(tfm, tmp_path):
    root, _, _ = tfm
    for source in (root / "train").glob("model.ckpt-0.*"):
        shutil.copy(source, tmp_path / source.name)
    shutil.copy(root / "tf_models.py", tmp_path / "tf_models.py")
    code, lines = ckpt(tmp_path, "model.ckpt-0", "--model", "tf_models.py:v4")
    assert code == 1
    assert verdict(lines).startswith("verdict: FAIL: Another architecture: the checkpoint holds InceptionV3, the model is InceptionV4 "
                                     "(even with 'InceptionV3/' read as 'InceptionV4/', only 7 of 10 model parameters match)")


def test_tf1_renamed_layer_fix_restores_for_real(tfm, tmp_path):
    root, tf, tf_models = tfm
    code, lines = ckpt(root, "train/inception_v4.ckpt", "--model", "tf_models.py:v4_renamed_logits")
    assert code == 1 and verdict(lines).startswith("verdict: FAIL: Renamed layer: the checkpoint's InceptionV4/Logits is InceptionV4/Classifier")
    (fix,) = fixes(lines)
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        tf_models.v4_renamed_logits()
        scope = {"tf": tf}
        exec(fix, scope)
        with v1.Session() as session:
            scope["saver"].restore(session, str(root / "train" / "inception_v4.ckpt"))  # raises NotFoundError if wrong


def test_tf2_checkpoint_of_a_compiled_model_is_its_own(tfm):
    """Item 2: the optimizer (under model/optimizer too) and the step are bookkeeping notes, never a FAIL."""
    root, _, _ = tfm
    code, lines = ckpt(root, "tf2/ckpt", "--model", "tf_models.py:dense")
    assert code == 0, lines
    assert verdict(lines) == "verdict: OK: loads cleanly: all 4 model entries found with matching shapes and dtypes"
    assert all(line.startswith("✓ ") for line in lines if line.startswith(("✗ ", "! ", "✓ ")))


def test_tf2_and_keras_report_the_users_layer_names(tfm):
    """Item 9: logits and conv2, as in the model, not dense/vars/0 or _operations/4/_kernel."""
    root, _, _ = tfm
    for file, head in (("tf2/ckpt", "model/logits"), ("m.weights.h5", "logits"), ("m.keras", "logits")):
        code, lines = ckpt(root, file, "--model", "tf_models.py:dense_5")
        assert code == 1
        assert verdict(lines).startswith(f"verdict: FAIL: Fine-tuning: everything matches except the head scope {head} (2 with another shape)"), lines
        text = "\n".join(lines)
        assert "_operations" not in text and "dense/vars" not in text
    code, lines = ckpt(root, "m.keras")  # the archive's config names the layers
    assert code == 0 and any(line.strip().startswith("logits/vars/0  (144, 3)") for line in lines), lines
