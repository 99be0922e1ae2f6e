"""NVIDIA driver and GPU facts from NVML (the `pynvml` module of nvidia-ml-py).

This file is also the probe script: `python -c <this file>` prints the facts
as one `@@dldoctor-probe@@ {json}` line. So it imports only the standard
library at module level (pynvml inside `collect`), and runs in a subprocess:
a wedged driver that hangs NVML hangs the probe, not dldoctor.

No NVIDIA driver is a normal state: `status` is then "library_not_found".
"""

from __future__ import annotations

import json
import os

MARKER = "@@dldoctor-probe@@"

# nvmlClocksEventReasons bits (nvml.h), as names.
THROTTLE_REASONS = (
    (0x1, "gpu_idle"),
    (0x2, "applications_clocks_setting"),
    (0x4, "sw_power_cap"),
    (0x8, "hw_slowdown"),
    (0x10, "sync_boost"),
    (0x20, "sw_thermal_slowdown"),
    (0x40, "hw_thermal_slowdown"),
    (0x80, "hw_power_brake_slowdown"),
    (0x100, "display_clock_setting"),
)

# NVMLError subclass name -> status of the snapshot.
INIT_ERRORS = {
    "NVMLError_LibraryNotFound": "library_not_found",
    "NVMLError_DriverNotLoaded": "driver_not_loaded",
    "NVMLError_LibRmVersionMismatch": "version_mismatch",
    "NVMLError_NoPermission": "no_permission",
    "NVMLError_FunctionNotFound": "library_too_old",
}

MIB = 1024 * 1024


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def throttle_names(mask: int) -> list[str]:
    return [name for bit, name in THROTTLE_REASONS if mask & bit]


def _process_name(pynvml, pid: int):
    try:
        return _text(pynvml.nvmlSystemGetProcessName(pid))
    except Exception:
        try:
            with open(f"/proc/{pid}/comm", encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError:
            return None


def _call(errors: dict, key: str, function, *args):
    """NVML call -> value; not supported / failing -> None, the error text kept under `errors`."""
    try:
        return function(*args)
    except Exception as error:  # NVMLError_NotSupported on consumer boards, old drivers lacking a call
        errors[key] = f"{type(error).__name__}: {error}"
        return None


def _gpu(pynvml, index: int) -> dict:
    errors: dict = {}
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    gpu: dict = {"index": index}
    gpu["name"] = _text(_call(errors, "name", pynvml.nvmlDeviceGetName, handle))
    gpu["uuid"] = _text(_call(errors, "uuid", pynvml.nvmlDeviceGetUUID, handle))
    capability = _call(errors, "compute_capability", pynvml.nvmlDeviceGetCudaComputeCapability, handle)
    gpu["compute_capability"] = f"{capability[0]}.{capability[1]}" if capability else None
    memory = _call(errors, "memory", pynvml.nvmlDeviceGetMemoryInfo, handle)
    if memory is not None:
        gpu["memory_total_mib"] = int(memory.total) // MIB
        gpu["memory_used_mib"] = int(memory.used) // MIB
        gpu["memory_free_mib"] = int(memory.free) // MIB
    processes = []
    seen = set()
    for getter in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
        function = getattr(pynvml, getter, None)
        for process in (_call(errors, getter, function, handle) if function else None) or []:
            if process.pid in seen:
                continue
            seen.add(process.pid)
            used = getattr(process, "usedGpuMemory", None)
            processes.append({
                "pid": int(process.pid),
                "name": _process_name(pynvml, process.pid),
                "used_mib": int(used) // MIB if isinstance(used, int) else None,
            })
    gpu["processes"] = processes
    mode = _call(errors, "ecc_mode", pynvml.nvmlDeviceGetEccMode, handle)
    gpu["ecc_enabled"] = bool(mode[0]) if mode else None
    if mode and mode[0]:
        uncorrected = pynvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED
        gpu["ecc_uncorrected_volatile"] = _call(
            errors, "ecc_volatile", pynvml.nvmlDeviceGetTotalEccErrors, handle, uncorrected, pynvml.NVML_VOLATILE_ECC)
        gpu["ecc_uncorrected_aggregate"] = _call(
            errors, "ecc_aggregate", pynvml.nvmlDeviceGetTotalEccErrors, handle, uncorrected, pynvml.NVML_AGGREGATE_ECC)
        pending = _call(errors, "retired_pages_pending", pynvml.nvmlDeviceGetRetiredPagesPendingStatus, handle)
        gpu["retired_pages_pending"] = None if pending is None else bool(pending)
        rows = _call(errors, "remapped_rows", getattr(pynvml, "nvmlDeviceGetRemappedRows", None) or (lambda h: None), handle)
        if rows:
            gpu["remapped_rows_uncorrectable"] = int(rows[1])
            gpu["remapped_rows_pending"] = bool(rows[2])
            gpu["remapped_rows_failure"] = bool(rows[3])
    reasons = getattr(pynvml, "nvmlDeviceGetCurrentClocksEventReasons", None) or getattr(
        pynvml, "nvmlDeviceGetCurrentClocksThrottleReasons", None)
    mask = _call(errors, "throttle_reasons", reasons, handle) if reasons else None
    gpu["throttle_reasons"] = None if mask is None else throttle_names(int(mask))
    persistence = _call(errors, "persistence_mode", pynvml.nvmlDeviceGetPersistenceMode, handle)
    gpu["persistence_mode"] = None if persistence is None else bool(persistence)
    gpu["temperature_c"] = _call(errors, "temperature", pynvml.nvmlDeviceGetTemperature, handle, pynvml.NVML_TEMPERATURE_GPU)
    gpu["unsupported"] = errors
    return gpu


def collect() -> dict:
    """Everything NVML says, as JSON-serialisable data. Never raises."""
    try:
        import pynvml
    except ModuleNotFoundError as error:
        if error.name == "pynvml":
            return {"status": "not_installed", "error": str(error)}
        return {"status": "error", "error": f"{type(error).__name__}: {error}"}
    except Exception as error:
        return {"status": "error", "error": f"{type(error).__name__}: {error}"}
    facts: dict = {"status": "ok", "pynvml_file": getattr(pynvml, "__file__", None)}
    try:
        pynvml.nvmlInit()
    except Exception as error:
        name = type(error).__name__
        return {**facts, "status": INIT_ERRORS.get(name, "error"), "error_class": name, "error": str(error)}
    try:
        facts["driver_version"] = _text(pynvml.nvmlSystemGetDriverVersion())
        errors: dict = {}
        facts["nvml_version"] = _text(_call(errors, "nvml_version", pynvml.nvmlSystemGetNVMLVersion))
        getter = getattr(pynvml, "nvmlSystemGetCudaDriverVersion_v2", None) or pynvml.nvmlSystemGetCudaDriverVersion
        cuda = _call(errors, "cuda_driver_version", getter)
        facts["cuda_driver_version"] = f"{cuda // 1000}.{(cuda % 1000) // 10}" if cuda else None
        count = pynvml.nvmlDeviceGetCount()
        facts["gpus"] = []
        for index in range(count):
            try:
                facts["gpus"].append(_gpu(pynvml, index))
            except Exception as error:  # NVMLError_GpuIsLost: fell off the bus
                facts["gpus"].append({"index": index, "error": f"{type(error).__name__}: {error}"})
        facts["unsupported"] = errors
    except Exception as error:
        facts.update(status="error", error_class=type(error).__name__, error=str(error))
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass
    return facts


if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    print(MARKER + json.dumps(collect()), flush=True)
