"""The numbers the diagnoses judge by, where each comes from, and how a project overrides them.

Defaults are taken from published detectors where one exists (SageMaker Debugger's
built-in rules, AUTOTRAINER's monitor, Zhang et al., ICSE 2021) and otherwise set on
the labelled runs in `benchmarks/logs/` (a number that says so). A project overrides
any of them in `pyproject.toml`:

    [tool.dldoctor.logs]
    divergence-factor = 5
    overfit-ratio = 0.2

and a run overrides them again with `--threshold divergence-factor=5` (repeatable).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Iterable, Optional


@dataclass(frozen=True)
class Thresholds:
    # Fewer points than this in a series and no trend is judged: SageMaker Debugger's LossNotDecreasing looks
    # at windows of num_steps = 10.
    min_points: int = 10
    # Divergence: the loss (median of its last tenth) at least this many times its smoothed minimum. Set on
    # the labelled runs: a doubling separates the LR x100 runs from healthy ones with room on both sides.
    divergence_factor: float = 2.0
    # ... and risen by at least this share of its descent from the first value to the minimum (a loss that
    # went from 2.3 to 1e-4 and back to 3e-4 has tripled but not diverged). Set on the labelled runs.
    divergence_recovery: float = 0.25
    # Not learning: the smoothed loss never fell more than this fraction below its first value. SageMaker
    # Debugger's LossNotDecreasing asks for a fall of diff_percent = 0.1 % every 10 steps; over a whole run we
    # ask for 5 %.
    plateau_band: float = 0.05
    # Accuracy stuck: never rose more than this above its first value (AUTOTRAINER's slow-convergence
    # delta = 0.01, the largest step-to-step rise of accuracy it calls "not converging").
    accuracy_delta: float = 0.01
    # Oscillation: a swing (a local maximum to the next local minimum) is counted when it is at least this
    # share of the curve's median (AUTOTRAINER's zeta = 0.03 is an absolute 3 points of accuracy; losses have
    # no common scale, so the share is relative) ...
    oscillation_amplitude: float = 0.3
    # ... and the curve oscillates when swings number at least this share of its points (AUTOTRAINER's
    # eta = 0.2) while its second half does not fall.
    oscillation_rate: float = 0.2
    # Overfitting: the validation loss ends this share above its best (SageMaker Debugger's Overfit,
    # ratio_threshold = 0.1) ...
    overfit_ratio: float = 0.1
    # ... at least this many evaluations after the best (SageMaker Debugger's Overtraining, patience 5 would
    # need long runs; 2 keeps a rise that is one noisy evaluation from counting).
    overfit_patience: int = 2
    # Underfitting: the training loss ends above this share of its first value and its last half fell by less
    # than `plateau_band`. Set on the labelled runs.
    underfit_fraction: float = 0.7
    # An evaluation of the same global step this many times in a row is a loop that re-reads one checkpoint
    # (the seed's "Perplexity = 17.80 ... at global step 5049", forever).
    repeated_eval_steps: int = 3
    # A step counter that falls back to within this share of the run's first steps restarted from scratch.
    restart_fraction: float = 0.05
    # A learning rate at or below this share of its peak has decayed to about zero.
    lr_decayed_fraction: float = 0.01
    # A spike or divergence that begins within this share of the run after the warm-up ends (or in the
    # warm-up's second half, where the rate is above half its peak) is related to it.
    lr_relation_window: float = 0.1
    # Gradient explosion: the largest gradient magnitude at least this many times its start (the median of its
    # first three points). SageMaker Debugger's ExplodingTensor rule flags only non-finite values; 100x (two
    # decades) is beyond any swing of the healthy labelled runs, whose gradients start near their largest.
    gradient_growth: float = 100.0

    def to_json(self) -> dict:
        return {f.name.replace("_", "-"): getattr(self, f.name) for f in fields(self)}


NAMES = {f.name.replace("_", "-"): f for f in fields(Thresholds)}


class ThresholdError(ValueError):
    """A threshold the user set that is unknown or not a number: a usage error."""


def _coerce(name: str, value, where: str):
    spec = NAMES.get(name.replace("_", "-"))
    if spec is None:
        raise ThresholdError(f"{where}: unknown threshold {name!r} (known: {', '.join(NAMES)})")
    kind = int if spec.type in (int, "int") else float
    try:
        number = kind(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number < 0:
        raise ThresholdError(f"{where}: {name} must be a non-negative {kind.__name__}, not {value!r}")
    return spec.name, number


def with_overrides(base: Thresholds, values: dict, where: str) -> Thresholds:
    changes = dict(_coerce(name, value, where) for name, value in values.items())
    return replace(base, **changes)


def from_pyproject(start: str) -> tuple[dict, Optional[str]]:
    """The `[tool.dldoctor.logs]` table of the nearest pyproject.toml at or above `start`, and its path."""
    from dldoctor.lint.config import tomllib

    directory = os.path.abspath(start)
    if not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            try:
                with open(candidate, "rb") as handle:
                    data = tomllib.load(handle)
            except (OSError, tomllib.TOMLDecodeError) as error:
                raise ThresholdError(f"{candidate}: cannot read: {error}")
            table = data.get("tool", {}).get("dldoctor", {})
            if isinstance(table, dict) and "logs" in table:
                if not isinstance(table["logs"], dict):
                    raise ThresholdError(f"{candidate}: [tool.dldoctor.logs] must be a table")
                return table["logs"], candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return {}, None
        directory = parent


def resolve(start: str, flags: Iterable[str]) -> tuple[Thresholds, Optional[str]]:
    """Defaults, then the project's `[tool.dldoctor.logs]`, then `--threshold NAME=VALUE` flags."""
    table, source = from_pyproject(start)
    thresholds = with_overrides(Thresholds(), table, f"{source} [tool.dldoctor.logs]") if table else Thresholds()
    pairs = {}
    for flag in flags:
        name, sep, value = flag.partition("=")
        if not sep:
            raise ThresholdError(f"--threshold {flag!r}: expected NAME=VALUE")
        pairs[name.strip()] = value.strip()
    return with_overrides(thresholds, pairs, "--threshold"), source
