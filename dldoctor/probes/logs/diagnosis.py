"""Pure functions from curves to checks: what went wrong in a training, when, and the values that show it.

Every check carries the step range it is about and the values there as evidence,
and its fixes are suggestions (the curves show a symptom; the cause is the most
common one behind it, not a certainty). Curves are judged on a smoothed profile:
the points split into at most 200 consecutive groups of equal size, each its median
(every point counts, none is sampled; a median ignores one bad batch).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Optional

from dldoctor.probes.logs import arrays
from dldoctor.probes.logs.curves import EVAL, TRAIN, Family, Logs, Series, families
from dldoctor.probes.logs.thresholds import Thresholds
from dldoctor.verdict import FAIL, OK, SKIP, WARN, Check, Location

SECTION_READ = "Logs read"
SECTION_CURVES = "Curves"
SECTION_STEPS = "Steps"

NAN_FIXES = [
    "If the loss rose before it went NaN, lower the learning rate or clip gradients "
    "(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); Keras optimizer clipnorm=1.0).",
    "If it was steady, look at the batch of that step: an empty batch, a log(0) or a division by zero "
    "(clamp: torch.log(x.clamp_min(1e-8)), tf.math.log(x + 1e-8); a mean over zero elements is NaN).",
    "Find the first operation that makes it: torch.autograd.set_detect_anomaly(True), "
    "tf.debugging.enable_check_numerics().",
]
DIVERGENCE_FIXES = [
    "Lower the learning rate (try 10x lower) or add a warm-up.",
    "Clip gradients (torch.nn.utils.clip_grad_norm_; Keras clipnorm=1.0).",
    "Check the loss and the labels' scale: unnormalised inputs or targets make the same curve.",
]
PLATEAU_FIXES = [
    "Check that the optimizer updates the model: the learning rate may be far too small (try 10x-100x larger), "
    "the parameters may not be the ones passed to the optimizer, or gradients may be zeroed after backward().",
    "Check that inputs and labels are paired (not shuffled separately) and that the labels are what the loss "
    "expects (class indices, not one-hot, for CrossEntropyLoss).",
]
STUCK_ACCURACY_FIXES = [
    "Compare it with the share of the most common class: a model that predicts the same class for every "
    "input scores exactly that. A learning rate too high (dead units) or a bad final activation are common causes.",
    "Balance the classes (class weights, a sampler) if one dominates.",
]
OSCILLATION_FIXES = [
    "Lower the learning rate or decay it (a schedule), or increase the batch size.",
    "Shuffle the training data every epoch: ordered data makes the loss swing by class.",
]
OVERFIT_FIXES = [
    "Stop early and keep the best validation step (keras.callbacks.EarlyStopping(restore_best_weights=True); "
    "Lightning ModelCheckpoint(monitor='val_loss') and EarlyStopping).",
    "Regularise: more data or augmentation, weight decay, dropout, or a smaller model.",
]
UNDERFIT_FIXES = [
    "Train longer or with a larger learning rate; a larger model if the data allow.",
    "Check the features: inputs not normalised, or too little signal for this model.",
]
REPEATED_EVAL_FIXES = [
    "An evaluation loop that reads the latest checkpoint re-evaluates the same one while no new one is written: "
    "check that the training job is alive and saving where the evaluator looks.",
    "Wait for a new checkpoint before evaluating again (tf.train.checkpoints_iterator, or skip a step already "
    "evaluated).",
]
REPEATED_STEP_FIXES = [
    "Pass the step when logging: SummaryWriter.add_scalar(tag, value, global_step), tf.summary.scalar(..., "
    "step=step), FileWriter.add_summary(summary, global_step).",
]
RESTART_FIXES = [
    "Restore the checkpoint when the job restarts (tf.train.Checkpoint.restore(manager.latest_checkpoint); "
    "model.load_state_dict and optimizer.load_state_dict before the loop; Lightning ckpt_path='last').",
]
LR_DECAY_FIXES = [
    "If the schedule was meant to run longer, set its length to the run's (CosineAnnealingLR T_max, "
    "decay_steps) or stop the run where the learning rate reaches ~0.",
]


# --- curve statistics ---------------------------------------------------------------------------------


@dataclass
class Profile:
    """A smoothed curve: group medians of the finite points, with each group's middle step."""

    steps: list
    values: list

    def __len__(self) -> int:
        return len(self.values)


def _memo(series: Series, name: str, compute):
    """A per-series result, kept while the series has the same points (several diagnoses ask for it)."""
    key = (name, len(series))
    if key not in series.memo:
        series.memo[key] = compute()
    return series.memo[key]


def last_attempt(series: Series) -> int:
    """The index where the last attempt begins: after the last fall of the step counter to (or below) the
    first step, the run started over and the curves before belong to another training."""
    return _memo(series, "attempt", lambda: arrays.last_restart(series.steps))


def finite_prefix(series: Series) -> tuple:
    """The points of the last attempt before its first NaN or Inf: views of the series' arrays, not copies."""
    def compute():
        start = last_attempt(series)
        stop = arrays.first_nonfinite(series.values, start)
        return memoryview(series.steps)[start:stop], memoryview(series.values)[start:stop]

    return _memo(series, "finite", compute)


def smoothed(series: Series) -> Profile:
    """The profile of the series' finite prefix."""
    return _memo(series, "profile", lambda: profile(*finite_prefix(series)))


def profile(steps, values, groups: int = 200) -> Profile:
    n = len(values)
    if n <= 30:
        return Profile(list(steps), list(values))
    count = min(groups, max(30, n // 5))
    return Profile(*arrays.group_medians(steps, values, count))


def _median(values) -> float:
    return arrays.median(values)


def _fmt(value: float) -> str:
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.3g}"
    return f"{value:.4g}"


def _around(steps, values, index: int, before: int = 5, after: int = 0) -> list:
    lo, hi = max(0, index - before), min(len(values), index + after + 1)
    return [[steps[i], _json_number(values[i])] for i in range(lo, hi)]


def _json_number(value: float):
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return value


def _location(series: Series) -> Optional[Location]:
    return Location(series.source) if series.source else None


# --- learning-rate context -------------------------------------------------------------------------------


@dataclass
class Schedule:
    series: Series
    peak_step: int
    peak: float
    warmup: bool  # the rate rose at least 2x to its peak
    decayed_step: Optional[int]  # first step after the peak at or below lr_decayed_fraction of it
    half_step: Optional[int] = None  # first step of the warm-up at or above half the peak


def schedule(family: Family, thresholds: Thresholds) -> Optional[Schedule]:
    lr = family.learning_rate()
    if lr is None or len(lr) < 2:
        return None
    steps, values = finite_prefix(lr)
    if not values:
        return None
    peak_index = arrays.argmax(values)
    peak = values[peak_index]
    warmup = peak_index > 0 and values[0] * 2 <= peak
    decayed = next((steps[i] for i in range(peak_index, len(values))
                    if peak > 0 and values[i] <= thresholds.lr_decayed_fraction * peak), None)
    half = next((steps[i] for i in range(peak_index + 1) if values[i] >= peak / 2), steps[peak_index])
    return Schedule(lr, steps[peak_index], peak, warmup, decayed, half)


def _lr_relation(sched: Optional[Schedule], onset_step: int, span: float, thresholds: Thresholds) -> tuple[str, dict]:
    if sched is None:
        return "", {}
    evidence = {"lr_tag": sched.series.tag, "lr_peak": sched.peak, "lr_peak_step": sched.peak_step}
    if not sched.warmup or onset_step > sched.peak_step + max(1.0, thresholds.lr_relation_window * span):
        return "", evidence
    if onset_step >= sched.peak_step:
        return (f"It began {onset_step - sched.peak_step} steps after the learning-rate warm-up ended at step "
                f"{sched.peak_step} (peak {_fmt(sched.peak)}): the peak may be too high for this model.",
                {**evidence, "after_warmup": True})
    if sched.half_step is not None and onset_step >= sched.half_step:
        # The warm-up's second half: the rate climbed past what the model tolerates before reaching its peak.
        return (f"It began at step {onset_step}, late in the learning-rate warm-up (from step {sched.half_step} the "
                f"rate was above half its peak {_fmt(sched.peak)}, reached at step {sched.peak_step}): the peak may "
                f"be too high for this model.", {**evidence, "during_warmup": True})
    return "", evidence


# --- the diagnoses -----------------------------------------------------------------------------------------


def nonfinite(family: Family) -> Optional[Check]:
    """The first NaN or Inf of the family's scalars: the tag, the step, and what the curve did before."""
    hits = []
    for series in family.series:
        index = arrays.first_nonfinite(series.values)
        if index < len(series):
            hits.append((series.steps[index], series.metric != "loss", series.tag, index, series))
    if not hits:
        return None
    hits.sort(key=lambda h: (h[0], h[1], h[2]))
    step, _, tag, index, series = hits[0]
    value = series.values[index]
    before = list(series.values[max(0, index - 20):index])
    trend = _before_trend(before)
    detail = [f"{series.name} is {_fmt(value)} at step {step} (point {index + 1} of {len(series)}); {trend}."]
    others = [f"{h[4].name} (step {h[0]})" for h in hits[1:6]]
    if others:
        detail.append("Also non-finite later: " + ", ".join(others) + (" …" if len(hits) > 6 else "") + ".")
    return Check("logs.nan", FAIL, f"{series.name} turns {_fmt(value)} at step {step}", "\n".join(detail),
                 fix=NAN_FIXES,
                 evidence={"series": series.name, "step": step, "steps": [step, series.steps[-1]],
                           "value": _json_number(value), "before": _around(series.steps, series.values, index, 5),
                           "trend_before": trend.split(":")[0], "also": [[h[4].name, h[0]] for h in hits[1:]]},
                 location=_location(series), subject=family.name or series.run, section=SECTION_CURVES)


def _before_trend(before: list) -> str:
    finite = [v for v in before if not (math.isnan(v) or math.isinf(v))]
    if len(finite) < 2:
        return "it is the first value logged" if not finite else f"the one value before was {_fmt(finite[0])}"
    first, last = finite[0], finite[-1]
    base = _median(finite[:-1])
    if base and abs(last) > 3 * abs(base):
        return f"just before, it spiked to {_fmt(last)} (median {_fmt(base)} over the {len(finite) - 1} points before)"
    if first and last > first * 1.5 and last > 0:
        return f"it rose from {_fmt(first)} to {_fmt(last)} over the {len(finite)} points before"
    if first > 0 and last < first / 1.5:
        return f"it was falling before ({_fmt(first)} -> {_fmt(last)} over the {len(finite)} points before)"
    return f"it was steady before (last {_fmt(last)}, median {_fmt(base)} over the {len(finite)} points before)"


def divergence(series: Series, sched: Optional[Schedule], thresholds: Thresholds) -> Optional[Check]:
    """A loss that rose by a factor over its smoothed minimum and did not come back."""
    steps, values = finite_prefix(series)
    if len(values) < thresholds.min_points:
        return None
    p = smoothed(series)
    low_index = min(range(len(p)), key=lambda i: p.values[i])
    low = p.values[low_index]
    tail = _median(values[-max(3, len(values) // 10):])
    first = p.values[0]
    rise = tail - low
    start = last_attempt(series)
    went_nan = start + len(values) < len(series)
    if tail < 0.01 * abs(series.values[start]):
        return None  # still far below the untrained loss: numerical noise near 0, not a divergence
    if low <= 0 and not went_nan:
        return None  # a loss that reaches 0 or below (a negative log-likelihood) has no scale to rise by
    factor_ok = tail >= thresholds.divergence_factor * low if low > 0 else rise > 0
    recovery_ok = rise >= thresholds.divergence_recovery * max(first - low, 0.0) and rise > 0
    exploded = _explosion(steps, values, p, thresholds)
    if exploded is not None:
        return exploded_check(series, exploded, sched, thresholds)
    if not (factor_ok and recovery_ok) or low_index == len(p) - 1:
        return None
    onset_index = next((i for i in range(low_index, len(p)) if p.values[i] >= thresholds.divergence_factor * low),
                       len(p) - 1) if low > 0 else low_index
    onset = p.steps[onset_index]
    span = float(steps[-1] - steps[0]) or 1.0
    relation, lr_evidence = _lr_relation(sched, onset, span, thresholds)
    ratio = f"{tail / low:.3g}x" if low > 0 else "above"
    detail = (f"{series.name}: lowest {_fmt(low)} around step {p.steps[low_index]}, then rising from step {onset}; "
              f"{_fmt(tail)} over the last tenth of the run (to step {steps[-1]}), {ratio} its minimum"
              + (", then NaN" if went_nan else "") + ".")
    if relation:
        detail += "\n" + relation
    fixes = list(DIVERGENCE_FIXES)
    if relation:
        fixes.insert(0, "Lower the peak learning rate or lengthen the warm-up.")
    return Check("logs.divergence", FAIL, f"{series.name} diverges from step {onset}", detail, fix=fixes,
                 evidence={"series": series.name, "steps": [onset, steps[-1]], "min": low,
                           "min_step": p.steps[low_index], "tail": tail, "first": first,
                           "factor": (tail / low) if low > 0 else None, **lr_evidence},
                 location=_location(series), subject=series.name, section=SECTION_CURVES)


def _explosion(steps: list, values: list, p: Profile, thresholds: Thresholds) -> Optional[tuple]:
    """(index, peak, before, after) of a loss that shot up 10x over everything before it and never again went
    below where it was before the shot: the jump undid the training (an SGD step with a learning rate far
    too high). A spike the run recovers from is not one."""
    first = values[0]
    if first <= 0:
        return None
    peak_index = arrays.argmax(values)
    if values[peak_index] < 10 * first or peak_index == len(values) - 1:
        return None
    after = [v for s, v in zip(p.steps, p.values) if s > steps[peak_index]]
    if len(after) < 3 or min(after) < first * (1 - thresholds.plateau_band):
        return None
    return peak_index, values[peak_index], first, min(after)


def exploded_check(series: Series, exploded: tuple, sched: Optional[Schedule], thresholds: Thresholds) -> Check:
    steps, values = finite_prefix(series)
    index, peak, first, after = exploded
    span = float(steps[-1] - steps[0]) or 1.0
    relation, lr_evidence = _lr_relation(sched, steps[index], span, thresholds)
    detail = (f"{series.name} jumps to {_fmt(peak)} at step {steps[index]} (it started at {_fmt(first)}) and never "
              f"gets below {_fmt(after)} again up to step {steps[-1]}: the jump undid the training.")
    if relation:
        detail += "\n" + relation
    return Check("logs.divergence", FAIL, f"{series.name} explodes at step {steps[index]} and does not recover",
                 detail, fix=DIVERGENCE_FIXES,
                 evidence={"series": series.name, "steps": [steps[index], steps[-1]], "peak": peak, "first": first,
                           "lowest_after": after, "exploded": True, **lr_evidence},
                 location=_location(series), subject=series.name, section=SECTION_CURVES)


def slow_convergence(series: Series, thresholds: Thresholds) -> Optional[Check]:
    """A loss that falls, but at the same pace at the end as at the start and still far from converged: the
    steps are too small (AUTOTRAINER's "slow convergence")."""
    steps, values = finite_prefix(series)
    if len(values) < thresholds.min_points:
        return None
    p = smoothed(series)
    n = len(p)
    w = max(1, n // 10)
    first, middle, end = _median(p.values[:w]), _median(p.values[n // 2 - w // 2: n // 2 + w // 2 + 1]), \
        _median(p.values[-w:])
    if first <= 0 or end > first * (1 - 2 * thresholds.plateau_band) or end < 0.5 * first:
        return None
    early, late = first - middle, middle - end  # the fall over each half
    if early <= 0 or late < 0.5 * early:
        return None
    return Check("logs.slow-convergence", WARN, f"{series.name} falls slowly and steadily: still far from converged",
                 f"{series.name} goes {_fmt(first)} -> {_fmt(end)} (steps {steps[0]}-{steps[-1]}) and falls as fast "
                 f"in its second half as in its first ({_fmt(late)} vs {_fmt(early)}): the steps are small.",
                 fix=["Raise the learning rate (try 10x) or train much longer; check a schedule that starts near 0."],
                 evidence={"series": series.name, "steps": [steps[0], steps[-1]], "first": first, "end": end,
                           "fall_first_half": early, "fall_second_half": late},
                 location=_location(series), subject=series.name, section=SECTION_CURVES)


def plateau(series: Series, thresholds: Thresholds) -> Optional[Check]:
    """A loss that never left a small band around its first value."""
    steps, values = finite_prefix(series)
    if len(values) < thresholds.min_points:
        return None
    p = smoothed(series)
    first = p.values[0]
    if first == 0:
        return None
    fall = max((first - v) / abs(first) for v in p.values)
    rise = max((v - first) / abs(first) for v in p.values)
    if fall >= thresholds.plateau_band or rise >= thresholds.divergence_factor - 1:
        return None
    return Check("logs.not-learning", FAIL, f"{series.name} does not fall: within {fall * 100:.2g}% of its first "
                                            f"value over {len(values)} points",
                 f"{series.name} starts at {_fmt(first)} (step {steps[0]}) and never falls more than "
                 f"{thresholds.plateau_band * 100:g}% below it up to step {steps[-1]} (lowest {_fmt(min(p.values))}, "
                 f"last {_fmt(values[-1])}).",
                 fix=PLATEAU_FIXES,
                 evidence={"series": series.name, "steps": [steps[0], steps[-1]], "first": first,
                           "min": min(p.values), "last": values[-1], "largest_fall": fall},
                 location=_location(series), subject=series.name, section=SECTION_CURVES)


def accuracy_stuck(series: Series, thresholds: Thresholds, train_partner: Optional[Series] = None) -> Optional[Check]:
    """An accuracy that never rose more than `accuracy_delta` above its first value."""
    steps, values = finite_prefix(series)
    needed = 5 if series.role == EVAL else thresholds.min_points
    if len(values) < needed:
        return None
    p = smoothed(series)
    first = p.values[0]
    if not 0 <= first < 0.999 or max(values) > 1.0 + 1e-9:
        return None  # not a fraction (a percentage or a count), or already perfect
    if max(p.values) - first >= thresholds.accuracy_delta or first - min(p.values) >= 5 * thresholds.accuracy_delta:
        return None  # it rose, or it fell: neither is stuck
    constant = max(values) - min(values) <= 1e-6
    if train_partner is not None and not constant:
        t_steps, t_values = finite_prefix(train_partner)
        if t_values:
            tp = smoothed(train_partner)
            if max(tp.values) - tp.values[0] >= 5 * thresholds.accuracy_delta:
                return None  # the model learns its training set: not one output for every input (overfitting)
    constant = max(values) - min(values) <= 1e-6
    level = _median(values)
    how = (f"exactly {_fmt(values[0])} at every one of {len(values)} points" if constant
           else f"around {_fmt(level)} (never more than {thresholds.accuracy_delta:g} above its first value "
                f"{_fmt(first)}) over {len(values)} points")
    return Check("logs.accuracy-stuck", WARN, f"{series.name} stays at {_fmt(level)}",
                 f"{series.name} is {how}, steps {steps[0]}-{steps[-1]}. A model that gives the same output for "
                 f"every input scores the most common class's share.",
                 fix=STUCK_ACCURACY_FIXES,
                 evidence={"series": series.name, "steps": [steps[0], steps[-1]], "level": level, "first": first,
                           "max": max(values), "constant": constant},
                 location=_location(series), subject=series.name, section=SECTION_CURVES)


def oscillation(series: Series, thresholds: Thresholds) -> Optional[Check]:
    """Swings of a large share of the curve's level, many of them, and no fall in the second half."""
    steps, values = finite_prefix(series)
    if len(values) < thresholds.min_points:
        return None
    p = smoothed(series)
    level = _median(p.values)
    if level <= 0:
        return None
    v = p.values
    peaks = [i for i in range(1, len(v) - 1) if v[i] >= v[i - 1] and v[i] >= v[i + 1]]
    troughs = [i for i in range(1, len(v) - 1) if v[i] <= v[i - 1] and v[i] <= v[i + 1]]
    swings = sum(1 for a, b in zip(peaks, troughs) if abs(v[a] - v[b]) >= thresholds.oscillation_amplitude * level)
    n = len(v)
    second, last = _median(v[n // 4: n // 2] or v), _median(v[3 * n // 4:] or v)
    converging = last < second * (1 - thresholds.plateau_band) or _median(v[n // 2:]) < 0.5 * v[0]
    if swings < thresholds.oscillation_rate * n or converging:
        return None
    return Check("logs.oscillation", WARN, f"{series.name} oscillates without converging",
                 f"{series.name}: {swings} swings of at least {thresholds.oscillation_amplitude * 100:g}% of its "
                 f"median {_fmt(level)} over {n} groups of points (steps {steps[0]}-{steps[-1]}), and its second half "
                 f"does not fall ({_fmt(second)} -> {_fmt(last)}).",
                 fix=OSCILLATION_FIXES,
                 evidence={"series": series.name, "steps": [steps[0], steps[-1]], "swings": swings, "groups": n,
                           "median": level, "second_quarter": second, "last_quarter": last},
                 location=_location(series), subject=series.name, section=SECTION_CURVES)


def _value_at(series_steps: list, series_values: list, step: int) -> Optional[float]:
    """The smoothed training value nearest `step` (median of the points within the nearest few)."""
    if not series_steps:
        return None
    nearest = arrays.nearest(series_steps, step)
    window = max(1, len(series_steps) // 20)
    return _median(series_values[max(0, nearest - window): nearest + window + 1])


def overfitting(train: Series, evaluation: Series, thresholds: Thresholds) -> Optional[Check]:
    """The validation loss rising from its best while the training loss keeps falling."""
    e_steps, e_values = finite_prefix(evaluation)
    t_steps, t_values = finite_prefix(train)
    if len(e_values) < len(evaluation) - last_attempt(evaluation) or len(t_values) < len(train) - last_attempt(train):
        return None  # a curve that turns NaN is the NaN check's; its finite start says little about fitting
    if len(e_values) < 3 + thresholds.overfit_patience or len(t_values) < 3:
        return None
    # A noisy validation loss has a lucky minimum: compare medians of three evaluations, not single points.
    smooth = [_median(e_values[max(0, i - 1): i + 2]) for i in range(len(e_values))]
    best = min(range(len(smooth)), key=lambda i: smooth[i])
    after = len(e_values) - 1 - best
    end = _median(e_values[-3:])
    if after < thresholds.overfit_patience or smooth[best] <= 0 or end < smooth[best] * (1 + thresholds.overfit_ratio):
        return None
    train_at_best = _value_at(t_steps, t_values, e_steps[best])
    train_end = _value_at(t_steps, t_values, t_steps[-1])
    if train_at_best is None or train_end is None or train_end > train_at_best:
        return None  # the training loss rose too: not overfitting
    best_step = e_steps[best]
    return Check("logs.overfitting", WARN, f"{evaluation.name} best at step {best_step}, then rises while "
                                           f"{train.name} falls",
                 f"{evaluation.name}: best {_fmt(e_values[best])} at step {best_step}, {_fmt(end)} at step "
                 f"{e_steps[-1]} ({(end / smooth[best] - 1) * 100:.0f}% above, as medians of three evaluations). {train.name} went "
                 f"{_fmt(train_at_best)} -> {_fmt(train_end)} meanwhile; the gap at the end is "
                 f"{_fmt(end - train_end)}. Early stopping would have kept step {best_step}.",
                 fix=OVERFIT_FIXES,
                 evidence={"series": evaluation.name, "train": train.name, "steps": [best_step, e_steps[-1]],
                           "best_step": best_step, "best": e_values[best], "end": end,
                           "train_at_best": train_at_best, "train_end": train_end, "gap": end - train_end},
                 location=_location(evaluation), subject=evaluation.name, section=SECTION_CURVES)


def underfitting(train: Series, evaluation: Optional[Series], thresholds: Thresholds) -> Optional[Check]:
    """Training (and validation) loss both high and flat: it learned a little, then stopped."""
    steps, values = finite_prefix(train)
    if len(values) < thresholds.min_points:
        return None
    p = smoothed(train)
    first, end = p.values[0], _median(p.values[-max(1, len(p) // 10):])
    if first <= 0:
        return None
    fell = (first - min(p.values)) / first
    half = p.values[len(p) // 2]
    if fell < thresholds.plateau_band or end < thresholds.underfit_fraction * first:
        return None
    if half <= 0 or (half - end) / half >= thresholds.plateau_band or end > half * (1 + thresholds.plateau_band):
        return None
    eval_text, eval_evidence = "", {}
    if evaluation is not None:
        e_steps, e_values = finite_prefix(evaluation)
        if len(e_values) >= 2:
            if e_values[-1] < thresholds.underfit_fraction * e_values[0]:
                return None
            eval_text = f" {evaluation.name} likewise: {_fmt(e_values[0])} -> {_fmt(e_values[-1])}."
            eval_evidence = {"eval": evaluation.name, "eval_first": e_values[0], "eval_end": e_values[-1]}
    return Check("logs.underfitting", WARN, f"{train.name} stops high: {_fmt(end)}, {end / first * 100:.0f}% of "
                                            f"where it started",
                 f"{train.name} fell from {_fmt(first)} to {_fmt(end)} and has been flat since step {p.steps[len(p) // 2]} "
                 f"(up to step {steps[-1]}).{eval_text}",
                 fix=UNDERFIT_FIXES,
                 evidence={"series": train.name, "steps": [p.steps[len(p) // 2], steps[-1]], "first": first,
                           "end": end, **eval_evidence},
                 location=_location(train), subject=train.name, section=SECTION_CURVES)


def repeated_step(series: Series, thresholds: Thresholds) -> Optional[Check]:
    """The same step logged many times in a row for one tag."""
    steps = series.steps
    best_len, best_start = arrays.longest_repeat(steps)
    if best_len < thresholds.repeated_eval_steps:
        return None
    step = steps[best_start]
    values = list(series.values[best_start:best_start + best_len])
    same = max(values) - min(values) <= 1e-9 * max(1.0, abs(values[0])) if all(
        not (math.isnan(v) or math.isinf(v)) for v in values) else False
    if series.role == EVAL:
        title = f"{series.name}: the same global step {step} evaluated {best_len} times in a row"
        detail = (f"{series.name} records step {step} {best_len} times in a row"
                  + (f", every time {_fmt(values[0])}" if same else "") +
                  ": the evaluation keeps restoring the same checkpoint.")
        fixes = REPEATED_EVAL_FIXES
    else:
        title = f"{series.name}: step {step} logged {best_len} times in a row"
        detail = f"{series.name} records step {step} {best_len} times in a row: the step counter does not advance."
        fixes = REPEATED_STEP_FIXES
    return Check("logs.repeated-step", WARN, title, detail, fix=fixes,
                 evidence={"series": series.name, "steps": [step, step], "step": step, "times": best_len,
                           "same_value": same, "values": [_json_number(v) for v in values[:10]]},
                 location=_location(series), subject=series.name, section=SECTION_STEPS)


def step_backwards(series: Series, thresholds: Thresholds) -> Optional[Check]:
    """A step counter that falls back: to about the start (a restart that did not restore), or part way
    (a resume from an older checkpoint: normal, noted)."""
    steps = series.steps
    drops = arrays.drops(steps)
    if not drops:
        return None
    first_step = steps[0]
    reached = max(steps[:drops[0]])
    span = max(1, reached - first_step)
    i = drops[0]
    to_start = steps[i] <= first_step + thresholds.restart_fraction * span
    evidence = {"series": series.name, "steps": [steps[i], reached], "from": steps[i - 1], "to": steps[i],
                "reached": reached, "drops": len(drops), "point": i}
    if to_start:
        return Check("logs.step-backwards", WARN, f"{series.name}: the step counter restarts at {steps[i]} after "
                                                  f"reaching {reached}",
                     f"{series.name} goes from step {steps[i - 1]} back to {steps[i]} (point {i + 1} of {len(steps)}"
                     + (f"; {len(drops)} drops in all" if len(drops) > 1 else "") +
                     "): the run restarted from scratch; if it was meant to resume, the checkpoint was not restored "
                     "(TensorBoard draws the two attempts over each other).",
                     fix=RESTART_FIXES, evidence=evidence, location=_location(series), subject=series.name,
                     section=SECTION_STEPS)
    return Check("logs.step-backwards", OK, f"{series.name}: resumed at step {steps[i]} after reaching {reached}",
                 f"{series.name} goes from step {steps[i - 1]} back to {steps[i]}: a resume from an earlier checkpoint "
                 f"(the points after it were written again).",
                 evidence=evidence, location=_location(series), subject=series.name, section=SECTION_STEPS)


def lr_decayed(family: Family, sched: Optional[Schedule], thresholds: Thresholds) -> Optional[Check]:
    """The learning rate reached ~0 before the run's last quarter, and the loss is flat since."""
    if sched is None or sched.decayed_step is None:
        return None
    steps = sched.series.steps
    span = steps[-1] - steps[0]
    if span <= 0 or sched.decayed_step > steps[0] + 0.75 * span:
        return None
    for loss in family.train_losses():
        l_steps, l_values = finite_prefix(loss)
        after = [v for s, v in zip(l_steps, l_values) if s >= sched.decayed_step]
        if len(after) < thresholds.min_points:
            continue
        # With the rate at ~0 the model no longer changes: the loss is one level plus batch noise, so the
        # medians of the two halves after the decay agree.
        start, end = _median(after[:len(after) // 2]), _median(after[len(after) // 2:])
        ordered = sorted(after)
        spread = ordered[3 * len(ordered) // 4] - ordered[len(ordered) // 4]  # the batch noise: interquartile range
        if start > 0 and (abs(start - end) / start < thresholds.plateau_band or abs(start - end) < 0.25 * spread):
            return Check("logs.lr-decayed", WARN,
                         f"{sched.series.name} is ~0 from step {sched.decayed_step}; {loss.name} is flat since",
                         f"{sched.series.name} falls to {thresholds.lr_decayed_fraction * 100:g}% of its peak "
                         f"{_fmt(sched.peak)} at step {sched.decayed_step}, {(sched.decayed_step - steps[0]) / span * 100:.0f}% "
                         f"into the run; {loss.name} stays at {_fmt(start)} -> {_fmt(end)} after it.",
                         fix=LR_DECAY_FIXES,
                         evidence={"series": loss.name, "lr": sched.series.name, "steps": [sched.decayed_step, steps[-1]],
                                   "peak": sched.peak, "peak_step": sched.peak_step, "loss_after": [start, end]},
                         location=_location(sched.series), subject=family.name or sched.series.run,
                         section=SECTION_CURVES)
    return None


def gradient_explosion(family: Family, thresholds: Thresholds) -> Optional[Check]:
    """Gradient magnitudes (a gradient-norm scalar, or the largest value of gradient histograms) growing 100x
    over where they started. Judged against the start, not the minimum: a healthy run's gradients shrink as
    it converges and swing up from there, and a run that exploded often ends with dead units and zero
    gradients. One check per training, on the series that grew most."""
    grown = []
    for series in family.series:
        if series.metric not in ("grad_norm", "grad_hist"):
            continue
        steps, values = finite_prefix(series)
        if len(values) < 4:
            continue
        base = _median(values[:3])
        peak_index = arrays.argmax(values, 3)
        peak = values[peak_index]
        if base > 0 and peak >= thresholds.gradient_growth * base:
            grown.append((peak / base, series, base, peak, steps[peak_index]))
    if not grown:
        return None
    grown.sort(key=lambda g: -g[0])
    ratio, series, base, peak, peak_step = grown[0]
    steps, _ = finite_prefix(series)
    others = [g[1].name for g in grown[1:]]
    detail = (f"{series.name}: {_fmt(base)} over its first 3 points (from step {steps[0]}), {_fmt(peak)} at step "
              f"{peak_step}" + (" (largest magnitude in each histogram)" if series.kind == "histogram" else "") + ".")
    if others:
        detail += f" {len(others)} more gradient series grew {thresholds.gradient_growth:g}x or more: " + \
            ", ".join(others[:5]) + (" …" if len(others) > 5 else "") + "."
    return Check("logs.gradient-explosion", WARN, f"{series.name} grows {ratio:.3g}x over its start",
                 detail, fix=DIVERGENCE_FIXES[:2],
                 evidence={"series": series.name, "steps": [steps[0], peak_step], "start": base, "peak": peak,
                           "growth": ratio, "also": others},
                 location=_location(series), subject=family.name or series.run, section=SECTION_CURVES)


# --- the report -------------------------------------------------------------------------------------------------

# Each diagnosis' id, and what its ok line says when none fired.
ALL_CLEAR = {
    "logs.nan": "no NaN or Inf in {series} series",
    "logs.divergence": "no loss diverges ({losses} training losses)",
    "logs.not-learning": "every training loss falls ({losses})",
    "logs.accuracy-stuck": "no accuracy stuck at its first value ({accuracies})",
    "logs.oscillation": "no loss oscillates without converging ({losses})",
    "logs.slow-convergence": "no loss falls at a constant slow pace ({losses})",
    "logs.overfitting": "no validation loss rises from its best while training falls ({pairs} pairs)",
    "logs.underfitting": "no training loss stops high and flat ({losses})",
    "logs.repeated-step": "no step logged repeatedly ({series} series)",
    "logs.step-backwards": "step counters only advance ({series} series)",
}


def read_checks(logs: Logs) -> list[Check]:
    checks = []
    events = sum(f.records for f in logs.files)
    scalars = sum(1 for s in logs.series.values() if s.kind == "scalar")
    points = sum(len(s) for s in logs.series.values())
    for log_file in logs.files:
        for problem in log_file.problems:
            truncated = problem.kind == "truncated"
            checks.append(Check(
                "logs.read", WARN,
                f"{log_file.path}: {'truncated' if truncated else 'damaged'} after {problem.records_before} records",
                problem.detail + (f" (byte {problem.offset})" if problem.offset >= 0 else "") +
                ". Everything before it was read" + (": a run that crashed or was killed ends this way." if truncated else "."),
                fix=["Nothing to do for a crashed run's last record; for a damaged copy, copy the file again."],
                evidence=problem.to_json(), location=Location(log_file.path),
                subject=f"{log_file.path}@{problem.offset}", section=SECTION_READ))
    status = OK if scalars else WARN
    title = (f"read {events} records from {len(logs.files)} file{'s' if len(logs.files) != 1 else ''}: "
             f"{scalars} scalar series, {points} points")
    checks.insert(0, Check("logs.read", status, title,
                           "" if scalars else "No scalar summaries in these files: nothing to diagnose.",
                           fix=[] if scalars else [
                               "Log the loss with tf.summary.scalar / SummaryWriter.add_scalar, or point at the "
                               "directory of the run's event files or its metrics.csv."],
                           evidence={"files": len(logs.files), "records": events, "series": scalars, "points": points},
                           subject=None, section=SECTION_READ))
    return checks


def _nested(a: str, b: str) -> bool:
    """Files of one training: in the same directory, or one in a directory below the other's
    (`run/training.csv` and `run/tb/validation/events...`)."""
    a, b = os.path.dirname(os.path.abspath(a)), os.path.dirname(os.path.abspath(b))
    return a == b or b.startswith(a + os.sep) or a.startswith(b + os.sep)


def merge_duplicates(found: list[Check], logs: Logs) -> list[Check]:
    """One check per curve: Keras logs each metric to its CSVLogger and twice to TensorBoard (`epoch_loss`
    per epoch, `evaluation_loss_vs_iterations` per step count), so one diagnosis would be reported for each
    copy. Checks of one id whose series hold the same values (to float32 precision, whatever their steps)
    are reported once, the first, naming the other copies in its detail and evidence."""
    by_name = {}
    for series in logs.series.values():
        by_name.setdefault(series.name, series)
    kept: list[Check] = []
    for check in found:
        series = by_name.get(check.evidence.get("series")) if check.status != OK else None
        twin = None
        if series is not None:
            for other in kept:
                other_series = by_name.get(other.evidence.get("series"))
                if other.id == check.id and other.status == check.status and other_series is not None \
                        and other_series is not series and _nested(other_series.source, series.source) \
                        and arrays.same_values(other_series.values, series.values):
                    twin = other
                    break
        if twin is None:
            kept.append(check)
            continue
        copies = twin.evidence.setdefault("same_curve_as", [])
        copies.append(series.name)
        note = "The same curve is also logged as "
        lines = [line for line in twin.detail.split("\n") if not line.startswith(note)]
        twin.detail = "\n".join(lines + [note + ", ".join(copies) + ": reported once."])
    return kept


def diagnose(logs: Logs, thresholds: Thresholds) -> list[Check]:
    """Every check of the runs read: what was read, then each diagnosis (or its all-clear)."""
    checks = read_checks(logs)
    found: list[Check] = []
    counts = {"series": 0, "losses": 0, "accuracies": 0, "pairs": 0}
    for family in families(logs):
        sched = schedule(family, thresholds)
        scalar_series = [s for s in family.series if s.kind == "scalar"]
        counts["series"] += len(scalar_series)
        found.append(nonfinite(family))
        losses = family.train_losses()
        counts["losses"] += len(losses)
        diverged = set()
        for loss in losses:
            check = divergence(loss, sched, thresholds)
            if check is not None:
                diverged.add(loss.name)
                found.append(check)
                continue
            stuck = plateau(loss, thresholds)
            found.append(stuck)
            if stuck is None:
                found.append(oscillation(loss, thresholds))
                found.append(slow_convergence(loss, thresholds))
        partners = {evaluation.name: train for train, evaluation in family.pairs()}
        for accuracy in family.of("accuracy"):
            counts["accuracies"] += 1
            found.append(accuracy_stuck(accuracy, thresholds, partners.get(accuracy.name)))
        paired_train = {}
        for train, evaluation in family.pairs():
            if train.metric != "loss":
                continue
            counts["pairs"] += 1
            paired_train[train.name] = evaluation
            if train.name not in diverged:
                found.append(overfitting(train, evaluation, thresholds))
        # Before underfitting: a loss flat since its learning rate reached ~0 is told once, by its cause.
        found.append(lr_decayed(family, sched, thresholds))
        flagged = {c.evidence.get("series") for c in found if c is not None}
        for loss in losses:
            if loss.name not in flagged:
                found.append(underfitting(loss, paired_train.get(loss.name), thresholds))
        found.append(gradient_explosion(family, thresholds))
        runs_seen = set()
        for series in sorted(scalar_series, key=lambda s: -len(s)):
            found.append(repeated_step(series, thresholds))
            if series.run not in runs_seen:  # one series per run tells of its step counter
                back = step_backwards(series, thresholds)
                if back is not None:
                    runs_seen.add(series.run)
                    found.append(back)
    found = merge_duplicates([c for c in found if c is not None], logs)
    problem_ids = {c.id for c in found if c.status != OK}
    checks += found
    if not any(s.kind == "scalar" for s in logs.series.values()):
        return checks
    for check_id, text in ALL_CLEAR.items():
        if check_id in problem_ids:
            continue
        if check_id == "logs.overfitting" and not counts["pairs"]:
            checks.append(Check(check_id, SKIP, "no validation loss paired with a training loss",
                                "Overfitting is judged on a validation loss beside its training loss (a `val`/`eval` "
                                "run or tag).", section=SECTION_CURVES))
            continue
        if check_id in ("logs.divergence", "logs.not-learning", "logs.oscillation", "logs.underfitting",
                        "logs.slow-convergence") \
                and not counts["losses"]:
            checks.append(Check(check_id, SKIP, "no training loss among the tags",
                                "Loss curves are found by name: a tag with `loss`, `xent`, `nll` or `perplexity`.",
                                section=SECTION_CURVES))
            continue
        if check_id == "logs.accuracy-stuck" and not counts["accuracies"]:
            continue
        checks.append(Check(check_id, OK, text.format(**counts),
                            section=SECTION_STEPS if check_id in ("logs.repeated-step", "logs.step-backwards")
                            else SECTION_CURVES))
    return checks
