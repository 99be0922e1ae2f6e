"""Whole-series scans for the diagnoses, run on the compact arrays themselves, never on copies.

A series of millions of points is scanned a few times (where the last restart is, the
first NaN, repeated steps, falls of the step counter, group medians, the peak); in
Python each scan of 500,000 points costs a fraction of a second and a list copy costs
16 MB more. With NumPy (installed with tensorboard) each scan is a vectorised pass over
a zero-copy view of the array; without it (a CSV log read without the `logs` extra) the
same answers come from plain Python. Both give identical results: the same elements
are compared, and medians are taken of the same values.
"""

from __future__ import annotations

import math

try:
    import numpy as np
except ImportError:  # pragma: no cover - NumPy comes with tensorboard
    np = None

# Below this many points plain Python is as fast as NumPy's per-call overhead.
_VECTOR_MIN = 1024


def _vector(sequence) -> bool:
    return np is not None and len(sequence) >= _VECTOR_MIN


def _view(sequence, dtype):
    if isinstance(sequence, memoryview) or hasattr(sequence, "typecode"):  # an array("q"/"d") or a view of one
        return np.frombuffer(sequence, dtype=dtype)
    return np.asarray(sequence, dtype=dtype)


def last_restart(steps) -> int:
    """The index after the last fall of the step counter to (or below) its first step, else 0."""
    n = len(steps)
    if n < 2:
        return 0
    if _vector(steps):
        s = _view(steps, np.int64)
        hits = np.flatnonzero((s[1:] < s[:-1]) & (s[1:] <= s[0]))
        return int(hits[-1]) + 1 if hits.size else 0
    start, first = 0, steps[0]
    for i in range(1, n):
        if steps[i] < steps[i - 1] and steps[i] <= first:
            start = i
    return start


def first_nonfinite(values, start: int = 0) -> int:
    """The index of the first NaN or Inf at or after `start`, else len(values)."""
    n = len(values)
    if _vector(values):
        bad = np.flatnonzero(~np.isfinite(_view(values, np.float64)[start:]))
        return start + int(bad[0]) if bad.size else n
    for i in range(start, n):
        value = values[i]
        if math.isnan(value) or math.isinf(value):
            return i
    return n


def drops(steps) -> list:
    """The indices where the step counter is below the step before it."""
    if _vector(steps):
        s = _view(steps, np.int64)
        return (np.flatnonzero(s[1:] < s[:-1]) + 1).tolist()
    return [i for i in range(1, len(steps)) if steps[i] < steps[i - 1]]


def longest_repeat(steps) -> tuple[int, int]:
    """(length, first index) of the first longest run of one step logged in a row (1, 0 when none)."""
    if _vector(steps):
        s = _view(steps, np.int64)
        same = np.concatenate(([0], (s[1:] == s[:-1]).astype(np.int8), [0]))
        edges = np.diff(same)
        begins, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        if not begins.size:
            return 1, 0
        k = int(np.argmax(ends - begins))
        return int(ends[k] - begins[k]) + 1, int(begins[k])
    best_len, best_start, run_len = 1, 0, 1
    for i in range(1, len(steps)):
        run_len = run_len + 1 if steps[i] == steps[i - 1] else 1
        if run_len > best_len:
            best_len, best_start = run_len, i - run_len + 1
    return best_len, best_start


def argmax(values, start: int = 0) -> int:
    """The first index of the largest value at or after `start`."""
    if _vector(values):
        return start + int(np.argmax(_view(values, np.float64)[start:]))
    return max(range(start, len(values)), key=lambda i: values[i])


def nearest(steps, step: int) -> int:
    """The first index of the step closest to `step`."""
    if _vector(steps):
        return int(np.argmin(np.abs(_view(steps, np.int64) - step)))
    return min(range(len(steps)), key=lambda i: abs(steps[i] - step))


def same_values(a, b, relative: float = 1e-5) -> bool:
    """Two series of the same length whose values agree to float32 precision (NaN with NaN): one curve
    logged twice (a CSV log keeps doubles, an event file float32)."""
    if len(a) != len(b) or not len(a):
        return False
    if np is not None:
        x, y = _view(a, np.float64), _view(b, np.float64)
        both = np.isfinite(x) & np.isfinite(y)
        if not np.array_equal(np.isnan(x), np.isnan(y)) or not np.array_equal(x[~both & ~np.isnan(x)],
                                                                              y[~both & ~np.isnan(y)]):
            return False
        return bool(np.all(np.abs(x[both] - y[both]) <= relative * np.maximum(np.abs(x[both]), np.abs(y[both]))
                           + 1e-12))
    for u, v in zip(a, b):
        if math.isnan(u) or math.isnan(v) or math.isinf(u) or math.isinf(v):
            if not (u == v or (math.isnan(u) and math.isnan(v))):
                return False
        elif abs(u - v) > relative * max(abs(u), abs(v)) + 1e-12:
            return False
    return True


def median(values) -> float:
    """The median of a run of finite values (the mean of the two middle ones for an even count)."""
    if _vector(values):
        return _median_vector(_view(values, np.float64))
    n = len(values)
    ordered = sorted(values)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def _median_vector(v) -> float:
    n = len(v)
    if n % 2:
        return float(np.partition(v, n // 2)[n // 2])
    low, high = np.partition(v, [n // 2 - 1, n // 2])[[n // 2 - 1, n // 2]]
    return (float(low) + float(high)) / 2


def group_medians(steps, values, count: int) -> tuple[list, list]:
    """Split the points into `count` consecutive groups of equal size: each group's middle step and median."""
    n = len(values)
    out_steps, out_values = [], []
    view = _view(values, np.float64) if _vector(values) else None
    for g in range(count):
        lo, hi = g * n // count, (g + 1) * n // count
        out_values.append(_median_vector(view[lo:hi]) if view is not None else median(values[lo:hi]))
        out_steps.append(steps[(lo + hi - 1) // 2])
    return out_steps, out_values
