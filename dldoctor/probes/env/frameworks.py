"""Framework facts that need no import: package metadata, requirements, and what an import error means.

Versions come from `importlib.metadata` first, so a framework whose import is
broken is still named with its version. The imports themselves happen in the
probe scripts (`torch_probe.py`, `tensorflow_probe.py`), in subprocesses.
"""

from __future__ import annotations

import ast
import platform
import re
import sys
from importlib import metadata
from typing import Optional

from dldoctor.probes.env.tested_configs import valid_version, version_tuple

# Every distribution that installs the `tensorflow` package.
TF_DISTRIBUTIONS = (
    "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tensorflow-macos",
    "tensorflow-rocm", "tf-nightly", "tf-nightly-cpu", "tf-nightly-gpu",
)
TENSORBOARD_DISTRIBUTIONS = ("tensorboard", "tb-nightly", "tensorflow-tensorboard")
OTHER_DISTRIBUTIONS = ("torch", "numpy", "protobuf", "keras", "nvidia-ml-py", "pynvml")


def _version(name: str) -> Optional[str]:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
    except Exception:  # a broken .dist-info
        return None


def _requires(name: str) -> list[str]:
    try:
        return list(metadata.requires(name) or [])
    except Exception:
        return []


def installed() -> dict:
    """Versions of the relevant distributions (None: not installed) and the frameworks' requirements."""
    versions = {name: _version(name) for name in (*OTHER_DISTRIBUTIONS, *TF_DISTRIBUTIONS, *TENSORBOARD_DISTRIBUTIONS)}
    requires = {name: _requires(name) for name, version in versions.items()
                if version and (name == "torch" or name in TF_DISTRIBUTIONS or name in TENSORBOARD_DISTRIBUTIONS)}
    tensorboard_files = None
    if versions.get("tensorboard"):
        try:
            files = metadata.files("tensorboard") or []
            tensorboard_files = {"main.py": any(str(f).replace("\\", "/") == "tensorboard/main.py" for f in files)}
        except Exception:
            tensorboard_files = None
    malformed = {}
    for name, version in versions.items():
        if version and not valid_version(version):  # a hand-edited or corrupt METADATA: '2.²', 'unknown'
            malformed[name] = {"version": version, "metadata": _metadata_dir(name)}
    return {"versions": versions, "requires": requires, "tensorboard_files": tensorboard_files, "malformed": malformed}


def _metadata_dir(name: str) -> Optional[str]:
    try:
        path = getattr(metadata.distribution(name), "_path", None)
    except Exception:
        return None
    return str(path) if path is not None else None


def tf_distribution(versions: dict) -> Optional[str]:
    """The installed distribution that provides `tensorflow` (the first found), or None."""
    for name in TF_DISTRIBUTIONS:
        if versions.get(name):
            return name
    return None


# --- requirements, without `packaging` --------------------------------------------------------

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*\(?([^;()]*)\)?\s*(?:;\s*(.*))?$")


def parse_requirement(text: str) -> Optional[tuple[str, str, str]]:
    """'numpy<2.0.0,>=1.23.5; python_version >= "3.9"' -> ('numpy', '<2.0.0,>=1.23.5', 'python_version >= "3.9"')."""
    match = _REQUIREMENT.match(text)
    if not match:
        return None
    return canonical(match.group(1)), match.group(3).strip(), (match.group(4) or "").strip()


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _marker_values(python_version: str) -> dict[str, str]:
    return {
        "python_version": python_version,
        "python_full_version": platform.python_version(),
        "sys_platform": sys.platform,
        "platform_system": platform.system(),
        "platform_machine": platform.machine(),
        "os_name": __import__("os").name,
        "implementation_name": sys.implementation.name,
        "platform_python_implementation": platform.python_implementation(),
        "extra": "",
    }


def marker_applies(marker: str, python_version: Optional[str] = None) -> bool:
    """A small PEP 508 marker evaluator: and/or/parentheses, comparisons of the usual variables.

    A marker naming an extra never applies (we check what a plain install pulls in);
    one that cannot be read is taken to apply.
    """
    if not marker:
        return True
    if "extra" in marker:
        return False
    values = _marker_values(python_version or f"{sys.version_info[0]}.{sys.version_info[1]}")
    try:
        tree = ast.parse(marker, mode="eval").body
    except SyntaxError:
        return True

    def operand(node):
        if isinstance(node, ast.Name):
            return values.get(node.id, "")
        if isinstance(node, ast.Constant):
            return str(node.value)
        raise ValueError(node)

    def compare(left: str, op, right: str, versions: bool) -> bool:
        a, b = (version_tuple(left), version_tuple(right)) if versions else (left, right)
        if isinstance(op, (ast.Eq,)):
            return a == b
        if isinstance(op, ast.NotEq):
            return a != b
        if isinstance(op, ast.Lt):
            return a < b
        if isinstance(op, ast.LtE):
            return a <= b
        if isinstance(op, ast.Gt):
            return a > b
        if isinstance(op, ast.GtE):
            return a >= b
        if isinstance(op, ast.In):
            return left in right
        if isinstance(op, ast.NotIn):
            return left not in right
        raise ValueError(op)

    def evaluate(node) -> bool:
        if isinstance(node, ast.BoolOp):
            results = [evaluate(value) for value in node.values]
            return all(results) if isinstance(node.op, ast.And) else any(results)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            names = [n.id for n in (node.left, node.comparators[0]) if isinstance(n, ast.Name)]
            versions = any(name.endswith("version") for name in names)
            return compare(operand(node.left), node.ops[0], operand(node.comparators[0]), versions)
        raise ValueError(node)

    try:
        return evaluate(tree)
    except ValueError:
        return True


def spec_satisfied(version: str, spec: str) -> Optional[bool]:
    """Does `version` satisfy '<2.0.0,>=1.23.5' (also ~=, ==x.*, !=)? None if it cannot tell."""
    have = version_tuple(version)
    if not have:
        return None
    for clause in filter(None, (part.strip() for part in spec.split(","))):
        match = re.match(r"^(~=|===|==|!=|<=|>=|<|>)\s*(.+)$", clause)
        if not match:
            return None
        op, wanted_text = match.groups()
        wildcard = wanted_text.endswith(".*")
        wanted = version_tuple(wanted_text[:-2] if wildcard else wanted_text)
        if not wanted:
            return None
        width = max(len(have), len(wanted))
        a = have + (0,) * (width - len(have))
        b = wanted + (0,) * (width - len(wanted))
        if op in ("==", "==="):
            ok = have[: len(wanted)] == wanted if wildcard else a == b
        elif op == "!=":
            ok = have[: len(wanted)] != wanted if wildcard else a != b
        elif op == "<":
            ok = a < b
        elif op == "<=":
            ok = a <= b
        elif op == ">":
            ok = a > b
        elif op == ">=":
            ok = a >= b
        else:  # ~=2.15.0 means >=2.15.0, ==2.15.*
            ok = a >= b and have[: len(wanted) - 1] == wanted[: len(wanted) - 1]
        if not ok:
            return False
    return True


def requirement_on(requires: list[str], package: str, python_version: Optional[str] = None) -> Optional[str]:
    """The version specifier a distribution declares on `package` for a plain install ('' if unbounded)."""
    for line in requires:
        parsed = parse_requirement(line)
        if parsed and parsed[0] == canonical(package) and marker_applies(parsed[2], python_version):
            return parsed[1]
    return None


# --- import failures, explained from their text ----------------------------------------------

_SO = re.compile(r"(lib[A-Za-z0-9_+-]+)\.so(?:\.([0-9][0-9.]*))?: cannot open shared object file")
_DLL = re.compile(r"Could not load dynamic library '([^']+)'")


def explain_import_error(framework: str, text: str) -> tuple[str, list[str]]:
    """(what went wrong, advice) for the text of an import failure (message and traceback)."""
    name = "PyTorch" if framework == "torch" else "TensorFlow"
    reinstall = "pip install --force-reinstall torch" if framework == "torch" else "pip install --force-reinstall tensorflow"
    match = _SO.search(text) or _DLL.search(text)
    if match:
        library = match.group(0).split(":")[0] if match.re is _SO else match.group(1)
        base = match.group(1) if match.re is _SO else library
        version = match.group(2) if match.re is _SO else None
        if base.startswith("libcudnn"):
            what = f"{name} was built against cuDNN {version or '(another version)'} and the loader cannot find {library}"
            pip_way = ("reinstall the CUDA build of torch, whose pip wheels bring their own cuDNN "
                       "(a conda cudnn or LD_LIBRARY_PATH entry of another version can shadow it)"
                       if framework == "torch" else
                       "on Linux `pip install tensorflow[and-cuda]` installs the cuDNN the build expects")
            advice = [f"install cuDNN {version or 'of the version the build expects'} for the build's CUDA and put "
                      "its directory on LD_LIBRARY_PATH; a cuDNN of another major version does not satisfy the build",
                      pip_way]
        elif base.startswith(("libcudart", "libcublas", "libcufft", "libcurand", "libcusolver", "libcusparse", "libnvrtc")):
            what = f"{name} needs the CUDA {version or ''} runtime library {library}, which the loader cannot find".replace("  ", " ")
            advice = [f"install the CUDA {version or ''} runtime libraries the build expects (for TensorFlow: `pip install tensorflow[and-cuda]`), "
                      "or put their directory on LD_LIBRARY_PATH".replace("  ", " "),
                      "or install the CPU build if this machine has no NVIDIA GPU"]
        elif base.startswith("libcuda"):
            what = f"{name} cannot load the NVIDIA driver library {library}"
            advice = ["install the NVIDIA driver (libcuda comes with it, not with the CUDA toolkit)",
                      "in a container, run it with the GPU runtime (`docker run --gpus all`)"]
        else:
            what = f"a shared library {name} needs cannot be loaded: {library}"
            advice = [f"install the package that provides {library}, or reinstall {name}: `{reinstall}`"]
        return what, advice
    if "DLL load failed" in text:
        return (f"Windows could not load a DLL that {name} needs",
                ["install the Microsoft Visual C++ Redistributable (2015-2022, x64)",
                 "for GPU builds: the CUDA and cuDNN versions of the build must be installed and on PATH "
                 "(TensorFlow >= 2.11 has no native Windows GPU build: use WSL2)",
                 f"reinstall: `{reinstall}`"])
    if "_pywrap_tensorflow" in text:
        return ("TensorFlow's native library (_pywrap_tensorflow) failed to load: usually the CUDA/cuDNN on the machine "
                "are not the versions the build expects (e.g. cuDNN 6 for a build made with cuDNN 5.1), or a broken install",
                ["install exactly the CUDA and cuDNN of TensorFlow's tested build configuration for this version "
                 "(see the tested-configuration check below)",
                 f"or reinstall: `{reinstall}`"])
    if re.search(r"compiled using NumPy 1\.x cannot be run in\s+NumPy 2", text) or "numpy.core.multiarray failed to import" in text \
            or "module compiled against API version" in text or "_ARRAY_API not found" in text \
            or "numpy.dtype size changed" in text:
        return (f"{name} was compiled against another major version of NumPy (NumPy ABI mismatch)",
                ["install a NumPy the framework was built for, e.g. `pip install \"numpy<2\"` for builds made before NumPy 2",
                 f"or upgrade {name} to a release built for NumPy 2"])
    if "Descriptors cannot be created directly" in text:
        return ("the installed protobuf is newer than the one the framework's generated code was made for",
                ["`pip install \"protobuf<=3.20.3\"` for that framework release, or set "
                 "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python (slow), or upgrade the framework"])
    if re.search(r"(GLIBC|GLIBCXX|CXXABI)_[0-9.]+'? not found", text):
        return (f"the system C/C++ runtime is older than the one {name} was built against",
                ["use a newer Linux distribution or container image, or an older release of the framework"])
    module = re.search(r"No module named '([^']+)'", text)
    if module:
        missing = module.group(1)
        root = missing.split(".")[0]
        if root in ("torch", "tensorflow") and missing == root:
            return (f"{name} is not installed for the interpreter that ran the probe", [f"pip install {framework}"])
        return (f"{name} imports the module '{missing}', which is missing",
                [f"install it (`pip install {root}`) or reinstall {name}: `{reinstall}`"])
    return (f"importing {name} fails", [f"read the error above; reinstalling often helps: `{reinstall}`"])


_FAULT_SIGNALS = {"SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL", "SIGFPE"}


def explain_crash(framework: str, signal_name: str, stderr: str) -> tuple[str, list[str]]:
    """(what happened, advice) for a probe process killed by a signal."""
    name = "PyTorch" if framework == "torch" else "TensorFlow" if framework == "tensorflow" else framework
    if signal_name == "SIGILL":
        return (f"importing {name} hit an illegal CPU instruction: the build needs CPU features (e.g. AVX) "
                "this processor lacks", ["install a build for this CPU, or build the framework from source"])
    what = f"importing {name} crashed the Python process ({signal_name})"
    advice = ["this is a native crash, not a Python error: usually mixed native libraries "
              "(two CUDA/cuDNN/MKL copies, a conda and a pip build in one environment) or a broken install",
              f"try `python -X faulthandler -c \"import {framework}\"` to see where it crashes",
              "reinstall the framework in a fresh virtual environment"]
    return what, advice
