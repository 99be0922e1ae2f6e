"""Probe script, run in its own process: is TensorBoard installed, and does `tensorboard.main` import?

The casebook's case: `tensorboard` fails with `ModuleNotFoundError: No module
named 'tensorboard.main'` (an old or half-installed TensorBoard). `python -c
<this file>` prints one `@@dldoctor-probe@@ {json}` line; standard library only.
"""

import json
import traceback

MARKER = "@@dldoctor-probe@@"


def probe() -> dict:
    facts: dict = {}
    try:
        import tensorboard
    except ModuleNotFoundError as error:
        if error.name == "tensorboard":
            return {"installed": False}
        return {"installed": True, "import_error": f"{type(error).__name__}: {error}"}
    except BaseException as error:
        return {"installed": True, "import_error": f"{type(error).__name__}: {error}"}
    facts["installed"] = True
    facts["file"] = getattr(tensorboard, "__file__", None)
    try:
        facts["version"] = str(tensorboard.__version__)
    except Exception:
        facts["version"] = None
    try:
        import tensorboard.main  # noqa: F401
        facts["main_importable"] = True
    except BaseException as error:
        facts["main_importable"] = False
        facts["main_error"] = f"{type(error).__name__}: {error}"
        facts["main_traceback"] = traceback.format_exc()[-2000:]
    return facts


if __name__ == "__main__":
    print(MARKER + json.dumps(probe(), default=str), flush=True)
