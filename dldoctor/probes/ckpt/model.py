"""What the model expects: from the user's factory (`--model`), a MetaGraphDef (`--meta`),
or another checkpoint (`--against`).

`--model SPEC` runs the user's code: they asked for it by naming it. SPEC is
`path/to/file.py:CALLABLE` (the file is imported by path, its directory put on
sys.path so its own imports work) or `package.module:CALLABLE` (imported from the
current directory and sys.path, as `python -c "import package.module"` would).
CALLABLE is called with no arguments and may be dotted (`models:Net.build`). It must
return a `torch.nn.Module` or a Keras model; against a TF1 (Saver) checkpoint it is
called inside a fresh `tf.Graph` and the global variables it creates are the model's.

`--meta FILE.meta` parses the MetaGraphDef protobuf; nothing in it is run.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import tempfile
from pathlib import Path

from dldoctor.probes.ckpt import formats
from dldoctor.probes.ckpt.facts import CkptError, Entry, VariableSet


def load_callable(spec: str):
    module_part, colon, attr = spec.rpartition(":")
    if not colon or not module_part or not attr or module_part.endswith(("\\", "/")):
        raise CkptError(f"--model {spec!r}: expected MODULE:CALLABLE, e.g. models.py:build or mypkg.models:build", 2)
    try:
        if module_part.endswith(".py") or "/" in module_part or os.sep in module_part:
            path = Path(module_part)
            if not path.is_file():
                raise CkptError(f"--model {spec}: no file {module_part}", 2)
            sys.path.insert(0, str(path.resolve().parent))
            name = f"_dldoctor_model_{path.stem}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
        else:
            sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_part)
    except CkptError:
        raise
    except Exception as problem:  # the user's module failed to import
        raise CkptError(f"--model {spec}: importing {module_part} raised {type(problem).__name__}: {_first_line(problem)}", 2)
    target = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise CkptError(f"--model {spec}: {module_part} has no attribute {attr!r}", 2)
        target = getattr(target, part)
    if not callable(target):
        raise CkptError(f"--model {spec}: {attr} is a {type(target).__name__}, not callable", 2)
    return target


def _first_line(problem: BaseException) -> str:
    text = str(problem).strip()
    return text.splitlines()[0] if text else type(problem).__name__


def _call(spec: str, factory):
    try:
        return factory()
    except Exception as problem:
        raise CkptError(f"--model {spec}: calling it raised {type(problem).__name__}: {_first_line(problem)}", 2)


def from_factory(spec: str, ckpt: VariableSet) -> VariableSet:
    if ckpt.framework in ("tensorflow", "keras"):
        formats.import_tensorflow()  # quietly, before the user's module imports it loudly
    factory = load_callable(spec)
    if ckpt.format == "tf1":
        return _tf1_graph(spec, factory)
    result = _call(spec, factory)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(result, torch.nn.Module):
        return torch_module(spec, result)
    keras = _keras_model_class()
    if keras is not None and isinstance(result, keras):
        if ckpt.format == "tf2-object":
            return object_checkpoint(spec, result, ckpt)
        return keras_model(spec, result)
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(result, tf.Module):
        return object_checkpoint(spec, result, ckpt)
    raise CkptError(
        f"--model {spec} returned a {type(result).__name__}, not a torch.nn.Module or a Keras model"
        + (" (for a TF1 checkpoint it may also be a function that builds the graph)" if ckpt.framework == "tensorflow" else ""),
        2,
    )


def _keras_model_class():
    if "keras" not in sys.modules and "tensorflow" not in sys.modules:
        return None
    try:
        import keras

        return keras.Model
    except Exception:
        return None


def torch_module(spec: str, module) -> VariableSet:
    found = VariableSet(label=spec, format="torch-module", framework="torch", separator=".", loads_as="torch-strict")
    for name, tensor in module.state_dict().items():
        found.entries[name] = Entry(name, tuple(tensor.shape), str(tensor.dtype).replace("torch.", ""))
    return found


def keras_model(spec: str, model) -> VariableSet:
    """The names Keras would save for this model: save its weights to a temp file and read them back."""
    if not getattr(model, "built", True):
        raise CkptError(f"--model {spec}: the Keras model is not built (give it an Input or call build())", 2)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "model.weights.h5"
        model.save_weights(str(path))
        found = formats.read_keras_h5(path, label=spec)
    found.format, found.path = "keras-model", ""
    found.entries = {n: e for n, e in found.entries.items() if e.kind == "param"}
    found.display = _keras_h5_names(model, found.entries)
    return found


def _snake(name: str) -> str:
    return formats.snake_case(name)


def _own_variables(layer) -> list:
    return list(getattr(layer, "_trainable_variables", [])) + list(getattr(layer, "_non_trainable_variables", []))


def _keras_h5_names(model, entries: dict) -> dict:
    """`dense/vars/0` (the path Keras 3 writes, from the layer's class) -> `logits/kernel` (the user's layer name and the
    variable's, as Keras itself reports them), for the model's own layers, named the way Keras names them on saving."""
    names: dict = {}
    used: dict = {}
    for layer in getattr(model, "layers", []):
        base = _snake(type(layer).__name__)
        if base in used:
            used[base] += 1
            base = f"{base}_{used[base]}"
        else:
            used[base] = 0
        for index, variable in enumerate(_own_variables(layer)):
            key = f"{base}/vars/{index}"
            path = getattr(variable, "path", None)
            if key in entries and path:
                names[key] = str(path)
    return names if len(set(names.values())) == len(names) else {}


def _object_names(model, root: str, entries: dict) -> dict:
    """`model/_functional/_operations/2/_kernel` -> `model/logits/kernel`: each checkpoint key followed through the
    model's attributes to its variable, named by the variable's own path (the user's layer names)."""
    names: dict = {}
    for key in entries:
        parts = key.split("/")
        if root and (not parts or parts[0] != root):
            continue
        target = model
        try:
            for part in parts[1:] if root else parts:
                target = target[int(part)] if part.isdigit() else getattr(target, part)
        except Exception:
            continue
        path = getattr(target, "path", None)
        if isinstance(path, str) and path:
            names[key] = f"{root}/{path}" if root else path
    return names if len(set(names.values())) == len(names) else {}


def _layer_of(name: str) -> tuple[str, str]:
    """`conv2d_1/vars/0` -> (`conv2d_1`, `vars/0`); `model/_operations/2/_kernel` -> (`model/_operations/2`, `_kernel`)."""
    if "/vars/" in name:
        layer, _, rest = name.rpartition("/vars/")
        return layer, "vars/" + rest
    layer, _, rest = name.rpartition("/")
    return layer, rest


def _layers(entries: dict) -> dict:
    """layer -> [entry names], in the order the file or the model holds them."""
    layers: dict = {}
    for name, entry in entries.items():
        if entry.kind == "param":
            layers.setdefault(_layer_of(name)[0], []).append(name)
    return layers


def _signature(layer: str, names: list, entries: dict) -> tuple:
    kind = re.sub(r"_\d+$", "", layer) if "/" not in layer else ""  # Keras 3 names a layer's state by its class
    return (kind, tuple((_layer_of(n)[1], entries[n].shape) for n in names))


def _relabel(found: VariableSet, pairs: dict, theirs: dict) -> None:
    """Rename the file's entries layer by layer (file layer -> model layer in `theirs`), variable by variable in order."""
    renamed = {}
    ours = _layers(found.entries)
    for name, entry in found.entries.items():
        layer = _layer_of(name)[0]
        if entry.kind == "param" and layer in pairs and pairs[layer] in theirs:
            index = ours[layer].index(name)
            target = theirs[pairs[layer]]
            name = target[index] if index < len(target) else f"{pairs[layer]}/{_layer_of(name)[1]}"
        renamed[name] = Entry(name, entry.shape, entry.dtype, entry.kind)
    found.entries = renamed


def align_positions(found: VariableSet, reference: VariableSet) -> None:
    """Pair the file's layers with the model's the way the loader will, before names are compared.

    Keras and a TF2 object checkpoint of a Keras model load layers by position, not by the names the
    user gave them: a legacy `.h5` by the order of its layers, a Keras 3 `.keras`/`.weights.h5` by each
    layer's class and its rank among that class, a TF2 checkpoint by the object graph's indices.
    So a renamed layer loads, and the legacy file's names are paired with the model's by position.
    A layer added to the model shifts every position after it: then the file's layers are paired
    with the model's in order by what they hold (by name for a legacy file), the added layer is what
    is left, and `found.positions` says so ("shifted", or "by-name" for a legacy file): the fix then
    pairs the layers by name, since load_weights alone would pair them by position.
    """
    if reference.format != "keras-model" or found.framework not in ("keras", "tensorflow") or found.format == "tf1":
        return
    ours, theirs = _layers(found.entries), _layers(reference.entries)
    if not ours or not theirs:
        return
    legacy = found.format == "keras-h5" and not any("/vars/" in n for n in found.entries)
    if legacy and len(ours) == len(theirs):  # by order: the i-th layer with weights gets the file's i-th
        _relabel(found, dict(zip(ours, theirs)), theirs)
        return
    if legacy:  # the layer counts differ: load_weights fails ("Layer count mismatch"); by_name=True pairs the names
        shown = {}
        for layer, names in theirs.items():
            user = {reference.display.get(n, n).rpartition("/")[0] for n in names}
            if len(user) == 1:
                shown[user.pop()] = layer
        pairs = {layer: shown[layer] for layer in ours if layer in shown}
        if pairs:
            _relabel(found, pairs, theirs)
            found.positions = "by-name"
        return
    if len(theirs) <= len(ours):
        return
    signatures = {layer: _signature(layer, names, found.entries) for layer, names in ours.items()}
    model_layers = list(theirs)
    pairs, index = {}, 0
    for layer in ours:  # the file's layers in order, each to the next model layer holding the same
        while index < len(model_layers) and _signature(model_layers[index], theirs[model_layers[index]], reference.entries) != signatures[layer]:
            index += 1
        if index == len(model_layers):
            return  # not a layer inserted: compared by position as the loader does
        pairs[layer] = model_layers[index]
        index += 1
    if any(ours_layer != model_layer for ours_layer, model_layer in pairs.items()):
        _relabel(found, pairs, theirs)
        found.positions = "shifted"


def apply_display(found: VariableSet, names: dict) -> None:
    """Rename entries to the user's names (both sides of a comparison get the same map, so pairs stay pairs)."""
    if not names:
        return
    renamed = {}
    for name, entry in found.entries.items():
        shown = names.get(name, name)
        if shown in renamed:  # a clash: keep the file's names
            return
        renamed[shown] = Entry(shown, entry.shape, entry.dtype, entry.kind)
    found.entries = renamed


def object_checkpoint(spec: str, model, ckpt: VariableSet) -> VariableSet:
    """The keys a TF2 object checkpoint of this model would have, under the checkpoint's root name."""
    tf = formats.import_tensorflow()
    roots: list = []
    for name, entry in ckpt.entries.items():
        head = name.split("/", 1)[0]
        if entry.kind == "param" and head not in roots:
            roots.append(head)
    best = None
    with tempfile.TemporaryDirectory() as scratch:
        for index, root in enumerate(roots[:3] + [None]):
            try:
                holder = tf.train.Checkpoint(**{root: model}) if root else tf.train.Checkpoint(root=model)
                written = holder.write(os.path.join(scratch, f"probe{index}"))
                found = formats.read_tensorflow(written)
            except Exception:
                continue
            score = len(set(found.entries) & set(ckpt.entries))
            if best is None or score > best[0]:
                best = (score, found, root or "root")
    if best is None:
        raise CkptError(f"--model {spec}: could not list the model's variables as a TF2 checkpoint", 2)
    found = best[1]
    found.label, found.path, found.format, found.size_bytes, found.global_step = spec, "", "keras-model", 0, None
    found.entries = {n: e for n, e in found.entries.items() if e.kind == "param"}
    found.display = _object_names(model, best[2], found.entries)
    return found


def _tf_entries(variables, tf) -> dict:
    entries = {}
    for variable in variables:
        name = variable.op.name if hasattr(variable, "op") else variable.name.split(":")[0]
        shape = tuple(variable.shape.as_list()) if variable.shape.rank is not None else None
        entries[name] = Entry(name, shape, variable.dtype.base_dtype.name, formats._tf_kind(name, False))
    return entries


def _tf1_graph(spec: str, factory) -> VariableSet:
    tf = formats.import_tensorflow()
    graph = tf.Graph()
    with graph.as_default():
        _call(spec, factory)
        variables = tf.compat.v1.global_variables()
    if not variables:
        raise CkptError(f"--model {spec}: building it created no variables in a TF1 graph (it must create them with tf.compat.v1 layers/get_variable)", 2)
    found = VariableSet(label=spec, format="tf1-graph", framework="tensorflow", separator="/", loads_as="tf1-saver")
    found.entries = _tf_entries(variables, tf)
    return found


def from_meta(path_text: str) -> VariableSet:
    """The variables of a MetaGraphDef (`*.meta`) and, when it has a Saver, the names that Saver restores."""
    path = Path(path_text)
    if not path.is_file():
        raise CkptError(f"--meta {path_text}: no such file", 2)
    if path.stat().st_size == 0:
        raise CkptError(f"--meta {path_text}: empty file (0 bytes)", 2)
    tf = formats.import_tensorflow()
    from tensorflow.core.framework import variable_pb2
    from tensorflow.core.protobuf import meta_graph_pb2

    meta = meta_graph_pb2.MetaGraphDef()
    try:
        meta.ParseFromString(path.read_bytes())
    except Exception as problem:
        raise CkptError(f"--meta {path_text}: not a MetaGraphDef ({_first_line(problem)})", 2)
    nodes = {node.name: node for node in meta.graph_def.node}
    if not nodes:
        raise CkptError(f"--meta {path_text}: not a MetaGraphDef (no graph in it)", 2)
    names: list[str] = []
    for key in ("variables", "trainable_variables"):
        if key in meta.collection_def:
            for raw in meta.collection_def[key].bytes_list.value:
                variable = variable_pb2.VariableDef()
                variable.ParseFromString(raw)
                name = variable.variable_name.split(":")[0]
                if name not in names:
                    names.append(name)
    if not names:
        names = [n for n, node in nodes.items() if node.op in ("VarHandleOp", "VariableV2", "Variable")]
    found = VariableSet(label=path_text, path=path_text, format="meta-graph", framework="tensorflow", separator="/", loads_as="tf1-saver")
    restored = _saver_names(meta, nodes)
    for name in restored if restored else names:
        node = nodes.get(name)
        shape, dtype = None, "unknown"
        if node is not None and "shape" in node.attr:
            dims = node.attr["shape"].shape
            shape = None if dims.unknown_rank else tuple(d.size for d in dims.dim)
        if node is not None and "dtype" in node.attr:
            dtype = tf.dtypes.as_dtype(node.attr["dtype"].type).name
        found.entries[name] = Entry(name, shape, dtype, formats._tf_kind(name, False))
    if restored:
        found.notes.append(f"the graph's Saver restores {len(restored)} of its {len(names)} variables")
    return found


def _saver_names(meta, nodes) -> list[str]:
    """The tensor names the graph's Saver restores (its RestoreV2 `tensor_names` constant)."""
    scope = meta.saver_def.restore_op_name.rsplit("/", 1)[0] if meta.HasField("saver_def") else "save"
    node = nodes.get(f"{scope}/RestoreV2/tensor_names")
    if node is None or "value" not in node.attr:
        return []
    return [value.decode("utf-8", "replace") for value in node.attr["value"].tensor.string_val]


def from_checkpoint(path_text: str) -> VariableSet:
    """`--against OTHER`: another checkpoint is the reference."""
    try:
        found = formats.read(path_text)
    except CkptError as problem:
        raise CkptError(f"--against {problem.message}", 2)
    if not found.safety.safe:
        raise CkptError(f"--against {path_text}: unsafe to load (needs {', '.join(found.safety.unsafe_globals)}); not compared", 2)
    found.entries = {n: e for n, e in found.entries.items() if e.kind == "param"}
    return found
