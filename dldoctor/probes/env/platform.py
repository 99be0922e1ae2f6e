"""Python and platform facts (in-process, instant): interpreter, bitness, environment, OS."""

from __future__ import annotations

import os
import platform as _platform
import struct
import sys

# Environment variables that change what the frameworks do; recorded in the snapshot.
VARIABLES = (
    "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CUDA_PATH", "LD_LIBRARY_PATH", "TF_FORCE_GPU_ALLOW_GROWTH",
    "TF_CPP_MIN_LOG_LEVEL", "PYTORCH_CUDA_ALLOC_CONF", "MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK",
    "CONDA_DEFAULT_ENV", "CONDA_PREFIX", "VIRTUAL_ENV",
)


def _cpu_flags() -> list[str] | None:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return sorted(flags & {"avx", "avx2", "avx512f", "fma", "sse4_2"})
    except OSError:
        return None
    return None


def collect() -> dict:
    release = _platform.release()
    conda = os.environ.get("CONDA_PREFIX") if os.path.isdir(os.path.join(sys.prefix, "conda-meta")) else None
    return {
        "python_version": _platform.python_version(),
        "implementation": _platform.python_implementation(),
        "executable": sys.executable,
        "bits": struct.calcsize("P") * 8,
        "prefix": sys.prefix,
        "virtualenv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
        "conda": bool(conda) or os.path.isdir(os.path.join(sys.prefix, "conda-meta")),
        "conda_env": os.environ.get("CONDA_DEFAULT_ENV"),
        "system": _platform.system(),
        "release": release,
        "machine": _platform.machine(),
        "platform": _platform.platform(),
        "wsl": "microsoft" in release.lower(),
        "cpu_flags": _cpu_flags(),
        "cpu_count": os.cpu_count(),
        "environment": {name: os.environ[name] for name in VARIABLES if name in os.environ},
    }
