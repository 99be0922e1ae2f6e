"""A labelled set of real training runs for `dldoctor logs`: tiny trainings with known causes injected.

Each run is a real training (PyTorch on the CPU, or Keras on TensorFlow) on a small
synthetic classification task, logging through the framework's own writer
(`torch.utils.tensorboard.SummaryWriter`, Keras' TensorBoard callback and CSVLogger,
`tf.summary`). What was injected is the label: the diagnoses `dldoctor logs` should
name, and those it may also name (a learning rate x100 can diverge and then turn NaN).
Healthy runs have no label: any diagnosis on them is a false alarm.

    python benchmarks/logs/runs.py OUT_DIR [--quick]

writes OUT_DIR/<run>/ and OUT_DIR/labels.json in about a minute. `--quick` writes the
PyTorch runs only. Each label says its split: "tuning" runs (Gaussian blobs, ReLU MLPs)
are the ones the thresholds were set on; "held-out" runs (concentric shells, tanh and GELU
MLPs of another size, a linear model, other seeds and tag names, Keras with other sizes)
were written after the thresholds were fixed and are scored apart.

An expected id with a suffix is a detail of a check: `logs.divergence@warmup` is a
divergence whose evidence ties it to the learning-rate warm-up (`after_warmup` or
`during_warmup`).
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
    # "tuning": the thresholds were set looking at these runs. "held-out": other seeds, another data set
    # (concentric shells instead of blobs), other models and optimizers; never looked at to set a number.
    split: str = "tuning"


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


def _shells(n: int, classes: int, dim: int, seed: int, noise: float = 1.0, weights=None):
    """Concentric shells: class k at radius 2 + 2k around the origin. No linear model separates them."""
    import torch

    g = torch.Generator().manual_seed(seed)
    if weights is None:
        y = torch.randint(0, classes, (n,), generator=g)
    else:
        y = torch.multinomial(torch.tensor(weights, dtype=torch.float), n, replacement=True, generator=g)
    direction = torch.nn.functional.normalize(torch.randn(n, dim, generator=g), dim=1)
    radius = 2.0 + 2.0 * y.float() + 0.5 * noise * torch.randn(n, generator=g)
    return direction * radius[:, None], y


def torch_run(out: str, *, seed: int = 0, lr: float = 0.05, optimizer: str = "sgd", steps: int = 300,
              hidden: int = 32, train_size: int = 1024, shuffle_labels: bool = False, nan_at: int = -1,
              dead_init: bool = False, weights=None, eval_every: int = 20, noise: float = 1.0,
              restart_at: int = -1, classes: int = 4, batch: int = 32, data: str = "blobs", depth: int = 2,
              activation: str = "relu", ordered: bool = False, warmup: int = 0, decay_to_zero_at: int = 0,
              histograms_every: int = 0, tags: tuple = ("Loss", "Accuracy")) -> None:
    """One tiny MLP training on Gaussian blobs (or concentric shells), logged with SummaryWriter: the loss and
    accuracy of training every step, of validation every `eval_every` steps, the learning rate every step,
    and with `histograms_every` the gradients of every parameter as histograms.

    `ordered`: batches taken in label order, never shuffled. `warmup`: the learning rate rises linearly
    to `lr` over that many steps. `decay_to_zero_at`: a linear decay that reaches 0 at that step and
    stays there (a schedule shorter than the run). `depth` 0 is a linear model."""
    import torch
    from torch.utils.tensorboard import SummaryWriter

    torch.set_num_threads(1)  # tiny models: threads only contend
    torch.manual_seed(seed)
    dim = 10
    make = _shells if data == "shells" else _blobs
    x, y = make(train_size, classes, dim, seed, noise, weights)
    vx, vy = make(512, classes, dim, seed + 100 if data == "shells" else seed, noise, weights)
    if ordered:
        order = torch.argsort(y, stable=True)
        x, y = x[order], y[order]
    if shuffle_labels:
        y = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(seed + 1))]
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU}[activation]

    def fresh():
        layers, width = [], dim
        for _ in range(depth):
            layers += [torch.nn.Linear(width, hidden), act()]
            width = hidden
        model = torch.nn.Sequential(*layers, torch.nn.Linear(width, classes))
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
        if warmup or decay_to_zero_at:
            scale = min(1.0, (step + 1) / warmup) if warmup else 1.0
            if decay_to_zero_at:
                scale *= max(0.0, 1.0 - step / decay_to_zero_at)
            for group in opt.param_groups:
                group["lr"] = lr * scale
        if ordered:
            index = (torch.arange(batch) + step * batch) % len(x)
        else:
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
        loss_tag, accuracy_tag = tags
        if histograms_every and step % histograms_every == 0:
            for name, parameter in model.named_parameters():
                writer.add_histogram(f"gradients/{name}", parameter.grad, logged)
        writer.add_scalar(f"{loss_tag}/train", loss.item(), logged)
        writer.add_scalar(f"{accuracy_tag}/train", (logits.argmax(1) == y[index]).float().mean().item(), logged)
        writer.add_scalar("lr", opt.param_groups[0]["lr"], logged)
        if step % eval_every == eval_every - 1:
            with torch.no_grad():
                v = model(vx)
                writer.add_scalar(f"{loss_tag}/val", torch.nn.functional.cross_entropy(v, vy).item(), logged)
                writer.add_scalar(f"{accuracy_tag}/val", (v.argmax(1) == vy).float().mean().item(), logged)
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
    (Label("torch-ordered-batches", ["logs.oscillation"], cause="batches in label order, never shuffled"),
     dict(seed=20, ordered=True)),
    (Label("torch-bottleneck", ["logs.underfitting"], ["logs.not-learning"],
           cause="a hidden layer of 1 unit: too small a model for 4 classes"), dict(seed=21, hidden=1)),
    (Label("torch-warmup-too-high", ["logs.divergence@warmup"], ["logs.divergence", "logs.nan",
                                                                 "logs.accuracy-stuck", "logs.oscillation"],
           cause="linear warm-up over 50 steps to lr 0.3 (6x the healthy rate)"),
     dict(seed=22, warmup=50, lr=0.3)),
    (Label("torch-lr-to-zero", ["logs.lr-decayed"], cause="linear decay to 0 at step 60 of 300, noisy blobs"),
     dict(seed=23, noise=2.5, lr=0.02, decay_to_zero_at=60)),
    (Label("torch-lr-to-zero-b", ["logs.lr-decayed"], cause="linear decay to 0 at step 80 of 300, batch 64"),
     dict(seed=28, noise=2.0, lr=0.03, decay_to_zero_at=80, batch=64)),
    (Label("torch-lr-x100-histograms", ["logs.gradient-explosion", "logs.divergence|logs.nan"],
           ["logs.nan", "logs.accuracy-stuck", "logs.oscillation"],
           cause="SGD lr 5 (x100), gradient histograms every step"), dict(seed=24, lr=5.0, histograms_every=1)),
    (Label("torch-healthy-histograms", [], cause="SGD lr 0.05, gradient histograms every 5 steps"),
     dict(seed=25, histograms_every=5)),
    (Label("torch-healthy-warmup", [], cause="warm-up over 60 steps to lr 0.05"), dict(seed=26, warmup=60)),
    (Label("torch-healthy-decay", [], cause="linear decay to 0 at the last step"),
     dict(seed=27, decay_to_zero_at=300)),
]

# The held-out part: concentric shells instead of blobs, tanh/GELU MLPs of 3 layers and 64 units or a
# linear model, other tag names and seeds. No threshold was set looking at these runs.
_SHELLS = dict(data="shells", depth=3, hidden=64, activation="tanh")
HELD_OUT_TORCH = [
    (Label("ho-healthy-tanh", [], cause="shells, tanh MLP, SGD lr 0.05"), dict(_SHELLS, seed=101)),
    (Label("ho-healthy-adam-gelu", [], cause="shells, GELU MLP, Adam 2e-3"),
     dict(_SHELLS, seed=102, activation="gelu", optimizer="adam", lr=2e-3)),
    (Label("ho-healthy-warmup-histograms", [], cause="shells, warm-up 50 steps, gradient histograms every 10"),
     dict(_SHELLS, seed=103, warmup=50, histograms_every=10, tags=("loss", "acc"))),
    (Label("ho-healthy-decay-long", [], cause="shells, 400 steps, linear decay to 0 at the last step"),
     dict(_SHELLS, seed=104, steps=400, decay_to_zero_at=400)),
    (Label("ho-lr-x100", ["logs.divergence|logs.nan"], ["logs.nan", "logs.accuracy-stuck", "logs.oscillation"],
           cause="shells, SGD lr 5 (x100)"), dict(_SHELLS, seed=105, lr=5.0)),
    (Label("ho-lr-x1e-4", ["logs.not-learning|logs.slow-convergence"], ["logs.accuracy-stuck"],
           cause="shells, Adam lr 2e-7 (x1e-4)"),
     dict(_SHELLS, seed=106, activation="gelu", optimizer="adam", lr=2e-7)),
    (Label("ho-log0-nan", ["logs.nan"], cause="shells, log(0) from step 200"), dict(_SHELLS, seed=107, nan_at=200)),
    (Label("ho-overfit", ["logs.overfitting"], cause="shells, 32 samples, 256 units, Adam, 400 steps"),
     dict(_SHELLS, seed=108, train_size=32, hidden=256, noise=2.0, steps=400, optimizer="adam", lr=3e-3)),
    (Label("ho-shuffled-labels", ["logs.not-learning"], ["logs.accuracy-stuck", "logs.underfitting"],
           cause="shells, labels shuffled"), dict(_SHELLS, seed=109, shuffle_labels=True)),
    (Label("ho-constant-output", ["logs.accuracy-stuck"], ["logs.not-learning", "logs.underfitting"],
           cause="shells, every ReLU dead, 60% one class"),
     dict(_SHELLS, seed=110, activation="relu", dead_init=True, weights=[0.6, 0.2, 0.1, 0.1])),
    (Label("ho-restart-no-restore", ["logs.step-backwards"], cause="shells, restarted at step 200 of 400"),
     dict(_SHELLS, seed=111, steps=400, restart_at=200)),
    (Label("ho-ordered-batches", ["logs.oscillation"], cause="shells, batches in label order"),
     dict(_SHELLS, seed=112, ordered=True)),
    (Label("ho-linear-underfit", ["logs.underfitting"], ["logs.not-learning"],
           cause="shells, a linear model: no hyperplane separates shells"), dict(_SHELLS, seed=113, depth=0)),
    (Label("ho-warmup-too-high", ["logs.divergence@warmup"], ["logs.divergence", "logs.nan", "logs.accuracy-stuck",
                                                              "logs.oscillation"],
           cause="shells, warm-up over 80 steps to lr 1.0 (20x the healthy rate)"),
     dict(_SHELLS, seed=114, warmup=80, lr=1.0)),
    (Label("ho-lr-to-zero", ["logs.lr-decayed"], cause="shells, linear decay to 0 at step 100 of 400"),
     dict(_SHELLS, seed=115, steps=400, noise=2.0, decay_to_zero_at=100)),
    (Label("ho-lr-x100-histograms", ["logs.gradient-explosion", "logs.divergence|logs.nan"],
           ["logs.nan", "logs.accuracy-stuck", "logs.oscillation"],
           cause="shells, SGD lr 5 (x100), gradient histograms every 2 steps"),
     dict(_SHELLS, seed=116, lr=5.0, histograms_every=2)),
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


def tf_eval_loop(out: str, *, repeats: int = 6, last: int = 5049, tag: str = "perplexity") -> None:
    """An evaluation job logged with tf.summary that restores the same checkpoint step over and over (the
    training job died at step `last`), next to its training run."""
    import tensorflow as tf

    train = tf.summary.create_file_writer(os.path.join(out, "train"))
    with train.as_default():
        for step in range(0, last + 1, 50):
            tf.summary.scalar("loss", 3.0 * math.exp(-step / 2000) + 0.5, step=step)
    train.flush()
    evaluation = tf.summary.create_file_writer(os.path.join(out, "eval"))
    with evaluation.as_default():
        for step in [s * last // 5 for s in range(1, 5)] + [last]:
            tf.summary.scalar(tag, 40.0 * math.exp(-step / 3000) + 12, step=step)
        for _ in range(repeats):
            tf.summary.scalar(tag, 40.0 * math.exp(-last / 3000) + 12, step=last)
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
HELD_OUT_TF = [
    # Written as a healthy run; its validation loss rises 54% from its best (epoch 9) while the training loss
    # falls 10x: it overfits, and is labelled so (the first scoring counted that as a false alarm).
    (Label("ho-keras-noisy-overtrained", ["logs.overfitting"], framework="keras",
           cause="64 units, noisy blobs, 30 epochs", split="held-out"), dict(seed=11, hidden=64, noise=1.5)),
    (Label("ho-keras-healthy", [], framework="keras", cause="64 units, noisy blobs, 8 epochs", split="held-out"),
     dict(seed=14, hidden=64, noise=1.5, epochs=8)),
    (Label("ho-keras-lr-x100", ["logs.divergence|logs.nan"], ["logs.nan", "logs.accuracy-stuck", "logs.oscillation",
                                                              "logs.underfitting"],
           framework="keras", cause="64 units, SGD lr 5 (x100)", split="held-out"), dict(seed=12, hidden=64, lr=5.0)),
    (Label("ho-keras-overfit", ["logs.overfitting"], framework="keras", cause="48 samples, 256 units, noisy",
           split="held-out"), dict(seed=13, train_size=48, hidden=256, noise=2.0, epochs=40)),
]
HELD_OUT_EVAL = (Label("ho-tf-eval-same-step", ["logs.repeated-step"], framework="tf.summary",
                       cause="evaluation restores checkpoint 12000 four times, tag loss", split="held-out"),
                 dict(repeats=4, last=12000, tag="loss"))
for _label, _ in HELD_OUT_TORCH:
    _label.split = "held-out"


def generate(out: str, quick: bool = False, splits=("tuning", "held-out")) -> list[Label]:
    """Write the runs of `splits` under `out` (each run in a fresh directory) and their labels.json.
    `quick`: the PyTorch runs only."""
    import shutil

    torch_runs = [r for r in TORCH_RUNS + HELD_OUT_TORCH if r[0].split in splits]
    tf_runs = [r for r in TF_RUNS + HELD_OUT_TF if r[0].split in splits]
    evals = [r for r in (TF_EVAL, HELD_OUT_EVAL) if r[0].split in splits]
    labels = []
    for kind, chosen in (("torch", torch_runs), ("keras", [] if quick else tf_runs),
                         ("eval", [] if quick else evals)):
        for label, kwargs in chosen:
            where = os.path.join(out, label.name)
            shutil.rmtree(where, ignore_errors=True)  # a second writer would add a second event file
            {"torch": torch_run, "keras": keras_run, "eval": tf_eval_loop}[kind](where, **kwargs)
            labels.append(label)
    with open(os.path.join(out, "labels.json"), "w", encoding="utf-8") as handle:
        json.dump([asdict(label) for label in labels], handle, indent=1)
    return labels


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__)
    os.makedirs(args[0], exist_ok=True)
    for label in generate(args[0], quick="--quick" in sys.argv):
        print(f"{label.name:30} {label.split:9} {label.framework:10} {', '.join(label.expected) or 'healthy'}")
