"""CSV training logs: PyTorch Lightning's `CSVLogger` (`metrics.csv`) and Keras' `CSVLogger`.

Both write one header row of column names and one row per logging call, streamed here
row by row. Lightning writes `epoch`, `step` and one column per logged metric, leaving
a cell empty where that row did not log the metric (`train_loss_step` on every step,
`val_loss` once per validation). Keras writes `epoch` and one column per metric
(`loss`, `accuracy`, `val_loss`, `learning_rate`), every cell filled. The step of a row
is its `step` cell where the file has one, else its `epoch`.

A row cut short (the run was killed while writing it) is reported and skipped.
"""

from __future__ import annotations

import csv
from typing import Iterator, Optional

from dldoctor.probes.logs.events import ReadProblem, Scalar

STEP_COLUMNS = ("step", "global_step")
EPOCH_COLUMNS = ("epoch",)
# Columns that are bookkeeping, not curves.
_NOT_METRICS = {"step", "global_step", "epoch", "time", "timestamp", "wall_time", "created_at"}


def _header(path: str) -> Optional[list[str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
            row = next(csv.reader(handle), None)
    except OSError:
        return None
    return [cell.strip() for cell in row] if row else None


def is_training_log(path: str) -> bool:
    """A CSV whose header has an epoch or step column and at least one metric column."""
    header = _header(path)
    if not header:
        return False
    lowered = [name.lower() for name in header]
    has_counter = any(name in STEP_COLUMNS + EPOCH_COLUMNS for name in lowered)
    return has_counter and any(name not in _NOT_METRICS for name in lowered)


class CsvLogReader:
    """The scalars of one CSV log, streamed; `problems` holds the rows that could not be read."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[ReadProblem] = []
        self.records = 0
        self.first_wall_time: Optional[float] = None
        self.file_version = "csv"

    def __iter__(self) -> Iterator[Scalar]:
        with open(self.path, newline="", encoding="utf-8-sig", errors="replace") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header:
                return
            names = [cell.strip() for cell in header]
            lowered = [name.lower() for name in names]
            step_index = next((lowered.index(n) for n in STEP_COLUMNS if n in lowered), None)
            epoch_index = next((lowered.index(n) for n in EPOCH_COLUMNS if n in lowered), None)
            counter = step_index if step_index is not None else epoch_index
            metrics = [(i, name) for i, name in enumerate(names) if lowered[i] not in _NOT_METRICS]
            for row in reader:
                if not row:
                    continue
                if len(row) != len(names):
                    self.problems.append(ReadProblem(self.path, reader.line_num, "truncated",
                                                     f"line {reader.line_num} has {len(row)} cells, the header "
                                                     f"{len(names)}; skipped", self.records))
                    continue
                step = _number(row[counter]) if counter is not None else None
                if step is None and epoch_index is not None and counter != epoch_index:
                    step = _number(row[epoch_index])
                if step is None:
                    step = float(self.records)
                self.records += 1
                for index, name in metrics:
                    value = _number(row[index])
                    if value is not None:
                        yield Scalar(name, int(step), 0.0, value)


def _number(cell: str) -> Optional[float]:
    cell = cell.strip()
    if not cell:
        return None
    try:
        return float(cell)
    except ValueError:
        return None
