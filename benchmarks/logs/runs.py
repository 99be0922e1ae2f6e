"""A labelled set of real training runs for `dldoctor logs`: tiny trainings with known causes injected.

Each run is a real training (PyTorch on the CPU, or Keras on TensorFlow) on a small
synthetic classification task, logging through the framework's own writer
(`torch.utils.tensorboard.SummaryWriter`, Keras' TensorBoard callback and CSVLogger,
`tf.summary`). What was injected is the label: the diagnoses `dldoctor logs` should
name, and those it may also name (a learning rate x100 can diverge and then turn NaN).
Healthy runs have no label: any diagnosis on them is a false alarm.

    python benchmarks/logs/runs.py OUT_DIR [--quick]

writes OUT_DIR/<run>/ and OUT_DIR/labels.json in seconds. `--quick` writes the PyTorch
runs only (what the tests use).
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import asdict, dataclass, field


@dataclass
class Label:
    name: str
    expected: list  # check ids that must fire (warn or fail); "a|b": either one names the cause
    allowed: list = field(default_factory=list)  # ids that may also fire without counting as false alarms
    framework: str = "torch"
    cause: str = ""


# --- PyTorch ------------------------------------------------------------------------------------------------


def _blobs(n: int, classes: int, dim: int, seed: int, noise: float = 1.0, weights=None):
    import torch

    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=g) * 2.0
    if weights is None:
        y = torch.randint(0, classes, (n,), generator=g)
    else:
        y = torch.multinomial(torch.tensor(weights, dtype=torch.float), n, replacement=True, generator=g)
    x = centres[y] + noise * torch.randn(n, dim, generator=g)
    return x, y


def torch_run(out: str, *, seed: int = 0, lr: float = 0.05, optimizer: str = "sgd", steps: int = 300,
              hidden: int = 32, train_size: int = 1024, shuffle_labels: bool = False, nan_at: int = -1,
              dead_init: bool = False, weights=None, eval_every: int = 20, noise: float = 1.0,
              restart_at: int = -1, classes: int = 4, batch: int = 32) -> None:
    """One tiny MLP training on Gaussian blobs, logged with SummaryWriter: Loss/train and Accuracy/train every
    step, Loss/val and Accuracy/val every `eval_every` steps, the learning rate every step."""
    import torch
    from torch.utils.tensorboard import SummaryWriter

    torch.set_num_threads(1)  # tiny models: threads only contend
    torch.manual_seed(seed)
    dim = 10
    x, y = _blobs(train_size, classes, dim, seed, noise, weights)
    vx, vy = _blobs(512, classes, dim, seed, noise, weights)
    if shuffle_labels:
        y = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(seed + 1))]
    def fresh():
        model = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                                    torch.nn.ReLU(), torch.nn.Linear(hidden, classes))
        if dead_init:  # every ReLU dead from the start: the output is the last bias, the same for every input
            with torch.no_grad():
                model[0].bias.fill_(-100.0)
        opt = (torch.optim.Adam(model.parameters(), lr=lr) if optimizer == "adam"
               else torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9))
        return model, opt

    model, opt = fresh()
    writer = SummaryWriter(out)
    g = torch.Generator().manual_seed(seed + 2)
    step_offset = 0
    for step in range(steps):
        if step == restart_at:  # the job restarts and does not restore: a new writer, the counter from 0
            writer.close()
            writer = SummaryWriter(out, filename_suffix=".restart")
            model, opt = fresh()
            step_offset = step
        index = torch.randint(0, len(x), (batch,), generator=g)
        logits = model(x[index])
        if step >= nan_at >= 0:
            probs = torch.softmax(logits, dim=1) * 0.0  # the injected bug: log(0)
            loss = torch.nn.functional.nll_loss(torch.log(probs) * 0.0, y[index])
        else:
            loss = torch.nn.functional.cross_entropy(logits, y[index])
        opt.zero_grad()
        loss.backward()
        opt.step()
        logged = step - step_offset
        writer.add_scalar("Loss/train", loss.item(), logged)
        writer.add_scalar("Accuracy/train", (logits.argmax(1) == y[index]).float().mean().item(), logged)
        writer.add_scalar("lr", opt.param_groups[0]["lr"], logged)
        if step % eval_every == eval_every - 1:
            with torch.no_grad():
                v = model(vx)
                writer.add_scalar("Loss/val", torch.nn.functional.cross_entropy(v, vy).item(), logged)
                writer.add_scalar("Accuracy/val", (v.argmax(1) == vy).float().mean().item(), logged)
    writer.close()


TORCH_RUNS = [
    (Label("torch-healthy-sgd", [], cause="SGD lr 0.05, momentum 0.9"), dict(seed=0)),
    (Label("torch-healthy-adam", [], cause="Adam lr 1e-3"), dict(seed=1, optimizer="adam", lr=1e-3)),
    (Label("torch-healthy-noisy", [], cause="SGD lr 0.02, noisy blobs, batch 8"),
     dict(seed=2, lr=0.02, noise=2.5, batch=8)),
    (Label("torch-healthy-long", [], cause="SGD lr 0.02, noisy blobs, 4096 samples, 600 steps"),
     dict(seed=3, steps=600, lr=0.02, noise=2.0, train_size=4096)),
    (Label("torch-overtrained", ["logs.overfitting"], cause="600 steps on separable blobs: the validation loss "
                                                            "triples from its best while the training loss falls"),
     dict(seed=3, steps=600)),
    (Label("torch-lr-x100", ["logs.divergence|logs.nan"], ["logs.nan", "logs.accuracy-stuck", "logs.oscillation"],
           cause="SGD lr 5 (x100)"), dict(seed=4, lr=5.0)),
    (Label("torch-lr-x100-b", ["logs.divergence|logs.nan"], ["logs.accuracy-stuck", "logs.oscillation"],
           cause="SGD lr 5 (x100), another seed"), dict(seed=12, lr=5.0)),
    (Label("torch-lr-x1e-4", ["logs.not-learning|logs.slow-convergence"], ["logs.accuracy-stuck"], cause="SGD lr 5e-6 (x1e-4)"),
     dict(seed=6, lr=5e-6)),
    (Label("torch-log0-nan", ["logs.nan"], cause="log(0) from step 150"), dict(seed=7, nan_at=150)),
    (Label("torch-overfit", ["logs.overfitting"], cause="32 training samples, hidden 512, noisy blobs"),
     dict(seed=8, train_size=32, hidden=512, noise=2.5, steps=400, optimizer="adam", lr=3e-3)),
    (Label("torch-shuffled-labels", ["logs.not-learning"], ["logs.accuracy-stuck", "logs.underfitting"],
           cause="labels shuffled"), dict(seed=9, shuffle_labels=True, hidden=16)),
    (Label("torch-constant-output", ["logs.accuracy-stuck"], ["logs.not-learning", "logs.underfitting"],
           cause="every ReLU dead: the same output for every input; 70% one class"),
     dict(seed=10, dead_init=True, weights=[0.7, 0.1, 0.1, 0.1])),
    (Label("torch-restart-no-restore", ["logs.step-backwards"], cause="restarted at step 150 without restoring"),
     dict(seed=11, restart_at=150)),
]


# --- TensorFlow ---------------------------------------------------------------------------------------------


def _keras_data(n: int, seed: int, noise: float = 1.0):
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, 10)) * 2.0
    y = rng.integers(0, 4, n)
    x = (centres[y] + noise * rng.normal(size=(n, 10))).astype("float32")
    return x, y


def keras_run(out: str, *, seed: int = 0, lr: float = 0.05, epochs: int = 30, hidden: int = 32,
              train_size: int = 1024, noise: float = 1.0) -> None:
    """A Keras fit with the TensorBoard callback (train/ and validation/ runs) and a CSVLogger."""
    import keras
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # already initialised by an earlier run
    keras.utils.set_random_seed(seed)
    x, y = _keras_data(train_size + 256, seed, noise)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(hidden, activation="relu"),
                              keras.layers.Dense(hidden, activation="relu"), keras.layers.Dense(4)])
    model.compile(keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    os.makedirs(out, exist_ok=True)
    model.fit(x[:train_size], y[:train_size], validation_data=(x[train_size:], y[train_size:]), epochs=epochs,
              batch_size=32, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(os.path.join(out, "tb")),
                         keras.callbacks.CSVLogger(os.path.join(out, "training.csv"))])


def tf_eval_loop(out: str, *, repeats: int = 6) -> None:
    """An evaluation job logged with tf.summary that restores the same checkpoint step over and over (the
    training job died at step 5049), next to its training run."""
    import tensorflow as tf

    train = tf.summary.create_file_writer(os.path.join(out, "train"))
    with train.as_default():
        for step in range(0, 5050, 50):
            tf.summary.scalar("loss", 3.0 * math.exp(-step / 2000) + 0.5, step=step)
    train.flush()
    evaluation = tf.summary.create_file_writer(os.path.join(out, "eval"))
    with evaluation.as_default():
        for step in (1000, 2000, 3000, 4000, 5049):
            tf.summary.scalar("perplexity", 40.0 * math.exp(-step / 3000) + 12, step=step)
        for _ in range(repeats):
            tf.summary.scalar("perplexity", 17.80, step=5049)
    evaluation.flush()


TF_RUNS = [
    (Label("keras-healthy", [], framework="keras", cause="SGD lr 0.05"), dict(seed=0)),
    (Label("keras-lr-x100", ["logs.divergence|logs.nan"], ["logs.nan", "logs.accuracy-stuck", "logs.oscillation",
                                                  "logs.underfitting"],
           framework="keras", cause="SGD lr 5 (x100)"), dict(seed=1, lr=5.0)),
    (Label("keras-lr-x1e-4", ["logs.not-learning|logs.slow-convergence"], ["logs.accuracy-stuck"], framework="keras",
           cause="SGD lr 5e-6"), dict(seed=2, lr=5e-6)),
    (Label("keras-overfit", ["logs.overfitting"], framework="keras", cause="32 samples, hidden 512, noisy"),
     dict(seed=3, train_size=32, hidden=512, noise=2.5, epochs=40, lr=0.05)),
]
TF_EVAL = (Label("tf-eval-same-step", ["logs.repeated-step"], framework="tf.summary",
                 cause="evaluation restores checkpoint 5049 six times"), {})


def generate(out: str, quick: bool = False) -> list[Label]:
    labels = []
    for label, kwargs in TORCH_RUNS:
        torch_run(os.path.join(out, label.name), **kwargs)
        labels.append(label)
    if not quick:
        for label, kwargs in TF_RUNS:
            keras_run(os.path.join(out, label.name), **kwargs)
            labels.append(label)
        tf_eval_loop(os.path.join(out, TF_EVAL[0].name))
        labels.append(TF_EVAL[0])
    with open(os.path.join(out, "labels.json"), "w", encoding="utf-8") as handle:
        json.dump([asdict(label) for label in labels], handle, indent=1)
    return labels


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__)
    os.makedirs(args[0], exist_ok=True)
    for label in generate(args[0], quick="--quick" in sys.argv):
        print(f"{label.name:28} {label.framework:10} {', '.join(label.expected) or 'healthy'}")
