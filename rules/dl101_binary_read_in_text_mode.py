"""DL101 binary-read-in-text-mode."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import tf_symbol
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import call_argument, code_of, method_name, string_tail, string_value
from dldoctor.lint.textscan import search_code, uses_any

BINARY_EXTENSIONS = frozenset(
    ".jpg .jpeg .png .bmp .gif .webp .tif .tiff .ico .npy .npz .tfrecord .tfrecords .record .pb "
    ".pt .pth .ckpt .h5 .hdf5 .keras .pkl .pickle .bin .safetensors .onnx .tflite "
    ".mp3 .wav .flac .mp4 .avi .zip .gz .tar .mat .data-00000-of-00001 .index .lmdb .mdb".split()
)
TEXT_EXTENSIONS = frozenset(
    ".txt .csv .tsv .json .jsonl .yaml .yml .xml .md .rst .py .cfg .ini .toml .log .html .htm "
    ".pbtxt .prototxt .names .vocab .lst .list".split()
)
# Words in a path expression that say "this is an image", and words that say
# "this is a text file about images" (image_list_file, image_captions_path).
_IMAGE_WORDS = frozenset("image img jpeg jpg png photo picture pic bmp gif tiff webp".split())
_TEXT_WORDS = frozenset(
    "list lists txt text csv json tsv yaml xml caption captions label labels names index ids ann "
    "annotation annotations meta metadata info log split splits vocab dir directory folder root url urls".split()
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")

_BUILTIN_OPENERS = {"builtins.open", "io.open"}
_GFILE_OPENERS = {"gfile.FastGFile", "gfile.GFile", "gfile.Open", "io.gfile.GFile"}
# `open()` arguments only text mode takes (`encoding=` with "rb" is a ValueError): a file
# opened with one is text by the author's choice, and no binary-mode fix could be safe.
_TEXT_ONLY_ARGUMENTS = ((3, "encoding"), (4, "errors"), (5, "newline"))

# Calls that want bytes (or a binary handle): what a text-mode read must not flow into.
_SINK_NAMES = {
    "PIL.Image.open": "PIL.Image.open",
    "io.BytesIO": "io.BytesIO",
    "numpy.frombuffer": "np.frombuffer",
    "numpy.load": "np.load",
    "numpy.save": "np.save",
    "cv2.imdecode": "cv2.imdecode",
    "pickle.loads": "pickle.loads",
    "pickle.load": "pickle.load",
    "pickle.dump": "pickle.dump",
    "torch.load": "torch.load",
    "torch.save": "torch.save",
}
_DECODER_METHODS = {"decode_jpeg", "decode_png", "decode_image", "decode_bmp", "decode_gif", "decode_raw"}

# The trigger's patterns (see `could_fire`).
_OPENER = re.compile(r"(?:open|Open)(?<![^\W\d]open)(?<![^\W\d]Open)(?!\w)|GFile")
_OPENER_ALIAS = re.compile(r"(?:open|Open|GFile)(?:[ \t]+as[ \t]|[ \t]*(?:[#;,)\r\n]|$))")
_BINARY_EXTENSION = re.compile(
    r"\.(?:%s)(?=[\"'])" % "|".join(re.escape(extension[1:]) for extension in sorted(BINARY_EXTENSIONS)), re.IGNORECASE
)
_DECODER = re.compile(r"decode_|BytesList")
_SINKS = frozenset(_SINK_NAMES)
_IMAGE_WORD = re.compile(r"(?i:image|img|jpe?g|png|photo|pic|bmp|gif|tiff|webp)")
# An image word soon after an opener's parenthesis: in its path argument, or nearby.
_IMAGE_PATH = re.compile(r"(?:open|Open|GFile)\s*\((?s:.){0,1000}?" + _IMAGE_WORD.pattern)


@dataclass
class _Open:
    """One call of an opener, and what is known of its path and mode."""

    node: cst.Call
    label: str
    mode: str
    builtin: bool
    path: cst.BaseExpression | None
    mode_expr: cst.BaseExpression | None  # None: the default mode, "r"
    path_value: cst.BaseExpression | None = None  # what a path *name* was assigned, when the file was opened


@dataclass
class _Scope:
    """Data flow facts of one function (or the module), resolved when it ends."""

    opens: list[_Open] = field(default_factory=list)
    handles: dict[str, cst.CSTNode] = field(default_factory=dict)  # f -> opener call (from `with ... as f` / `f = ...`)
    reads: dict[str, cst.CSTNode] = field(default_factory=dict)  # data -> handle name or opener call read from
    sink_names: dict[str, str] = field(default_factory=dict)  # a name passed to a sink -> the sink
    direct: dict[int, str] = field(default_factory=dict)  # id(opener call or handle read) -> sink


class BinaryReadInTextMode(Rule):
    """
    ## What it does
    Finds a file opened in text mode (`open(path)`, `"r"`, `"rt"`, `"w"`, `"r+"`, ... and
    TensorFlow's `tf.gfile.FastGFile` / `GFile` / `Open`, `tf.io.gfile.GFile`, under
    any TensorFlow module path) when the content is evidently binary:

    - the path ends in an image or binary extension (`.jpg`, `.png`, `.npy`,
      `.tfrecord`, `.pb`, `.pt`, `.ckpt`, `.h5`, `.pkl`, ...): a literal, an f-string,
      `dir + ".jpg"` or `os.path.join(dir, "x.jpg")`;
    - what is read goes, in the same function, into a decoder (`tf.image.decode_*`,
      `tf.io.decode_*`, `decode_raw`, a `.decode_jpeg(...)` method, `PIL.Image.open`,
      `io.BytesIO`, `np.frombuffer`, `cv2.imdecode`, `pickle.loads`) or into a
      `tf.train.BytesList`, or the handle itself goes to `Image.open`, `np.load`,
      `pickle.load` or `torch.load`;
    - the path expression names an image (`image.filename`, `img_path`, `jpeg_file`).

    ## Why is this bad
    Text mode decodes the bytes as UTF-8. A JPEG starts with the bytes `0xFF 0xD8`,
    so building a TFRecord of images dies on the first one with

        UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte

    (im2txt's `build_mscoco_data.py`, run with `"r"` in place of `"rb"`). Writing bytes
    to a file opened with `open(path, "w")` fails the other way:
    `TypeError: write() argument must be str, not bytes`.

    ## Example
    ```python
    with tf.gfile.FastGFile(image.filename, "r") as f:
        encoded_image = f.read()
    ```

    ## Use instead
    ```python
    with tf.gfile.FastGFile(image.filename, "rb") as f:
        encoded_image = f.read()
    ```
    Files that are evidently text (`captions.txt`, `.csv`, `.json`) are never reported,
    nor are binary or non-literal modes, nor an `open()` given `encoding=`, `errors=` or
    `newline=` (text by the author's choice; `"rb"` with an encoding raises `ValueError`).
    TensorFlow's `GFile` opened for writing is not reported: it writes bytes in any mode.

    ## Fix safety
    Safe: `--fix` puts the binary mode in place (`"r"` -> `"rb"`, `"r+"` -> `"rb+"`, or adds
    `"rb"` when no mode was given). The data read becomes `bytes`, which is what every
    decoder above expects.
    """

    code = "DL101"
    name = "binary-read-in-text-mode"
    severity = Severity.ERROR
    summary = "binary data (an image, a checkpoint, an array) opened in text mode"
    triggers = ("open", "GFile")

    @classmethod
    def could_fire(cls, text: str, lowered: str) -> bool:
        """An opener, and evidence of binary content that the rule could tie to it:
        a binary extension in a string, a decoder or `BytesList`, a sink of bytes
        (`Image.open`, `io.BytesIO`, `pickle.load`, ...), or a path argument that
        names an image."""
        if not super().could_fire(text, lowered) or not search_code(_OPENER, text):
            return False
        if _BINARY_EXTENSION.search(text) or _DECODER.search(text) or uses_any(text, _SINKS):
            return True
        if _OPENER_ALIAS.search(text):  # `o = open`, `open as o`: any image word may be the path's
            return _IMAGE_WORD.search(text) is not None
        return _IMAGE_PATH.search(text) is not None

    VALID = (
        'with open("photo.jpg", "rb") as f:\n    data = f.read()\n',
        'with open("captions.txt") as f:\n    lines = f.readlines()\n',
        'import tensorflow as tf\nwith tf.gfile.GFile("train.csv", "r") as f:\n    rows = f.read()\n',
        "def load(path, mode):\n    return open(path, mode).read()\n",
        'import json\nwith open(config_path) as f:\n    cfg = json.load(f)\n',
        # TF's GFile writes bytes in any mode.
        'import tensorflow as tf\nwith tf.gfile.GFile("graph.pb", "w") as f:\n    f.write(graph_def.SerializeToString())\n',
        # A list of images is a text file.
        "with open(image_list_file) as f:\n    names = f.read().split()\n",
        # An encoding is text asked for on purpose (and "rb" with it would raise).
        'import pickle\nwith open(meta_path, "rb") as f:\n    meta = pickle.load(f)\nwith open(prompt, "r", encoding="utf-8") as f:\n    start = f.read()\n',
    )
    INVALID = (
        'import tensorflow.compat.v1 as tf\nwith tf.gfile.FastGFile(image.filename, "r") as f:\n    encoded_image = f.read()\n',
        'with open("data/cat.jpg") as f:\n    data = f.read()\n',
        'import os\nf = open(os.path.join(root, "weights.npy"), "r")\n',
        'import numpy as np\nwith open(path) as f:\n    arr = np.frombuffer(f.read(), dtype=np.uint8)\n',
        "import tensorflow as tf\ndef load(p):\n    raw = tf.io.gfile.GFile(p).read()\n    return tf.io.decode_jpeg(raw)\n",
        "import pickle\nwith open(path, 'r') as f:\n    obj = pickle.load(f)\n",
        'from tensorflow.compat.v1 import gfile as G\ndata = G.FastGFile(f"{d}/{n}.png", "r").read()\n',
        'from io import open\nwith open(img_path, "rt") as fh:\n    pass\n',
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._scopes: list[_Scope] = [_Scope()]

    # -- scopes --------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes.append(_Scope())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._resolve(self._scopes.pop())

    def leave_Module(self, original_node: cst.Module) -> None:
        self._resolve(self._scopes.pop())

    # -- facts ---------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        scope = self._scopes[-1]
        opened = self._as_open(node)
        if opened is not None:
            if isinstance(opened.path, cst.Name):  # follow the value: `image_set_file = join(d, s + ".txt")`
                opened.path_value = scope.handles.get(opened.path.value)
            scope.opens.append(opened)
            return
        sink = self._sink(node)
        if sink is None:
            return
        values = [arg.value for arg in node.args]
        if sink == "tf.train.BytesList":
            values = _bytes_list_elements(node)
        for value in values:
            self._note_flow(scope, value, sink)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            self._scopes[-1].handles[node.asname.name.value] = node.item

    def visit_Assign(self, node: cst.Assign) -> None:
        scope = self._scopes[-1]
        for target in node.targets:
            if not isinstance(target.target, cst.Name):
                continue
            name = target.target.value
            source = _read_source(node.value)
            if source is not None:
                # `data = f.read()`: the file `f` is bound to now, not a later `f`.
                if isinstance(source, cst.Name) and source.value in scope.handles:
                    source = scope.handles[source.value]
                scope.reads[name] = source
            scope.handles[name] = node.value

    def _note_flow(self, scope: _Scope, value: cst.BaseExpression, sink: str) -> None:
        """Tie what a sink consumes to the file it comes from *at this point*: a handle
        name reused by a later `with open(...) as f` must not carry this sink over to it."""
        if isinstance(value, cst.Name):
            bound = scope.reads.get(value.value) or scope.handles.get(value.value)
            if isinstance(bound, cst.Name):  # data read from a handle not bound yet here
                scope.sink_names.setdefault(bound.value, sink)
            elif bound is not None:
                scope.direct.setdefault(id(bound), sink)
            else:
                scope.sink_names.setdefault(value.value, sink)
        elif isinstance(value, cst.Call):
            source = _read_source(value)
            if isinstance(source, cst.Name):
                if source.value in scope.handles:
                    scope.direct.setdefault(id(scope.handles[source.value]), sink)
                else:
                    scope.sink_names.setdefault(source.value, sink)
            elif source is not None:
                scope.direct.setdefault(id(source), sink)
            else:
                scope.direct.setdefault(id(value), sink)  # `Image.open(open(path))`

    # -- classification ------------------------------------------------------
    def _as_open(self, node: cst.Call) -> _Open | None:
        qualified = self.names.qualify(node.func)
        if qualified in _BUILTIN_OPENERS:
            builtin, path = True, call_argument(node, 0, "file")
        elif tf_symbol(qualified) in _GFILE_OPENERS:
            builtin, path = False, call_argument(node, 0, "name")
        else:
            return None
        mode_expr = call_argument(node, 1, "mode")
        mode = "r" if mode_expr is None else string_value(mode_expr)
        if mode is None or "b" in mode:
            return None
        if not builtin and "r" not in mode:
            return None  # GFile writes bytes in any mode
        if builtin and any(call_argument(node, index, name) is not None for index, name in _TEXT_ONLY_ARGUMENTS):
            return None  # text asked for on purpose; and "rb" with an encoding raises ValueError
        return _Open(node, code_of(node.func), mode, builtin, path, mode_expr)

    def _sink(self, node: cst.Call) -> str | None:
        qualified = self.names.qualify(node.func)
        symbol = tf_symbol(qualified)
        if symbol is not None:
            if symbol.startswith(("image.decode_", "io.decode_")) or symbol == "decode_raw":
                return f"tf.{symbol}"
            if symbol == "train.BytesList":
                return "tf.train.BytesList"
        if qualified in _SINK_NAMES:
            return _SINK_NAMES[qualified]
        method = method_name(node)
        if method in _DECODER_METHODS:
            return code_of(node.func)
        return None

    # -- verdict -------------------------------------------------------------
    def _resolve(self, scope: _Scope) -> None:
        for opened in scope.opens:
            extension = self._extension(opened.path)
            if extension is None and opened.path_value is not None:
                extension = self._extension(opened.path_value)
            if extension in TEXT_EXTENSIONS:
                continue
            if extension in BINARY_EXTENSIONS:
                evidence = f"the path ends in '{extension}'"
            else:
                sink = self._flow_sink(scope, opened)
                if sink is not None:
                    evidence = f"what is read from it goes to `{sink}`, which wants bytes"
                elif _names_an_image(opened.path):
                    evidence = f"the path `{code_of(opened.path)}` names an image"
                else:
                    continue
            self.report(opened.node, _message(opened, evidence), _binary_mode_fix(opened))

    def _extension(self, path: cst.BaseExpression | None) -> str | None:
        join = isinstance(path, cst.Call) and self.names.qualify(path.func) in ("os.path.join", "posixpath.join")
        return _path_extension(path, join)

    def _flow_sink(self, scope: _Scope, opened: _Open) -> str | None:
        if id(opened.node) in scope.direct:
            return scope.direct[id(opened.node)]
        handles = {name for name, value in scope.handles.items() if value is opened.node}
        for handle in handles:
            if handle in scope.sink_names:
                return scope.sink_names[handle]
        for data, source in scope.reads.items():
            from_handle = isinstance(source, cst.Name) and source.value in handles
            if (from_handle or source is opened.node) and data in scope.sink_names:
                return scope.sink_names[data]
        return None


def _read_source(value: cst.BaseExpression) -> cst.BaseExpression | None:
    """For `h.read()` the handle `h`; for `open(...).read()` the opener call; else None."""
    if isinstance(value, cst.Call) and method_name(value) == "read" and isinstance(value.func, cst.Attribute):
        return value.func.value
    return None


def _bytes_list_elements(node: cst.Call) -> list[cst.BaseExpression]:
    value = call_argument(node, 0, "value")
    if isinstance(value, (cst.List, cst.Tuple)):
        return [element.value for element in value.elements]
    return [value] if value is not None else []


def _path_extension(path: cst.BaseExpression | None, join: bool) -> str | None:
    """The extension a path expression is known to end with; `join`: it is `os.path.join`."""
    if join and isinstance(path, cst.Call):
        path = path.args[-1].value if path.args else None
    elif isinstance(path, cst.BinaryOperation) and isinstance(path.operator, cst.Divide):
        path = path.right  # pathlib: `root / "x.jpg"`
    tail = string_tail(path)
    if tail is None:
        return None
    name = tail.rstrip().rsplit("/", 1)[-1].lower()
    for extension in (".data-00000-of-00001",):
        if name.endswith(extension):
            return extension
    # Not os.path.splitext: the tail of f"{stem}.png" is ".png", which splitext calls a stem.
    return "." + name.rsplit(".", 1)[1] if "." in name else None


def _names_an_image(path: cst.BaseExpression | None) -> bool:
    words = set()
    for identifier in _identifiers(path):
        words |= {word.lower() for word in _WORD.findall(identifier)}
    return bool(words & _IMAGE_WORDS) and not words & _TEXT_WORDS


def _identifiers(expr: cst.BaseExpression | None) -> list[str]:
    if isinstance(expr, cst.Name):
        return [expr.value]
    if isinstance(expr, cst.Attribute):
        return [*_identifiers(expr.value), expr.attr.value]
    if isinstance(expr, cst.Subscript):
        return _identifiers(expr.value)
    if isinstance(expr, cst.Call) and expr.args:
        return _identifiers(expr.args[-1].value)  # os.path.join(image_dir, image_name)
    return []


def _binary(mode: str) -> str:
    """"r" -> "rb", "rt" -> "rb", "r+" -> "rb+", "w" -> "wb"."""
    mode = mode.replace("t", "")
    return mode.replace("+", "b+") if "+" in mode else mode + "b"


def _binary_mode_fix(opened: _Open) -> Fix | None:
    """Put the binary mode in place of the text one, or after the path when none was given."""
    description = f"open with '{_binary(opened.mode)}'"
    if opened.mode_expr is not None:
        old = opened.mode_expr
        quote = old.quote if isinstance(old, cst.SimpleString) else '"'
        new = cst.SimpleString(f"{quote}{_binary(opened.mode)}{quote}")
        return Fix(description, Applicability.SAFE, ((old, new),))
    call = opened.node
    if not call.args or any(arg.star for arg in call.args):
        return None  # `open(*args)`: where the mode goes is not known
    first = call.args[0]
    mode = cst.Arg(cst.SimpleString(f'"{_binary(opened.mode)}"'))
    if first.keyword is not None:  # open(file=path): keep keywords after keywords
        mode = mode.with_changes(keyword=cst.Name("mode"), equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    args = [first.with_changes(comma=comma), mode.with_changes(comma=first.comma), *call.args[1:]]
    return Fix(description, Applicability.SAFE, ((call, call.with_changes(args=args)),))


def _message(opened: _Open, evidence: str) -> str:
    binary_mode = _binary(opened.mode)
    if "r" in opened.mode or "+" in opened.mode:
        failure = "reading it raises `UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0`"
    else:
        failure = "writing bytes to it raises `TypeError: write() argument must be str, not bytes`"
    return (
        f"`{opened.label}` opens binary data in text mode ('{opened.mode}'): {evidence}; "
        f"{failure}. Open it with '{binary_mode}'"
    )
