"""Small charts: a one-line sparkline for the terminal, and `--plot FILE.png` through matplotlib."""

from __future__ import annotations

import importlib.util
from typing import Optional, Sequence

BLOCKS = "▁▂▃▄▅▆▇█"
ASCII_BLOCKS = "_.-:=+*#"


def step_values(series: Sequence[Sequence[float]], width: int) -> list[float]:
    """[x, y] change points of a step function -> `width` samples evenly spaced over x."""
    if not series:
        return []
    points = sorted((float(x), float(y)) for x, y, *_ in series)
    first, last = points[0][0], points[-1][0]
    if last == first:
        return [points[-1][1]]
    width = max(2, min(width, int(last - first) + 1))
    values, index = [], 0
    for column in range(width):
        x = first + column * (last - first) / (width - 1)
        while index + 1 < len(points) and points[index + 1][0] <= x + 1e-9:
            index += 1
        values.append(points[index][1])
    return values


def sparkline(values: Sequence[float], ascii_only: bool = False) -> str:
    blocks = ASCII_BLOCKS if ascii_only else BLOCKS
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return blocks[0] * len(values)
    return "".join(blocks[min(len(blocks) - 1, int((v - low) / (high - low) * (len(blocks) - 1) + 0.5))] for v in values)


def matplotlib_available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def plot(path: str, series: list[tuple[str, list, list]], xlabel: str, ylabel: str, title: str,
         limit: Optional[float] = None) -> None:
    """Write a PNG: one line per (label, xs, ys); an optional horizontal limit line."""
    plot_panels(path, [(xlabel, ylabel, series, limit)], title)


def plot_panels(path: str, panels: list[tuple[str, str, list, Optional[float]]], title: str, empty: str = "") -> None:
    """Write a PNG with one chart per (xlabel, ylabel, series, limit) panel, one above the other:
    each framework counts its own steps (Session.run calls, tf.function calls, backward steps).
    No panel: a chart that says `empty`, so the file asked for is always written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = max(1, len(panels))
    figure, axes_list = plt.subplots(rows, 1, figsize=(7, 3.5 * rows), dpi=100, squeeze=False)
    if not panels:
        axes = axes_list[0][0]
        axes.text(0.5, 0.5, empty, ha="center", va="center", wrap=True)
        axes.set_axis_off()
    for (xlabel, ylabel, series, limit), (axes,) in zip(panels, axes_list):
        for label, xs, ys in series:
            axes.step(xs, ys, where="post", label=label)
        if limit is not None:
            axes.axhline(limit, color="red", linestyle="--", linewidth=1, label="2 GB limit")
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        if len(series) > 1 or limit is not None:
            axes.legend(loc="best", fontsize="small")
    axes_list[0][0].set_title(title)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
