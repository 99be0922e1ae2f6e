"""Snapshot -> checks. Pure functions: no I/O, no clock, no environment reads.

Each check is a `dldoctor.verdict.Check` with a catalogue id (`env.driver-too-old`,
documented in checks.py and by `dldoctor explain ID`), its subject when one
snapshot has several of that id (`GPU 0`, `torch`, `numpy (tensorflow)`), the
report section it belongs to, and the fix. Everything a check needs is in the
snapshot (see snapshot.py), so a snapshot recorded on a GPU machine gives the
same checks anywhere.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

from dldoctor.probes.env import frameworks
from dldoctor.probes.env.tested_configs import (
    MINOR_COMPAT_MINIMUM, driver_minimum, python_in_range, tf_tested, valid_version, version_tuple,
)
from dldoctor.verdict import FAIL, OK, SKIP, WARN, Check, Report

SECTIONS = (
    "Python and platform", "NVIDIA driver", "GPUs", "PyTorch", "TensorFlow", "TensorBoard",
    "Version sanity", "Distributed",
)
# Clock-event reasons that mean the GPU is slowed by something wrong (not idle, not a normal power cap).
BAD_THROTTLE = ("hw_slowdown", "hw_thermal_slowdown", "sw_thermal_slowdown", "hw_power_brake_slowdown")
SHARED_MEMORY_SHARE = 0.5  # other processes holding this share of a GPU's memory -> WARN
LOW_FREE_SHARE = 0.1


def check(id: str, subject: Optional[str], section: str, status: str, summary: str, detail: str = "",
          advice: Iterable[str] = (), evidence: Optional[dict] = None) -> Check:
    return Check(id, status, summary, detail, list(advice), evidence or {}, subject=subject, section=section)


def exit_code(checks: list[Check], strict: bool = False) -> int:
    return Report("env", checks).exit_code(strict)


def report(snapshot: dict) -> Report:
    """The whole `dldoctor env` report of a snapshot: its checks, with the snapshot as the facts."""
    return Report("env", diagnose(snapshot), snapshot)


def diagnose(snapshot: dict) -> list[Check]:
    """Every verdict for a snapshot, in section order."""
    out: list[Check] = []
    for check in (platform_checks, driver_checks, gpu_checks, torch_checks, tensorflow_checks,
                  tensorboard_checks, version_checks, port_checks):
        out.extend(check(snapshot))
    return out


# --- helpers over the snapshot ----------------------------------------------------------------


def _versions(snapshot: dict) -> dict:
    return snapshot.get("packages", {}).get("versions", {}) or {}


def _gpus(snapshot: dict) -> list[Check]:
    nvml = snapshot.get("nvml") or {}
    return [g for g in nvml.get("gpus") or [] if "error" not in g] if nvml.get("status") == "ok" else []


def _env(snapshot: dict) -> dict:
    return snapshot.get("platform", {}).get("environment", {}) or {}


def _other_processes(snapshot: dict, gpu: dict) -> list[Check]:
    ours = set(snapshot.get("probe_pids") or [])
    return [p for p in gpu.get("processes") or [] if p.get("pid") not in ours]


def _process_text(process: dict) -> str:
    name = process.get("name") or "?"
    used = process.get("used_mib")
    return f"pid {process.get('pid')} {name}" + (f" ({used} MiB)" if used is not None else "")


def _mm(version: Optional[str]) -> str:
    parts = version_tuple(version)[:2]
    return ".".join(map(str, parts)) if parts else str(version)


def cudnn_text(value) -> Optional[str]:
    """torch's integer cuDNN version -> '9.1.0' (cuDNN 9: MMmmpp; before: Mmpp)."""
    if value in (None, "", 0):
        return None
    if isinstance(value, str):
        return value
    value = int(value)
    if value >= 90000:
        return f"{value // 10000}.{value % 10000 // 100}.{value % 100}"
    return f"{value // 1000}.{value % 1000 // 100}.{value % 100}"


def _last_lines(text: str, count: int = 6) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return "\n".join(lines[-count:])


def arch_supported(arch_list: list[str], capability: str) -> bool:
    """Has a build with `arch_list` (['sm_80', 'sm_90', 'compute_90']) kernels for `capability` ('8.6')?

    A cubin for sm_XY runs on the same major with an equal or higher minor; PTX
    (compute_XY) is compiled by the driver for any equal or newer GPU.
    """
    cap = version_tuple(capability)
    if len(cap) < 2:
        return True
    have = cap[0] * 10 + cap[1]
    for arch in arch_list:
        match = re.match(r"^(sm|compute)_(\d+)", arch)
        if not match:
            continue
        number = int(match.group(2))
        major, minor = number // 10, number % 10
        if match.group(1) == "sm" and major == cap[0] and minor <= cap[1]:
            return True
        if match.group(1) == "compute" and number <= have:
            return True
    return False


def _sm(capability: str) -> str:
    cap = version_tuple(capability)
    return f"sm_{cap[0]}{cap[1]}" if len(cap) >= 2 else f"sm_{capability}"


# --- Python and platform ---------------------------------------------------------------------


def platform_checks(snapshot: dict) -> list[Check]:
    section = "Python and platform"
    p = snapshot.get("platform") or {}
    if p.get("conda"):
        where = f"conda environment {p.get('conda_env') or p.get('prefix')}"
    elif p.get("virtualenv"):
        where = f"virtualenv {p.get('prefix')}"
    else:
        where = f"system interpreter {p.get('executable')}"
    out = []
    summary = f"Python {p.get('python_version')} ({p.get('implementation')}, {p.get('bits')}-bit) in {where}"
    if p.get("bits") and p.get("bits") != 64:
        out.append(check("env.python", None, section, FAIL, summary,
                           "PyTorch and TensorFlow publish 64-bit builds only",
                           ["install a 64-bit Python and recreate the environment"]))
    else:
        detail = "" if p.get("virtualenv") or p.get("conda") else \
            "packages go into the system interpreter; a virtualenv keeps framework versions per project"
        out.append(check("env.python", None, section, OK, summary, detail))
    osname = f"{p.get('system')} {p.get('release')} {p.get('machine')}".strip()
    detail = ""
    if p.get("wsl"):
        osname += " (WSL)"
        detail = "under WSL2 the NVIDIA driver is the Windows one: do not install a Linux driver inside WSL"
    elif p.get("system") == "Darwin":
        detail = "macOS has no CUDA: PyTorch uses MPS, TensorFlow needs tensorflow-metal for the GPU"
    out.append(check("env.os", None, section, OK, osname, detail))
    return out


# --- NVIDIA driver ---------------------------------------------------------------------------


def driver_checks(snapshot: dict) -> list[Check]:
    section = "NVIDIA driver"
    nvml = snapshot.get("nvml") or {}
    status = nvml.get("status")
    error = nvml.get("error") or ""
    if status == "ok":
        cuda = nvml.get("cuda_driver_version")
        summary = f"driver {nvml.get('driver_version')}" + (f", supports CUDA ≤ {cuda}" if cuda else "")
        return [check("env.nvidia-driver", None, section, OK, summary, f"NVML {nvml.get('nvml_version')}")]
    if status == "library_not_found":
        return [check("env.nvidia-driver", None, section, SKIP, "no NVIDIA driver: CPU only",
                        "libnvidia-ml (NVML) not found: GPU checks skipped; if this machine has an NVIDIA GPU, "
                        "install its driver (`nvidia-smi` must work)")]
    if status == "not_installed":
        return [check("env.nvidia-driver", None, section, SKIP, "pynvml not installed: NVIDIA driver and GPUs not inspected",
                        error, ["pip install nvidia-ml-py"])]
    if status == "skipped":
        return [check("env.nvidia-driver", None, section, SKIP, "not probed")]
    if status == "driver_not_loaded":
        return [check("env.nvidia-driver", None, section, FAIL, "NVIDIA driver installed but not loaded",
                        f"NVML: {error}",
                        ["`lsmod | grep nvidia` shows whether the kernel module is loaded; "
                         "`sudo modprobe nvidia` loads it and `dmesg | grep -i nvidia` says why it failed",
                         "after a kernel upgrade, reinstall the driver (or its DKMS module) for the running kernel",
                         "with Secure Boot on, the module must be signed (or Secure Boot disabled)"])]
    if status == "version_mismatch":
        return [check("env.nvidia-driver", None, section, FAIL,
                        "NVIDIA driver/library version mismatch: the driver was upgraded but the old kernel module is loaded",
                        f"NVML: {error}",
                        ["reboot", "or reload the modules: `sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia "
                                   "&& sudo modprobe nvidia` (stop every GPU process first)"])]
    if status == "no_permission":
        return [check("env.nvidia-driver", None, section, FAIL, "no permission to use the NVIDIA driver", f"NVML: {error}",
                        ["check the permissions of /dev/nvidia*; add the user to the group that owns them"])]
    if status == "library_too_old":
        return [check("env.nvidia-driver", None, section, WARN, "the NVML library is older than pynvml expects",
                        f"NVML: {error}", ["update the NVIDIA driver, or install an older nvidia-ml-py"])]
    if status == "probe_timeout":
        return [check("env.nvidia-driver", None, section, FAIL,
                        f"NVML did not answer within {snapshot.get('timeout')} s: the driver may be hung", error,
                        ["run `nvidia-smi`; if it hangs too, look for Xid errors: `dmesg | grep -i -e nvrm -e xid`",
                         "a GPU that fell off the bus needs a reboot"])]
    return [check("env.nvidia-driver", None, section, FAIL, f"NVML query failed ({status})",
                    "\n".join(filter(None, [error, _last_lines(nvml.get("stderr_tail", ""))])),
                    ["run `nvidia-smi` to see whether the driver answers"])]


# --- GPUs --------------------------------------------------------------------------------------


def gpu_checks(snapshot: dict) -> list[Check]:
    section = "GPUs"
    nvml = snapshot.get("nvml") or {}
    if nvml.get("status") != "ok":
        return [check("env.gpu", None, section, SKIP, "no GPU to check" if nvml.get("status") == "library_not_found"
                        else "GPUs not inspected (see NVIDIA driver)")]
    gpus = nvml.get("gpus") or []
    if not gpus:
        return [check("env.gpu", None, section, WARN, "the driver is loaded but reports no GPU", "",
                        ["`nvidia-smi -L` lists the GPUs; in a container, start it with `--gpus all`"])]
    out = []
    visible = _env(snapshot).get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1", "NoDevFiles"):
        out.append(check("env.gpus-hidden", None, section, WARN, f"CUDA_VISIBLE_DEVICES={visible!r} hides every GPU from CUDA",
                           "", ["unset CUDA_VISIBLE_DEVICES, or list the GPUs to use (e.g. CUDA_VISIBLE_DEVICES=0)"]))
    for gpu in gpus:
        index = gpu.get("index")
        prefix = f"GPU {index}"
        if "error" in gpu:
            out.append(check("env.gpu", f"GPU {index}", section, FAIL, f"{prefix}: NVML cannot query it", gpu["error"],
                               ["`dmesg | grep -i xid` shows driver errors; a lost GPU needs a reboot"]))
            continue
        total, used, free = gpu.get("memory_total_mib"), gpu.get("memory_used_mib"), gpu.get("memory_free_mib")
        summary = f"{prefix}: {gpu.get('name')}, compute capability {gpu.get('compute_capability')}"
        if total is not None:
            summary += f", {total} MiB ({used} used, {free} free)"
        others = _other_processes(snapshot, gpu)
        details = []
        if others:
            details.append("processes: " + ", ".join(_process_text(p) for p in others))
        if gpu.get("persistence_mode") is False and (snapshot.get("platform") or {}).get("system") == "Linux":
            details.append("persistence mode off (the first CUDA call pays driver start-up; `sudo nvidia-smi -pm 1`)")
        if gpu.get("temperature_c") is not None:
            details.append(f"{gpu['temperature_c']} °C")
        out.append(check("env.gpu", f"GPU {index}", section, OK, summary, "; ".join(details)))
        out.extend(_memory_verdicts(snapshot, gpu, gpus, others))
        out.extend(_health_verdicts(gpu))
    return out


def _memory_verdicts(snapshot: dict, gpu: dict, gpus: list[dict], others: list[dict]) -> list[Check]:
    index = gpu.get("index")
    total, free = gpu.get("memory_total_mib") or 0, gpu.get("memory_free_mib")
    if not total:
        return []
    held = sum(p.get("used_mib") or 0 for p in others)
    ours = set(snapshot.get("probe_pids") or [])
    # memory our own probes (the smoke tests) held when NVML looked is free for the user
    free_for_user = None if free is None else free + sum(
        p.get("used_mib") or 0 for p in gpu.get("processes") or [] if p.get("pid") in ours)
    low_free = free_for_user is not None and free_for_user < LOW_FREE_SHARE * total
    if held < SHARED_MEMORY_SHARE * total and not (low_free and others):
        if low_free:  # memory taken by processes NVML cannot show (another container, another user)
            return [check("env.gpu-memory-shared", f"GPU {index}", "GPUs", WARN,
                            f"GPU {index}: only {free} MiB of {total} MiB free, by processes not visible from here",
                            "", ["`nvidia-smi` on the host shows who holds it"])]
        return []
    top = sorted(others, key=lambda p: -(p.get("used_mib") or 0))
    names = ", ".join(_process_text(p) for p in top)
    freest = max(gpus, key=lambda g: g.get("memory_free_mib") or 0)
    advice = [
        "TensorFlow maps nearly all free GPU memory when it starts, and cuBLAS then cannot create its handle "
        "(CUBLAS_STATUS_ALLOC_FAILED): set TF_FORCE_GPU_ALLOW_GROWTH=true, or gpu_options.allow_growth = True",
        f"torch.load of a checkpoint saved from cuda:{index} puts it back on this GPU (CUDA out of memory): "
        "torch.load(path, map_location=\"cpu\") or the GPU you train on",
    ]
    if freest.get("index") != index and (freest.get("memory_free_mib") or 0) > (free or 0):
        advice.append(f"use a freer GPU: CUDA_VISIBLE_DEVICES={freest.get('index')} "
                      f"({freest.get('memory_free_mib')} MiB free)")
    advice.append(f"or stop the process if it is a leftover run: kill {top[0].get('pid')}")
    return [check("env.gpu-memory-shared", f"GPU {index}", "GPUs", WARN,
                    f"GPU {index}: other processes hold {held} MiB of {total} MiB: {names}",
                    f"{free} MiB free", advice,
                    {"gpu": index, "held_mib": held, "total_mib": total, "free_mib": free,
                     "pids": [p.get("pid") for p in top]})]


def _health_verdicts(gpu: dict) -> list[Check]:
    index = gpu.get("index")
    out = []
    volatile = gpu.get("ecc_uncorrected_volatile") or 0
    aggregate = gpu.get("ecc_uncorrected_aggregate") or 0
    if volatile > 0:
        out.append(check("env.gpu-ecc-errors", f"GPU {index}", "GPUs", FAIL,
                           f"GPU {index}: {volatile} uncorrectable ECC memory errors since the driver loaded",
                           f"lifetime total: {aggregate}",
                           ["results computed on this GPU may be corrupt: drain jobs from it",
                            f"reset the GPU (`sudo nvidia-smi -r -i {index}`) or reboot; if the errors come back, "
                            "the board needs replacing"], {"gpu": index, "volatile": volatile, "aggregate": aggregate}))
    elif aggregate > 0:
        out.append(check("env.gpu-ecc-errors", f"GPU {index}", "GPUs", WARN,
                           f"GPU {index}: {aggregate} uncorrectable ECC memory errors over its lifetime", "",
                           ["watch `nvidia-smi -q -d ECC`; rising counts mean the board is failing"],
                           {"gpu": index, "volatile": volatile, "aggregate": aggregate}))
    if gpu.get("remapped_rows_failure"):
        out.append(check("env.gpu-bad-memory", f"GPU {index}", "GPUs", FAIL, f"GPU {index}: memory row remapping failed", "",
                           ["the GPU cannot retire its bad memory any more: replace the board"]))
    elif gpu.get("retired_pages_pending") or gpu.get("remapped_rows_pending"):
        out.append(check("env.gpu-bad-memory", f"GPU {index}", "GPUs", WARN,
                           f"GPU {index}: bad memory is waiting to be retired/remapped", "",
                           [f"reset the GPU (`sudo nvidia-smi -r -i {index}`) or reboot to apply it"]))
    bad = [reason for reason in gpu.get("throttle_reasons") or [] if reason in BAD_THROTTLE]
    if bad:
        out.append(check("env.gpu-throttled", f"GPU {index}", "GPUs", WARN,
                           f"GPU {index}: clocks slowed down ({', '.join(bad)})", "",
                           ["check cooling (fans, airflow, temperature) and the power supply",
                            "`nvidia-smi -q -d PERFORMANCE` shows the reasons over time"]))
    return out


# --- frameworks: shared pieces ----------------------------------------------------------------


def _probe_failure(snapshot: dict, framework: str, section: str, name: str, probe: dict,
                   installed: Optional[str]) -> Optional[list[Check]]:
    """Verdicts for a probe that did not give facts (or gave an import error); None if it did."""
    vid = f"{framework}.import"
    outcome = probe.get("outcome")
    shown = f"{name} {installed}" if installed else name
    if outcome == "skipped":
        reason = probe.get("reason", "")
        if installed:
            return [check("env.framework-import", framework, section, SKIP, f"{shown} installed (import not tried: {reason})")]
        return [check("env.framework-import", framework, section, SKIP, f"{name} not installed")]
    if outcome == "timeout":
        return [check("env.framework-import", framework, section, FAIL, f"import {framework} did not finish within {snapshot.get('timeout')} s",
                        "\n".join(filter(None, [probe.get("error"), _last_lines(probe.get("stderr_tail", ""))])),
                        ["a hung import is usually a hung driver or a slow network filesystem: "
                         f"`python -X importtime -c \"import {framework}\"` shows where it stops",
                         "check that `nvidia-smi` answers",
                         "on a slow machine, raise --timeout"])]
    if outcome == "crashed":
        what, advice = frameworks.explain_crash(framework, probe.get("signal", "?"), probe.get("stderr_tail", ""))
        return [check("env.framework-import", framework, section, FAIL, what, _last_lines(probe.get("stderr_tail", ""), 8), advice)]
    if outcome != "ok":
        return [check("env.framework-import", framework, section, FAIL, f"the {name} probe failed: {probe.get('error')}",
                        _last_lines(probe.get("stderr_tail", "") or probe.get("stdout_tail", "")),
                        [f"run `python -c \"import {framework}\"` to see the error"])]
    facts = probe.get("facts") or {}
    error = facts.get("import_error")
    if not error:
        return None
    message = f"{error.get('type')}: {error.get('message')}"
    if error.get("type") == "ModuleNotFoundError" and f"'{framework}'" in (error.get("message") or "") \
            and not installed:
        return [check("env.framework-import", framework, section, SKIP, f"{name} not installed")]
    what, advice = frameworks.explain_import_error(framework, f"{message}\n{error.get('traceback', '')}")
    if probe.get("interpreter"):
        what += f" (probed with {probe['interpreter']})"
    return [check("env.framework-import", framework, section, FAIL, f"import {framework} fails: {message}", what, advice)]


def _driver_vs_build(snapshot: dict, framework: str, section: str, name: str, build_cuda: Optional[str],
                     works: bool, evidence: str = "") -> list[Check]:
    """FAIL when the driver's CUDA is older than the framework's CUDA build.

    Within one CUDA major version a framework that still sees its GPUs (`works`)
    runs through minor version compatibility: that is a WARN, not a FAIL.
    """
    nvml = snapshot.get("nvml") or {}
    driver_cuda = nvml.get("cuda_driver_version")
    if nvml.get("status") != "ok" or not build_cuda or not driver_cuda:
        return []
    build, driver = version_tuple(build_cuda)[:2], version_tuple(driver_cuda)[:2]
    if not build or not driver or driver >= build:
        return [check("env.driver-too-old", framework, section, OK,
                        f"driver supports CUDA {_mm(driver_cuda)} ≥ the build's CUDA {_mm(build_cuda)}")]
    need = driver_minimum(build_cuda)
    advice = [f"update the NVIDIA driver to ≥ {need} (CUDA {_mm(build_cuda)}'s minimum on Linux)" if need
              else "update the NVIDIA driver",
              f"or install a {name} build for CUDA ≤ {_mm(driver_cuda)}"]
    facts = {"framework": framework, "driver": nvml.get("driver_version"), "driver_cuda": driver_cuda,
             "build_cuda": build_cuda, "minimum_driver": need}
    summary = (f"driver {nvml.get('driver_version')} supports CUDA ≤ {_mm(driver_cuda)}, "
               f"but {name} was built for CUDA {_mm(build_cuda)}")
    compat = MINOR_COMPAT_MINIMUM.get(build[0])
    if driver[0] == build[0] and works:
        return [check("env.driver-too-old", framework, section, WARN, summary,
                        "it runs through CUDA minor version compatibility"
                        + (f" (drivers ≥ {compat})" if compat else "")
                        + ", but code that needs the newer driver (PTX JIT) fails", advice, facts)]
    return [check("env.driver-too-old", framework, section, FAIL, summary, evidence, advice, facts)]


def _arch_advice(capability: str, name: str) -> list[str]:
    cap = version_tuple(capability)
    sm = _sm(capability)
    advice = []
    if cap and cap[0] >= 12:
        advice.append(f"{sm} (Blackwell) needs a build for CUDA ≥ 12.8" + (
            ": torch ≥ 2.7 built for CUDA 12.8 (cu128) or newer" if name == "torch" else ""))
    elif cap and cap[0] == 10:
        advice.append(f"{sm} (Blackwell) needs a build for CUDA ≥ 12.8")
    elif cap and cap[:2] == (9, 0):
        advice.append("sm_90 (Hopper) needs a build for CUDA ≥ 11.8")
    advice.append(f"install a {name} build whose arch list includes {sm} or an older {sm[:-1]}x of the same major "
                  "(builds for newer CUDA cover newer GPUs; releases drop the oldest GPUs)")
    advice.append(f"or build from source with TORCH_CUDA_ARCH_LIST=\"{_mm(capability)}\"" if name == "torch"
                  else "or build from source for this compute capability")
    return advice


def _smoke_advice(error: str, snapshot: dict, index: int, framework: str) -> tuple[str, list[str]]:
    gpus = {g.get("index"): g for g in _gpus(snapshot)}
    others = _other_processes(snapshot, gpus[index]) if index in gpus else []
    holders = (" Other processes on this GPU: " + ", ".join(_process_text(p) for p in others) + ".") if others else ""
    if "CUBLAS_STATUS_ALLOC_FAILED" in error or "out of memory" in error.lower() or "OOM" in error \
            or "without BLAS support" in error:
        what = f"cuBLAS could not allocate its workspace on GPU {index}: the GPU's memory is taken.{holders}"
        advice = []
        if framework == "tensorflow":
            advice.append("TensorFlow: allocate as needed instead of mapping all memory: TF_FORCE_GPU_ALLOW_GROWTH=true, "
                          "or config.gpu_options.allow_growth = True (TF1) / "
                          "tf.config.experimental.set_memory_growth(gpu, True) (TF2)")
        advice += ["free GPU memory: stop other processes on it, or use another GPU (CUDA_VISIBLE_DEVICES)",
                   "PyTorch: PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True reduces fragmentation; "
                   "torch.cuda.empty_cache() returns cached blocks"]
        if framework == "torch":
            advice.append("if TensorFlow runs in the same process, turn on its allow_growth "
                          "(TF_FORCE_GPU_ALLOW_GROWTH=true)")
        return what, advice
    if "CUBLAS_STATUS_NOT_INITIALIZED" in error:
        return (f"cuBLAS could not start on GPU {index}: usually no memory left for its handle, "
                f"or CUDA libraries that do not match the driver.{holders}",
                ["free GPU memory (other processes, TF_FORCE_GPU_ALLOW_GROWTH=true for TensorFlow)",
                 "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True for PyTorch",
                 "check that the driver supports the build's CUDA version (see above)"])
    if "no kernel image is available" in error:
        gpu = gpus.get(index, {})
        return ("the build has no kernels for this GPU's compute capability",
                _arch_advice(gpu.get("compute_capability") or "", framework))
    return (f"a small matmul on GPU {index} failed", ["run it by hand to see the full error; check `nvidia-smi`"])


def _smoke_verdicts(snapshot: dict, framework: str, section: str, results: Optional[list[dict]],
                    stderr: str = "") -> list[Check]:
    """Verdicts of the matmul smoke test; `stderr` adds the C++ log lines (TensorFlow logs the cuBLAS status there)."""
    if results is None:
        return []
    logged = [line.strip() for line in (stderr or "").splitlines() if "CUBLAS_STATUS_" in line or "cublas" in line.lower()]
    failed = [r for r in results if not r.get("ok")]
    if not failed:
        return [check("env.cublas-smoke-test", framework, section, OK, f"cuBLAS smoke test (matmul) passed on {len(results)} GPU(s)")]
    out = []
    for result in failed:
        index = result.get("device")
        error = result.get("error") or ""
        what, advice = _smoke_advice("\n".join([error, *logged]), snapshot, index, framework)
        detail = "\n".join([*logged[-3:], what]) if logged else what
        out.append(check("env.cublas-smoke-test", f"{framework}, GPU {index}", section, FAIL,
                           f"cuBLAS smoke test on GPU {index} failed: {_first_line(error)}", detail, advice))
    return out


def _first_line(text: Optional[str]) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


# --- PyTorch -----------------------------------------------------------------------------------


def torch_checks(snapshot: dict) -> list[Check]:
    section, name = "PyTorch", "torch"
    installed = _versions(snapshot).get("torch")
    probe = (snapshot.get("torch") or {}).get("probe") or {"outcome": "skipped", "reason": "not probed"}
    failed = _probe_failure(snapshot, "torch", section, name, probe, installed)
    if failed is not None:
        return failed
    f = probe.get("facts") or {}
    gpus = _gpus(snapshot)
    cuda, hip = f.get("cuda"), f.get("hip")
    if cuda:
        build = f"CUDA {cuda}" + (f", cuDNN {cudnn_text(f.get('cudnn'))}" if f.get("cudnn") else "")
    elif hip:
        build = f"ROCm {hip}"
    else:
        build = "CPU-only build"
    available = f.get("cuda_available")
    summary = f"torch {f.get('version')}: {build}"
    if cuda or hip:
        summary += f", {f.get('device_count') or 0} GPU(s) visible" if available else ", torch.cuda.is_available() is False"
    out = [check("env.torch-build", None, section, OK, summary)]
    if installed and f.get("version") and installed != f.get("version"):
        out.append(check("env.torch-shadowed", None, section, WARN,
                           f"the installed torch is {installed}, but `import torch` loads {f.get('version')}",
                           f.get("file") or "",
                           ["another copy of torch comes first on sys.path (PYTHONPATH, a local torch/ folder, "
                            "a user site-packages): remove it"]))
    warnings_text = "\n".join(f.get("warnings") or [])
    if not gpus:
        return out + _smoke_verdicts(snapshot, "torch", section, f.get("smoke"))
    if not cuda and not hip:
        driver_cuda = (snapshot.get("nvml") or {}).get("cuda_driver_version")
        out.append(check("env.torch-cpu-wheel", None, section, FAIL,
                           f"CPU-only torch build on a machine with {len(gpus)} NVIDIA GPU(s)",
                           f"torch {f.get('version')} has no CUDA (torch.version.cuda is None): training runs on the CPU",
                           ["`pip uninstall torch`, then install the CUDA build"
                            + (f" for CUDA ≤ {driver_cuda}" if driver_cuda else "")
                            + " with the command from PyTorch's install selector (Get Started page)",
                            "in conda, a `cpuonly` package pins the CPU build: remove it"]))
        return out
    smoke = f.get("smoke")
    driver = _driver_vs_build(snapshot, "torch", section, name, cuda, bool(available), warnings_text)
    out += driver
    driver_failed = any(v.status == FAIL for v in driver)
    arch_list = f.get("arch_list") or []
    arch_failed = False
    if arch_list and cuda:
        for gpu in gpus:
            capability = gpu.get("compute_capability")
            if capability and not arch_supported(arch_list, capability):
                arch_failed = True
                out.append(check("env.gpu-arch-unsupported", f"torch, GPU {gpu.get('index')}", section, FAIL,
                                   f"GPU {gpu.get('index')} ({gpu.get('name')}, {_sm(capability)}) has no kernels "
                                   f"in this torch build: \"{_sm(capability)} is not compatible with the current "
                                   "PyTorch installation\"",
                                   f"torch.cuda.get_arch_list(): {' '.join(arch_list)}",
                                   _arch_advice(capability, "torch")))
        if not arch_failed:
            out.append(check("env.gpu-arch-unsupported", "torch", section, OK,
                               f"the build has kernels for every GPU ({', '.join(sorted({_sm(g.get('compute_capability') or '') for g in gpus}))})"))
    if not available and not driver_failed:
        visible = _env(snapshot).get("CUDA_VISIBLE_DEVICES")
        hint = [f"CUDA_VISIBLE_DEVICES={visible!r} hides the GPUs"] if visible is not None and not visible.strip(" -1") else []
        out.append(check("env.torch-cuda-unavailable", None, section, FAIL,
                           f"torch.cuda.is_available() is False although {len(gpus)} GPU(s) are present",
                           "\n".join(filter(None, [warnings_text, (f.get("errors") or {}).get("cuda_available")])),
                           hint + ["run `python -c \"import torch; torch.cuda.init()\"` to see CUDA's own error",
                                   "check that the driver supports the build's CUDA version"]))
    if smoke is not None and not (arch_failed and all("no kernel image" in (r.get("error") or "") for r in smoke if not r.get("ok"))):
        out += _smoke_verdicts(snapshot, "torch", section, smoke)
    return out


# --- TensorFlow --------------------------------------------------------------------------------


def tensorflow_checks(snapshot: dict) -> list[Check]:
    section, name = "TensorFlow", "TensorFlow"
    versions = _versions(snapshot)
    dist = frameworks.tf_distribution(versions)
    installed = versions.get(dist) if dist else None
    probe = (snapshot.get("tensorflow") or {}).get("probe") or {"outcome": "skipped", "reason": "not probed"}
    failed = _probe_failure(snapshot, "tensorflow", section, name, probe, installed)
    if failed is not None:
        return failed + _tested_config_verdicts(snapshot, installed, None) if installed else failed
    f = probe.get("facts") or {}
    info = f.get("build_info") or {}
    is_cuda = bool(info.get("is_cuda_build"))
    cuda, cudnn = info.get("cuda_version"), info.get("cudnn_version")
    gpus = _gpus(snapshot)
    visible = f.get("gpu_names") or []
    build = f"CUDA {cuda}, cuDNN {cudnn}" if is_cuda else ("ROCm build" if info.get("is_rocm_build") else "CPU-only build")
    summary = f"TensorFlow {f.get('version')}" + (f" ({dist})" if dist else "") + f": {build}"
    if is_cuda:
        summary += f", {len(visible)} GPU(s) visible"
    out = [check("env.tensorflow-build", None, section, OK, summary)]
    out += _tested_config_verdicts(snapshot, f.get("version"), info)
    if not gpus:
        return out + _smoke_verdicts(snapshot, "tensorflow", section, f.get("smoke"))
    if not is_cuda:
        out.append(check("env.tensorflow-cpu-build", None, section, WARN,
                           f"CPU-only TensorFlow build on a machine with {len(gpus)} NVIDIA GPU(s)",
                           f"{dist or 'tensorflow'} {f.get('version')} cannot use the GPUs",
                           ["on Linux: `pip install tensorflow[and-cuda]` (and uninstall tensorflow-cpu)",
                            "native Windows has no GPU TensorFlow after 2.10: use WSL2"]))
        return out
    smoke = f.get("smoke")
    driver = _driver_vs_build(snapshot, "tensorflow", section, name, cuda, bool(visible))
    out += driver
    if not visible and not any(v.status == FAIL for v in driver):
        stderr = (probe.get("stderr_tail") or "")
        dlopen = [line.strip() for line in stderr.splitlines()
                  if "Could not load dynamic library" in line or "Cannot dlopen" in line
                  or "cannot open shared object" in line or "failed call to cuInit" in line]
        row = tf_tested(f.get("version"))
        advice = ["on Linux, `pip install tensorflow[and-cuda]` installs the CUDA and cuDNN libraries it was built with"]
        if row:
            advice.append(f"or install CUDA {row.cuda} and cuDNN {row.cudnn} (TensorFlow {_mm(f.get('version'))}'s "
                          "tested configuration) and put them on LD_LIBRARY_PATH")
        out.append(check("env.tensorflow-no-gpu", None, section, FAIL,
                           f"TensorFlow sees no GPU although {len(gpus)} are present",
                           "\n".join(dlopen[-6:]), advice))
    capabilities = [c for c in info.get("cuda_compute_capabilities") or [] if isinstance(c, str)]
    if capabilities:
        for gpu in gpus:
            capability = gpu.get("compute_capability")
            if capability and not arch_supported(capabilities, capability):
                out.append(check("env.gpu-arch-unsupported", f"tensorflow, GPU {gpu.get('index')}", section, FAIL,
                                   f"GPU {gpu.get('index')} ({gpu.get('name')}, {_sm(capability)}) is not among "
                                   "the compute capabilities this TensorFlow build supports",
                                   f"build: {' '.join(capabilities)}", _arch_advice(capability, "TensorFlow")))
    out += _smoke_verdicts(snapshot, "tensorflow", section, smoke, probe.get("stderr_tail") or "")
    out.append(_allow_growth_verdict(snapshot, gpus))
    return out


def _tested_config_verdicts(snapshot: dict, version: Optional[str], info: Optional[dict]) -> list[Check]:
    section = "TensorFlow"
    if not version:
        return []
    row = tf_tested(version)
    if row is None:
        return [check("env.tensorflow-tested-config", None, section, SKIP,
                        f"no tested build configuration known for TensorFlow {_mm(version)} "
                        f"(dldoctor's table: {frameworks_table_range()})")]
    python = (snapshot.get("platform") or {}).get("python_version") or ""
    problems = []
    if python and not python_in_range(python, row.python):
        problems.append(f"Python {_mm(python)} is outside the tested range {row.python}")
    if info and info.get("is_cuda_build"):
        cuda, cudnn = info.get("cuda_version"), info.get("cudnn_version")
        if cuda and _mm(cuda) != _mm(row.cuda):
            problems.append(f"built with CUDA {cuda}, tested with CUDA {row.cuda}")
        if cudnn and version_tuple(cudnn)[:1] != version_tuple(row.cudnn)[:1]:
            problems.append(f"built with cuDNN {cudnn}, tested with cuDNN {row.cudnn}")
    tested = f"Python {row.python}, CUDA {row.cuda}, cuDNN {row.cudnn}"
    if problems:
        return [check("env.tensorflow-tested-config", None, section, WARN, "; ".join(problems),
                        f"TensorFlow {row.version} tested configuration: {tested}",
                        [f"use a Python in {row.python} (a new virtualenv), or a TensorFlow release tested with this one"
                         if any(p.startswith("Python") for p in problems) else
                         f"for GPU use, install CUDA {row.cuda} and cuDNN {row.cudnn}, or a stock TensorFlow build"])]
    shown = tested if info and info.get("is_cuda_build") else f"Python {row.python}"
    return [check("env.tensorflow-tested-config", None, section, OK,
                    f"matches TensorFlow {_mm(version)}'s tested configuration ({shown})")]


def frameworks_table_range() -> str:
    from dldoctor.probes.env.tested_configs import TF_TESTED
    return f"{TF_TESTED[-1].version} to {TF_TESTED[0].version}"


def _allow_growth_verdict(snapshot: dict, gpus: list[dict]) -> Check:
    section = "TensorFlow"
    value = (_env(snapshot).get("TF_FORCE_GPU_ALLOW_GROWTH") or "").strip().lower()
    if value == "true":
        return check("env.tensorflow-allow-growth", None, section, OK,
                       "TF_FORCE_GPU_ALLOW_GROWTH=true: TensorFlow takes GPU memory as it needs it")
    shared = [g for g in gpus if _other_processes(snapshot, g)]
    if shared:
        return check("env.tensorflow-allow-growth", None, section, WARN,
                       "TensorFlow will map nearly all free GPU memory at start, on GPUs other processes use "
                       f"({', '.join('GPU ' + str(g.get('index')) for g in shared)})",
                       "then cuBLAS fails: \"failed to create cublas handle: CUBLAS_STATUS_ALLOC_FAILED\"",
                       ["export TF_FORCE_GPU_ALLOW_GROWTH=true",
                        "or in code: config.gpu_options.allow_growth = True (TF1) / "
                        "tf.config.experimental.set_memory_growth(gpu, True) for each GPU (TF2)"])
    return check("env.tensorflow-allow-growth", None, section, OK,
                   "TensorFlow preallocates GPU memory (the default); set TF_FORCE_GPU_ALLOW_GROWTH=true "
                   "when GPUs are shared")


# --- TensorBoard -------------------------------------------------------------------------------


def tensorboard_checks(snapshot: dict) -> list[Check]:
    section = "TensorBoard"
    packages = snapshot.get("packages") or {}
    versions = _versions(snapshot)
    tb_version = versions.get("tensorboard") or versions.get("tb-nightly")
    legacy = versions.get("tensorflow-tensorboard")
    dist = frameworks.tf_distribution(versions)
    tf_version = versions.get(dist) if dist else None
    spec = frameworks.requirement_on((packages.get("requires") or {}).get(dist, []), "tensorboard",
                                     _mm((snapshot.get("platform") or {}).get("python_version"))) if dist else None
    probe = (snapshot.get("tensorboard") or {}).get("probe") or {"outcome": "skipped", "reason": "not probed"}
    facts = probe.get("facts") or {} if probe.get("outcome") == "ok" else {}
    out = []
    if legacy and tb_version:
        out.append(check("env.tensorboard-legacy", None, section, WARN,
                           f"both tensorflow-tensorboard {legacy} (the old name) and tensorboard {tb_version} are installed",
                           "they write the same `tensorboard` package and break each other: "
                           "\"No module named 'tensorboard.main'\"",
                           ["pip uninstall -y tensorflow-tensorboard tensorboard && pip install tensorboard"]))
    if not tb_version and not legacy and not facts.get("installed"):
        if not dist:
            return [check("env.tensorboard", None, section, SKIP, "TensorBoard not installed")]
        if spec is not None:
            return [check("env.tensorboard", None, section, FAIL,
                            f"TensorFlow {tf_version} requires tensorboard{spec}, which is not installed",
                            "the `tensorboard` command fails", [f"pip install \"tensorboard{spec}\""])]
        return [check("env.tensorboard", None, section, SKIP,
                        f"TensorBoard not installed (TensorFlow {tf_version} does not install it)", "",
                        ["pip install tensorboard, to view training logs"])]
    version = tb_version or legacy or facts.get("version")
    if probe.get("outcome") == "ok" and facts.get("import_error"):
        out.append(check("env.tensorboard", None, section, FAIL, f"import tensorboard fails: {facts['import_error']}", "",
                           ["pip install --force-reinstall tensorboard"]))
        return out
    if probe.get("outcome") == "ok" and facts.get("main_importable") is False:
        out.append(check("env.tensorboard", None, section, FAIL,
                           f"TensorBoard {version} cannot start: {facts.get('main_error')}",
                           _last_lines(facts.get("main_traceback", ""), 4),
                           ["pip install --force-reinstall tensorboard",
                            "remove the old tensorflow-tensorboard package if it is installed"]))
        return out
    if probe.get("outcome") in ("timeout", "crashed", "error"):
        out.append(check("env.tensorboard", None, section, FAIL, f"importing tensorboard.main {probe.get('outcome')}: "
                           f"{probe.get('error')}", _last_lines(probe.get("stderr_tail", "")),
                           ["run `python -c \"import tensorboard.main\"` to see the error"]))
        return out
    main_file = (packages.get("tensorboard_files") or {}).get("main.py")
    if probe.get("outcome") == "ok":
        how = "tensorboard.main imports"
    elif main_file is False:
        out.append(check("env.tensorboard", None, section, FAIL,
                           f"TensorBoard {version} has no tensorboard/main.py: \"No module named 'tensorboard.main'\"",
                           "", ["pip install --force-reinstall tensorboard"]))
        return out
    else:
        how = "import not tried (--quick)" if probe.get("outcome") == "skipped" else ""
    summary = f"TensorBoard {version}" + (f": {how}" if how else "")
    out.append(check("env.tensorboard", None, section, OK, summary))
    if tf_version and version:
        if spec:
            ok = frameworks.spec_satisfied(version, spec)
        else:  # no declared requirement: same major (TF 1.x used TensorBoard 1.x)
            ok = version_tuple(version)[:1] == version_tuple(tf_version)[:1]
        if ok is False:
            want = f"tensorboard{spec}" if spec else f"TensorBoard {version_tuple(tf_version)[0]}.x"
            out.append(check("env.tensorboard-version", None, section, WARN,
                               f"TensorBoard {version} does not match TensorFlow {tf_version} (wants {want})", "",
                               [f"pip install \"tensorboard{spec}\"" if spec else
                                f"pip install \"tensorboard=={_mm(tf_version)}.*\""]))
        else:
            out.append(check("env.tensorboard-version", None, section, OK,
                               f"matches TensorFlow {tf_version}" + (f" (tensorboard{spec})" if spec else "")))
    return out


# --- Version sanity ----------------------------------------------------------------------------


def version_checks(snapshot: dict) -> list[Check]:
    section = "Version sanity"
    packages = snapshot.get("packages") or {}
    versions = _versions(snapshot)
    requires = packages.get("requires") or {}
    python = _mm((snapshot.get("platform") or {}).get("python_version"))
    out = []
    checked = []
    malformed = {name: version for name, version in versions.items() if version and not valid_version(version)}
    for name, version in sorted(malformed.items()):
        where = ((packages.get("malformed") or {}).get(name) or {}).get("metadata")
        out.append(check("env.version-malformed", name, section, WARN,
                           f"{name}'s installed metadata gives the version {version!r}, which is not a valid version "
                           "(PEP 440): version checks on it are skipped",
                           f"metadata: {where}" if where else "",
                           [f"reinstall it: pip install --force-reinstall --no-deps {name}",
                            "or remove the stray metadata directory" + (f" {where}" if where else "")
                            + " (pip itself may fail on it: \"Invalid version\")"]))
    for dist, lines in sorted(requires.items()):
        if dist in malformed:
            continue
        for package in ("numpy", "protobuf"):
            spec = frameworks.requirement_on(lines, package, python)
            if spec is None:
                continue
            have = versions.get(package)
            if package in malformed:
                continue
            checked.append(package)
            if not have:
                out.append(check("env.requirement-unsatisfied", f"{package} ({dist})", section, FAIL,
                                   f"{dist} {versions.get(dist)} requires {package}{spec or ''}, which is not installed",
                                   "", [f"pip install \"{package}{spec}\""],
                                   {"package": package, "installed": None, "required": spec, "by": dist}))
            elif spec and frameworks.spec_satisfied(have, spec) is False:
                out.append(check("env.requirement-unsatisfied", f"{package} ({dist})", section, FAIL,
                                   f"{package} {have} does not satisfy {dist} {versions.get(dist)}'s requirement "
                                   f"{package}{spec}", "", [f"pip install \"{package}{spec}\""],
                                   {"package": package, "installed": have, "required": spec, "by": dist}))
    torch_version, numpy_version = versions.get("torch"), versions.get("numpy")
    if torch_version and numpy_version and not {"torch", "numpy"} & set(malformed) \
            and version_tuple(numpy_version)[:1] >= (2,) \
            and version_tuple(torch_version)[:2] < (2, 3):
        checked.append("numpy")
        out.append(check("env.numpy2-torch-abi", None, section, FAIL,
                           f"NumPy {numpy_version} with torch {torch_version}: torch < 2.3 was built for NumPy 1.x",
                           "\"A module that was compiled using NumPy 1.x cannot be run in NumPy 2\"",
                           ["pip install \"numpy<2\"", "or upgrade torch to ≥ 2.3"]))
    if any(v.status != WARN or v.id != "env.version-malformed" for v in out):
        return out
    if not checked:
        shown = ", ".join(f"{p} {versions[p]}" for p in ("numpy", "protobuf") if versions.get(p))
        return out + [check("env.requirement-unsatisfied", None, section, SKIP,
                              "no framework declares NumPy or protobuf requirements" + (f" ({shown})" if shown else ""))]
    shown = ", ".join(f"{p} {versions.get(p)}" for p in ("numpy", "protobuf") if versions.get(p) and p not in malformed)
    return out + [check("env.requirement-unsatisfied", None, section, OK, f"{shown}: within the frameworks' declared requirements")]


# --- Distributed -------------------------------------------------------------------------------


DEFAULT_RENDEZVOUS_PORT = 29500


def port_checks(snapshot: dict) -> list[Check]:
    section = "Distributed"
    port = snapshot.get("port") or {}
    number, source = port.get("port"), port.get("source")
    origin = {"option": "--port", "MASTER_PORT": "MASTER_PORT", "default": "torch.distributed's default"}.get(source, source)
    where = f"{port.get('host', '127.0.0.1')}:{number}"
    if port.get("free") is None:
        if source == "MASTER_PORT":
            return [check("env.rendezvous-port", None, section, FAIL, f"MASTER_PORT={number!r} is not a TCP port number (1-65535): "
                                                   "torch.distributed cannot rendezvous on it",
                            "init_process_group(init_method=\"env://\") and torchrun read MASTER_PORT: a value that "
                            "is not a number fails with ValueError, a number outside 1-65535 cannot be bound",
                            [f"export MASTER_PORT={DEFAULT_RENDEZVOUS_PORT} (or any free port number between 1024 and 65535)",
                             "or unset MASTER_PORT: torch.distributed's launchers (torchrun) then choose 29500"])]
        return [check("env.rendezvous-port", None, section, FAIL, f"port {number} ({origin}): {port.get('error')}", "",
                        ["use a port number between 1024 and 65535"])]
    if port.get("free"):
        return [check("env.rendezvous-port", None, section, OK, f"rendezvous port {where} ({origin}) is free")]
    sockets = port.get("sockets") or []
    holders = [s for s in sockets if s.get("pid")]
    if holders:
        who = "; ".join(f"pid {s['pid']} ({s.get('name') or '?'}" + (f": {s['cmdline']}" if s.get("cmdline") else "")
                        + f") on {s.get('address')}, {s.get('state')}" for s in holders)
        stop = [f"or stop the process holding it, if it is a leftover run: kill {holders[0]['pid']}"]
    else:
        who = ("by a socket /proc does not attribute (bound but not listening, or a process of another user "
               "or container)")
        stop = [f"`sudo ss -ltnp 'sport = :{number}'` names the holder"]
    status = WARN if source == "default" else FAIL
    return [check("env.rendezvous-port", None, section, status, f"rendezvous port {where} ({origin}) is in use, held by {who}"
                    if holders else f"rendezvous port {where} ({origin}) is in use, held {who}",
                    f"bind: {port.get('error')}\ninit_process_group on this port fails with \"Address already in use\" "
                    "(or a worker joins the wrong job and waits)",
                    [f"choose a free port: MASTER_PORT=<port> (`netstat -lnt | grep {number}` or "
                     f"`ss -ltn 'sport = :{number}'` prints nothing for a free one)"] + stop,
                    {"port": number, "source": source, "holders": [s.get("pid") for s in holders]})]
