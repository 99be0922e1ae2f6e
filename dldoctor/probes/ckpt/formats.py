"""Readers: a path -> a VariableSet (names, shapes, dtypes), without loading more than needed.

Formats are recognised by their bytes, not their extension: a zip (PyTorch, or Keras
`.keras`), a pickle (legacy PyTorch), HDF5 (Keras `.h5` / `.weights.h5`), a
safetensors header, a TensorFlow checkpoint prefix (`*.index` + `*.data-*`), or a
train directory (resolved through its `checkpoint` state file, see traindir.py).
torch, tensorflow and h5py are imported here, inside the functions that need them.
"""

from __future__ import annotations

import glob
import io
import json
import os
import re
import struct
import sys
import zipfile
from pathlib import Path

from dldoctor.probes.ckpt import containers, pickle_scan, pickle_tensors, safety, traindir
from dldoctor.probes.ckpt.facts import CkptError, Entry, Safety, VariableSet
from dldoctor.probes.ckpt import guard  # hostile files: limits, regular files, escaping

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
TF2_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
_TF1_SLOTS = re.compile(r"^(Adam(_\d+)?|Momentum|RMSProp(_\d+)?|Adagrad|AdagradDA|Ftrl(_\d+)?|Adadelta(_\d+)?|ExponentialMovingAverage)$")
_SAFETENSORS_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2", "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
    "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool",
}
STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network", "model_ema", "ema", "weights", "params")
OPTIMIZER_KEYS = ("optimizer", "optimizer_state_dict", "optimizer_states", "optim", "opt", "opt_state")
STEP_KEYS = ("global_step", "step", "iteration", "iter", "num_updates")


# -- entry point ------------------------------------------------------------------------


def read(path_text: str) -> VariableSet:
    """Read any supported checkpoint (or train dir) named on the command line."""
    path = Path(path_text)
    if path.is_dir():
        target, info = traindir.resolve(path)
        found = read(target)
        found.train_dir = info
        if found.global_step is None:
            found.global_step = info.step
        return found
    if not path.exists():
        if os.path.lexists(path_text + ".index"):  # read_tensorflow refuses one that is not a regular file
            return read_tensorflow(path_text)
        shards = glob.glob(glob.escape(path_text) + ".data-*")
        if shards:
            raise CkptError(f"{path_text}: the checkpoint's .index file is missing (only {os.path.basename(shards[0])} is there)")
        raise CkptError(f"{path_text}: no such file or directory (nor a TensorFlow checkpoint prefix: no {path.name}.index)", 2)
    if path.name == traindir.STATE_FILE:
        return read(str(path.parent))
    if path.name.endswith(".index"):
        return read_tensorflow(path_text[: -len(".index")])
    match = re.match(r"^(.*)\.data-\d+-of-\d+$", path_text)
    if match:
        return read_tensorflow(match.group(1))
    if path.suffix == ".meta":
        raise CkptError(f"{path_text}: a .meta file is a graph, not a checkpoint; pass the checkpoint prefix and `--meta {path_text}`", 2)
    return read_file(path)


def sniff(path: Path) -> str:
    """The format of a file from its bytes (never its extension).

    torch (a zip with data.pkl), keras (a zip with config.json), keras-h5, torch-legacy
    (a pickle that starts with torch's magic number), pickle (any other pickle, protocol
    0-5: joblib, plain .pkl), numpy (.npy), archive (any other zip: .npz, nested zips; a
    tar; a gzip/bz2/xz/lzma/zlib/lz4 stream such as compressed joblib), safetensors.
    """
    size = path.stat().st_size
    if size == 0:
        raise CkptError(f"{path}: empty file (0 bytes): the save was interrupted or the copy failed")
    with open(path, "rb") as handle:
        head = handle.read(containers.SNIFF)
        if head.startswith(ZIP_MAGIC) and not containers._has_zip_end(handle, size):
            what = "a Keras archive" if b"config.json" in head or b"metadata.json" in head else "a PyTorch zip" if b"data.pkl" in head else "a zip"
            raise CkptError(
                f"{path}: truncated: {size:,} bytes, the zip's central directory is missing ({what} cut short: the save was "
                "interrupted or the copy is incomplete); no loader can open it"
            )
        if head.startswith(ZIP_MAGIC) or (not pickle_scan.looks_like_pickle(head) and containers._has_zip_end(handle, size)):
            try:
                handle.seek(0)
                with zipfile.ZipFile(handle) as archive:
                    names = archive.namelist()
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):  # NotImplementedError: "zip file version 25.5"
                return "torch"  # torch names the truncation itself
            if "config.json" in names and ("model.weights.h5" in names or "metadata.json" in names):
                return "keras"
            if any(n.endswith("data.pkl") for n in names):
                return "torch"
            return "archive"
    if head.startswith(HDF5_MAGIC):
        return "keras-h5"
    if head.startswith(containers.NPY_MAGIC):
        return "numpy"
    if pickle_scan.looks_like_pickle(head):
        return "torch-legacy" if _TORCH_LEGACY_MAGIC in head[:64] else "pickle"
    if head.startswith(containers.SEVEN_Z) or containers._container_head(head):
        return "archive"
    if len(head) >= 9:
        (length,) = struct.unpack("<Q", head[:8])
        if head[8:9] == b"{" and 0 < length < 100 * 1024 * 1024:
            return "safetensors"
    raise CkptError(
        f"{path}: not a checkpoint format dldoctor knows (starts with {head[:12]!r}; expected a PyTorch zip or pickle, "
        "HDF5, safetensors, numpy, an archive, or a TensorFlow .index)"
    )


_TORCH_LEGACY_MAGIC = b"\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"  # LONG1 of torch.serialization.MAGIC_NUMBER
SCAN_ONLY_FORMATS = {"pickle": "Python pickle", "numpy": "numpy .npy array", "archive": "archive"}


def _scan_safety(path: Path) -> tuple[Safety, "containers.ScanReport"]:
    """What loading the file would run, from a scan of its bytes (no torch, nothing unpickled)."""
    report = safety.scan(path)
    names, places = safety.unsafe_names(report)
    if names:
        return Safety(False, names, safety.describe_globals(names, places)), report
    return Safety(), report


def _scanned_only(path: Path, kind: str, report) -> VariableSet:
    """A pickle, .npy or archive that holds nothing unsafe: its .npy arrays are listed from their headers."""
    found = VariableSet(label=str(path), path=str(path), format=kind, framework="numpy" if kind == "numpy" else "python",
                        separator="/", size_bytes=path.stat().st_size)
    for where, (shape, dtype) in report.npy.items():
        name = where or path.name
        name = name[:-4] if name.endswith(".npy") else name
        found.entries[name] = Entry(name, tuple(shape), _npy_dtype(dtype))
    parts = [what for _, what in report.scanned][:3]
    found.wrapper = f"{SCAN_ONLY_FORMATS.get(kind, kind)}: " + "; ".join(parts) + ("; every global it imports is on torch's weights_only allow-list" if any("pickle" in p for p in parts) else "")
    return found


def _npy_dtype(descr: str) -> str:
    names = {"f8": "float64", "f4": "float32", "f2": "float16", "i8": "int64", "i4": "int32", "i2": "int16", "i1": "int8",
             "u8": "uint64", "u4": "uint32", "u2": "uint16", "u1": "uint8", "b1": "bool", "c8": "complex64", "c16": "complex128"}
    return names.get(str(descr).lstrip("<>|="), str(descr))


def read_file(path: Path) -> VariableSet:
    guard.before_reading(path)  # a regular file, and a zip's declared member sizes within limits
    kind = sniff(path)
    if kind != "safetensors":  # the code-execution scan: opcodes and configs only, before any framework is imported
        verdict, report = _scan_safety(path)
        if kind in SCAN_ONLY_FORMATS:
            found = _scanned_only(path, kind, report)
            found.safety = verdict
            return found
        if not verdict.safe and all(n.startswith("<not scannable") for n in verdict.unsafe_globals) and kind != "archive":
            found = read_torch(path, kind) if kind in ("torch", "torch-legacy") else read_keras_archive(path) if kind == "keras" else read_keras_h5(path)
            found.safety = verdict  # the reader names a truncation itself; a file it reads but the scan could not cover is not vouched for
            return found
        if not verdict.safe and kind in ("torch", "torch-legacy"):
            found = VariableSet(label=str(path), path=str(path), format=kind, framework="torch", separator=".",
                                loads_as="torch-strict", size_bytes=path.stat().st_size, safety=verdict)
            _static_inventory(found, path, kind)
            return found
        if not verdict.safe:  # Keras: the weights are still read (h5py runs no code); the verdict stands
            found = read_keras_archive(path) if kind == "keras" else read_keras_h5(path)
            found.safety = verdict
            return found
    if kind in ("torch", "torch-legacy"):
        return read_torch(path, kind)
    if kind == "safetensors":
        return read_safetensors(path)
    if kind == "keras":
        return read_keras_archive(path)
    return read_keras_h5(path)


# -- helpers ------------------------------------------------------------------------------


def _dtype_name(dtype) -> str:
    text = str(getattr(dtype, "name", None) or dtype)
    return text.replace("torch.", "")


def _int(value):
    """A step counter as int, from an int or a 0-d tensor/array; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        if getattr(value, "ndim", None) == 0 or getattr(value, "shape", None) == ():
            return int(value.item())
    except Exception:
        return None
    return None


def _top_scopes(names, separator: str) -> list[str]:
    seen: list[str] = []
    for name in names:
        head = name.split(separator, 1)[0]
        if head not in seen:
            seen.append(head)
    return seen


# -- TensorFlow ---------------------------------------------------------------------------


class _quiet_stderr:
    """Silence file descriptor 2 for the duration (C++ logging bypasses sys.stderr)."""

    def __enter__(self):
        try:
            sys.stderr.flush()
            self.saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        except OSError:
            self.saved = None
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            os.dup2(self.saved, 2)
            os.close(self.saved)
        return False


def import_tensorflow():
    """tensorflow, quietly; a one-line CkptError (exit 2) when it is not installed."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with _quiet_stderr():  # TensorFlow's C++ start-up lines (absl, oneDNN) ignore the log level
            import tensorflow as tf
    except ImportError as problem:
        raise CkptError(
            f"reading TensorFlow checkpoints and graphs needs tensorflow, which cannot be imported here ({problem}); "
            "install it: pip install tensorflow-cpu",
            2,
        )
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except Exception:
        pass
    return tf


def _tf_kind(name: str, object_based: bool) -> str:
    parts = name.split("/")
    if name == OBJECT_GRAPH_KEY:
        return "meta"
    if object_based:
        # an optimizer is bookkeeping wherever it hangs: Checkpoint(optimizer=...), or a compiled Keras model's own
        if ".OPTIMIZER_SLOT" in parts or parts[0] in ("optimizer", "opt") or any(p in _OPTIMIZER_NAMES for p in parts[1:-1]):
            return "optimizer"
        if parts[0] in _COUNTER_NAMES and len(parts) <= 3 or parts[-1] in ("save_counter", "_iterations", "iterations") or name == "global_step":
            return "meta"
        return "param"
    if parts[-1] == "global_step":
        return "meta"
    if _TF1_SLOTS.match(parts[-1]) or parts[-1] in ("beta1_power", "beta2_power"):
        return "optimizer"
    return "param"


_OPTIMIZER_NAMES = ("optimizer", "opt", "_optimizer", "optim")
_COUNTER_NAMES = ("save_counter", "step", "global_step", "epoch", "iteration", "iterations", "_iterations")


def _object_paths(reader) -> dict:
    """checkpoint key -> the variable's path through the model, from the saved object graph.

    A TF2 checkpoint stores each variable once, under whichever path the saver met
    first, often through the optimizer (`optimizer/_trainable_variables/0`); the path
    through the model (`model/.../kernel`) is preferred, the optimizer's used only for
    variables nothing else reaches (its slots and counters).
    """
    try:
        from tensorflow.core.protobuf import trackable_object_graph_pb2

        graph = trackable_object_graph_pb2.TrackableObjectGraph()
        graph.ParseFromString(reader.get_tensor(OBJECT_GRAPH_KEY))
    except Exception:
        return {}
    found: dict = {}
    for skip_optimizer in (True, False):
        seen = {0}
        queue = [(0, ())]
        while queue:
            node_id, path = queue.pop(0)
            node = graph.nodes[node_id]
            for attribute in node.attributes:
                if attribute.name == "VARIABLE_VALUE" and attribute.checkpoint_key not in found:
                    found[attribute.checkpoint_key] = "/".join(path)
            for child in node.children:
                if skip_optimizer and child.local_name in _OPTIMIZER_NAMES:
                    continue  # at any depth: a compiled Keras model holds its optimizer as model/optimizer
                if child.node_id not in seen and child.node_id < len(graph.nodes):
                    seen.add(child.node_id)
                    queue.append((child.node_id, path + (child.local_name,)))
    return {key: path for key, path in found.items() if path}


def read_tensorflow(prefix: str) -> VariableSet:
    """A TensorFlow checkpoint prefix: TF1 name-based (Saver) or TF2 object-based."""
    index = Path(prefix + ".index")
    guard.require_regular(index)
    if index.stat().st_size == 0:
        raise CkptError(f"{index}: empty file (0 bytes): the save was interrupted or the copy failed")
    shards = sorted(glob.glob(glob.escape(prefix) + ".data-*-of-*"))
    if not shards:
        raise CkptError(f"{prefix}: the data file {os.path.basename(prefix)}.data-00000-of-00001 is missing (only the .index is there): restore will fail")
    expected = int(re.search(r"-of-(\d+)$", shards[0]).group(1))
    if len(shards) < expected:
        raise CkptError(f"{prefix}: {len(shards)} of {expected} data shards present: restore will fail")
    for shard in shards:
        guard.require_regular(shard)
    tf = import_tensorflow()
    try:
        reader = tf.train.load_checkpoint(prefix)
        shapes = reader.get_variable_to_shape_map()
        dtypes = reader.get_variable_to_dtype_map()
    except Exception as problem:
        first = str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
        raise CkptError(f"{prefix}: not a readable TensorFlow checkpoint (truncated or corrupt index: {first})")
    _check_tf_data(prefix, reader, shapes, dtypes, shards)
    object_based = OBJECT_GRAPH_KEY in shapes
    found = VariableSet(
        label=prefix, path=prefix, format="tf2-object" if object_based else "tf1", framework="tensorflow", separator="/",
        loads_as="tf2-object" if object_based else "tf1-saver",
        size_bytes=index.stat().st_size + sum(os.path.getsize(s) for s in shards),
    )
    paths = _object_paths(reader) if object_based else {}
    for key in sorted(shapes):
        name = paths.get(key) or (key[: -len(TF2_SUFFIX)] if key.endswith(TF2_SUFFIX) else key)
        kind = _tf_kind(name, object_based)
        found.entries[name] = Entry(name, tuple(shapes[key]), _dtype_name(dtypes[key]), kind)
        if kind == "optimizer":
            found.optimizer = True
        if kind == "meta" and name.split("/")[-1] in ("global_step", "step") or name in ("optimizer/iter", "optimizer/iterations"):
            try:
                step = _int(reader.get_tensor(key))
                if step is not None and found.global_step is None:
                    found.global_step = step
            except Exception:
                pass
    if found.global_step is None:
        found.global_step = traindir.split_step(os.path.basename(prefix))[1]
    return found


def _check_tf_data(prefix: str, reader, shapes: dict, dtypes: dict, shards: list) -> None:
    """The data shards hold what the index promises: at least the bytes of its fixed-size
    tensors, and (up to guard.TF_VERIFY_LIMIT) every tensor reads back, its CRC32C checked
    by TensorFlow."""
    have = sum(os.path.getsize(s) for s in shards)
    need = 0
    for key, shape in shapes.items():
        dtype = dtypes[key]
        if dtype.name in ("string", "variant", "resource"):
            continue
        count = 1
        for dim in shape:
            count *= max(int(dim), 0)
        need += count * dtype.size
    if have < need:
        raise CkptError(
            f"{prefix}: truncated data shard: {', '.join(os.path.basename(s) for s in shards)} hold {have:,} bytes, "
            f"the index's tensors take {need:,}: restore will fail"
        )
    if have > guard.TF_VERIFY_LIMIT:
        return
    for key in sorted(shapes):
        try:
            reader.get_tensor(key)
        except Exception as problem:
            text = str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
            raise CkptError(
                f"{prefix}: truncated or corrupt data shard: tensor {guard.escape(key)!r} cannot be read back "
                f"({guard.clip(guard.escape(text), 200)}): restore will fail"
            )


# -- PyTorch --------------------------------------------------------------------------------


def _torch_load(path: Path, kind: str):
    import pickle

    import torch

    unsafe: list[str] = []  # read_file scanned the file before any reader runs: torch.load(weights_only=True) is the second guard
    try:
        if kind == "torch":
            return torch.load(str(path), map_location="cpu", weights_only=True, mmap=True), []
        return torch.load(str(path), map_location="cpu", weights_only=True), []
    except pickle.UnpicklingError:
        try:
            unsafe = safety.torch_unsafe_globals(str(path))
        except Exception as problem:  # the pickle cannot even be scanned: corrupt, not unsafe
            text = str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
            raise CkptError(f"{path}: truncated or corrupt PyTorch checkpoint ({type(problem).__name__}: {guard.clip(guard.escape(text), 200)})")
        if not unsafe and safety.user_allowed():  # the refused globals are the ones --allow-global vouched for
            return None, []
        unsafe = unsafe or ["<a global refused by the weights-only unpickler>"]
        return None, unsafe
    except Exception as problem:
        text = str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
        text = text.split(". ")[0].rstrip(".")
        if "central directory" in text or "zip archive" in text or isinstance(problem, (EOFError, zipfile.BadZipFile)):
            raise CkptError(f"{path}: truncated or corrupt PyTorch checkpoint ({text})")
        raise CkptError(f"{path}: cannot be read as a PyTorch checkpoint ({type(problem).__name__}: {text})")


def _static_inventory(found: VariableSet, path: Path, kind: str) -> None:
    """The tensors of a PyTorch file read from its pickle's opcodes (nothing unpickled): for a file
    weights_only=True refuses, and on a machine without torch."""
    try:
        tree = pickle_tensors.evaluate(pickle_tensors.main_pickle(str(path), kind))
        whole = [(k, v) for k, v in tree.items() if isinstance(v, pickle_tensors.Call) and pickle_tensors.tensors(v)] if isinstance(tree, dict) else []
        if isinstance(tree, pickle_tensors.Call):  # a whole pickled object (torch.save(model)): named as its state_dict()
            tensors, how, key = pickle_tensors.tensors(tree), f"a whole pickled {tree.name} (torch.save(model)), not a state dict", ""
        elif whole and not any(_tensor_count(v) for v in tree.values()):  # {"epoch": 3, "model": model}: the model, pickled whole
            key, model = whole[0]
            tensors, how = pickle_tensors.tensors(model), f"a whole pickled {model.name} (torch.save(model)) under ckpt[{str(key)!r}], not a state dict"
            key = str(key)
        else:
            tensors, how, key = find_state_dict(tree)
    except Exception:  # a pickle the symbolic walk cannot follow: the scan's verdict stands alone
        return
    found.wrapper, found.weights_key = how, key
    for name, tensor in tensors.items():
        found.entries[name] = Entry(name, tuple(tensor.shape), _dtype_name(tensor.dtype))
    if isinstance(tree, dict) and how:
        found.other_keys = [str(k) for k in tree if not isinstance(tree[k], dict) or not _tensor_count(tree[k])][:20]


def _is_tensor(value) -> bool:
    return type(value).__name__ in ("Tensor", "Parameter") and hasattr(value, "shape") and hasattr(value, "dtype")


def _flatten(mapping, prefix: str, out: dict) -> None:
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if _is_tensor(value):
            out[name] = value
        elif isinstance(value, dict):
            _flatten(value, name + ".", out)


def _tensor_count(value) -> int:
    if not isinstance(value, dict):
        return 0
    flat: dict = {}
    _flatten(value, "", flat)
    return len(flat)


def find_state_dict(obj) -> tuple[dict, str, str]:
    """(flat name -> tensor, how it was found, the wrapper key holding it or "") for a plain state dict or a common wrapper."""
    if _is_tensor(obj):
        return {"<tensor>": obj}, "a single tensor, not a state dict", ""
    if not isinstance(obj, dict):
        raise CkptError(f"holds a {type(obj).__name__}, not a state dict", 1)
    direct = {k: v for k, v in obj.items() if _is_tensor(v)}
    if direct and len(direct) >= len(obj) / 2:
        flat: dict = {}
        _flatten(obj, "", flat)
        return flat, "", ""
    lightning = "pytorch-lightning_version" in obj or "lightning_version" in obj or (
        "state_dict" in obj and ("optimizer_states" in obj or "lr_schedulers" in obj)
    )
    for key in STATE_DICT_KEYS:
        if key in obj and _tensor_count(obj[key]):
            flat = {}
            _flatten(obj[key], "", flat)
            if lightning:
                version = obj.get("pytorch-lightning_version") or obj.get("lightning_version")
                how = f"Lightning checkpoint{f' (version {version})' if version else ''}: weights under \"{key}\""
            else:
                how = f'a wrapper dict: weights under "{key}"'
            return flat, how, str(key)
    best = max(obj, key=lambda k: _tensor_count(obj[k]), default=None)
    if best is not None and _tensor_count(obj[best]):
        flat = {}
        _flatten(obj[best], "", flat)
        return flat, f'a wrapper dict: weights under "{best}"', str(best)
    raise CkptError(f"holds a dict with keys {', '.join(map(str, list(obj)[:8]))} but no tensors", 1)


def read_torch(path: Path, kind: str) -> VariableSet:
    found = VariableSet(
        label=str(path), path=str(path), format=kind, framework="torch", separator=".", loads_as="torch-strict",
        size_bytes=path.stat().st_size,
    )
    try:
        import torch  # noqa: F401
    except ImportError:
        # the safety scan needs no torch; the inventory is read from the pickle's opcodes
        _static_inventory(found, path, kind)
        found.notes.append("torch is not installed here: the tensors are listed from the file's pickle opcodes (nothing was "
                           "unpickled); loading it needs torch")
        return found
    obj, unsafe = _torch_load(path, kind)
    if unsafe:
        found.safety = Safety(False, unsafe, safety.describe_globals(unsafe))
        return found
    if obj is None:  # safe by --allow-global, which this process cannot hand to torch without importing them
        _static_inventory(found, path, kind)
        found.notes.append("it needs the globals allowed with --allow-global: the tensors are listed from the file's pickle "
                           "opcodes (nothing was unpickled); loading it needs torch.serialization.add_safe_globals with them")
        return found
    try:
        tensors, how, key = find_state_dict(obj)
    except CkptError as problem:
        raise CkptError(f"{path}: {problem.message}")
    found.wrapper, found.weights_key = how, key
    for name, tensor in tensors.items():
        found.entries[name] = Entry(name, tuple(tensor.shape), _dtype_name(tensor.dtype))
    if isinstance(obj, dict) and how:
        found.other_keys = [str(k) for k in obj if not isinstance(obj[k], dict) or not _tensor_count(obj[k])][:20]
        found.optimizer = any(key in obj and obj[key] for key in OPTIMIZER_KEYS)
        for key in STEP_KEYS:
            if key in obj and _int(obj[key]) is not None:
                found.global_step = _int(obj[key])
                break
        if "epoch" in obj:
            found.epoch = _int(obj["epoch"])
    return found


# -- safetensors -------------------------------------------------------------------------------


def read_safetensors(path: Path) -> VariableSet:
    """The header only: 8-byte little-endian length, then JSON; tensors are never read."""
    size = guard.require_regular(path).st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise CkptError(f"{path}: truncated safetensors file ({len(head)} bytes, shorter than the 8-byte header length)")
        (length,) = struct.unpack("<Q", head)
        if length > guard.SAFETENSORS_HEADER_LIMIT:
            raise CkptError(f"{path}: safetensors header of {length:,} bytes: refused (the safetensors library's limit is {guard.SAFETENSORS_HEADER_LIMIT:,})")
        if 8 + length > size:
            raise CkptError(f"{path}: truncated safetensors file (header of {length} bytes, file of {size})")
        raw = handle.read(length)
    try:  # the rules of the safetensors library (tensor.rs: read_metadata, Metadata::validate)
        header, metadata, end = guard.parse_safetensors_header(raw)
    except ValueError as problem:
        raise CkptError(f"{path}: corrupt safetensors header ({guard.clip(guard.escape(str(problem)), 300)}): safetensors refuses to load it")
    found = VariableSet(label=str(path), path=str(path), format="safetensors", framework="torch", separator=".", loads_as="torch-strict", size_bytes=size)
    for name, (dtype, shape, _offsets) in header.items():
        dtype = _SAFETENSORS_DTYPES.get(dtype, dtype.lower())
        found.entries[name] = Entry(name, shape, dtype)
    if 8 + length + end > size:
        raise CkptError(f"{path}: truncated safetensors file (tensor data ends at byte {8 + length + end}, file has {size})")
    if 8 + length + end < size:
        raise CkptError(
            f"{path}: corrupt safetensors file ({size - 8 - length - end:,} bytes after the last tensor's data, "
            "which the header does not describe): safetensors refuses to load it"
        )
    if metadata:
        found.wrapper = guard.metadata_line(metadata)
    found.separator = "." if any("." in n for n in found.entries) or not any("/" in n for n in found.entries) else "/"
    return found


# -- Keras ----------------------------------------------------------------------------------------


def _h5py(path):
    try:
        import h5py
    except ImportError as problem:
        raise CkptError(f"{path}: reading Keras weights needs h5py, which cannot be imported here ({problem}); install it: pip install h5py", 2)
    return h5py


def entries_from_h5(handle) -> tuple[dict, bool]:
    """Entries of an open h5py File: Keras 3 `.weights.h5` or legacy Keras 2 `.h5`."""
    import h5py

    entries: dict = {}
    optimizer = False
    root = handle["model_weights"] if "model_weights" in handle else handle
    if "layer_names" in root.attrs:  # legacy Keras 2: layer_names -> weight_names
        for layer in root.attrs["layer_names"]:
            layer = layer.decode() if isinstance(layer, bytes) else str(layer)
            group = root[layer]
            for weight in group.attrs.get("weight_names", []):
                weight = weight.decode() if isinstance(weight, bytes) else str(weight)
                data = group[weight]
                own = weight[:-2] if weight.endswith(":0") else weight
                own = own[len(layer) + 1:] if own.startswith(f"{layer}/") else own  # `conv1/kernel:0` in layer conv1
                name = f"{layer}/{own}"
                entries[name] = Entry(name, tuple(data.shape), str(data.dtype))
        optimizer = "optimizer_weights" in handle
        return entries, optimizer

    def visit(name, obj):
        nonlocal optimizer
        if isinstance(obj, h5py.Dataset):
            key = name[len("layers/"):] if name.startswith("layers/") else name
            kind = "optimizer" if name.startswith("optimizer/") else "param"
            optimizer |= kind == "optimizer"
            entries[key] = Entry(key, tuple(obj.shape), str(obj.dtype), kind)

    handle.visititems(visit)
    return entries, optimizer


def read_keras_h5(path: Path, label: str | None = None, data: bytes | str | None = None) -> VariableSet:
    h5py = _h5py(path)
    found = VariableSet(label=label or str(path), path=str(path), format="keras-h5", framework="keras", separator="/", loads_as="keras", size_bytes=path.stat().st_size)
    try:
        with h5py.File(io.BytesIO(data) if isinstance(data, bytes) else str(data or path), "r") as handle:
            found.entries, found.optimizer = entries_from_h5(handle)
    except CkptError:
        raise
    except Exception as problem:  # h5py raises OSError, RuntimeError, KeyError, ValueError... on corrupt files
        text = str(problem).strip().splitlines()[0].strip("'\"") if str(problem).strip() else type(problem).__name__
        raise CkptError(f"{path}: truncated or corrupt HDF5 file ({guard.clip(guard.escape(text), 200)})")
    return found


def read_keras_archive(path: Path) -> VariableSet:
    """A `.keras` zip: config.json (checked for Lambda layers) and model.weights.h5 (read)."""
    import tempfile

    with guard.open_archive(path) as archive, tempfile.TemporaryDirectory(prefix="dldoctor-") as scratch:
        guard.check_archive(path, archive)
        names = archive.namelist()
        if "model.weights.h5" not in names:
            shown = guard.clip(guard.escape(", ".join(names[:6])), 300)
            raise CkptError(f"{path}: a .keras archive without model.weights.h5 (members: {shown})")
        config = guard.read_member(path, archive, "config.json").decode("utf-8", "replace") if "config.json" in names else ""
        weights = os.path.join(scratch, "model.weights.h5")  # streamed to disk under its limit, never whole in memory
        with open(weights, "wb") as sink:
            guard.stream_member(path, archive, "model.weights.h5", sink)
        found = read_keras_h5(path, data=weights)
    found.format = "keras"
    found.display = keras_config_names(config, found.entries)
    if '"Lambda"' in config or "__lambda__" in config:
        found.safety = Safety(
            True, [],
            "its config holds a Lambda layer with Python bytecode: keras.models.load_model(..., safe_mode=False) would run it; "
            "the weights alone are safe (model.load_weights)",
        )
    return found


def snake_case(name: str) -> str:
    """A class name as Keras 3 names its saved state (`Conv2D` -> `conv2d`, `BatchNormalization` -> `batch_normalization`)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def keras_config_names(config_text: str, entries: dict) -> dict:
    """`dense/vars/0` -> `logits/vars/0`: a `.keras` archive's weights paths (named from the layers' classes)
    renamed to the layers' own names, from the model's config.json (the model's top-level layers)."""
    try:
        config = json.loads(config_text)
        layers = config["config"]["layers"]
    except (ValueError, KeyError, TypeError):
        return {}
    names: dict = {}
    used: dict = {}
    for layer in layers if isinstance(layers, list) else []:
        if not isinstance(layer, dict) or not isinstance(layer.get("config"), dict):
            continue
        base = snake_case(str(layer.get("class_name", "")))
        if base in used:
            used[base] += 1
            base = f"{base}_{used[base]}"
        else:
            used[base] = 0
        own = str(layer["config"].get("name") or base)
        for name in entries:
            if name.startswith(base + "/vars/"):
                names[name] = own + name[len(base):]
    return names if len(set(names.values())) == len(names) else {}


def top_scopes(found: VariableSet) -> list[str]:
    return _top_scopes([n for n, e in found.entries.items() if e.kind == "param"], found.separator)
