"""Probe script, run in its own process: what the installed torch says about itself and the GPUs.

`python -c <this file> [--smoke]` prints one `@@dldoctor-probe@@ {json}` line.
Standard library only at module level; `--smoke` runs a small matmul (cuBLAS)
on each visible GPU. An import that raises is reported, not re-raised.
"""

import json
import sys
import traceback
import warnings

MARKER = "@@dldoctor-probe@@"


def _error(error: BaseException) -> dict:
    return {"type": type(error).__name__, "message": str(error), "traceback": traceback.format_exc()[-3000:]}


def probe(smoke: bool) -> dict:
    facts: dict = {"errors": {}}

    def attempt(key, function):
        try:
            value = function()
        except Exception as error:
            facts["errors"][key] = f"{type(error).__name__}: {error}"
            return None
        facts[key] = value
        return value

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            import torch
        except BaseException as error:  # ImportError, OSError from a missing .so, even SystemExit
            facts["import_error"] = _error(error)
            return facts
        facts["version"] = str(getattr(torch, "__version__", ""))
        facts["file"] = getattr(torch, "__file__", None)
        attempt("cuda", lambda: torch.version.cuda)
        attempt("hip", lambda: getattr(torch.version, "hip", None))
        attempt("cudnn", lambda: torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None)

        def arch_list():
            flags = getattr(torch._C, "_cuda_getArchFlags", None)  # does not need a working driver
            text = flags() if flags else None
            return text.split() if text else list(torch.cuda.get_arch_list())

        attempt("arch_list", arch_list)
        available = attempt("cuda_available", lambda: bool(torch.cuda.is_available()))
        count = attempt("device_count", lambda: int(torch.cuda.device_count())) or 0
        devices = []
        if available:
            for index in range(count):
                try:
                    props = torch.cuda.get_device_properties(index)
                    devices.append({"index": index, "name": props.name, "capability": f"{props.major}.{props.minor}",
                                    "memory_total_mib": int(props.total_memory) // (1024 * 1024)})
                except Exception as error:
                    devices.append({"index": index, "error": f"{type(error).__name__}: {error}"})
        facts["devices"] = devices
        if smoke and available:
            results = []
            for index in range(count):
                try:
                    a = torch.ones((256, 256), device=f"cuda:{index}")
                    value = float((a @ a)[0, 0].item())
                    torch.cuda.synchronize(index)
                    ok = value == 256.0
                    results.append({"device": index, "ok": ok, "error": None if ok else f"wrong result {value}"})
                except Exception as error:
                    results.append({"device": index, "ok": False, "error": f"{type(error).__name__}: {error}"})
            facts["smoke"] = results
        facts["warnings"] = [str(item.message) for item in caught][:20]
    return facts


if __name__ == "__main__":
    print(MARKER + json.dumps(probe("--smoke" in sys.argv[1:]), default=str), flush=True)
