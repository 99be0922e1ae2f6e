"""The facts `dldoctor ckpt` collects: plain data, JSON-serialisable, no framework objects.

Readers (formats.py, model.py) turn files and models into these; the comparison and
the diagnosis (compare.py, diagnosis.py) are pure functions over them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Optional

# Bytes per element of the dtype names every reader normalises to.
ITEMSIZE = {
    "float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "float8_e4m3fn": 1, "float8_e5m2": 1,
    "complex64": 8, "complex128": 16,
    "int64": 8, "int32": 4, "int16": 2, "int8": 1, "uint64": 8, "uint32": 4, "uint16": 2, "uint8": 1,
    "bool": 1,
}


class CkptError(Exception):
    """Input dldoctor cannot work with: reported as one line, never a traceback.

    exit_code 2: usage (a path that does not exist, a directory without a checkpoint,
    a bad --model spec); 1: the checkpoint itself is broken (truncated, empty, wrong
    format, a state file pointing to a missing file), since loading it would fail.
    """

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass
class Entry:
    """One saved tensor or variable."""

    name: str
    shape: Optional[tuple]  # None when unknown (a scalar is ())
    dtype: str
    kind: str = "param"  # "param", "optimizer" (slots, moments), "meta" (step counters, object graph)

    @property
    def numel(self) -> int:
        return math.prod(self.shape) if self.shape is not None else 0

    @property
    def nbytes(self) -> int:
        return self.numel * ITEMSIZE.get(self.dtype, 0)


@dataclass
class Family:
    """Checkpoints in a directory that share a name up to `-STEP` (model.ckpt-100, model.ckpt-200)."""

    name: str
    format: str
    paths: list
    steps: list
    mtime: float
    scopes: list = field(default_factory=list)  # top-level scopes, when read
    entries: dict = field(default_factory=dict)  # name -> Entry of its newest member, when read (not in the JSON)
    weights_key: str = ""  # a wrapper dict's entry holding the weights ("model_state_dict"), when read
    whole: bool = False  # a whole pickled model (torch.save(model)), when read


@dataclass
class TrainDir:
    """How a train directory resolved to one checkpoint."""

    directory: str
    state_file: Optional[str]  # the `checkpoint` file, None when absent
    selected: str  # the prefix/file used
    step: Optional[int]
    mtime: float
    how: str  # "state file" or "newest file (no state file)"
    families: list = field(default_factory=list)  # every checkpoint family in the dir


@dataclass
class Safety:
    """Whether loading the file runs code. TF and safetensors files hold no code."""

    safe: bool = True
    unsafe_globals: list = field(default_factory=list)
    note: str = ""


@dataclass
class VariableSet:
    """What a checkpoint holds, or what a model expects: entries by name, plus context."""

    label: str  # the path or the --model/--meta spec, as the user wrote it
    format: str  # tf1, tf2-object, keras, keras-h5, torch, torch-legacy, safetensors, tf1-graph, meta-graph, torch-module, keras-model
    framework: str  # tensorflow, keras, torch
    separator: str
    entries: dict = field(default_factory=dict)  # name -> Entry
    path: str = ""
    size_bytes: int = 0
    global_step: Optional[int] = None
    epoch: Optional[int] = None
    optimizer: bool = False
    wrapper: str = ""  # e.g. 'Lightning checkpoint: weights under "state_dict"'
    weights_key: str = ""  # the key of a wrapper dict that holds the state dict ("model_state_dict"), "" for a plain one
    display: dict = field(default_factory=dict)  # entry name -> the name the user's code gives it (Keras layer names)
    other_keys: list = field(default_factory=list)
    train_dir: Optional[TrainDir] = None
    safety: Safety = field(default_factory=Safety)
    notes: list = field(default_factory=list)
    loads_as: str = ""  # the load semantics: tf1-saver, torch-strict, keras, tf2-object
    # Keras and TF2 object checkpoints load layers by position: "shifted" when the model's layers were paired
    # with the file's by name or shape because a layer was added (load_weights would fill the wrong layers)
    positions: str = ""

    def params(self) -> dict:
        return {name: e for name, e in self.entries.items() if e.kind == "param"}

    def to_json(self) -> dict:
        data = asdict(self)
        for family in (data.get("train_dir") or {}).get("families", []):
            family.pop("entries", None)
        data["entries"] = [
            {"name": e.name, "shape": list(e.shape) if e.shape is not None else None, "dtype": e.dtype, "kind": e.kind}
            for e in self.entries.values()
        ]
        return data
