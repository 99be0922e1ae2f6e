"""DL101 binary-read-in-text-mode."""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import tf_symbol
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import call_argument, code_of, method_name, string_tail, string_value, target_names
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
    "pickle.Unpickler": "pickle.Unpickler",
    "pickle.Pickler": "pickle.Pickler",
    "numpy.savez": "np.savez",
    "numpy.savez_compressed": "np.savez_compressed",
    "wave.open": "wave.open",
    "tarfile.open": "tarfile.open",
    "tarfile.TarFile": "tarfile.TarFile",
    "gzip.GzipFile": "gzip.GzipFile",
    "gzip.open": "gzip.open",
}
# Sinks that take a file object in one parameter only (the others are names, modes, data).
_HANDLE_PARAMETER = {
    "wave.open": (0, "f"),
    "tarfile.open": (2, "fileobj"),
    "tarfile.TarFile": (2, "fileobj"),
    "gzip.GzipFile": (3, "fileobj"),
    "gzip.open": (0, "filename"),
}
# Not a sink: `np.fromfile(handle)` reads the file's descriptor, whose bytes Python
# never translates (its files are binary at the descriptor level on every platform),
# so a text-mode handle gives the same array.
# First bytes of common binary formats, for the message: what UTF-8 decoding fails on.
_LEADING_BYTE = {".jpg": "0xff", ".jpeg": "0xff", ".png": "0x89", ".npy": "0x93", ".pkl": "0x80", ".pickle": "0x80"}
_GLOBS = {"glob.glob", "glob.iglob"}
_TF_GLOBS = {"gfile.Glob", "io.gfile.glob"}
# Calls whose result is their first argument's path, for following a value.
_SAME_PATH = {"builtins.str", "os.path.abspath", "os.path.expanduser", "os.path.normpath", "os.path.realpath",
              "os.fspath", "pathlib.Path", "pathlib.PurePath"}
_SAME_ELEMENTS = {"builtins.sorted", "builtins.list", "builtins.tuple", "builtins.set", "builtins.reversed"}
_EXTENSION_SHAPE = re.compile(r"\.(?=[a-z0-9]*[a-z])[a-z0-9]{1,12}")
_MAX_FOLLOW = 6  # names followed in a row
_MAX_STEPS = 200  # expressions looked at to follow one path (lists of names branch)
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
    # What the path is known to be where the file is opened, its name followed to its value:
    extension: str | None = None  # the extension it ends with
    image_named: cst.BaseExpression | None = None  # a path expression that names an image


@dataclass
class _Scope:
    """Data flow facts of one function (or the module), resolved when it ends."""

    opens: list[_Open] = field(default_factory=list)
    handles: dict[str, cst.CSTNode] = field(default_factory=dict)  # f -> opener call (from `with ... as f` / `f = ...`)
    # name -> ("value", expr) for `name = expr`, ("element", iterable) for `for name in iterable`
    bound: dict[str, tuple[str, cst.BaseExpression]] = field(default_factory=dict)
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
      `"{:04d}.png".format(i)`, `dir + ".jpg"` or `os.path.join(dir, "x.jpg")`, or a name followed to its value
      where the file is opened: `path = os.path.join(root, "0001.jpg")`, a loop over
      `glob.glob(os.path.join(d, "*.jpg"))` / `tf.gfile.Glob` / `Path.glob`, over a
      list of such paths, or over names filtered by `.endswith(".jpg")`;
    - what is read goes, in the same function, into a decoder (`tf.image.decode_*`,
      `tf.io.decode_*`, `decode_raw`, a `.decode_jpeg(...)` method, `PIL.Image.open`,
      `io.BytesIO`, `np.frombuffer`, `cv2.imdecode`, `pickle.loads`) or into a
      `tf.train.BytesList`, or the handle itself goes to a reader or writer of bytes
      (`Image.open`, `np.load`, `np.save`, `pickle.load`/`dump`, `pickle.Unpickler`,
      `torch.load`/`save`, `wave.open`, `tarfile.open(fileobj=...)`, `gzip`);
    - the path expression names an image (`image.filename`, `img_path`, `jpeg_file`)
      and its value says nothing else.

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
    Files that are evidently text (`captions.txt`, `.csv`, `.json`, `.log`) are never
    reported, whatever the variable holding the path is called: the value decides, not
    the name (`image_set_file` holding a `.txt` list, `img_path` holding an `.svg`).
    Nor are `np.fromfile(handle)` (it reads the descriptor, whose bytes Python never
    translates), binary or non-literal modes, nor an `open()` given `encoding=`, `errors=` or
    `newline=` (text by the author's choice; `"rb"` with an encoding raises `ValueError`).
    TensorFlow's `GFile` opened for writing is not reported: it writes bytes in any mode.

    The message names the first byte UTF-8 fails on where the format is known
    (`0xff` for a JPEG, `0x89` for a PNG, `0x80` for a pickle).

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
        # The value decides: a text file, whatever the name says.
        'import glob\nfor image_list in glob.glob("lists/*.txt"):\n    names = open(image_list).read().split()\n',
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
        'import glob\nfor path in glob.glob("frames/*.jpg"):\n    data = open(path).read()\n',
        'import wave\nwith open(path) as f:\n    frames = wave.open(f).readframes(-1)\n',
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._scopes: list[_Scope] = [_Scope()]
        self._steps_left = _MAX_STEPS

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
            # Follow the value where the file is opened: `image_set_file = join(d, s + ".txt")`,
            # `for filename in glob(join(d, "*.jpg"))`.
            # Names not bound in the function are looked up in the enclosing ones (`EXT = ".txt"`).
            bound = ChainMap(*(outer.bound for outer in reversed(self._scopes)))
            self._steps_left = _MAX_STEPS
            opened.extension = self._extension(bound, opened.path, 0)
            opened.image_named = self._image_named(bound, opened.path)
            scope.opens.append(opened)
            return
        sink = self._sink(node)
        if sink is None:
            return
        values = [arg.value for arg in node.args]
        if sink == "tf.train.BytesList":
            values = _bytes_list_elements(node)
        elif sink in _HANDLE_PARAMETER:
            handle = call_argument(node, *_HANDLE_PARAMETER[sink])
            values = [handle] if handle is not None else []
        for value in values:
            self._note_flow(scope, value, sink)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and type(node.asname.name) is cst.Name:
            self._scopes[-1].handles[node.asname.name.value] = node.item

    def visit_For(self, node: cst.For) -> None:
        self._bind_elements(node.target, node.iter)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._bind_comprehension(node.for_in)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._bind_comprehension(node.for_in)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._bind_comprehension(node.for_in)

    def _bind_comprehension(self, for_in: cst.CompFor | None) -> None:
        # Comprehension variables are bound before the element is visited (libcst
        # visits `elt` first); they do not outlive the comprehension in Python 3,
        # and a later binding of the same name replaces them here too.
        while for_in is not None:
            self._bind_elements(for_in.target, for_in.iter)
            for_in = for_in.inner_for_in

    def _bind_elements(self, target: cst.BaseExpression, iterable: cst.BaseExpression) -> None:
        bound = self._scopes[-1].bound
        for name in target_names(target):
            bound.pop(name, None)
        if type(target) is cst.Name:
            bound[target.value] = ("element", iterable)
        elif (  # `for i, path in enumerate(paths)`
            type(target) is cst.Tuple
            and len(target.elements) == 2
            and type(target.elements[1].value) is cst.Name
            and type(iterable) is cst.Call
            and self.names.qualify(iterable.func) == "builtins.enumerate"
            and iterable.args
        ):
            bound[target.elements[1].value.value] = ("element", iterable.args[0].value)

    def visit_Assign(self, node: cst.Assign) -> None:
        scope = self._scopes[-1]
        for target in node.targets:
            for name in target_names(target.target):
                scope.bound.pop(name, None)
            if type(target.target) is not cst.Name:
                continue
            name = target.target.value
            scope.bound[name] = ("value", node.value)
            source = _read_source(node.value)
            if source is not None:
                # `data = f.read()`: the file `f` is bound to now, not a later `f`.
                if type(source) is cst.Name and source.value in scope.handles:
                    source = scope.handles[source.value]
                scope.reads[name] = source
            scope.handles[name] = node.value

    def _note_flow(self, scope: _Scope, value: cst.BaseExpression, sink: str) -> None:
        """Tie what a sink consumes to the file it comes from *at this point*: a handle
        name reused by a later `with open(...) as f` must not carry this sink over to it."""
        if type(value) is cst.Name:
            bound = scope.reads.get(value.value) or scope.handles.get(value.value)
            if type(bound) is cst.Name:  # data read from a handle not bound yet here
                scope.sink_names.setdefault(bound.value, sink)
            elif bound is not None:
                scope.direct.setdefault(id(bound), sink)
            else:
                scope.sink_names.setdefault(value.value, sink)
        elif type(value) is cst.Call:
            source = _read_source(value)
            if type(source) is cst.Name:
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
            extension = opened.extension
            if extension in TEXT_EXTENSIONS:
                continue  # the value says text, whatever the names say
            leading = _LEADING_BYTE.get(extension or "")
            if extension in BINARY_EXTENSIONS:
                evidence = f"the path ends in '{extension}'"
            else:
                sink = self._flow_sink(scope, opened)
                if sink is not None:
                    evidence = f"what is read from it goes to `{sink}`, which wants bytes"
                    leading = "0xff" if "jpeg" in sink or "jpg" in sink else None
                elif extension is None and opened.image_named is not None:
                    # A name is evidence only while the value says nothing (`.svg` is text).
                    evidence = f"the path `{code_of(opened.image_named)}` names an image"
                else:
                    continue
            self.report(opened.node, _message(opened, evidence, leading), _binary_mode_fix(opened))

    # -- following a path to its value ----------------------------------------
    def _extension(self, bound: Mapping, path: cst.BaseExpression | None, depth: int) -> str | None:
        """The extension the path is known to end with where it is used: through
        `os.path.join`, `str()`/`Path()`, `+`, and names bound to values or to the
        elements of a glob or a list."""
        self._steps_left -= 1
        if path is None or depth > _MAX_FOLLOW or self._steps_left < 0:
            return None
        if type(path) is cst.Name:
            binding = bound.get(path.value)
            if binding is None:
                return None
            kind, value = binding
            if kind == "value":
                return self._extension(bound, value, depth + 1)
            return self._element_extension(bound, value, depth + 1)
        if type(path) is cst.Subscript and _is_index(path):
            return self._element_extension(bound, path.value, depth + 1)
        if type(path) is cst.Call:
            qualified = self.names.qualify(path.func)
            if qualified in ("os.path.join", "posixpath.join"):
                last = path.args[-1].value if path.args and not path.args[-1].star else None
                return self._extension(bound, last, depth + 1)
            if qualified in _SAME_PATH and path.args:
                return self._extension(bound, path.args[0].value, depth + 1)
        if type(path) is cst.BinaryOperation:
            if type(path.operator) is cst.Add and type(path.right) is cst.Name:
                return self._extension(bound, path.right, depth + 1)
            if type(path.operator) is cst.Divide and type(path.right) is cst.Name:
                return self._extension(bound, path.right, depth + 1)
        return _path_extension(path)

    def _element_extension(self, bound: Mapping, iterable: cst.BaseExpression, depth: int) -> str | None:
        """The extension every element of an iterable of paths is known to end with."""
        self._steps_left -= 1
        if depth > _MAX_FOLLOW or self._steps_left < 0:
            return None
        if type(iterable) is cst.Name:
            binding = bound.get(iterable.value)
            if binding is None or binding[0] != "value":
                return None
            return self._element_extension(bound, binding[1], depth + 1)
        if type(iterable) is cst.Subscript and not _is_index(iterable):  # files[:100]
            return self._element_extension(bound, iterable.value, depth + 1)
        if type(iterable) is cst.Call:
            qualified = self.names.qualify(iterable.func)
            pattern = call_argument(iterable, 0, None)
            if qualified in _GLOBS or tf_symbol(qualified) in _TF_GLOBS:
                return self._extension(bound, pattern, depth + 1)
            if qualified is None and method_name(iterable) in ("glob", "rglob"):  # Path(d).glob("*.jpg")
                return self._extension(bound, pattern, depth + 1)
            if qualified in _SAME_ELEMENTS and pattern is not None:
                return self._element_extension(bound, pattern, depth + 1)
            return None
        if type(iterable) in (cst.List, cst.Tuple, cst.Set):
            found = {self._extension(bound, element.value, depth + 1) for element in iterable.elements}
            return found.pop() if len(found) == 1 else None
        if type(iterable) in (cst.ListComp, cst.GeneratorExp, cst.SetComp):
            return self._comprehension_extension(bound, iterable, depth + 1)
        return None

    def _comprehension_extension(self, bound: Mapping, comprehension, depth: int) -> str | None:
        inner: dict = {}
        bound = ChainMap(inner, bound)
        for_in = comprehension.for_in
        filtered = set()
        while for_in is not None:
            if type(for_in.target) is cst.Name:
                inner[for_in.target.value] = ("element", for_in.iter)
                for condition in for_in.ifs:
                    filtered |= _endswith_filter(condition.test, for_in.target.value)
            for_in = for_in.inner_for_in
        found = self._extension(bound, comprehension.elt, depth)
        if found is not None:
            return found
        if len(filtered) == 1:  # `[f for f in os.listdir(d) if f.endswith(".jpg")]`
            return filtered.pop()
        if filtered and filtered <= BINARY_EXTENSIONS:  # `.endswith((".jpg", ".png"))`
            return sorted(filtered)[0]
        return None

    def _image_named(self, bound: Mapping, path: cst.BaseExpression | None) -> cst.BaseExpression | None:
        """The path expression when it names an image (`img_path`, `image.filename`) and
        neither it nor the value its name holds names a text file (`image_list`)."""
        if not _names_an_image(path):
            return None
        if type(path) is cst.Name and bound.get(path.value, ("", None))[0] == "value":
            if _names_text(bound[path.value][1]):
                return None
        return path

    def _flow_sink(self, scope: _Scope, opened: _Open) -> str | None:
        if id(opened.node) in scope.direct:
            return scope.direct[id(opened.node)]
        handles = {name for name, value in scope.handles.items() if value is opened.node}
        for handle in handles:
            if handle in scope.sink_names:
                return scope.sink_names[handle]
        for data, source in scope.reads.items():
            from_handle = type(source) is cst.Name and source.value in handles
            if (from_handle or source is opened.node) and data in scope.sink_names:
                return scope.sink_names[data]
        return None


def _read_source(value: cst.BaseExpression) -> cst.BaseExpression | None:
    """For `h.read()` the handle `h`; for `open(...).read()` the opener call; else None."""
    if type(value) is cst.Call and method_name(value) == "read" and type(value.func) is cst.Attribute:
        return value.func.value
    return None


def _bytes_list_elements(node: cst.Call) -> list[cst.BaseExpression]:
    value = call_argument(node, 0, "value")
    if type(value) in (cst.List, cst.Tuple):
        return [element.value for element in value.elements]
    return [value] if value is not None else []


def _path_extension(path: cst.BaseExpression | None) -> str | None:
    """The extension a path expression's own text is known to end with."""
    if type(path) is cst.BinaryOperation and type(path.operator) is cst.Divide:
        path = path.right  # pathlib: `root / "x.jpg"`
    tail = string_tail(path)
    if tail is None:
        return None
    name = tail.rstrip().rsplit("/", 1)[-1].lower()
    for extension in (".data-00000-of-00001",):
        if name.endswith(extension):
            return extension
    # Not os.path.splitext: the tail of f"{stem}.png" is ".png", which splitext calls a stem.
    if "." not in name:
        return None
    extension = "." + name.rsplit(".", 1)[1]
    # `.jpg`, `.tfrecord`, `.h5`; not the tail of "model_v1.2" or "frame.".
    return extension if _EXTENSION_SHAPE.fullmatch(extension) else None


def _words(path: cst.BaseExpression | None) -> set[str]:
    words = set()
    for identifier in _identifiers(path):
        words |= {word.lower() for word in _WORD.findall(identifier)}
    return words


def _names_an_image(path: cst.BaseExpression | None) -> bool:
    words = _words(path)
    return bool(words & _IMAGE_WORDS) and not words & _TEXT_WORDS


def _names_text(path: cst.BaseExpression | None) -> bool:
    return bool(_words(path) & _TEXT_WORDS)


def _is_index(subscript: cst.Subscript) -> bool:
    """`paths[i]`, not `paths[:100]`."""
    return len(subscript.slice) == 1 and type(subscript.slice[0].slice) is cst.Index


def _endswith_filter(test: cst.BaseExpression, name: str) -> set[str]:
    """The extensions `name.endswith(".jpg")` (or a tuple of them) keeps, in a filter."""
    if type(test) is cst.BooleanOperation and type(test.operator) is cst.And:
        return _endswith_filter(test.left, name) | _endswith_filter(test.right, name)
    if not (
        type(test) is cst.Call
        and method_name(test) == "endswith"
        and type(test.func) is cst.Attribute
        and type(test.func.value) is cst.Name
        and test.func.value.value == name
        and test.args
    ):
        return set()
    value = test.args[0].value
    items = [element.value for element in value.elements] if type(value) is cst.Tuple else [value]
    found = set()
    for item in items:
        text = string_value(item)
        if text is None or not _EXTENSION_SHAPE.fullmatch(text.lower()):
            return set()
        found.add(text.lower())
    return found


def _identifiers(expr: cst.BaseExpression | None) -> list[str]:
    if type(expr) is cst.Name:
        return [expr.value]
    if type(expr) is cst.Attribute:
        return [*_identifiers(expr.value), expr.attr.value]
    if type(expr) is cst.Subscript:
        return _identifiers(expr.value)
    if type(expr) is cst.Call and expr.args:
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
        quote = old.quote if type(old) is cst.SimpleString else '"'
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


def _message(opened: _Open, evidence: str, leading_byte: str | None) -> str:
    binary_mode = _binary(opened.mode)
    if "r" in opened.mode or "+" in opened.mode:
        byte = f"byte {leading_byte} in position 0" if leading_byte else "byte ..."
        failure = f"reading it decodes the bytes as text and raises `UnicodeDecodeError: 'utf-8' codec can't decode {byte}`"
    else:
        failure = "writing bytes to it raises `TypeError: write() argument must be str, not bytes`"
    return (
        f"`{opened.label}` opens binary data in text mode ('{opened.mode}'): {evidence}; "
        f"{failure}. Open it with '{binary_mode}'"
    )
