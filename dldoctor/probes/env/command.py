"""`dldoctor env`: checks of the machine (driver, GPUs, frameworks, TensorBoard, versions, port).

Facts (snapshot.py) -> checks (diagnosis.py) -> the shared reporters (dldoctor.verdict).
Module-level imports are the standard library and typer (and the shared option
definitions) only, so registering this command costs `dldoctor lint` nothing; the
work is imported when it runs.
"""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer

from dldoctor.verdict import options

EXIT_USAGE = options.EXIT_USAGE


def _error(message: str) -> None:
    print(f"dldoctor: error: {message}", file=sys.stderr)


def _load(path: str) -> dict:
    """The snapshot in a saved JSON report or a bare snapshot file; a usage error otherwise."""
    from dldoctor.probes.env import snapshot as snapshots

    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read().decode("utf-8-sig"))
    except FileNotFoundError:
        raise ValueError(f"--from {path}: no such file")
    except IsADirectoryError:
        raise ValueError(f"--from {path}: is a directory")
    except OSError as error:
        raise ValueError(f"--from {path}: {error.strerror or error}")
    except UnicodeDecodeError:
        raise ValueError(f"--from {path}: not UTF-8 text (expected the JSON of `dldoctor env --json`)")
    except json.JSONDecodeError as error:
        raise ValueError(f"--from {path}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}")
    try:
        return snapshots.from_document(data)
    except ValueError as error:
        raise ValueError(f"--from {path}: {error}")


def env_command(
    output_format: str = options.output_format_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the snapshot and the checks as JSON "
                                                       "(the same as --output-format json)."),
    strict: bool = options.strict_option(),
    from_file: Optional[str] = typer.Option(None, "--from", metavar="FILE",
                                            help="Diagnose a snapshot saved with --json instead of this machine."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.1, help="Seconds each probe subprocess may take."),
    quick: bool = typer.Option(False, "--quick", help="Skip the framework imports and GPU smoke tests."),
    port: Optional[int] = typer.Option(None, "--port", min=1, max=65535,
                                       help="Rendezvous port to check (default: MASTER_PORT, else 29500)."),
) -> None:
    """Check this machine for deep learning: driver, GPUs, PyTorch, TensorFlow, TensorBoard, port."""
    chosen = options.resolve_format(output_format, as_json)
    from dldoctor import lifetime
    from dldoctor.verdict import ProbeError, reporters

    try:
        report, header = _report_and_header(quick=quick, timeout=timeout, port=port, snapshot=from_file)
    except ProbeError as error:
        _error(error.message)
        raise typer.Exit(error.exit_code)
    except lifetime.Interrupted as stop:
        _error(f"interrupted ({stop.name}); the probes were stopped")
        raise typer.Exit(stop.code)
    reporters.write(report, chosen, sys.stdout, header=header)
    raise typer.Exit(report.exit_code(strict))


def build_report(*, quick: bool = False, timeout: float = 60.0, port: Optional[int] = None, snapshot=None):
    """The checks of this machine (or of `snapshot`: a saved `env --json` file or its parsed dict),
    as a `Report`; `ProbeError` when the snapshot cannot be used. Probe subprocesses are stopped
    if this process is interrupted (`lifetime.Interrupted` is raised then)."""
    return _report_and_header(quick=quick, timeout=timeout, port=port, snapshot=snapshot)[0]


def _report_and_header(*, quick: bool, timeout: float, port: Optional[int], snapshot):
    from dldoctor.probes.env import diagnosis
    from dldoctor.probes.env import snapshot as snapshots
    from dldoctor.verdict import ProbeError

    from_file = snapshot if isinstance(snapshot, str) else None
    if isinstance(snapshot, dict):
        try:
            snap = snapshots.from_document(snapshot)
        except ValueError as error:
            raise ProbeError(f"snapshot: {error}") from None
    elif from_file is not None:
        try:
            snap = _load(from_file)
        except ValueError as error:
            raise ProbeError(str(error)) from None
    else:
        from dldoctor import lifetime

        with lifetime.terminating_children():  # Ctrl-C, SIGTERM, SIGHUP: the probes die first
            snap = snapshots.collect(timeout=timeout, quick=quick, port=port)
    report = diagnosis.report(snap)
    seconds = None if snapshot is not None else snap.get("seconds")
    report.headline = report.count_text() + (f" ({seconds:.1f} s)" if isinstance(seconds, (int, float)) else "")
    p = snap.get("platform") or {}
    source = f" (snapshot {from_file}, taken {snap.get('created')})" if from_file else ""
    header = f"dldoctor env: {p.get('system')} {p.get('machine')}, Python {p.get('python_version')}{source}"
    return report, header
