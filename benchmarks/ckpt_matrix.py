"""The ckpt matrix: every checkpoint format crossed with every situation, and the headline each gets.

    .venv/bin/python benchmarks/ckpt_matrix.py [--keep DIR]

writes tiny real checkpoints with torch, TF1 Saver, TF2 and Keras (a few seconds on a CPU), runs
`dldoctor ckpt CHECKPOINT --model ...` on each cell in-process and prints two Markdown tables:
the diagnosis per cell (format x situation), then every cell's full `verdict:` line. A cell that
does not apply to a format says why instead.

`tests/test_ckpt_matrix_cells.py` builds the same files with `build()` and, per cell, asserts the
headline and applies the printed fix to the real file and model.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SITUATIONS = (
    "identical", "renamed layer", "renamed scope", "added middle layer", "new head", "class count",
    "width", "input size", "dtype", "stale (another model)", "wrapper dict",
)

TORCH_FORMATS = ("torch", "DataParallel", "torch.compile", "Lightning-like", "wrapper dict", "whole model", "safetensors")
TF_FORMATS = ("TF1 Saver", "TF2 + optimizer", "TF2", ".keras", ".h5", ".weights.h5")
FORMATS = TORCH_FORMATS + TF_FORMATS

TORCH_MODELS = '''
"""The trained model and the models a user builds later (one callable per situation)."""
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, width=8, head="fc", classes=10, middle=False, in_size=None):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = nn.Sequential(nn.Conv2d(width, width, 3), nn.BatchNorm2d(width))
        if middle:
            self.extra = nn.Sequential(nn.Conv2d(width, width, 3), nn.BatchNorm2d(width))
        self.layer2 = nn.Sequential(nn.Conv2d(width, 2 * width, 3), nn.BatchNorm2d(2 * width))
        self.pool = nn.AdaptiveAvgPool2d(1)
        setattr(self, head, nn.Linear(in_size or 2 * width, classes))


class Classifier(nn.Module):
    """The same net, now held as `backbone` (every name gains the scope `backbone.`)."""

    def __init__(self):
        super().__init__()
        self.backbone = Net()


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 4)
        self.decoder = nn.Linear(4, 8)


def identical():
    return Net()


def renamed_layer():
    return Net(head="classifier")


def renamed_scope():
    return Classifier()


def added_middle_layer():
    return Net(middle=True)


def new_head():
    return Net(head="classifier", classes=3)


def class_count():
    return Net(classes=3)


def width():
    return Net(width=16)


def input_size():
    return Net(in_size=64)
'''

TF_MODELS = '''
"""TF1 graphs and Keras models: the trained one and the ones a user builds later."""
import keras
import tensorflow as tf

v1 = tf.compat.v1


def _variables(scope, shape, dtype):
    with v1.variable_scope(scope):
        v1.get_variable("weights", shape, dtype=dtype)
        v1.get_variable("biases", shape[-1:], dtype=dtype)


def net(scope="Net", width=8, head="Logits", classes=10, middle=False, spatial=4, dtype=tf.float32):
    """A small TF1 conv net: three 3x3 convolutions, then a fully connected layer on the flattened maps."""
    with v1.variable_scope(scope):
        _variables("Conv1", [3, 3, 3, width], dtype)
        _variables("Conv2", [3, 3, width, width], dtype)
        if middle:
            _variables("Extra", [3, 3, width, width], dtype)
        _variables("Conv3", [3, 3, width, 2 * width], dtype)
        _variables(head, [spatial * spatial * 2 * width, classes], dtype)
    v1.train.get_or_create_global_step()


def tf1_autoencoder():
    with v1.variable_scope("AutoEncoder"):
        _variables("Encoder", [64, 16], tf.float32)
        _variables("Decoder", [16, 64], tf.float32)
    v1.train.get_or_create_global_step()


def tf1_identical():
    net()


def tf1_renamed_layer():
    net(head="Classifier")


def tf1_renamed_scope():
    net(scope="MyNet")


def tf1_added_middle_layer():
    net(middle=True)


def tf1_new_head():
    net(head="Classifier", classes=3)


def tf1_class_count():
    net(classes=3)


def tf1_width():
    net(width=16)


def tf1_input_size():
    net(spatial=5)


def tf1_float64():
    net(dtype=tf.float64)


def keras_net(width=4, head="logits", classes=10, middle=False, size=8, dtype=None):
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(width, 3, name="conv1", dtype=dtype)(inputs)
    if middle:
        x = keras.layers.Conv2D(width, 3, padding="same", name="extra", dtype=dtype)(x)
    x = keras.layers.Conv2D(2 * width, 3, name="conv2", dtype=dtype)(x)
    x = keras.layers.Flatten(dtype=dtype)(x)
    return keras.Model(inputs, keras.layers.Dense(classes, name=head, dtype=dtype)(x))


def keras_autoencoder():
    inputs = keras.Input((64,))
    x = keras.layers.Dense(16, name="encoder")(inputs)
    return keras.Model(inputs, keras.layers.Dense(64, name="decoder")(x))


def keras_identical():
    return keras_net()


def keras_renamed_layer():
    return keras_net(head="classifier")


def keras_added_middle_layer():
    return keras_net(middle=True)


def keras_new_head():
    return keras_net(head="classifier", classes=3)


def keras_class_count():
    return keras_net(classes=3)


def keras_width():
    return keras_net(width=8)


def keras_input_size():
    return keras_net(size=10)


def keras_float64():
    return keras_net(dtype="float64")
'''

WHOLE_MODEL_GLOBALS = (
    "matrix_models.Net", "matrix_models.AutoEncoder", "torch.nn.modules.conv.Conv2d", "torch.nn.modules.batchnorm.BatchNorm2d",
    "torch.nn.modules.container.Sequential", "torch.nn.modules.pooling.AdaptiveAvgPool2d", "torch.nn.modules.linear.Linear",
)

NOT_APPLICABLE = {
    ("Lightning-like", "wrapper dict"): "a Lightning checkpoint is a wrapper dict (the format's own cell)",
    ("wrapper dict", "wrapper dict"): "the wrapper dict itself (the identical cell)",
    ("torch", "wrapper dict"): "the wrapper dict row",
    ("safetensors", "wrapper dict"): "safetensors holds flat tensors only: no dict to wrap them in",
    ("TF1 Saver", "wrapper dict"): "a Saver checkpoint is flat variables: nothing wraps them",
    ("TF2 + optimizer", "wrapper dict"): "the optimizer column: a TF2 checkpoint's extra objects are its bookkeeping",
    ("TF2", "wrapper dict"): "a TF2 checkpoint holds objects, not a dict",
    ("TF2 + optimizer", "renamed scope"): "the root name of a TF2 checkpoint (`model=`, `net=`) is matched as written",
    (".keras", "wrapper dict"): "Keras writes its own archive: no dict to wrap it in",
    (".h5", "wrapper dict"): "Keras writes its own file: no dict to wrap it in",
    (".weights.h5", "wrapper dict"): "Keras writes its own file: no dict to wrap it in",
    (".keras", "renamed scope"): "Keras saves layers by class and position, not by scope names",
    (".h5", "renamed scope"): "Keras saves layers by name without scopes: the renamed layer column",
    (".weights.h5", "renamed scope"): "Keras saves layers by class and position, not by scope names",
}


@dataclass
class Cell:
    """One cell: `dldoctor ckpt <checkpoint> --model <model>` run from the matrix root."""

    format: str
    situation: str
    checkpoint: str = ""
    model: str = ""
    framework: str = ""
    not_applicable: str = ""
    extra: list = field(default_factory=list)

    @property
    def args(self) -> list[str]:
        return [self.checkpoint, "--model", self.model, *self.extra]


def _torch_writers(torch, nets):
    """format -> (state dict or model -> file written)."""
    from safetensors.torch import save_file

    def plain(module, path):
        torch.save(module.state_dict(), path)

    def data_parallel(module, path):
        torch.save(torch.nn.DataParallel(module).state_dict(), path)

    def compiled(module, path):
        torch.save(torch.compile(module).state_dict(), path)

    def lightning(module, path):
        torch.save({"epoch": 1, "global_step": 10, "pytorch-lightning_version": "2.4.0",
                    "state_dict": {"model." + k: v for k, v in module.state_dict().items()},
                    "optimizer_states": [], "lr_schedulers": []}, path)

    def wrapper(module, path):
        optimizer = torch.optim.SGD(module.parameters(), lr=0.1, momentum=0.9)
        torch.save({"epoch": 4, "model_state_dict": module.state_dict(), "optimizer_state_dict": optimizer.state_dict(),
                    "loss": 0.25}, path)

    def whole(module, path):
        torch.save(module, path)

    def safetensors(module, path):
        save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(path))

    return {"torch": (plain, ".pt"), "DataParallel": (data_parallel, ".pt"), "torch.compile": (compiled, ".pt"),
            "Lightning-like": (lightning, ".ckpt"), "wrapper dict": (wrapper, ".pt"), "whole model": (whole, ".pt"),
            "safetensors": (safetensors, ".safetensors")}


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")


def build_torch(root: Path) -> list[Cell]:
    import torch

    (root / "matrix_models.py").write_text(TORCH_MODELS)
    sys.path.insert(0, str(root))
    try:
        import matrix_models as nets
    finally:
        sys.path.remove(str(root))
    torch.manual_seed(0)
    trained, other = nets.Net(), nets.AutoEncoder()
    cells = []
    for fmt, (write, suffix) in _torch_writers(torch, nets).items():
        slug = _slug(fmt)
        write(trained, root / f"{slug}{suffix}")
        write(nets.Net().double(), root / f"{slug}_float64{suffix}")
        run = root / f"runs_{slug}"  # a train dir: the right run's best file, then another model's file saved later
        run.mkdir()
        write(trained, run / f"net_best{suffix}")
        write(other, run / f"ae_epoch_3{suffix}")
        later = time.time() + 60
        os.utime(run / f"ae_epoch_3{suffix}", (later, later))
        for situation in SITUATIONS:
            cell = Cell(fmt, situation, f"{slug}{suffix}", f"matrix_models.py:{_slug(situation)}", "torch")
            if situation == "dtype":
                cell.checkpoint, cell.model = f"{slug}_float64{suffix}", "matrix_models.py:identical"
            elif situation == "stale (another model)":
                cell.checkpoint, cell.model = run.name, "matrix_models.py:identical"
            elif situation == "wrapper dict":
                cell.model = "matrix_models.py:identical"
                if (fmt, situation) not in NOT_APPLICABLE:  # the format's own file, inside a training-loop dict
                    inner = root / f"{slug}_inner{suffix}"
                    write(trained, inner)
                    payload = torch.load(inner, weights_only=fmt != "whole model")
                    torch.save({"epoch": 4, ("model" if fmt == "whole model" else "model_state_dict"): payload, "loss": 0.25},
                               root / f"{slug}_wrapped{suffix}")
                    cell.checkpoint = f"{slug}_wrapped{suffix}"
            if fmt == "whole model":  # the classes vouched for, as torch.serialization.add_safe_globals would take them
                cell.extra = [arg for name in WHOLE_MODEL_GLOBALS for arg in ("--allow-global", name)]
            cells.append(cell)
    return cells


def _save_tf1(tf, builder, prefix: Path, step=None) -> None:
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        builder()
        saver = v1.train.Saver()
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            saver.save(session, str(prefix), global_step=step)


def build_tf(root: Path) -> list[Cell]:
    import numpy as np
    import tensorflow as tf

    (root / "matrix_tf_models.py").write_text(TF_MODELS)
    sys.path.insert(0, str(root))
    try:
        import matrix_tf_models as tfm
    finally:
        sys.path.remove(str(root))
    cells = []
    # TF1 Saver: the trained net, its float64 twin, and a train dir whose `checkpoint` state file selects another
    # model's checkpoint while the trained family sits beside it
    (root / "tf1").mkdir()
    _save_tf1(tf, tfm.tf1_identical, root / "tf1" / "net.ckpt")
    _save_tf1(tf, tfm.tf1_float64, root / "tf1" / "net_float64.ckpt")
    (root / "tf1_train").mkdir()
    _save_tf1(tf, tfm.tf1_identical, root / "tf1_train" / "net.ckpt")
    _save_tf1(tf, tfm.tf1_autoencoder, root / "tf1_train" / "model.ckpt", step=0)
    for situation in SITUATIONS:
        cell = Cell("TF1 Saver", situation, "tf1/net.ckpt", f"matrix_tf_models.py:tf1_{_slug(situation)}", "tf1")
        if situation == "dtype":
            cell.checkpoint, cell.model = "tf1/net_float64.ckpt", "matrix_tf_models.py:tf1_identical"
        elif situation == "stale (another model)":
            cell.checkpoint, cell.model = "tf1_train", "matrix_tf_models.py:tf1_identical"
        cells.append(cell)
    # Keras and TF2 object checkpoints of one trained Keras model (fit once, so the optimizer has slots)
    keras_files = {"TF2 + optimizer": "tf2_opt/ckpt", "TF2": "tf2/ckpt", ".keras": "m.keras", ".h5": "m.h5", ".weights.h5": "m.weights.h5"}

    def write_keras(model, stem: str) -> None:
        """One trained model in every Keras and TF2 format (its optimizer has slots: it was fit once)."""
        step = tf.Variable(7, dtype=tf.int64)
        tf.train.Checkpoint(model=model, optimizer=model.optimizer, step=step).write(str(root / f"{stem}tf2_opt" / "ckpt"))
        tf.train.Checkpoint(model=model).write(str(root / f"{stem}tf2" / "ckpt"))
        model.save(str(root / f"{stem}m.keras"))
        model.save(str(root / f"{stem}m.h5"))  # the legacy HDF5 format
        model.save_weights(str(root / f"{stem}m.weights.h5"))

    def fitted(model, shape, outputs):
        model.compile(optimizer="adam", loss="mse")
        model.fit(np.zeros((2, *shape)), np.zeros((2, outputs)), verbose=0)
        return model

    import logging

    logging.getLogger("absl").setLevel(logging.ERROR)  # the legacy .h5 warning
    trained = fitted(tfm.keras_identical(), (8, 8, 3), 10)
    write_keras(trained, "")
    write_keras(fitted(tfm.keras_float64(), (8, 8, 3), 10), "f64_")
    write_keras(fitted(tfm.keras_autoencoder(), (64,), 64), "ae_")
    tf.train.Checkpoint(net=trained).write(str(root / "tf2_net" / "ckpt"))  # another root name: `net=`, not `model=`
    for fmt, path in keras_files.items():
        for situation in SITUATIONS:
            cell = Cell(fmt, situation, path, f"matrix_tf_models.py:keras_{_slug(situation)}", "keras")
            if situation == "dtype":
                cell.checkpoint, cell.model = "f64_" + path, "matrix_tf_models.py:keras_identical"
            elif situation == "stale (another model)":
                cell.checkpoint, cell.model = "ae_" + path, "matrix_tf_models.py:keras_identical"
            elif situation == "renamed scope" and fmt == "TF2":
                cell.checkpoint, cell.model = "tf2_net/ckpt", "matrix_tf_models.py:keras_identical"
            cells.append(cell)
    return cells


def build(root: Path, frameworks=("torch", "tensorflow")) -> list[Cell]:
    """Write every format's checkpoints under `root`; return every cell, the ones that do not apply marked so."""
    cells = []
    if "torch" in frameworks:
        cells += build_torch(root)
    if "tensorflow" in frameworks:
        cells += build_tf(root)
    for cell in cells:
        cell.not_applicable = NOT_APPLICABLE.get((cell.format, cell.situation), "")
    return cells


def ckpt(root: Path, *args) -> tuple[int, list[str]]:
    """`dldoctor ckpt ARGS` in-process, run from `root`: (exit code, output lines)."""
    from typer.testing import CliRunner

    from dldoctor.cli import app

    from dldoctor.probes.ckpt import safety

    here = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(app, ["ckpt", *map(str, args)])
    finally:
        os.chdir(here)
        safety.clear_allowed()  # --allow-global is for this command only
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise RuntimeError(f"dldoctor ckpt {' '.join(map(str, args))} raised") from result.exception
    return result.exit_code, result.output.splitlines()


def headline(lines: list[str]) -> str:
    """The `verdict:` line, or the error a run ended on."""
    for line in reversed(lines):
        if line.startswith("verdict: "):
            return line[len("verdict: "):]
    return next((line for line in lines if line.strip()), "(no output)")


def diagnosis(text: str) -> str:
    """`FAIL: Renamed layer: the checkpoint's fc ...` -> `FAIL: Renamed layer`; a sentence without a label: its start.
    A verdict of several steps (`...; then: Fine-tuning: ...`) keeps each step's label."""
    status, _, rest = text.partition(": ")
    if not rest:
        return text
    labels = []
    for step in rest.split("; then: "):
        words = step.split(": ", 1)[0].split()
        labels.append(" ".join(words[:5]) + (" …" if len(words) > 5 else ""))
    return f"{status}: {' → '.join(labels)}"


def _cell_text(text: str) -> str:
    return text.replace("|", "\\|")


def table(cells: list[Cell], results: dict) -> str:
    situations = list(SITUATIONS)
    formats = [f for f in FORMATS if any(c.format == f for c in cells)]
    grid = ["| format | " + " | ".join(situations) + " |", "|---" * (len(situations) + 1) + "|"]
    for fmt in formats:
        row = []
        for situation in situations:
            cell = next(c for c in cells if c.format == fmt and c.situation == situation)
            row.append("n/a" if cell.not_applicable else _cell_text(diagnosis(results[(fmt, situation)][1])))
        grid.append(f"| {fmt} | " + " | ".join(row) + " |")
    full = ["| format | situation | command | exit | headline (`verdict:` line) |", "|---|---|---|---|---|"]
    for cell in cells:
        if cell.not_applicable:
            full.append(f"| {cell.format} | {cell.situation} | | | n/a: {cell.not_applicable} |")
        else:
            code, text = results[(cell.format, cell.situation)]
            command = "dldoctor ckpt " + " ".join(cell.args)
            full.append(f"| {cell.format} | {cell.situation} | `{command}` | {code} | {_cell_text(text)} |")
    return "\n".join(grid) + "\n\n" + "\n".join(full) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="write the checkpoints into this directory and keep them")
    options = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(options.keep or scratch).resolve()
        root.mkdir(parents=True, exist_ok=True)
        cells = build(root)
        results = {}
        for cell in cells:
            if not cell.not_applicable:
                code, lines = ckpt(root, *cell.args)
                results[(cell.format, cell.situation)] = (code, headline(lines))
        print(table(cells, results))


if __name__ == "__main__":
    main()
