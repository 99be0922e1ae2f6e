"""From log files to curves: which files belong to which run, one series per run and tag, train and eval paired.

A *run* is a directory holding event files or a CSV log (TensorBoard's notion). The
runs of one training share a *family*: `logs/train` and `logs/validation` (Keras' TensorBoard
callback), `model/` and `model/eval` (TF1 Estimator), or a single run whose tags say
the role (`Loss/train` and `Loss/val` from PyTorch, `train_loss` and `val_loss` from
Lightning). Each series keeps its points in the order they were written, which is
the order they happened: a step counter that goes back stays visible.

Points are kept in compact arrays (16 bytes each), every one of them: nothing is sampled.
"""

from __future__ import annotations

import os
import re
from array import array
from dataclasses import dataclass, field
from typing import Iterable, Optional

from dldoctor.probes.logs import csv_logs
from dldoctor.probes.logs.events import EventFileReader, Histogram, ReadProblem, Scalar, is_event_file

TRAIN, EVAL = "train", "eval"
TRAIN_WORDS = {"train", "training", "trn"}
EVAL_WORDS = {"val", "valid", "validation", "eval", "evaluation", "test", "dev", "holdout"}
# Words that say how often a metric is logged, not what it is: `epoch_loss` and `batch_loss` are both the loss.
CADENCE_WORDS = {"epoch", "epochs", "step", "steps", "batch", "iter", "iteration", "iterations", "vs", "per"}
LOSS_WORDS = {"loss", "losses", "xent", "nll", "perplexity", "ppl", "entropy", "objective", "cost"}
LR_WORDS = {"lr", "learning_rate", "learningrate"}
_SPLIT = re.compile(r"[/_\-.:\s]+")


def words(text: str) -> list[str]:
    # camelCase -> camel case, so `valLoss` and `val_loss` read the same
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [w for w in _SPLIT.split(text.lower()) if w]


def role_of_words(tokens: Iterable[str]) -> Optional[str]:
    tokens = set(tokens)
    if tokens & EVAL_WORDS:
        return EVAL
    if tokens & TRAIN_WORDS:
        return TRAIN
    return None


def metric_of(tokens: list[str]) -> Optional[str]:
    joined = "_".join(tokens)
    if set(tokens) & LR_WORDS or "learning_rate" in joined:
        return "lr"
    if any(t.startswith(("grad", "gradient")) for t in tokens) and any(t.startswith("norm") for t in tokens):
        return "grad_norm"
    if set(tokens) & LOSS_WORDS:
        return "loss"
    if any(t in ("acc", "accuracy", "top1", "top_1", "categorical", "binary") or t.startswith("acc")
           for t in tokens):
        return "accuracy"
    return None


@dataclass
class Series:
    """One tag of one run, every point in written order."""

    run: str
    tag: str
    kind: str  # "scalar" or "histogram" (the values are then the largest magnitude in each histogram)
    role: Optional[str]  # TRAIN, EVAL, or None where neither the run nor the tag says
    metric: Optional[str]  # "loss", "accuracy", "lr", "grad_norm", or None
    key: str  # the tag without its role and cadence words: what pairs `Loss/train` with `Loss/val`
    family: str
    source: str = ""  # the first file it was read from
    steps: array = field(default_factory=lambda: array("q"))
    values: array = field(default_factory=lambda: array("d"))
    # What the diagnoses computed from the points (the finite prefix, the smoothed profile): several
    # diagnoses ask for the same, and computing it once keeps a scan of a long series from repeating.
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        return f"{self.run}:{self.tag}" if self.run not in ("", ".") else self.tag

    def __len__(self) -> int:
        return len(self.steps)

    def to_json(self) -> dict:
        return {"run": self.run, "tag": self.tag, "kind": self.kind, "role": self.role, "metric": self.metric,
                "points": len(self), "first_step": self.steps[0] if len(self) else None,
                "last_step": self.steps[-1] if len(self) else None}


@dataclass
class LogFile:
    path: str
    run: str
    format: str  # "tfevents" or "csv"
    records: int = 0
    problems: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"path": self.path, "run": self.run, "format": self.format, "records": self.records,
                "problems": [p.to_json() for p in self.problems]}


@dataclass
class Logs:
    """Everything read: the files, their series and the restarts each run recorded."""

    files: list[LogFile] = field(default_factory=list)
    series: dict = field(default_factory=dict)  # (run, tag, kind) -> Series
    restarts: dict = field(default_factory=dict)  # run -> [Restart]

    @property
    def problems(self) -> list[ReadProblem]:
        return [p for f in self.files for p in f.problems]

    def families(self) -> dict[str, list[Series]]:
        out: dict[str, list[Series]] = {}
        for series in self.series.values():
            out.setdefault(series.family, []).append(series)
        return out


def _run_role(run_dir_name: str) -> Optional[str]:
    return role_of_words(words(run_dir_name)) if run_dir_name else None


def _family(run: str) -> str:
    parts = [p for p in run.replace("\\", "/").split("/") if p not in ("", ".")]
    if parts and _run_role(parts[-1]) is not None:
        parts = parts[:-1]
    return "/".join(parts)


def _event_file_order(path: str):
    """Event files of one run in the order they were written: by the timestamp in the name
    (`events.out.tfevents.1700000000.host.123.0`), then by name."""
    name = os.path.basename(path)
    match = re.search(r"tfevents\.(\d+)", name)
    return (int(match.group(1)) if match else 0, name)


def discover(paths: Iterable[str]) -> list[tuple[str, str, str, str]]:
    """(run name, run directory's own name, file path, format) for every log file under `paths`,
    runs in path order and each run's files in writing order. A missing path raises FileNotFoundError."""
    found: list[tuple[str, str, str, str]] = []
    for root in paths:
        if not os.path.exists(root):
            raise FileNotFoundError(root)
        if os.path.isfile(root):
            directory = os.path.dirname(os.path.abspath(root))
            fmt = "csv" if root.lower().endswith(".csv") else "tfevents"
            found.append((os.path.basename(directory), os.path.basename(directory), root, fmt))
            continue
        root_name = os.path.basename(os.path.abspath(root))
        for directory, subdirs, files in os.walk(root):
            subdirs.sort()
            relative = os.path.relpath(directory, root)
            run = root_name if relative == "." else relative.replace(os.sep, "/")
            own_name = os.path.basename(os.path.abspath(directory))
            events = sorted((f for f in files if is_event_file(f)), key=_event_file_order)
            for name in events:
                found.append((run, own_name, os.path.join(directory, name), "tfevents"))
            for name in sorted(files):
                path = os.path.join(directory, name)
                if name.lower().endswith(".csv") and csv_logs.is_training_log(path):
                    found.append((run, own_name, path, "csv"))
    return found


def read(paths: Iterable[str], fast: bool = True) -> Logs:
    """Read every log file under `paths` into series (the one pass over each file). `fast=False` parses
    every event with the protos (the reference the fast path is tested against)."""
    logs = Logs()
    for run, own_name, path, fmt in discover(paths):
        reader = csv_logs.CsvLogReader(path) if fmt == "csv" else EventFileReader(path, fast=fast)
        log_file = LogFile(path, run, fmt)
        logs.files.append(log_file)
        run_role = _run_role(own_name)
        family = _family(run)
        try:
            if fmt == "csv":
                _add_facts(logs, reader, run, run_role, family, path)
            else:
                for batch in reader.batches():
                    if batch.restarts:
                        logs.restarts.setdefault(run, []).extend(batch.restarts)
                    for (tag, kind), (steps, values) in batch.columns.items():
                        series = _series_for(logs, run, tag, kind, run_role, family, path)
                        series.steps.extend(steps)
                        series.values.extend(values)
        except OSError as error:
            reader.problems.append(ReadProblem(path, -1, "unreadable", error.strerror or str(error), reader.records))
        log_file.records = reader.records
        log_file.problems = reader.problems
    return logs


def _series_for(logs: Logs, run: str, tag: str, kind: str, run_role, family: str, path: str) -> Series:
    series = logs.series.get((run, tag, kind))
    if series is None:
        series = _new_series(run, tag, kind, run_role, family)
        series.source = path
        logs.series[(run, tag, kind)] = series
    return series


def _add_facts(logs: Logs, reader, run: str, run_role, family: str, path: str) -> None:
    cache: dict = {}
    for fact in reader:
        kind = "histogram" if isinstance(fact, Histogram) else "scalar"
        series = cache.get((fact.tag, kind))
        if series is None:
            series = cache[(fact.tag, kind)] = _series_for(logs, run, fact.tag, kind, run_role, family, path)
        series.steps.append(fact.step)
        series.values.append(fact.value if isinstance(fact, Scalar) else fact.max_abs)


def _new_series(run: str, tag: str, kind: str, run_role: Optional[str], family: str) -> Series:
    tokens = words(tag)
    role = role_of_words(tokens) or run_role
    key_tokens = [t for t in tokens if t not in TRAIN_WORDS | EVAL_WORDS | CADENCE_WORDS] or tokens
    metric = metric_of(tokens) if kind == "scalar" else ("grad_hist" if any(t.startswith("grad") for t in tokens)
                                                         else "weight_hist")
    return Series(run, tag, kind, role, metric, "_".join(key_tokens), family)


@dataclass
class Family:
    """The series of one training: its train losses, their eval partners, accuracies and learning rates."""

    name: str
    series: list[Series]

    def of(self, metric: str, role: Optional[str] = None) -> list[Series]:
        return [s for s in self.series if s.metric == metric and (role is None or (s.role or TRAIN) == role)]

    def train_losses(self) -> list[Series]:
        """One training loss per key (the densest where a metric is logged per step and per epoch)."""
        best: dict[str, Series] = {}
        for s in self.of("loss", TRAIN):
            if s.key not in best or len(s) > len(best[s.key]):
                best[s.key] = s
        return list(best.values())

    def pairs(self) -> list[tuple[Series, Series]]:
        """(train, eval) series of one metric: the eval series and the train series of the same key,
        preferring the train series logged per epoch (the eval's cadence), then the one with most points."""
        out = []
        for evaluation in self.series:
            if evaluation.role != EVAL or evaluation.metric not in ("loss", "accuracy"):
                continue
            candidates = [s for s in self.series if (s.role or TRAIN) == TRAIN and s.key == evaluation.key
                          and s.metric == evaluation.metric]
            if not candidates:
                continue
            candidates.sort(key=lambda s: ("epoch" not in words(s.tag), -len(s)))
            out.append((candidates[0], evaluation))
        return out

    def learning_rate(self) -> Optional[Series]:
        rates = self.of("lr")
        return max(rates, key=len) if rates else None


def families(logs: Logs) -> list[Family]:
    return [Family(name, members) for name, members in logs.families().items()]
