"""The full ckpt matrix: every format (torch plain / DataParallel / torch.compile / Lightning-like /
wrapper dict / whole model / safetensors, TF1 Saver, TF2 with and without optimizer, Keras .keras /
.h5 / .weights.h5) crossed with every situation (identical, renamed layer, renamed scope, added
middle layer, new head, class count, width, input size, dtype, stale checkpoint of another model,
wrapper dict).

The checkpoints are written once per framework by `benchmarks/ckpt_matrix.py` (the generator that
prints the matrix). Each cell asserts the headline step by step (a wrapper or a prefix first, then
what the weights do not match), and then checks the prescription on the real file: a fix that is
code is run and the load must succeed (the trained weights arrive where they belong); a fix in
words is checked the other way, by showing that the load the engineer would try really fails or
casts as the headline says. The cells that do not apply say why in the generator's table.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

_GENERATOR = Path(__file__).resolve().parents[1] / "benchmarks" / "ckpt_matrix.py"
_spec = importlib.util.spec_from_file_location("ckpt_matrix_generator", _GENERATOR)
matrix = sys.modules.setdefault("ckpt_matrix_generator", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(matrix)

# -- what each cell must say -----------------------------------------------------------------------

TORCH_HEADLINES = {
    "identical": [],
    "renamed layer": ["Renamed layer: the checkpoint's fc is classifier in the model (2 entries, the same shapes)"],
    "renamed scope": ["Renamed scope/prefix: the model's names carry the prefix 'backbone.' that the checkpoint's names lack"],
    "added middle layer": ["Changed layers: everything matches except the added layer extra (7 missing): restore all the rest"],
    "new head": ["Fine-tuning: everything matches except the head scopes classifier (2 missing), fc (2 unexpected)"],
    "class count": ["Fine-tuning: everything matches except the head scope fc (2 with another shape)"],
    "width": ["The model is built at another width: 19 of 23 entries have other shapes, and the model is 2x wider"],
    "input size": ["fc.weight takes 16 inputs in the checkpoint and 64 in the model: the input size"],
    "dtype": ["20 dtype changes that lose information: conv1.weight float64 -> float32"],
    "wrapper dict": ["The weights are under ckpt['model_state_dict'] (a wrapper dict beside epoch, loss)"],
}

# what the format itself needs before the weights can be compared: (steps, the prefix its names carry)
TORCH_FIRST_STEPS = {
    "torch": ([], ""),
    "safetensors": ([], ""),
    "DataParallel": (["Renamed scope/prefix: the checkpoint's names carry the prefix 'module.' (saved from a DataParallel"], "module."),
    "torch.compile": (["Renamed scope/prefix: the checkpoint's names carry the prefix '_orig_mod.' (saved from a torch.compile()d model)"],
                      "_orig_mod."),
    "Lightning-like": (["The weights are under ckpt['state_dict'] (a Lightning checkpoint",
                        "Renamed scope/prefix: the checkpoint's names carry the prefix 'model.'"], "model."),
    "wrapper dict": (["The weights are under ckpt['model_state_dict'] (a wrapper dict beside epoch, optimizer_state_dict, loss)"], ""),
    "whole model": (["The file is a whole pickled matrix_models.Net (torch.save(model)), not a state dict"], ""),
}


def torch_expected(fmt: str, situation: str) -> list[str]:
    """The verdict's steps, each as the start of its sentence."""
    first, prefix = TORCH_FIRST_STEPS[fmt]
    suffix = fmt.lower().replace(".", "_").replace("-", "_").replace(" ", "_")
    if situation == "stale (another model)":
        how = f"once the prefix {prefix!r} is stripped" if prefix else "exactly"
        newest = "ae_epoch_3.safetensors" if fmt == "safetensors" else "ae_epoch_3.ckpt" if fmt == "Lightning-like" else "ae_epoch_3.pt"
        return [f"Stale checkpoint in the train dir: the newest file in runs_{suffix} is {newest}",
                f"in the same dir matches the model {how} (all 23 entries)"]
    if situation == "wrapper dict":  # the format's own file inside a training-loop dict
        if fmt == "whole model":
            return ["The file is a whole pickled matrix_models.Net (torch.save(model)) under ckpt['model'], not a state dict"]
        return TORCH_HEADLINES["wrapper dict"] + first
    main = TORCH_HEADLINES[situation]
    if prefix and situation in ("renamed layer", "renamed scope"):  # the prefix is part of that rename
        first = [step for step in first if not step.startswith("Renamed scope/prefix")]
        if situation == "renamed scope":
            main = [f"Renamed scope/prefix: the checkpoint's scope {prefix!r} is 'backbone.' in the model"]
    return first + main


TF_HEADLINES = {
    "TF1 Saver": {
        "identical": [],
        "renamed layer": ["Renamed layer: the checkpoint's Net/Logits is Net/Classifier in the model (2 entries, the same shapes)"],
        "renamed scope": ["Renamed scope/prefix: the checkpoint's scope 'Net/' is 'MyNet/' in the model"],
        "added middle layer": ["Changed layers: everything matches except the added layer Net/Extra (2 missing)"],
        "new head": ["Fine-tuning: everything matches except the head scopes Net/Classifier (2 missing), Net/Logits (2 unexpected)"],
        "class count": ["Fine-tuning: everything matches except the head scope Net/Logits (2 with another shape)"],
        "width": ["The model is built at another width: 7 of 8 entries have other shapes, and the model is 2x wider"],
        "input size": ["Net/Logits/weights takes 256 inputs in the checkpoint and 400 in the model: the input size"],
        "dtype": ["8 dtype mismatches (checkpoint vs model): Net/Conv1/weights float64 vs float32"],
        "stale (another model)": ["Stale checkpoint in the train dir: the `checkpoint` state file in tf1_train selects model.ckpt-0",
                                  "net.ckpt in the same dir matches the model exactly (all 9 entries)"],
    },
}
_KERAS = {
    "identical": [],
    "renamed layer": [],  # Keras and TF2 load layers by position: a renamed layer loads
    "renamed scope": [],
    "added middle layer": ["Changed layers: everything matches except the added layer {root}extra (2 missing): restore all the rest "
                           "and train the new layer from scratch, by name"],
    "new head": ["Fine-tuning: everything matches except the head scope {root}classifier (2 with another shape)"],
    "class count": ["Fine-tuning: everything matches except the head scope {root}logits (2 with another shape)"],
    "width": ["The model is built at another width: 5 of 6 entries have other shapes, and the model is 2x wider"],
    "input size": ["{root}logits/kernel takes 128 inputs in the checkpoint and 288 in the model: the input size"],
    "dtype": ["6 dtype changes that lose information: {root}conv1/kernel float64 -> float32"],
    "stale (another model)": ["Another architecture: the checkpoint holds"],
}
for _fmt in ("TF2 + optimizer", "TF2", ".keras", ".h5", ".weights.h5"):
    _root = "model/" if _fmt.startswith("TF2") else ""
    TF_HEADLINES[_fmt] = {k: [step.format(root=_root) for step in v] for k, v in _KERAS.items()}
    if _fmt.startswith("TF2"):  # a TF2 restore refuses another dtype
        TF_HEADLINES[_fmt]["dtype"] = ["6 dtype mismatches (checkpoint vs model): model/conv1/kernel float64 vs float32"]


def steps_of(lines: list[str]) -> tuple[str, list[str]]:
    text = matrix.headline(lines)
    status, _, rest = text.partition(": ")
    return status, rest.split("; then: ")


def assert_headline(cell, code: int, lines: list[str], expected: list[str]) -> None:
    status, steps = steps_of(lines)
    if not expected:
        assert (code, status) == (0, "OK") and steps[0].startswith("loads cleanly: all "), (cell.args, lines)
        return
    assert (code, status) == (1, "FAIL"), (cell.args, lines)
    if cell.situation == "stale (another model)" and len(expected) == 2:  # one sentence: the stale file, then the match
        assert len(steps) == 1 and steps[0].startswith(expected[0]) and expected[1] in steps[0], (cell.args, steps)
        return
    assert len(steps) == len(expected), (cell.args, steps)
    for step, start in zip(steps, expected):
        assert step.startswith(start), (cell.args, step, start)


def fixes(lines: list[str]) -> list[str]:
    return [line.split("→ ", 1)[1] for line in lines if line.startswith("  → ")]


def code_of(fix: str) -> str | None:
    """The fix as code to run (`load X: CODE` gives CODE), or None for advice in words."""
    if fix.startswith("load ") and ": " in fix:
        fix = fix.split(": ", 1)[1]
    try:
        compile(fix, "<fix>", "exec")
    except SyntaxError:
        return None
    return fix


@contextlib.contextmanager
def inside(root: Path):
    """Run from the matrix root, its model modules importable; torch's safe globals as they were (a fix adds some)."""
    here = os.getcwd()
    safe = list(torch.serialization.get_safe_globals())
    os.chdir(root)
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        sys.path.remove(str(root))
        os.chdir(here)
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(safe)


# -- torch ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch_matrix(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt_matrix_torch")
    cells = matrix.build(root, frameworks=("torch",))
    with inside(root):
        import matrix_models
    torch.manual_seed(0)  # the generator's seed: the trained net's weights, to check what a fix restores
    trained = matrix_models.Net()
    return root, {(c.format, c.situation): c for c in cells}, matrix_models, trained.state_dict()


TORCH_CELLS = [(f, s) for f in matrix.TORCH_FORMATS for s in matrix.SITUATIONS if (f, s) not in matrix.NOT_APPLICABLE]


def _build(nets, spec: str):
    return getattr(nets, spec.split(":", 1)[1])()


def _first_conv(model) -> "torch.Tensor":
    return (model.backbone if hasattr(model, "backbone") else model).conv1.weight


@pytest.mark.parametrize("fmt, situation", TORCH_CELLS)
def test_torch_cell(torch_matrix, fmt, situation):
    root, cells, nets, trained = torch_matrix
    cell = cells[(fmt, situation)]
    code, lines = matrix.ckpt(root, *cell.args)
    assert_headline(cell, code, lines, torch_expected(fmt, situation))
    model = _build(nets, cell.model)
    path = str(root / cell.checkpoint)
    scope = {"torch": torch, "path": path, "model": model}
    if cell.checkpoint.endswith(".safetensors"):
        from safetensors.torch import load_file

        scope["state_dict"] = load_file(path)
    elif not os.path.isdir(path) and fmt != "whole model":
        scope["state_dict"] = torch.load(path, map_location="cpu", weights_only=True)
    code_fixes = [c for c in map(code_of, fixes(lines)) if c]
    words = [f for f in fixes(lines) if not code_of(f)]
    with inside(root):
        for fix in code_fixes:
            exec(fix, scope)
    if situation in ("width", "input size"):  # the fix is to build the model as it was: no loading trick makes it fit
        assert words and not any("load_state_dict" in c for c in code_fixes)
        with pytest.raises(RuntimeError, match="size mismatch"):
            model.load_state_dict(scope["state_dict"])
        return
    if situation == "dtype":  # load_state_dict casts silently, as the headline says
        model.load_state_dict(scope["state_dict"])
        assert model.conv1.weight.dtype == torch.float32 and scope["state_dict"]["conv1.weight"].dtype == torch.float64
        return
    if not any("load_state_dict" in c for c in code_fixes):
        model.load_state_dict(scope["state_dict"])  # strict: raises if the fix were wrong
    assert torch.equal(_first_conv(model), trained["conv1.weight"])  # the trained weights arrived
    if situation == "renamed layer":
        assert torch.equal(model.classifier.weight, trained["fc.weight"])  # a rename keeps the trained head


def test_torch_fixes_that_are_words_say_so(torch_matrix):
    """The lossy cast is advice (which dtype to keep is the engineer's call); it names both ways."""
    root, cells, _, _ = torch_matrix
    _, lines = matrix.ckpt(root, *cells[("torch", "dtype")].args)
    assert any("model.to(dtype)" in fix for fix in fixes(lines))


# -- TensorFlow: TF1 Saver, TF2 object checkpoints, Keras ----------------------------------------


@pytest.fixture(scope="module")
def tf_matrix(tmp_path_factory):
    pytest.importorskip("tensorflow")
    root = tmp_path_factory.mktemp("ckpt_matrix_tf")
    cells = matrix.build(root, frameworks=("tensorflow",))
    with inside(root):
        import matrix_tf_models
    trained = matrix_tf_models.keras_identical()
    trained.load_weights(str(root / "m.weights.h5"))
    return root, {(c.format, c.situation): c for c in cells}, matrix_tf_models, trained


TF_CELLS = [(f, s) for f in matrix.TF_FORMATS for s in matrix.SITUATIONS if (f, s) not in matrix.NOT_APPLICABLE]


def _tf1_restore(tf, tfm, cell, root, code_fixes) -> list:
    """Build the cell's graph, run the fix (a Saver over the right names), restore: raises if it does not load.
    Returns the variables that took a value of another shape (resource variables let Saver.restore do that)."""
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        getattr(tfm, cell.model.split(":", 1)[1])()
        scope = {"tf": tf}
        for fix in code_fixes:
            exec(fix, scope)
        saver = scope.get("saver") or v1.train.Saver()
        prefix = scope.get("prefix") or str(root / cell.checkpoint)
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            saver.restore(session, prefix)
            return [v.op.name for v in v1.global_variables() if session.run(v).shape != tuple(v.shape)]


def _keras_load(tf, model, fmt: str, path: str) -> None:
    """What the engineer runs first: load_weights, or a TF2 restore that must consume what the model has."""
    if fmt.startswith("TF2"):
        root = "net" if "tf2_net" in path else "model"  # the root name the file was written with
        tf.train.Checkpoint(**{root: model}).restore(path).expect_partial()  # raises on a shape or dtype it cannot take
    else:
        model.load_weights(path)


@pytest.mark.parametrize("fmt, situation", TF_CELLS)
def test_tf_cell(tf_matrix, fmt, situation):
    import numpy as np
    import tensorflow as tf

    root, cells, tfm, trained = tf_matrix
    cell = cells[(fmt, situation)]
    code, lines = matrix.ckpt(root, *cell.args)
    assert_headline(cell, code, lines, TF_HEADLINES[fmt][situation])
    code_fixes = [c for c in map(code_of, fixes(lines)) if c]
    if fmt == "TF1 Saver":
        if situation == "dtype":  # in words: the graph must be built as it was saved
            with pytest.raises(tf.errors.InvalidArgumentError):
                _tf1_restore(tf, tfm, cell, root, code_fixes)
        elif situation in ("width", "input size"):  # restore does not raise: the variables silently take the wrong shapes
            assert "Net/Logits/weights" in _tf1_restore(tf, tfm, cell, root, code_fixes)
        elif situation == "stale (another model)":
            (fix,) = fixes(lines)
            assert fix.startswith("load net.ckpt: restore from the prefix 'tf1_train/net.ckpt'")
            with inside(root):
                _tf1_restore(tf, tfm, matrix.Cell(fmt, situation, "tf1_train/net.ckpt", cell.model), root, [])
            with pytest.raises(tf.errors.NotFoundError), inside(root):  # what the dir's state file selects does not restore
                _tf1_restore(tf, tfm, cell, root, [f"prefix = tf.train.latest_checkpoint({str(root / 'tf1_train')!r})"])
        else:
            _tf1_restore(tf, tfm, cell, root, code_fixes)
        return
    model = getattr(tfm, cell.model.split(":", 1)[1])()
    path = str(root / cell.checkpoint)
    if not TF_HEADLINES[fmt][situation]:  # OK: the real load succeeds, and by position the trained weights arrive
        _keras_load(tf, model, fmt, path)
        np.testing.assert_array_equal(model.get_layer("conv1").kernel.numpy(), trained.get_layer("conv1").kernel.numpy())
        return
    if code_fixes:
        scope = {"tf": tf, "model": model, "path": path}
        for fix in code_fixes:
            exec(fix, scope)
        for name in ("conv1", "conv2"):  # the layers the fix keeps are the trained ones, paired by name
            np.testing.assert_array_equal(model.get_layer(name).kernel.numpy(), trained.get_layer(name).kernel.numpy())
        return
    if situation == "dtype" and not fmt.startswith("TF2"):  # load_weights casts silently, as the headline says
        _keras_load(tf, model, fmt, path)
        assert model.get_layer("conv1").kernel.dtype == "float32"
        return
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError, AssertionError)):  # the advice in words is needed
        _keras_load(tf, model, fmt, path)


def test_keras_fixes_in_words_name_the_way(tf_matrix):
    """Where no fix can be code (the model the file came from is the user's), the words say how, by name."""
    root, cells, _, _ = tf_matrix
    for fmt in ("TF2", ".weights.h5"):
        _, lines = matrix.ckpt(root, *cells[(fmt, "added middle layer")].args)
        (fix,) = fixes(lines)
        assert fix.startswith("build the model the file was saved from (old)") and "copy the layers by name" in fix


def test_the_generator_prints_every_cell(tmp_path):
    """The table the docs quote: one row a format, one column a situation, n/a with its reason."""
    cells = [matrix.Cell(f, s, not_applicable=matrix.NOT_APPLICABLE.get((f, s), "")) for f in matrix.FORMATS for s in matrix.SITUATIONS]
    results = {(c.format, c.situation): (1, "FAIL: Fine-tuning: everything; then: Renamed layer: x") for c in cells}
    text = matrix.table(cells, results)
    grid = text.split("\n\n")[0].splitlines()
    assert len(grid) == 2 + len(matrix.FORMATS) and all(row.count(" | ") == len(matrix.SITUATIONS) for row in grid[2:])
    assert "FAIL: Fine-tuning → Renamed layer" in grid[2]
    assert "n/a: safetensors holds flat tensors only" in text
