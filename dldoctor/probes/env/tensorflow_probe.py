"""Probe script, run in its own process: what the installed TensorFlow says about its build and GPUs.

`python -c <this file> [--smoke]` prints one `@@dldoctor-probe@@ {json}` line.
Standard library only at module level; `--smoke` runs `tf.linalg.matmul` on
each GPU, with memory growth on so the probe does not map a shared GPU's memory.
"""

import json
import sys
import traceback

MARKER = "@@dldoctor-probe@@"


def _plain(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def probe(smoke: bool) -> dict:
    facts: dict = {"errors": {}}

    def attempt(key, function):
        try:
            value = function()
        except Exception as error:
            facts["errors"][key] = f"{type(error).__name__}: {error}"
            return None
        facts[key] = _plain(value)
        return value

    try:
        import tensorflow as tf
    except BaseException as error:
        facts["import_error"] = {"type": type(error).__name__, "message": str(error),
                                 "traceback": traceback.format_exc()[-3000:]}
        return facts
    facts["version"] = str(getattr(tf, "__version__", ""))
    facts["file"] = getattr(tf, "__file__", None)
    attempt("build_info", lambda: dict(tf.sysconfig.get_build_info()))
    attempt("built_with_cuda", lambda: bool(tf.test.is_built_with_cuda()))
    gpus = attempt("gpu_names", lambda: tf.config.list_physical_devices("GPU")) or []
    facts["gpu_names"] = [gpu.name for gpu in gpus]
    details = []
    for gpu in gpus:
        try:
            info = tf.config.experimental.get_device_details(gpu)
            capability = info.get("compute_capability")
            details.append({"name": info.get("device_name"),
                            "capability": f"{capability[0]}.{capability[1]}" if capability else None})
        except Exception as error:
            details.append({"error": f"{type(error).__name__}: {error}"})
    facts["gpus"] = details
    if smoke and gpus:
        for gpu in gpus:
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except Exception:
                pass
        results = []
        for index in range(len(gpus)):
            try:
                with tf.device(f"/GPU:{index}"):
                    a = tf.ones((256, 256))
                    value = float(tf.linalg.matmul(a, a)[0, 0].numpy())
                ok = value == 256.0
                results.append({"device": index, "ok": ok, "error": None if ok else f"wrong result {value}"})
            except Exception as error:
                results.append({"device": index, "ok": False, "error": f"{type(error).__name__}: {error}"})
        facts["smoke"] = results
    return facts


if __name__ == "__main__":
    print(MARKER + json.dumps(probe("--smoke" in sys.argv[1:]), default=str), flush=True)
