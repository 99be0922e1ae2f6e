"""`dldoctor graph run SCRIPT.py [-- ARGS...] [--steps N]` and `dldoctor graph meta TRAIN_DIR`.

Facts (runner, metagraph) -> analysis (growth) -> checks (diagnosis) -> the shared
reporters (dldoctor.verdict), with the graph's own charts and sites above the checks.
Module-level imports are stdlib, typer and the shared option definitions only. TensorFlow and PyTorch are never
imported in this process: the user's script runs in a subprocess (with the
instrumentation), and `.meta` files are read with a protobuf wire reader.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional, Sequence

import typer

from dldoctor.verdict import options

EXIT_USAGE = options.EXIT_USAGE

graph_app = typer.Typer(
    name="graph",
    help="Catch a growing graph before it crashes: TF1 ops created in the loop (2 GB GraphDef), tf.function retracing, "
         "autograd graphs kept alive.",
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _error(message: str) -> None:
    print(f"dldoctor: error: {message}", file=sys.stderr)


def _check_plot(plot: Optional[str]) -> None:
    if plot is None:
        return
    from dldoctor.probes.graph import chart

    if not chart.matplotlib_available():
        _error("--plot needs matplotlib (pip install matplotlib); run without --plot for the text chart")
        raise typer.Exit(EXIT_USAGE)
    directory = os.path.dirname(os.path.abspath(plot))
    if not os.path.isdir(directory):
        _error(f"--plot {plot}: no such directory {directory}")
        raise typer.Exit(EXIT_USAGE)


@graph_app.command("run")
def run_command(
    script: str = typer.Argument(..., help="The training script to run (your code: it is executed)."),
    args: Optional[List[str]] = typer.Argument(None, help="Arguments for the script, after `--`."),
    steps: int = typer.Option(50, "--steps", min=1, help="Runs (Session.run / tf.function calls / backward steps) to observe; "
                                                          "a growing script is stopped after them."),
    timeout: float = typer.Option(600.0, "--timeout", min=0, help="Seconds before the script is stopped (0: no limit)."),
    python: Optional[str] = typer.Option(None, "--python", help="The interpreter to run the script with (default: this one)."),
    output_format: str = options.output_format_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the checks, with the observations and the analysis as facts, "
                                                       "as JSON (the same as --output-format json; the script's own output "
                                                       "then goes to stderr)."),
    strict: bool = options.strict_option(),
    plot: Optional[str] = typer.Option(None, "--plot", help="Also draw the growth to this PNG: ops per Session.run, "
                                                           "traces per tf.function call, autograd nodes per backward step "
                                                           "(needs matplotlib)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not show the script's output (its last lines are still "
                                                            "kept for the report)."),
    stdin: bool = typer.Option(True, "--stdin/--no-stdin", help="The script reads your stdin (default), or an empty one."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress",
                                            help="A line on stderr every few seconds with what has been observed so far "
                                                 "(default: when stderr is a terminal)."),
) -> None:
    """Run SCRIPT with graph execution instrumented; report a graph that grows at every step, and where.

    The script's stdout and stderr are shown as it writes them (with --json or github output, both go to stderr)."""
    chosen = options.resolve_format(output_format, as_json)
    _check_plot(plot)
    from dldoctor import lifetime
    from dldoctor.probes.graph import diagnosis as diagnosis_module
    from dldoctor.probes.graph import report
    from dldoctor.verdict import ProbeError, reporters

    echo = None
    if not quiet:
        sys.stdout.flush()
        sys.stderr.flush()
        out, err = _binary(sys.stdout), _binary(sys.stderr)
        echo = (out if chosen == "text" else err, err)  # stdout carries the document alone
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    on_progress = _progress_printer(report) if progress else None
    try:
        verdict, run, analysis, probe = _run_report(script, list(args or []), steps=steps, timeout=timeout,
                                                    python=python, stdin=stdin, echo=echo, on_progress=on_progress)
    except ProbeError as problem:
        _error(problem.message)
        raise typer.Exit(problem.exit_code)
    except lifetime.Interrupted as stop:
        _error(f"interrupted ({stop.name}); {script} and every process it started were stopped")
        raise typer.Exit(stop.code)
    if chosen == "text" and echo is not None and (run.get("stdout_tail") or run.get("stderr_tail")):
        print()  # the report starts apart from the script's own output
    reporters.write(verdict, chosen, sys.stdout, body=report.run_lines(run, analysis, None, report.ascii_only())
                    if chosen == "text" else ())
    problem = diagnosis_module.script_finding(run, None)
    if problem is not None:  # always with exit 1: a failed script is a failing check
        _error(problem.title)
    if plot is not None:
        _plot_run(plot, analysis, probe, script)
    raise typer.Exit(verdict.exit_code(strict))


def build_run_report(script: str, args: Sequence[str] = (), *, steps: int = 50, timeout: float = 600.0,
                     python: Optional[str] = None, stdin: bool = False, echo=None):
    """Run `script` (the caller's code: it is executed) with graph execution instrumented and
    report a graph that grows at every step, as a `Report`; `ProbeError` when it is no file.
    `echo`: (stdout, stderr) binary streams to show the script's output on, or None."""
    return _run_report(script, list(args), steps=steps, timeout=timeout, python=python, stdin=stdin, echo=echo)[0]


def _run_report(script: str, args: list, *, steps: int, timeout: float, python, stdin: bool, echo, on_progress=None):
    from dldoctor import lifetime
    from dldoctor.probes.graph import diagnosis as diagnosis_module
    from dldoctor.probes.graph import growth, runner
    from dldoctor.verdict import ProbeError

    if not os.path.exists(script):
        raise ProbeError(f"{script}: no such file")
    if not os.path.isfile(script):
        raise ProbeError(f"{script}: not a file (name the training script)")
    with lifetime.terminating_children():  # Ctrl-C, SIGTERM, SIGHUP: the script's whole tree dies first
        run = runner.run_script(script, args, steps=steps, timeout=timeout or None, python=python,
                                stdin=stdin, echo=echo, on_progress=on_progress)
    probe = run.get("probe") or {}
    warmup = int(probe.get("warmup", runner.WARMUP_RUNS))
    analysis = {
        "tf1": [growth.analyze_tf1(g, warmup, steps) for g in (probe.get("tf1") or {}).get("graphs") or []],
        "tf2": growth.analyze_tf2(probe.get("tf2") or {}),
        "tf2_calls": int((probe.get("tf2") or {}).get("calls") or 0),
        "torch": growth.analyze_torch(probe.get("torch") or {}),
        "torch_steps": int((probe.get("torch") or {}).get("steps") or 0),
    }
    verdict = diagnosis_module.diagnose_run(run, analysis["tf1"], analysis["tf2"], analysis["tf2_calls"], analysis["torch"],
                                            analysis["torch_steps"])
    verdict.facts = {"run": {k: v for k, v in run.items() if k != "probe"}, "observations": probe, "analysis": analysis}
    return verdict, run, analysis, probe


def _binary(stream):
    """The byte stream under a text stream (the script's output is copied as bytes, undecoded)."""
    return getattr(stream, "buffer", None) or stream


def _progress_printer(report):
    """Prints `report.progress_line` to stderr: first after 2 s, then every 10 s, and at once when growth is established."""
    state = {"next": 2.0, "stopped": False}

    def on_progress(probe, seconds):
        stopped = bool((probe or {}).get("stopped"))
        if seconds < state["next"] and not (stopped and not state["stopped"]):
            return
        state["next"], state["stopped"] = seconds + 10.0, stopped
        print(report.progress_line(probe, seconds), file=sys.stderr, flush=True)

    return on_progress


def _plot_run(path: str, analysis: dict, probe: dict, script: str) -> None:
    from dldoctor.probes.graph import chart, report

    panels = report.run_panels(analysis, probe)
    empty = ("no graph execution was observed (no Session.run, tf.function call or backward)" if not panels and not
             analysis["torch_steps"] else "no tensor held an autograd graph across backward steps: nothing grew")
    chart.plot_panels(path, panels, f"dldoctor graph run {os.path.basename(script)}", empty=empty)
    suffix = "" if panels else f" ({empty}: the chart says so)"
    print(f"dldoctor: wrote {path}{suffix}", file=sys.stderr)


@graph_app.command("meta")
def meta_command(
    train_dir: str = typer.Argument(..., help="A train dir with model.ckpt-STEP.meta files (or one .meta file)."),
    output_format: str = options.output_format_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the checks, with the files and the analysis as facts, as JSON "
                                                       "(the same as --output-format json)."),
    strict: bool = options.strict_option(),
    plot: Optional[str] = typer.Option(None, "--plot", help="Also draw .meta size per step to this PNG (needs matplotlib)."),
) -> None:
    """Read the .meta files saved with the checkpoints (no code run): size per step, ops added, when 2 GB is reached."""
    chosen = options.resolve_format(output_format, as_json)
    _check_plot(plot)
    from dldoctor.probes.graph import report
    from dldoctor.verdict import ProbeError, reporters

    try:
        verdict, analysis = _meta_report(train_dir)
    except ProbeError as problem:
        _error(problem.message)
        raise typer.Exit(problem.exit_code)
    reporters.write(verdict, chosen, sys.stdout, body=report.meta_lines(train_dir, analysis, None, report.ascii_only())
                    if chosen == "text" else ())
    if plot is not None:
        from dldoctor.probes.graph import chart

        points = report.meta_points(analysis.files)  # the readable files only: a truncated file's size means nothing
        chart.plot_panels(plot, [("step", "bytes", [(".meta size", [x for x, _ in points], [y for _, y in points])], None)]
                          if points else [], f"dldoctor graph meta {os.path.basename(os.path.abspath(train_dir))}",
                          empty="no readable .meta file")
        print(f"dldoctor: wrote {plot}", file=sys.stderr)
    raise typer.Exit(verdict.exit_code(strict))


def build_meta_report(train_dir: str):
    """What the .meta files of a train dir (or one .meta file) say about graph growth, as a `Report`;
    `ProbeError` when there is none to read. Nothing is run."""
    return _meta_report(train_dir)[0]


def _meta_report(train_dir: str):
    from dldoctor.probes.graph import diagnosis as diagnosis_module
    from dldoctor.probes.graph import growth, metagraph
    from dldoctor.verdict import ProbeError

    try:
        files = metagraph.read_dir(train_dir)
    except metagraph.MetaDirError as problem:
        raise ProbeError(str(problem)) from None
    analysis = growth.analyze_meta(files)
    verdict = diagnosis_module.diagnose_meta(analysis)
    verdict.facts = {"target": train_dir, "analysis": analysis.to_json()}
    return verdict, analysis
