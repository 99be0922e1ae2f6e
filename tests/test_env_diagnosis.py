"""Verdicts on recorded GPU snapshots (tests/data/env/*.json), through the pure functions and through
`dldoctor env --from FILE`. The snapshots are written from documented NVML, torch and TensorFlow outputs;
each names its case in "_description".
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from conftest import run_dldoctor
from dldoctor.probes.env import diagnosis

DATA = Path(__file__).resolve().parent / "data" / "env"


def load(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def key(check: dict) -> str:
    """A check's id, with its subject when it has one: `env.gpu-ecc-errors[GPU 0]`."""
    return check["id"] + (f"[{check['subject']}]" if check.get("subject") else "")


def by_id(checks: list) -> dict[str, dict]:
    """The checks of a report as JSON, by id and subject."""
    return {key(c.to_json()): c.to_json() for c in checks}


def text(v: dict) -> str:
    return "\n".join([v["title"], v["detail"], *v["fix"]])


# --- each case through the pure functions ------------------------------------------------------


def test_two_gpus_one_full_of_another_process():
    checks = diagnosis.diagnose(load("two_gpus_one_busy"))
    verdicts = by_id(checks)
    busy = verdicts["env.gpu-memory-shared[GPU 0]"]
    assert busy["status"] == "warn"
    assert "pid 31337" in busy["title"] and "23650 MiB" in busy["title"]
    assert any("CUDA_VISIBLE_DEVICES=1" in a for a in busy["fix"]), "points at the free GPU"
    assert any("map_location" in a for a in busy["fix"]), "the torch.load OOM of 004 §11"
    assert any("TF_FORCE_GPU_ALLOW_GROWTH=true" in a for a in busy["fix"])
    assert "env.gpu-memory-shared[GPU 1]" not in verdicts, "the idle GPU is not flagged"
    assert verdicts["env.tensorflow-allow-growth"]["status"] == "warn"
    assert verdicts["env.cublas-smoke-test[torch]"]["status"] == "ok"
    assert diagnosis.exit_code(checks) == 0


def test_allow_growth_set_turns_the_warning_off():
    snap = load("two_gpus_one_busy")
    snap["platform"]["environment"]["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
    assert by_id(diagnosis.diagnose(snap))["env.tensorflow-allow-growth"]["status"] == "ok"


def test_our_own_probe_processes_are_not_other_processes():
    snap = load("two_gpus_one_busy")
    snap["probe_pids"].append(31337)
    assert "env.gpu-memory-shared[GPU 0]" not in by_id(diagnosis.diagnose(snap))


def test_driver_too_old_for_the_build():
    verdicts = by_id(diagnosis.diagnose(load("driver_too_old")))
    v = verdicts["env.driver-too-old[torch]"]
    assert v["status"] == "fail"
    assert "CUDA ≤ 11.4" in v["title"] and "CUDA 12.4" in v["title"]
    assert any("550.54.14" in a for a in v["fix"]), "CUDA 12.4's minimum Linux driver"
    assert "too old" in v["detail"], "torch's own warning is shown"
    assert "env.torch-cuda-unavailable" not in verdicts, "is_available() False is explained by the driver, not repeated"


def test_same_major_older_driver_is_a_warning_while_the_gpus_work():
    snap = load("two_gpus_one_busy")
    snap["nvml"]["cuda_driver_version"], snap["nvml"]["driver_version"] = "12.4", "550.54.15"
    v = by_id(diagnosis.diagnose(snap))["env.driver-too-old[tensorflow]"]  # TF 2.18 is built for CUDA 12.5
    assert v["status"] == "warn" and "minor version compatibility" in v["detail"]
    snap["tensorflow"]["probe"]["facts"]["gpu_names"] = []
    assert by_id(diagnosis.diagnose(snap))["env.driver-too-old[tensorflow]"]["status"] == "fail"


def test_rtx_5090_without_sm_120_kernels():
    verdicts = by_id(diagnosis.diagnose(load("rtx5090_sm120")))
    v = verdicts["env.gpu-arch-unsupported[torch, GPU 0]"]
    assert v["status"] == "fail"
    assert "sm_120" in v["title"] and "RTX 5090" in v["title"]
    assert "sm_90" in v["detail"]
    assert any("cu128" in a for a in v["fix"])
    assert "env.cublas-smoke-test[torch, GPU 0]" not in verdicts, "the 'no kernel image' smoke failure is the same problem, said once"


@pytest.mark.parametrize(
    "arch, capability, supported",
    [(["sm_80", "sm_90"], "8.6", True),  # same major, newer minor: the sm_80 cubin runs
     (["sm_86"], "8.0", False),  # an older minor cannot run newer cubins
     (["sm_50", "sm_90"], "12.0", False),
     (["sm_80", "compute_90"], "12.0", True),  # PTX is JIT-compiled for newer GPUs
     (["sm_90a"], "9.0", True),
     (["sm_50", "sm_60"], "3.7", False)],  # the K80 dropped by newer builds
)
def test_arch_supported(arch, capability, supported):
    assert diagnosis.arch_supported(arch, capability) is supported


def test_uncorrectable_ecc_errors():
    verdicts = by_id(diagnosis.diagnose(load("ecc_errors")))
    assert verdicts["env.gpu-ecc-errors[GPU 0]"]["status"] == "fail" and "2 uncorrectable" in verdicts["env.gpu-ecc-errors[GPU 0]"]["title"]
    assert any("nvidia-smi -r" in a for a in verdicts["env.gpu-ecc-errors[GPU 0]"]["fix"])
    assert verdicts["env.gpu-bad-memory[GPU 0]"]["status"] == "warn"
    assert verdicts["env.gpu-throttled[GPU 0]"]["status"] == "warn" and "hw_slowdown" in verdicts["env.gpu-throttled[GPU 0]"]["title"]


def test_lifetime_ecc_errors_only_warn():
    snap = load("ecc_errors")
    snap["nvml"]["gpus"][0]["ecc_uncorrected_volatile"] = 0
    assert by_id(diagnosis.diagnose(snap))["env.gpu-ecc-errors[GPU 0]"]["status"] == "warn"


def test_cpu_wheel_on_a_gpu_machine():
    verdicts = by_id(diagnosis.diagnose(load("cpu_wheel_on_gpu")))
    v = verdicts["env.torch-cpu-wheel"]
    assert v["status"] == "fail" and "RTX" not in v["title"] and "1 NVIDIA GPU" in v["title"]
    assert any("CUDA ≤ 12.4" in a for a in v["fix"])


def test_the_same_cpu_wheel_without_a_gpu_is_fine():
    snap = load("cpu_wheel_on_gpu")
    snap["nvml"] = {"status": "library_not_found", "error": "NVML Shared Library Not Found"}
    checks = diagnosis.diagnose(snap)
    verdicts = by_id(checks)
    assert "env.torch-cpu-wheel" not in verdicts and verdicts["env.torch-build"]["status"] == "ok"
    assert verdicts["env.nvidia-driver"]["status"] == "skip" and verdicts["env.nvidia-driver"]["title"] == "no NVIDIA driver: CPU only"
    assert diagnosis.exit_code(checks) == 0


def test_cublas_alloc_failed():
    snap = load("cublas_alloc_failed")
    verdicts = by_id(diagnosis.diagnose(snap))
    torch_v, tf_v = verdicts["env.cublas-smoke-test[torch, GPU 0]"], verdicts["env.cublas-smoke-test[tensorflow, GPU 0]"]
    assert torch_v["status"] == tf_v["status"] == "fail"
    assert "CUBLAS_STATUS_ALLOC_FAILED" in torch_v["title"]
    assert "pid 2718" in torch_v["detail"], "names the process that holds the memory"
    assert any("PYTORCH_CUDA_ALLOC_CONF" in a for a in torch_v["fix"])
    # TensorFlow's exception does not name cuBLAS; its C++ log line does.
    assert "CUBLAS_STATUS_ALLOC_FAILED" in tf_v["detail"]
    assert "allow_growth" in tf_v["fix"][0], "the seed's fix (000 §5) comes first"


def test_cublas_not_initialized():
    snap = load("cublas_alloc_failed")
    snap["torch"]["probe"]["facts"]["smoke"][0]["error"] = (
        "RuntimeError: CUDA error: CUBLAS_STATUS_NOT_INITIALIZED when calling `cublasCreate(handle)`")
    v = by_id(diagnosis.diagnose(snap))["env.cublas-smoke-test[torch, GPU 0]"]
    assert v["status"] == "fail" and "could not start" in v["detail"]


def test_driver_not_loaded_and_version_mismatch():
    loaded = by_id(diagnosis.diagnose(load("driver_not_loaded")))["env.nvidia-driver"]
    assert loaded["status"] == "fail" and any("lsmod" in a for a in loaded["fix"])
    mismatch = by_id(diagnosis.diagnose(load("driver_version_mismatch")))["env.nvidia-driver"]
    assert mismatch["status"] == "fail" and mismatch["fix"][0] == "reboot"


def test_pynvml_missing_is_a_skip_with_the_install_command():
    snap = load("cpu_wheel_on_gpu")
    snap["nvml"] = {"status": "not_installed", "error": "No module named 'pynvml'"}
    v = by_id(diagnosis.diagnose(snap))["env.nvidia-driver"]
    assert v["status"] == "skip" and v["fix"] == ["pip install nvidia-ml-py"]


def test_tensorflow_sees_no_gpu_explained_by_dlopen_lines():
    snap = load("two_gpus_one_busy")
    tf = snap["tensorflow"]["probe"]
    tf["facts"].pop("smoke")
    tf["stderr_tail"] = ("W tensorflow/core/common_runtime/gpu/gpu_device.cc:2344] Cannot dlopen some GPU libraries. "
                         "Please make sure the missing libraries mentioned above are installed properly.\n")
    tf["facts"]["gpu_names"] = []
    v = by_id(diagnosis.diagnose(snap))["env.tensorflow-no-gpu"]
    assert v["status"] == "fail" and "Cannot dlopen" in v["detail"]
    assert any("CUDA 12.5 and cuDNN 9.3" in a for a in v["fix"]), "the tested configuration of TF 2.18"


def test_tested_configuration_mismatch_warns():
    snap = load("two_gpus_one_busy")
    snap["platform"]["python_version"] = "3.13.1"
    snap["tensorflow"]["probe"]["facts"]["build_info"] = {
        **snap["tensorflow"]["probe"]["facts"]["build_info"], "cuda_version": "11.8", "cudnn_version": "8"}
    v = by_id(diagnosis.diagnose(snap))["env.tensorflow-tested-config"]
    assert v["status"] == "warn"
    assert "Python 3.13 is outside the tested range 3.9-3.12" in v["title"]
    assert "CUDA 11.8" in v["title"] and "cuDNN 8" in v["title"]


def test_tensorboard_version_and_breakage():
    snap = load("two_gpus_one_busy")
    snap["packages"]["versions"]["tensorboard"] = "2.15.1"
    v = by_id(diagnosis.diagnose(snap))["env.tensorboard-version"]
    assert v["status"] == "warn" and "tensorboard<2.19,>=2.18" in v["title"]
    snap = load("two_gpus_one_busy")
    snap["tensorboard"]["probe"]["facts"].update(
        main_importable=False, main_error="ModuleNotFoundError: No module named 'tensorboard.main'")
    v = by_id(diagnosis.diagnose(snap))["env.tensorboard"]
    assert v["status"] == "fail" and "tensorboard.main" in v["title"]
    snap = load("two_gpus_one_busy")
    snap["packages"]["versions"]["tensorflow-tensorboard"] = "1.5.1"
    assert by_id(diagnosis.diagnose(snap))["env.tensorboard-legacy"]["status"] == "warn"


def test_tensorboard_required_but_missing_fails():
    snap = load("two_gpus_one_busy")
    snap["packages"]["versions"]["tensorboard"] = None
    snap["tensorboard"]["probe"]["facts"] = {"installed": False}
    v = by_id(diagnosis.diagnose(snap))["env.tensorboard"]
    assert v["status"] == "fail" and v["fix"] == ['pip install "tensorboard<2.19,>=2.18"']


def test_numpy_and_protobuf_against_declared_requirements():
    snap = load("two_gpus_one_busy")
    snap["packages"]["versions"]["numpy"] = "2.1.3"
    snap["packages"]["versions"]["protobuf"] = "6.30.0"
    verdicts = by_id(diagnosis.diagnose(snap))
    assert verdicts["env.requirement-unsatisfied[numpy (tensorflow)]"]["status"] == "fail"
    assert "numpy<2.1.0,>=1.26.0" in verdicts["env.requirement-unsatisfied[numpy (tensorflow)]"]["title"]
    assert verdicts["env.requirement-unsatisfied[protobuf (tensorflow)]"]["status"] == "fail"
    assert "env.requirement-unsatisfied" not in verdicts


def test_numpy_2_with_old_torch():
    snap = load("ecc_errors")  # torch 2.3.1
    snap["packages"]["versions"].update(torch="2.1.2+cu121", numpy="2.0.1")
    v = by_id(diagnosis.diagnose(snap))["env.numpy2-torch-abi"]
    assert v["status"] == "fail" and 'pip install "numpy<2"' in v["fix"]


def test_every_check_is_well_formed_documented_and_in_a_known_section():
    from dldoctor.verdict import catalogue

    for path in sorted(DATA.glob("*.json")):
        checks = [c.to_json() for c in diagnosis.diagnose(json.loads(path.read_text(encoding="utf-8")))]
        keys = [key(c) for c in checks]
        assert len(keys) == len(set(keys)), f"{path.name}: two checks of one id need different subjects: {keys}"
        for v in checks:
            assert {"id", "status", "title", "detail", "fix", "evidence", "section"} <= set(v), path
            assert v["id"] in catalogue.all_checks(), f"{path.name}: {v['id']} is not in the catalogue"
            assert v["status"] in ("ok", "warn", "fail", "skip") and v["section"] in diagnosis.SECTIONS
            assert v["title"].strip() and "\n" not in v["title"]
            if v["status"] in ("warn", "fail"):
                assert v["fix"], f"{path.name}: {v['id']} has no fix"


def test_diagnosis_does_not_change_the_snapshot():
    snap = load("cublas_alloc_failed")
    before = copy.deepcopy(snap)
    diagnosis.diagnose(snap)
    assert snap == before


# --- the same cases through the command line -------------------------------------------------

CASES = [
    ("two_gpus_one_busy", 0, ["! GPU 0: other processes hold 23650 MiB", "pid 31337", "CUDA_VISIBLE_DEVICES=1"]),
    ("driver_too_old", 1, ["✗ driver 470.82.01 supports CUDA ≤ 11.4, but torch was built for CUDA 12.4", "550.54.14"]),
    ("rtx5090_sm120", 1, ["✗ GPU 0 (NVIDIA GeForce RTX 5090, sm_120) has no kernels", "cu128"]),
    ("ecc_errors", 1, ["✗ GPU 0: 2 uncorrectable ECC memory errors"]),
    ("cpu_wheel_on_gpu", 1, ["✗ CPU-only torch build on a machine with 1 NVIDIA GPU(s)"]),
    ("cublas_alloc_failed", 1, ["✗ cuBLAS smoke test on GPU 0 failed: RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED",
                                "TF_FORCE_GPU_ALLOW_GROWTH=true"]),
    ("driver_not_loaded", 1, ["✗ NVIDIA driver installed but not loaded", "lsmod"]),
    ("driver_version_mismatch", 1, ["✗ NVIDIA driver/library version mismatch", "→ reboot"]),
]


@pytest.mark.parametrize("name, code, expected", CASES, ids=[case[0] for case in CASES])
def test_from_file_on_the_command_line(tmp_path, name, code, expected):
    run = run_dldoctor("env", "--from", DATA / f"{name}.json", cwd=tmp_path)
    run.assert_no_traceback()
    assert run.returncode == code, run.stdout + run.stderr
    for needle in expected:
        assert needle in run.stdout, f"{needle!r} not in:\n{run.stdout}"
    assert run.lines[-1].startswith("verdict: FAIL: " if code else ("verdict: OK: ", "verdict: WARN: "))


def test_from_file_json_round_trip(tmp_path):
    """`--from F --json` gives back the snapshot unchanged as the facts, with the same checks as the pure functions."""
    run = run_dldoctor("env", "--from", DATA / "rtx5090_sm120.json", "--json", cwd=tmp_path)
    assert run.returncode == 1
    document = run.json()
    assert document["facts"] == load("rtx5090_sm120")
    assert document["checks"] == [c.to_json() for c in diagnosis.diagnose(load("rtx5090_sm120"))]
    # and that whole document is itself accepted by --from
    saved = tmp_path / "env.json"
    saved.write_text(run.stdout, encoding="utf-8")
    again = run_dldoctor("env", "--from", saved, "--json", cwd=tmp_path)
    assert again.returncode == 1 and again.json() == document
