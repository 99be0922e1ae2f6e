"""Collect the facts of this machine into one JSON-serialisable dict: the snapshot.

The probe subprocesses (NVML, torch, TensorFlow, TensorBoard) start first and
run concurrently; the in-process facts (platform, package metadata, the port)
are gathered while they run. Nothing here judges: see diagnosis.py.

Shape (schema 1):

    {"schema": 1, "dldoctor": "0.1.0", "created": "...", "quick": false, "timeout": 60.0,
     "seconds": 4.2, "platform": {...}, "packages": {"versions", "requires", ...},
     "nvml": {"status": "ok" | "library_not_found" | ..., "driver_version", "cuda_driver_version", "gpus": [...]},
     "torch": {"probe": {"outcome": "ok" | "timeout" | "crashed" | "error" | "skipped", "facts": {...}, ...}},
     "tensorflow": {"probe": {...}}, "tensorboard": {"probe": {...}},
     "port": {"port": 29500, "source": "default", "free": true, ...},
     "probe_pids": [...]}
"""

from __future__ import annotations

import datetime
import os
import time
from typing import Optional

SCHEMA = 1


def collect(*, timeout: float = 60.0, quick: bool = False, port: Optional[int] = None,
            probes: Optional[tuple[str, ...]] = None) -> dict:
    """Probe the machine. `probes` limits the subprocess probes run (all by default)."""
    import dldoctor
    from dldoctor.probes.env import frameworks, platform, ports, runner

    started = time.monotonic()
    wanted: dict[str, tuple[str, tuple[str, ...]]] = {"nvml": ("nvml", ())}
    if not quick:
        wanted["torch"] = ("torch_probe", ("--smoke",))
        wanted["tensorflow"] = ("tensorflow_probe", ("--smoke",))
        wanted["tensorboard"] = ("tensorboard", ())
    if probes is not None:
        wanted = {name: spec for name, spec in wanted.items() if name in probes}
    running = runner.Running(wanted, timeout)

    snapshot: dict = {
        "schema": SCHEMA,
        "dldoctor": dldoctor.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "timeout": timeout,
        "platform": platform.collect(),
        "packages": frameworks.installed(),
    }
    snapshot["platform"]["probe_interpreter"] = runner.interpreter()
    chosen, source = ports.choose_port(port)
    snapshot["port"] = ports.check(chosen, source)

    results = running.collect()
    snapshot["probe_pids"] = [os.getpid(), *running.pids]
    nvml = results.get("nvml")
    if nvml is None:
        snapshot["nvml"] = {"status": "skipped"}
    elif nvml["outcome"] == "ok":
        snapshot["nvml"] = nvml["facts"]
    else:
        snapshot["nvml"] = {"status": f"probe_{nvml['outcome']}", "error": nvml.get("error"),
                            "stderr_tail": nvml.get("stderr_tail", "")}
    for name in ("torch", "tensorflow", "tensorboard"):
        if name in results:
            snapshot[name] = {"probe": results[name]}
        else:
            snapshot[name] = {"probe": {"outcome": "skipped", "reason": "--quick" if quick else "not requested"}}
    snapshot["seconds"] = round(time.monotonic() - started, 3)
    return snapshot


def looks_like_snapshot(data: object) -> bool:
    return isinstance(data, dict) and data.get("schema") == SCHEMA and isinstance(data.get("platform"), dict)


def from_document(data: object) -> dict:
    """A saved JSON report (`{"command": "env", ..., "facts": snapshot}`), the older `{"snapshot": ...,
    "verdicts": ...}` document, or a bare snapshot -> the snapshot. Saved checks are never trusted: the
    snapshot is diagnosed again.

    Raises ValueError with a one-line reason when it is none of them.
    """
    if isinstance(data, dict) and "checks" in data and "facts" in data:
        if data.get("command") != "env":
            raise ValueError(f"a report of `dldoctor {data.get('command')}`, not of `dldoctor env`")
        data = data["facts"]
    elif isinstance(data, dict) and "snapshot" in data:
        data = data["snapshot"]
    if not isinstance(data, dict):
        raise ValueError("not a dldoctor env snapshot (expected a JSON object)")
    if data.get("schema") != SCHEMA:
        raise ValueError(f"not a dldoctor env snapshot of schema {SCHEMA} (no \"schema\": {SCHEMA} key)")
    missing = [key for key in ("platform", "packages", "nvml", "port") if not isinstance(data.get(key), dict)]
    if missing:
        raise ValueError(f"snapshot lacks {', '.join(missing)}")
    return data
