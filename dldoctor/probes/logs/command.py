"""`dldoctor logs PATH...`: read a run's curves and name the training pathology, with evidence.

Facts (events.py, csv_logs.py -> curves.py) -> checks (diagnosis.py, pure) -> the
shared reporters (dldoctor.verdict). Module-level imports are the standard library and
typer only, so registering this command costs `dldoctor lint` nothing.
"""

from __future__ import annotations

import os
import sys
import time
from typing import List, Optional

import typer

from dldoctor.verdict import options

EXIT_USAGE = options.EXIT_USAGE


def _error(message: str) -> None:
    print(f"dldoctor: error: {message}", file=sys.stderr)


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
    from dldoctor.probes.logs import curves, diagnosis, thresholds
    from dldoctor.verdict import Report, reporters

    try:
        limits, source = thresholds.resolve(os.getcwd(), threshold or [])
    except thresholds.ThresholdError as error:
        _error(str(error))
        raise typer.Exit(EXIT_USAGE)
    if plot is not None:
        from dldoctor.probes.graph import chart

        if not chart.matplotlib_available():
            _error("--plot needs matplotlib: pip install 'dldoctor[plot]'")
            raise typer.Exit(EXIT_USAGE)
    started = time.perf_counter()
    try:
        logs = curves.read(paths)
    except FileNotFoundError as missing:
        _error(f"{missing.args[0]}: no such file or directory")
        raise typer.Exit(EXIT_USAGE)
    except RuntimeError as error:  # the protos are missing
        _error(str(error))
        raise typer.Exit(EXIT_USAGE)
    if not logs.files:
        _error(f"no TensorBoard event files (*tfevents*) or CSV training logs under {', '.join(paths)}")
        raise typer.Exit(EXIT_USAGE)
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
    header = f"dldoctor logs: {', '.join(paths)}" + (f" (plot: {plot})" if plot else "")
    reporters.write(report, chosen, sys.stdout, header=header)
    raise typer.Exit(report.exit_code(strict))
