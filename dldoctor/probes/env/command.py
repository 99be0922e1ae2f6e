"""`dldoctor env`: verdicts on the machine (driver, GPUs, frameworks, TensorBoard, versions, port).

Module-level imports are the standard library and typer only, so registering
this command costs `dldoctor lint` nothing; the work is imported when it runs.
"""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer

EXIT_CLEAN, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2


def _error(message: str) -> None:
    print(f"dldoctor: error: {message}", file=sys.stderr)


def _load(path: str) -> dict:
    """The snapshot in a `--json` document or a bare snapshot file; a usage error otherwise."""
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
    as_json: bool = typer.Option(False, "--json", help="Print the snapshot and the verdicts as JSON."),
    from_file: Optional[str] = typer.Option(None, "--from", metavar="FILE",
                                            help="Diagnose a snapshot saved with --json instead of this machine."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.1, help="Seconds each probe subprocess may take."),
    quick: bool = typer.Option(False, "--quick", help="Skip the framework imports and GPU smoke tests."),
    port: Optional[int] = typer.Option(None, "--port", min=1, max=65535,
                                       help="Rendezvous port to check (default: MASTER_PORT, else 29500)."),
) -> None:
    """Check this machine for deep learning: driver, GPUs, PyTorch, TensorFlow, TensorBoard, port."""
    from dldoctor.probes.env import diagnosis, report
    from dldoctor.probes.env import snapshot as snapshots

    if from_file is not None:
        try:
            snap = _load(from_file)
        except ValueError as error:
            _error(str(error))
            raise typer.Exit(EXIT_USAGE)
    else:
        from dldoctor import lifetime

        try:
            with lifetime.terminating_children():  # Ctrl-C, SIGTERM, SIGHUP: the probes die first
                snap = snapshots.collect(timeout=timeout, quick=quick, port=port)
        except lifetime.Interrupted as stop:
            _error(f"interrupted ({stop.name}); the probes were stopped")
            raise typer.Exit(stop.code)
    verdicts = diagnosis.diagnose(snap)
    if as_json:
        print(json.dumps({"snapshot": snap, "verdicts": verdicts}, indent=2, ensure_ascii=False))
    else:
        p = snap.get("platform") or {}
        source = f" (snapshot {from_file}, taken {snap.get('created')})" if from_file else ""
        header = f"dldoctor env: {p.get('system')} {p.get('machine')}, Python {p.get('python_version')}{source}"
        report.write(verdicts, sys.stdout, seconds=None if from_file else snap.get("seconds"), header=header)
    sys.stdout.flush()
    raise typer.Exit(diagnosis.exit_code(verdicts))
