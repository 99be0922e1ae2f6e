"""Facts from the training code about the data: the example counts it states and the parse spec it uses.

Read with the standard library's `ast` (nothing is imported or run):

- literal example counts: `num_examples_per_epoch = 586363`, `NUM_TRAIN_EXAMPLES = 50000`,
  `flags.DEFINE_integer("num_train_examples", 1281167, ...)`, keyword arguments
  (`Config(num_examples_per_epoch=586363)`) and split tables
  (`SPLITS_TO_SIZES = {"train": 1281167, "validation": 50000}`);
- the parse spec: each string key of a dict whose value is `tf.io.FixedLenFeature(shape, dtype)`,
  `VarLenFeature(dtype)` or `FixedLenSequenceFeature(shape, dtype)` (any spelling: `tf.`,
  `tf.io.`, `tf.compat.v1.`), and each `decode_raw(x, dtype)` whose input is `features["key"]`
  or a name bound to it in the same function.

Each fact names the file and line, so the comparison with the records can point at it.
"""

from __future__ import annotations

import ast
import os
import re
from typing import Iterator, Optional

COUNT_NAME = re.compile(
    r"(^|_)(num|n|number_of|total)_?(train(ing)?_|val(idation)?_|eval_|test_)?(examples|samples|images|records|"
    r"instances|items)(_per_epoch)?(_(in|for)_(train|val|eval|test)\w*)?$|(^|_)examples_per_epoch$|(^|_)(train|val|eval|test)"
    r"(ing|idation)?_(set_)?(size|examples|samples|count|num_?examples)$|^dataset_size$|splits?_to_sizes$",
    re.IGNORECASE,
)
SPLIT_WORDS = {"train": "train", "training": "train", "val": "validation", "valid": "validation",
               "validation": "validation", "eval": "validation", "dev": "validation", "test": "test"}
DTYPE_SIZES = {"uint8": 1, "int8": 1, "bool": 1, "uint16": 2, "int16": 2, "float16": 2, "half": 2, "bfloat16": 2,
               "int32": 4, "uint32": 4, "float32": 4, "float": 4, "int64": 8, "uint64": 8, "float64": 8,
               "double": 8, "complex64": 8, "complex128": 16}
SPEC_KINDS = {"string": "bytes", "int64": "int64", "float32": "float", "float": "float"}
SPEC_CALLS = ("FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature")
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", "site-packages", ".dldoctor_cache"}
MAX_FILES = 5000


def python_files(path: str) -> Iterator[str]:
    if os.path.isfile(path):
        yield path
        return
    count = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py"):
                count += 1
                if count > MAX_FILES:
                    return
                yield os.path.join(root, name)


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _int(node) -> Optional[int]:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add)):  # 1000 * 50, 50000 + 10000
        left, right = _int(node.left), _int(node.right)
        if left is not None and right is not None:
            return left * right if isinstance(node.op, ast.Mult) else left + right
    return None


def _dtype(node) -> Optional[str]:
    name = _dotted(node).rsplit(".", 1)[-1] if not isinstance(node, ast.Constant) else node.value
    return name if isinstance(name, str) and name else None


def _split_of(name: str) -> Optional[str]:
    for word in re.split(r"[^a-z]+", name.lower()):
        if word in SPLIT_WORDS:
            return SPLIT_WORDS[word]
    return None


def _shape(node) -> Optional[list]:
    if isinstance(node, (ast.List, ast.Tuple)):
        dims = [_int(e) for e in node.elts]
        return dims if all(d is not None for d in dims) else None
    value = _int(node)
    return [value] if value is not None else None


class _Visitor(ast.NodeVisitor):
    def __init__(self, path: str):
        self.path = path
        self.counts: list[dict] = []
        self.specs: list[dict] = []
        self.raw_decodes: list[dict] = []
        self._bindings: list[dict[str, str]] = [{}]

    def _count(self, name: str, value: Optional[int], line: int, split: Optional[str] = None) -> None:
        if value is not None and value > 0 and COUNT_NAME.search(name):
            self.counts.append({"name": name, "value": value, "file": self.path, "line": line,
                                "split": split or _split_of(name)})

    def visit_FunctionDef(self, node):
        self._bindings.append({})
        self.generic_visit(node)
        self._bindings.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assign(self, node):
        for target in node.targets:
            name = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else ""
            if name:
                self._count(name, _int(node.value), node.lineno)
                if isinstance(node.value, ast.Dict) and COUNT_NAME.search(name):  # SPLITS_TO_SIZES = {...}
                    for key, value in zip(node.value.keys, node.value.values):
                        if isinstance(key, ast.Constant) and isinstance(key.value, str) and _int(value):
                            self.counts.append({"name": f"{name}[{key.value!r}]", "value": _int(value),
                                                "file": self.path, "line": key.lineno,
                                                "split": SPLIT_WORDS.get(key.value.lower())})
                key = _feature_key(node.value)
                if isinstance(target, ast.Name) and key is not None:
                    self._bindings[-1][target.id] = key
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if isinstance(node.target, ast.Name) and node.value is not None:
            self._count(node.target.id, _int(node.value), node.lineno)
        self.generic_visit(node)

    def visit_Dict(self, node):
        for key, value in zip(node.keys, node.values):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            if isinstance(value, ast.Call) and _dotted(value.func).rsplit(".", 1)[-1] in SPEC_CALLS:
                self._spec(key.value, value)
            elif _int(value) is not None:
                self._count(key.value, _int(value), key.lineno)
        self.generic_visit(node)

    def _spec(self, key: str, call: ast.Call) -> None:
        kind = _dotted(call.func).rsplit(".", 1)[-1]
        args = {**dict(zip(("shape", "dtype") if kind != "VarLenFeature" else ("dtype",), call.args)),
                **{k.arg: k.value for k in call.keywords if k.arg}}
        dtype = _dtype(args["dtype"]) if "dtype" in args else None
        spec = {"key": key, "call": kind, "dtype": dtype, "file": self.path, "line": call.lineno,
                "has_default": "default_value" in args and not (
                    isinstance(args["default_value"], ast.Constant) and args["default_value"].value is None)}
        if kind != "VarLenFeature":
            spec["shape"] = _shape(args["shape"]) if "shape" in args else None
        self.specs.append(spec)

    def visit_Call(self, node):
        name = _dotted(node.func)
        tail = name.rsplit(".", 1)[-1]
        if tail in ("DEFINE_integer", "DEFINE_int") and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant):
            self._count(str(node.args[0].value), _int(node.args[1]), node.lineno)
        elif tail == "add_argument" and node.args and isinstance(node.args[-1], ast.Constant):
            default = next((k.value for k in node.keywords if k.arg == "default"), None)
            self._count(str(node.args[-1].value).lstrip("-").replace("-", "_"), _int(default), node.lineno)
        for keyword in node.keywords:
            if keyword.arg:
                self._count(keyword.arg, _int(keyword.value), keyword.value.lineno)
        if tail in ("decode_raw",) and node.args:
            dtype_node = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg in ("out_type", "dtype")), None)
            key = _feature_key(node.args[0])
            if key is None and isinstance(node.args[0], ast.Name):
                key = self._bindings[-1].get(node.args[0].id)
            dtype = _dtype(dtype_node) if dtype_node is not None else None
            if key is not None and dtype in DTYPE_SIZES:
                self.raw_decodes.append({"key": key, "dtype": dtype, "size": DTYPE_SIZES[dtype], "file": self.path,
                                         "line": node.lineno})
        self.generic_visit(node)


def _feature_key(node) -> Optional[str]:
    """`features["image_raw"]` -> "image_raw"."""
    if isinstance(node, ast.Subscript):
        index = node.slice
        if isinstance(index, ast.Constant) and isinstance(index.value, str):
            return index.value
    return None


def code_facts(path: str) -> dict:
    """The example counts and parse specs stated in the Python files at `path` (a file or a project)."""
    out = {"path": path, "files": 0, "counts": [], "specs": [], "raw_decodes": [], "unparsable": []}
    for file in python_files(path):
        try:
            with open(file, "rb") as handle:
                tree = ast.parse(handle.read(), filename=file)
        except (OSError, SyntaxError, ValueError):
            out["unparsable"].append(file)
            continue
        out["files"] += 1
        visitor = _Visitor(file)
        visitor.visit(tree)
        out["counts"] += visitor.counts
        out["specs"] += visitor.specs
        out["raw_decodes"] += visitor.raw_decodes
    return out
