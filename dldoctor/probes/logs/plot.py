"""`dldoctor logs --plot out.png`: the curves, train and validation on one axis, each diagnosis marked.

One panel per training family and metric (loss, accuracy, learning rate, gradients);
a log scale where a curve spans more than two decades; every check marked over the
step range it covers, and NaN/Inf steps marked with a red line.
"""

from __future__ import annotations

import math

from dldoctor.probes.logs.curves import EVAL, Logs, families
from dldoctor.verdict import FAIL, OK, SKIP, Check

_METRICS = ("loss", "accuracy", "lr", "grad_norm", "grad_hist")
_TITLES = {"loss": "loss", "accuracy": "accuracy", "lr": "learning rate", "grad_norm": "gradient norm",
           "grad_hist": "gradients (largest |value|)"}


def plot(path: str, logs: Logs, checks: list[Check], title: str) -> int:
    """Write the PNG; returns the number of panels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    for family in families(logs):
        for metric in _METRICS:
            members = [s for s in family.series if s.metric == metric and len(s)]
            if members:
                panels.append((family.name or members[0].run, metric, members))
    if not panels:
        panels.append(("", "", []))
    figure, axes = plt.subplots(len(panels), 1, figsize=(9, 2.8 * len(panels) + 0.6), squeeze=False)
    marked = [c for c in checks if c.status not in (OK, SKIP) and isinstance(c.evidence.get("steps"), list)]
    for axis, (family_name, metric, members) in zip(axes[:, 0], panels):
        if not members:
            axis.text(0.5, 0.5, "no scalar curves", ha="center", va="center", transform=axis.transAxes)
            continue
        positive = True
        spans = []
        names = {s.name for s in members}
        for series in members:
            steps, values = list(series.steps), list(series.values)
            finite = [(s, v) for s, v in zip(steps, values) if not (math.isnan(v) or math.isinf(v))]
            style = "--" if series.role == EVAL else "-"
            if finite:
                axis.plot([s for s, _ in finite], [v for _, v in finite], style, linewidth=1.2, label=series.name,
                          marker="o" if len(finite) <= 40 else None, markersize=3)
                low, high = min(v for _, v in finite), max(v for _, v in finite)
                positive &= low > 0
                spans.append((low, high))
            for s, v in zip(steps, values):
                if math.isnan(v) or math.isinf(v):
                    axis.axvline(s, color="red", linewidth=1.5, alpha=0.8)
                    break
        if spans and positive and max(h for _, h in spans) > 100 * min(lo for lo, _ in spans):
            axis.set_yscale("log")
        for check in marked:
            if check.evidence.get("series") in names or check.evidence.get("train") in names:
                start, end = check.evidence["steps"][:2]
                color = "red" if check.status == FAIL else "orange"
                if start == end:
                    axis.axvline(start, color=color, linestyle=":", linewidth=1.5)
                else:
                    axis.axvspan(start, end, color=color, alpha=0.12)
                axis.annotate(check.id.split(".", 1)[1], xy=(start, 1), xycoords=("data", "axes fraction"),
                              xytext=(2, -10), textcoords="offset points", fontsize=7, color=color)
            best = check.evidence.get("best_step")
            if best is not None and check.evidence.get("series") in names:
                axis.axvline(best, color="green", linestyle="--", linewidth=1)
        axis.set_title(f"{family_name} - {_TITLES.get(metric, metric)}", fontsize=9, loc="left")
        axis.set_xlabel("step", fontsize=8)
        axis.legend(fontsize=7, loc="best")
        axis.grid(alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return len(panels)
