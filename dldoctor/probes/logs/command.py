"""`dldoctor logs PATH...`: read a run's curves and name the training pathology, with evidence.

Facts (events.py, csv_logs.py -> curves.py) -> checks (diagnosis.py, pure) -> a
`Report` (`build_report`, what `dldoctor.api.logs` calls) -> the shared reporters
(dldoctor.verdict). Module-level imports are the standard library and
typer only, so registering this command costs `dldoctor lint` nothing.
"""

from __future__ import annotations

import os
import sys
import time
from typing import List, Optional, Sequence

import typer

from dldoctor.verdict import options

EXIT_USAGE = options.EXIT_USAGE


def build_report(paths: List[str], thresholds: Sequence[str] = (), plot: Optional[str] = None,
                 cwd: Optional[str] = None):
    """The logs report of `paths`: read every file once, diagnose, draw `plot` when asked.

    `thresholds` are `NAME=VALUE` overrides over the `[tool.dldoctor.logs]` table of the
    pyproject.toml at or above `cwd` (the working directory by default). What the
    command would refuse (a missing path, no logs, a bad threshold, `plot` without
    matplotlib) raises `ProbeError` with the one-line message.
    """
    from dldoctor.probes.logs import curves, diagnosis
    from dldoctor.probes.logs import thresholds as limits_module
    from dldoctor.verdict import ProbeError, Report

    try:
        limits, source = limits_module.resolve(cwd or os.getcwd(), list(thresholds or []))
    except limits_module.ThresholdError as error:
        raise ProbeError(str(error), EXIT_USAGE) from None
    if plot is not None:
        from dldoctor.probes.graph import chart

        if not chart.matplotlib_available():
            raise ProbeError("--plot needs matplotlib: pip install 'dldoctor[plot]'", EXIT_USAGE)
    started = time.perf_counter()
    try:
        logs = curves.read(paths)
    except FileNotFoundError as missing:
        raise ProbeError(f"{missing.args[0]}: no such file or directory", EXIT_USAGE) from None
    except RuntimeError as error:  # the protos are missing
        raise ProbeError(str(error), EXIT_USAGE) from None
    if not logs.files:
        raise ProbeError(f"no TensorBoard event files (*tfevents*) or CSV training logs under {', '.join(paths)}",
                         EXIT_USAGE)
    seconds = time.perf_counter() - started
    checks = diagnosis.diagnose(logs, limits)
    events = sum(f.records for f in logs.files)
    facts = {"files": [f.to_json() for f in logs.files],
             "series": [s.to_json() for s in logs.series.values()],
             "thresholds": limits.to_json(), "thresholds_from": source, "seconds": round(seconds, 3)}
    report = Report("logs", checks, facts)
    report.headline = report.count_text() + f" ({events} records in {seconds:.1f} s)"
    if plot is not None:
        from dldoctor.probes.logs import plot as plotting

        plotting.plot(plot, logs, checks,
                      f"dldoctor logs: {', '.join(os.path.basename(os.path.normpath(p)) for p in paths)}")
        facts["plot"] = plot
    return report


def logs_command(
    paths: List[str] = typer.Argument(..., help="Event files, CSV logs, run directories or a directory of runs."),
    output_format: str = options.output_format_option(),
    as_json: bool = options.json_option(),
    strict: bool = options.strict_option(),
    plot: Optional[str] = typer.Option(None, "--plot", metavar="FILE.png",
                                       help="Draw the curves with each diagnosis marked (needs matplotlib)."),
    threshold: Optional[List[str]] = typer.Option(
        None, "--threshold", metavar="NAME=VALUE",
        help="Override a threshold (repeatable), over [tool.dldoctor.logs] in pyproject.toml; "
             "`dldoctor explain logs.divergence` names them."),
) -> None:
    """Read training curves (TensorBoard event files, CSV logs) and name what went wrong: NaN, divergence,
    not learning, oscillation, over- and underfitting, repeated or backward steps."""
    chosen = options.resolve_format(output_format, as_json)
    from dldoctor.verdict import ProbeError, reporters

    try:
        report = build_report(paths, threshold or [], plot)
    except ProbeError as error:
        print(f"dldoctor: error: {error.message}", file=sys.stderr)
        raise typer.Exit(error.exit_code)
    header = f"dldoctor logs: {', '.join(paths)}" + (f" (plot: {plot})" if plot else "")
    reporters.write(report, chosen, sys.stdout, header=header)
    raise typer.Exit(report.exit_code(strict))
