"""The verdict: pure functions from (checkpoint facts, model facts) to one-sentence findings.

Recognised, in this order: an unsafe file (a payload: "do not load this file"; a whole
pickled model: torch's own `add_safe_globals([...])` advice); a wrapper dict whose
weights sit under a key (`ckpt["model_state_dict"]`); a stale checkpoint while another
family in the same train dir matches the model exactly (the fix is that file); another
architecture (the top-level scopes differ and no rename helps, or a rename of the
model's own scope leaves much unexplained); a renamed scope or prefix (`module.` from
DataParallel/DDP, `_orig_mod.` from torch.compile, `model.` from Lightning, an outer
scope added or dropped); renamed layers (the same entries and shapes under another
name: the fix maps the keys); fine-tuning (everything matches except a few head
scopes) and layers added to or removed from the middle; a model built at another width
(many layers scaled by one factor); shape mismatches that look like a changed class
count or input size; then whatever is left, grouped by scope. Optimizer slots and step
counters are bookkeeping: notes, and no evidence for or against "another model"; a
dtype difference is a cast (or a restore error), not another model either.

A wrapper dict, a whole pickled model read with its classes allowed, or a wrapper's prefix
only gets at the weights: when the weights then still do not fit, the verdict names both
steps ("...; then: Fine-tuning: ..."), unless they are another model's (then that is the
verdict). Keras and TF2 object checkpoints load layers by position (see
model.align_positions): a renamed layer loads; past an added layer the fix pairs by name.

Load semantics decide what fails: TF1 `Saver.restore` fails on a missing variable
and ignores extra ones (and, with resource variables, may restore a wrong shape
without a word); `load_state_dict(strict=True)` fails on missing, unexpected and
mis-shaped keys and casts dtypes silently; Keras fails on a missing or mis-shaped layer
and casts dtypes silently; a TF2 object restore leaves missing variables at their initial
values without an error, and fails on another shape or dtype.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Optional

from dldoctor.probes.ckpt import compare as cmp
from dldoctor.probes.ckpt.facts import VariableSet

# Widening casts lose nothing: a float16 checkpoint in a float32 model loads as saved.
_WIDER = {
    ("float16", "float32"), ("float16", "float64"), ("bfloat16", "float32"), ("bfloat16", "float64"),
    ("float32", "float64"), ("int8", "int16"), ("int8", "int32"), ("int8", "int64"), ("int16", "int32"),
    ("int16", "int64"), ("int32", "int64"), ("uint8", "int16"), ("uint8", "int32"), ("uint8", "int64"),
}
_HEAD_WORDS = re.compile(r"(^|[./_])(fc|head|heads|classifier|logits|auxlogits|predictions|output|out|cls|score|lm_head|top|last_linear|fc8|softmax)([./_0-9]|$)", re.I)
_POSITION_WORDS = re.compile(r"pos(ition)?(al)?_?(embed|emb|embedding)", re.I)

ERROR, WARNING, NOTE = "error", "warning", "note"

# Loaders that cast a tensor of another dtype into the model's (the TF1 Saver and a TF2 restore refuse it).
_CASTS = {"torch-strict": "load_state_dict", "keras": "load_weights"}


@dataclass
class Finding:
    kind: str
    severity: str
    message: str
    fix: str = ""
    entries: list = field(default_factory=list)  # the names it explains, when it explains some


@dataclass
class Diagnosis:
    exit_code: int
    headline: str
    findings: list = field(default_factory=list)
    comparison: Optional[cmp.Comparison] = None
    groups: dict = field(default_factory=dict)  # category -> [(scope, count, examples)]

    def to_json(self) -> dict:
        return {
            "exit_code": self.exit_code,
            "headline": self.headline,
            "findings": [asdict(f) for f in self.findings],
            "comparison": self.comparison.to_json() if self.comparison else None,
            "groups": {k: [{"scope": s, "count": c, "examples": e} for s, c, e in v] for k, v in self.groups.items()},
        }


def is_selected(info, family) -> bool:
    """Whether a family holds the checkpoint the train dir selected (paths compared absolute)."""
    selected = os.path.abspath(info.selected)
    return any(os.path.abspath(p) == selected for p in family.paths)


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else "unknown time"


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1] if "/" in name else name


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"{count} {word}"
    if word.endswith("y"):
        return f"{count} {word[:-1]}ies"
    return f"{count} {word}{'es' if word.endswith(('s', 'sh', 'ch')) else 's'}"


def _shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _scopes(found: VariableSet, names) -> list[str]:
    names = list(names)
    heads = {name.split(found.separator, 1)[0] for name in names}
    depth = 2 if len(heads) == 1 and found.separator == "/" and found.format in ("tf2-object", "keras-model") else 1
    seen: list[str] = []
    for name in names:  # a TF2 checkpoint's one root (`model/`) says nothing: its layers do
        head = found.separator.join(name.split(found.separator)[:depth])
        if head not in seen:
            seen.append(head)
    return seen


def _own_scopes(ckpt: VariableSet, model: VariableSet) -> list[str]:
    """The checkpoint's layers by its own names: the model's names for its positions would tell another model's
    layers by the model's (an autoencoder's first Dense shown as the model's `logits`)."""
    if not model.display:
        return _scopes(ckpt, ckpt.params())
    raw = {shown: name for name, shown in model.display.items()}
    own = [ckpt.display.get(raw.get(n, n), raw.get(n, n)) for n in ckpt.params()]
    if ckpt.format == "tf2-object":  # nameless object-graph paths (model/_operations/1/_kernel): the layer paths
        return list(dict.fromkeys(name.rsplit("/", 1)[0] for name in own))
    return _scopes(ckpt, own)


# -- fixes, per load semantics -------------------------------------------------------------------


def rename_fix(rename: cmp.Rename, loads_as: str) -> str:
    old, new = rename.old, rename.new
    if loads_as == "torch-strict":
        if not old:
            return f'state_dict = {{{new!r} + k: v for k, v in state_dict.items()}}'
        if not new:
            return f"state_dict = {{k.removeprefix({old!r}): v for k, v in state_dict.items()}}"
        return f"state_dict = {{({new!r} + k[{len(old)}:] if k.startswith({old!r}) else k): v for k, v in state_dict.items()}}"
    if loads_as == "tf1-saver":
        # Saver's var_list dict maps checkpoint names to the graph's variables.
        if not old:
            expr = f"v.op.name[{len(new)}:]"
        elif not new:
            expr = f"{old!r} + v.op.name"
        else:
            expr = f"v.op.name.replace({new!r}, {old!r}, 1)"
        return f"saver = tf.compat.v1.train.Saver({{{expr}: v for v in tf.compat.v1.global_variables()}})"
    return f"{rename.describe()} (e.g. save the model under the same scope names)"


def exclude_fix(scopes: list[str], loads_as: str, separator: str) -> str:
    prefixes = tuple(s + separator for s in scopes)
    if loads_as == "torch-strict":
        return (
            f"state_dict = {{k: v for k, v in state_dict.items() if not k.startswith({prefixes!r})}}; "
            "model.load_state_dict(state_dict, strict=False)  # strict=False alone still fails on a size mismatch"
        )
    if loads_as == "tf1-saver":
        return (
            f"saver = tf.compat.v1.train.Saver(var_list=[v for v in tf.compat.v1.global_variables() if not v.op.name.startswith({prefixes!r})])"
            f"  # restore with it (and save with a second Saver over all variables), or with slim's train script "
            f"--checkpoint_exclude_scopes={','.join(scopes)}"
        )
    if loads_as == "keras":
        return ("model.load_weights(path, skip_mismatch=True)  # the layers of another shape keep their initial weights; or load "
                "the weights into the model without its new head, then add the head")
    return "restore only the backbone: tf.train.Checkpoint(model=backbone).restore(path).expect_partial(), then build the new head"


def by_name_fix(ckpt: VariableSet, added: str) -> str:
    """A layer added before others: Keras and TF2 pair layers by position, so the fix pairs them by name."""
    if ckpt.positions == "by-name":  # a legacy .h5: its loader takes the layers' names when asked to
        return "model.load_weights(path, by_name=True, skip_mismatch=True)  # by position, load_weights fails: Layer count mismatch"
    copy = ("[model.get_layer(layer.name).set_weights(layer.get_weights()) for layer in old.layers if layer.weights and layer.name in "
            "[own.name for own in model.layers] and [tuple(w.shape) for w in layer.weights] == "
            "[tuple(w.shape) for w in model.get_layer(layer.name).weights]]")
    if ckpt.format == "keras":
        return (f"import keras; old = keras.saving.load_model(path, compile=False); {copy}  # load_weights pairs layers by class "
                f"and position: past {added} each layer would meet its predecessor's weights")
    where = "old.load_weights(path)" if ckpt.framework == "keras" else "tf.train.Checkpoint(model=old).restore(path)"
    return (f"build the model the file was saved from (old), {where}, then copy the layers by name: {copy} (this file's "
            f"loader pairs layers by position: past {added} each layer would meet its predecessor's weights)")


# -- shape mismatches ------------------------------------------------------------------------------


def _differing_dims(a: tuple, b: tuple) -> list[int]:
    if len(a) != len(b):
        return []
    return [i for i, (x, y) in enumerate(zip(a, b)) if x != y]


def _ratios(have: tuple, want: tuple) -> set:
    return {Fraction(want[i], have[i]) for i in _differing_dims(have, want) if have[i] and want[i]}


def _width_change(shapes: list, model: VariableSet, loads_as: str) -> Optional[tuple]:
    """(factor, [names]) when many layers are scaled by the same factor: the model was built at another width.

    A width (channels, hidden size) set in the model's configuration scales every layer
    it feeds: conv1 (8, 3, 3, 3) -> (16, 3, 3, 3), layer1 (8, 8, 3, 3) -> (16, 16, 3, 3),
    the classifier's inputs 16 -> 32. An input-size change touches only the first
    linear layer after a flatten; a class-count change only the head. Two body layers and the
    head scaled alike are a width too (a small Keras model: conv1, conv2, logits).
    """
    if len(shapes) < 3:
        return None
    counts: dict = {}
    for name, have, want in shapes:
        for ratio in _ratios(have, want):
            counts.setdefault(ratio, []).append(name)
    if not counts:
        return None
    factor, names = max(counts.items(), key=lambda item: len(item[1]))
    body = [n for n in names if not _HEAD_WORDS.search(n)]
    separator = model.separator if model is not None else "."
    layers = {n.rsplit(separator, 1)[0] for n in body}
    share = len(names) / max(1, len(model.params()) if model is not None else len(shapes))
    if len(names) >= 0.6 * len(shapes) and len(layers) >= 2 and share >= 0.25:
        return factor, [n for n, *_ in shapes]
    return None


def _factor(ratio: Fraction) -> str:
    if ratio.denominator == 1:
        return f"is {ratio.numerator}x wider"
    if ratio.numerator == 1:
        return f"is {ratio.denominator}x narrower"
    return f"is scaled by {ratio.numerator}/{ratio.denominator}"


def explain_shapes(shapes: list, loads_as: str, head_names: set, model: Optional[VariableSet] = None) -> list[Finding]:
    """Width, class-count and input-size patterns among (name, checkpoint shape, model shape)."""
    findings: list[Finding] = []
    torch_layout = loads_as == "torch-strict"
    width = _width_change(shapes, model, loads_as) if model is not None else None
    if width:
        factor, names = width
        params = len(model.params()) if model is not None else len(names)
        examples = ", ".join(f"{n} {_shape(a)} vs {_shape(b)}" for n, a, b in shapes[:3])
        findings.append(Finding(
            "width", ERROR,
            f"The model is built at another width: {len(names)} of {params} entries have other shapes, and the model "
            f"{_factor(factor)} ({examples}, ...): a configuration change (width, channels, hidden size), not the input size"
            + ("; with resource variables Saver.restore may not raise: the variables silently take the checkpoint's values in the wrong shape."
               if loads_as == "tf1-saver" else "."),
            "build the model with the configuration the checkpoint was trained with (the width/channels argument), "
            "or train this configuration from scratch",
            names,
        ))
        return findings
    classes: list = []
    inputs: list = []
    channels: list = []
    positions: list = []
    for name, have, want in shapes:
        dims = _differing_dims(have, want)
        if len(dims) != 1:
            continue
        dim = dims[0]
        rank = len(have)
        out_dim = 0 if torch_layout or rank == 1 else rank - 1
        in_dim = (1 if torch_layout else rank - 2) if rank >= 2 else None
        pair = (have[dim], want[dim])
        if _POSITION_WORDS.search(name):
            positions.append((name, have, want))
        elif dim == out_dim and (name in head_names or _HEAD_WORDS.search(name)):
            classes.append((name, pair))
        elif rank == 4 and dim == in_dim and min(pair) in (1, 3, 4) and max(pair) <= 4:
            channels.append((name, pair))
        elif rank == 2 and dim == in_dim:
            inputs.append((name, have, want))
    if classes:
        pairs = {p for _, p in classes}
        names = ", ".join(n for n, _ in classes[:4])
        if len(pairs) == 1:
            (old, new), = pairs
            text = f"the number of classes changed from {old} to {new} ({names})"
        else:
            text = f"the output size of the head changed ({names}: " + ", ".join(f"{a} -> {b}" for a, b in sorted(pairs)) + ")"
        findings.append(Finding("class-count", ERROR, f"Shape mismatch in the head: {text}.",
                                "keep the new head untrained: restore everything but it (see the fine-tuning fix)",
                                [n for n, _ in classes]))
    for name, have, want in inputs:
        findings.append(Finding(
            "input-size", ERROR,
            f"{name} takes {have[1 if torch_layout else 0]} inputs in the checkpoint and {want[1 if torch_layout else 0]} in the model: "
            "the input size (image size, sequence length) or a layer before it changed.",
            "build the model for the input size it was trained on, or resize the inputs",
            [name],
        ))
    for name, (old, new) in channels:
        findings.append(Finding("input-channels", ERROR,
                                f"{name} expects {old} input channels in the checkpoint and {new} in the model (RGB vs grayscale?).",
                                "convert the images to the checkpoint's channel count, or adapt the first layer's weights", [name]))
    for name, have, want in positions:
        findings.append(Finding("input-size", ERROR,
                                f"{name} is {_shape(have)} in the checkpoint and {_shape(want)} in the model: the image size or sequence length changed.",
                                "interpolate the position embeddings to the new size, or use the trained input size", [name]))
    return findings


# -- the verdict --------------------------------------------------------------------------------------


def _groups(names, separator: str, depth: int) -> list:
    return [(scope, len(items), [_short(n) if separator == "/" else n for n in items[:3]]) for scope, items in cmp.group_by_scope(names, separator, depth)]


def _out_dim_change(name: str, have: tuple, want: tuple, loads_as: str) -> bool:
    """Whether a shape mismatch is in the output dimension (a head's class count), not an input one."""
    dims = _differing_dims(have, want)
    if len(dims) != 1:
        return False
    out_dim = 0 if loads_as == "torch-strict" or len(have) == 1 else len(have) - 1
    return dims[0] == out_dim


def _head_scopes(result: cmp.Comparison, model: VariableSet, depth: int, loads_as: str) -> Optional[list[str]]:
    """The few scopes that hold every difference, when everything else matches (fine-tuning, a layer added or removed).

    A scope qualifies when it is named like a head (fc, classifier, Logits, head, ...) or
    is among the model's last three scopes, or anywhere when the whole layer is new
    (all its entries missing) or gone (all unexpected); a mismatch in an input
    dimension is not a head change.
    """
    bad = result.missing + result.unexpected + [n for n, *_ in result.shape]
    if not bad or not result.matched:
        return None
    if any(not _out_dim_change(n, a, b, loads_as) for n, a, b in result.shape):
        return None
    order: list[str] = []
    for name in model.params():
        scope = cmp.scope_of(name, model.separator, depth)
        if scope not in order:
            order.append(scope)
    last = set(order[-3:])
    scopes: list[str] = []
    for name in bad:
        scope = cmp.scope_of(name, model.separator, depth)
        if scope not in scopes:
            scopes.append(scope)
    matched_scopes = {cmp.scope_of(n, model.separator, depth) for n in result.matched}
    shaped = {cmp.scope_of(n, model.separator, depth) for n, *_ in result.shape}

    def whole_layer(scope: str) -> bool:
        return scope not in matched_scopes and scope not in shaped

    if not all(scope in last or _HEAD_WORDS.search(scope) or whole_layer(scope) for scope in scopes):
        return None
    params = max(1, len(model.params()))
    matched = sum(1 for n in result.matched if n in model.params())
    differing = len(set(result.missing) | {n for n, *_ in result.shape})
    if len(scopes) <= 3 and matched >= 0.5 * params and differing <= 0.5 * params:
        return scopes
    return None


def _exit(findings) -> int:
    return 1 if any(f.severity in (ERROR, WARNING) for f in findings) else 0


def _headline_finding(findings) -> Optional[Finding]:
    """The finding the verdict names: the first error, else the first warning."""
    return next((f for f in findings if f.severity == ERROR), None) or next((f for f in findings if f.severity == WARNING), None)


# Findings whose fix only gets at the weights (take the wrapper dict's entry, strip a wrapper's prefix):
# what the weights then do not match is a problem of its own, and the verdict names both.
_PREPARATORY = ("wrapper", "rename")


def _headline(findings) -> str:
    first = _headline_finding(findings)
    if first.kind not in _PREPARATORY or first.severity != ERROR:
        return first.message
    errors = [f for f in findings if f.severity == ERROR and f is not first]
    problem = next((f for f in errors if f.kind not in _PREPARATORY), None)
    if problem is not None and problem.kind == "another-architecture":  # no entry or prefix makes another model's weights fit
        return problem.message
    steps = [first] + [f for f in errors if f.kind in _PREPARATORY and f.kind != first.kind][:1] + ([problem] if problem else [])
    return "; then: ".join(step.message.rstrip(".") for step in steps) + "."


def _load_expression(ckpt: VariableSet) -> str:
    return f"torch.load(path, map_location='cpu', weights_only=True)[{ckpt.weights_key!r}]"


def _wrapper_finding(ckpt: VariableSet, severity: str) -> Optional[Finding]:
    """A wrapper dict ({"epoch", "model_state_dict", ...}) is not a state dict: load_state_dict needs the entry.
    Nor is a whole pickled model read with the globals allowed (--allow-global): it needs the object's state_dict()."""
    if ckpt.framework == "torch" and ckpt.wrapper.startswith("a whole pickled"):
        from dldoctor.probes.ckpt.safety import user_allowed

        return Finding(
            "wrapper", severity,
            f"The file is {ckpt.wrapper}: torch.load gives back the model object, and load_state_dict needs its "
            "state_dict(); load the object with its classes allowed, then take that.",
            f"{safe_globals_fix(sorted(user_allowed()))}; state_dict = obj{f'[{ckpt.weights_key!r}]' if ckpt.weights_key else ''}"
            ".state_dict()  # only for a file you trust: "
            "loading runs these classes' code",
        )
    if not ckpt.weights_key or ckpt.framework != "torch":
        return None
    what = "a Lightning checkpoint" if ckpt.wrapper.startswith("Lightning") else "a wrapper dict"
    others = [k for k in ckpt.other_keys if k != ckpt.weights_key][:5]
    also = f" beside {', '.join(others)}" if others else ""
    return Finding(
        "wrapper", severity,
        f"The weights are under ckpt[{ckpt.weights_key!r}] ({what}{also}): model.load_state_dict(torch.load(path)) fails "
        f"with missing and unexpected keys; load that entry.",
        f"state_dict = {_load_expression(ckpt)}",
    )


def inventory_only(ckpt: VariableSet) -> Diagnosis:
    findings: list[Finding] = []
    if not ckpt.safety.safe:
        findings.append(_unsafe(ckpt))
    elif ckpt.safety.note:
        findings.append(Finding("safety-note", NOTE, ckpt.safety.note[0].upper() + ckpt.safety.note[1:] + "."))
    scanned_only = ckpt.format in ("pickle", "numpy", "archive")  # no tensors expected: the scan is the answer
    if ckpt.safety.safe and not ckpt.params() and not scanned_only and not ckpt.notes:
        findings.append(Finding("empty", WARNING, "The checkpoint holds no model parameters."))
    wrapper = _wrapper_finding(ckpt, NOTE) if ckpt.safety.safe else None
    if wrapper:
        findings.append(wrapper)
    for note in ckpt.notes:
        findings.append(Finding("note", NOTE, note[0].upper() + note[1:] + "."))
    findings += _train_dir_notes(ckpt, None)
    code = _exit(findings)
    if not ckpt.safety.safe:
        headline = _unsafe_headline(ckpt)
    elif scanned_only and not ckpt.params():
        headline = f"safe to load: nothing in it runs code ({ckpt.wrapper})"
    elif code:
        headline = _headline_finding(findings).message
    elif not ckpt.params():
        headline = "safe to load: nothing in it runs code"
    else:
        under = f", under ckpt[{ckpt.weights_key!r}]" if wrapper and ckpt.weights_key else ", in a whole pickled model" if wrapper else ""
        headline = f"readable and safe to load ({_plural(len(ckpt.params()), 'tensor')}{under})"
    return Diagnosis(code, headline, findings)


def _unsafe_headline(ckpt: VariableSet) -> str:
    if ckpt.framework == "keras":
        return "UNSAFE to load: the model runs Python code when loaded"
    if _payload(ckpt.safety.unsafe_globals):
        return "UNSAFE to load: do not load this file: it runs code when unpickled"
    return "UNSAFE to load: the file runs code when unpickled"


def _payload(names) -> bool:
    """Globals that run commands or code (os.system, eval, ...), or that cannot be resolved without running the pickle."""
    from dldoctor.probes.ckpt.safety import is_dangerous

    return any(is_dangerous(n) or (n.startswith("<") and not n.startswith("<not scannable")) for n in names)


def safe_globals_fix(names: list[str], what: str = "obj") -> str:
    """torch's own advice for a whole pickled object, as code: import the classes, allow them, load."""
    modules = sorted({n.rsplit(".", 1)[0] for n in names})
    imports = f"import torch, {', '.join(modules)}; " if modules else "import torch; "
    return (
        f"{imports}torch.serialization.add_safe_globals([{', '.join(names)}]); "
        f"{what} = torch.load(path, map_location='cpu', weights_only=True)"
    )


def _unsafe(ckpt: VariableSet) -> Finding:
    names = sorted(ckpt.safety.unsafe_globals)  # a stable order, whatever order the file imports them in
    listed = ", ".join(names)
    if ckpt.framework == "keras":
        return Finding(
            "unsafe", ERROR,
            f"Unsafe to load: {listed}; {ckpt.safety.note}.",
            "load only the weights (model.load_weights) into a model built from your own code, or load_model(..., safe_mode=True)",
        )
    if _payload(names):
        return Finding(
            "unsafe", ERROR,
            f"Unsafe to load: the file needs the globals {listed} ({ckpt.safety.note}); dldoctor did not unpickle it, "
            "and torch.load(weights_only=True) refuses it.",
            "do not load this file (not with torch.load, pickle or joblib, whatever the options): delete it, and get the "
            "weights from a source you trust as a state_dict or .safetensors file",
        )
    if any(n.startswith("<not scannable") for n in names):
        return Finding(
            "unsafe", ERROR,
            f"Unsafe to load: {listed} ({ckpt.safety.note}).",
            "do not load it until it can be checked whole: get a complete copy, or the weights as a state_dict or .safetensors file",
        )
    inventory = ""
    if ckpt.params():
        total = sum(e.numel for e in ckpt.params().values())
        inventory = (f"; read without running it, it holds {_plural(len(ckpt.params()), 'tensor')} ({total:,} parameters) "
                     "listed above")
    return Finding(
        "unsafe", ERROR,
        f"Unsafe to load: the file needs the globals {listed} ({ckpt.safety.note}); dldoctor did not unpickle it, "
        f"and torch.load(weights_only=True) refuses it{inventory}.",
        f"{safe_globals_fix(names)}  # only for a file you trust: loading runs these classes' code; then save "
        "obj.state_dict() and load that from now on",
    )


def _train_dir_notes(ckpt: VariableSet, model: Optional[VariableSet]) -> list[Finding]:
    info = ckpt.train_dir
    if info is None:
        return []
    ours = set(_scopes(ckpt, ckpt.params()))
    others = [f for f in info.families if not is_selected(info, f)]
    differing = [f for f in others if f.scopes and set(f.scopes) != ours]
    if not differing or model is not None:
        return []
    listed = "; ".join(f"{f.name} ({', '.join(f.scopes)}, modified {_when(f.mtime)})" for f in differing)
    return [Finding("mixed-dir", NOTE, f"The train dir also holds checkpoints of other models: {listed}.")]


def _present(result: cmp.Comparison) -> int:
    """Model entries the checkpoint holds under their names and in their shapes (another dtype is a cast, not a miss)."""
    shaped = {n for n, *_ in result.shape}
    return len(set(result.matched) | {n for n, *_ in result.dtype if n not in shaped})


def _param_count(result: cmp.Comparison, model: VariableSet) -> tuple[int, int]:
    """(model parameters the checkpoint holds under their names and in their shapes, model parameters).

    Another dtype is a cast (or a restore error of its own), not another model; counters and slots
    are bookkeeping, not evidence.
    """
    params = model.params()
    shaped = {n for n, *_ in result.shape}
    present = set(result.matched) | {n for n, *_ in result.dtype if n not in shaped}
    return sum(1 for n in present if n in params), max(1, len(params))


def _renamed_entries(ckpt: VariableSet, rename) -> dict:
    return {(rename.apply(n) if rename else n): e for n, e in ckpt.entries.items()}


def _where_selected(info) -> str:
    if info.state_file:
        return f"the `checkpoint` state file in {info.directory} selects {_base(info.selected)}"
    return f"the newest file in {info.directory} is {_base(info.selected)}"


def load_instead_fix(family, info, loads_as: str, holds: str = "") -> str:
    """How to load another family's newest member: TF follows a state file; the other formats are files."""
    target = family.paths[-1]
    what = f"load {_base(target)}" + (f" (it holds {holds})" if holds else "")
    if family.format == "tensorflow":
        if info.state_file:
            return (f"{what}: restore from the prefix {target!r}, not the dir (tf.train.latest_checkpoint follows the state "
                    f"file to {_base(info.selected)}), or point the state file at it")
        return f"{what}: restore from the prefix {target!r}"
    if loads_as == "keras" or family.format in ("h5", "keras"):
        return f"{what}: model.load_weights({target!r})"
    if family.format == "safetensors":
        return f"{what}: import safetensors.torch; state_dict = safetensors.torch.load_file({target!r})"
    entry = f"[{family.weights_key!r}]" if family.weights_key else ""
    if family.whole:  # torch.save(model): its classes allowed, then the object's state_dict()
        from dldoctor.probes.ckpt.safety import user_allowed

        return f"{what}: path = {target!r}; {safe_globals_fix(sorted(user_allowed()))}; state_dict = obj{entry}.state_dict()"
    return f"{what}: state_dict = torch.load({target!r}, map_location='cpu', weights_only=True){entry}"


def _exact_neighbour(ckpt: VariableSet, model: VariableSet, loads_as: str, result: cmp.Comparison) -> Optional[list]:
    """A stale checkpoint is selected while another family in the same dir matches the model exactly (up to a
    wrapper's prefix such as DataParallel's `module.`): [the stale finding (its fix loads that file), the prefix's]."""
    info = ckpt.train_dir
    if info is None:
        return None
    for family in info.families:
        if is_selected(info, family) or not family.entries:
            continue
        prefix = None
        if not _clean(cmp.compare(family.entries, model.entries), loads_as):
            prefix = cmp.best_rename(family.entries, model.entries, model.separator)
            if not _wrapper_rename(prefix) or not _clean(cmp.compare(family.entries, model.entries, prefix), loads_as):
                continue
        step = f"step {info.step}, " if info.step is not None else ""
        matched, params = _param_count(result, model)
        ours, theirs = _scopes(ckpt, ckpt.params())[:4], _scopes(model, model.params())[:4]
        what = f"which holds {', '.join(ours)}, while the model is {', '.join(theirs)}" if ours != theirs else "which does not match the model"
        how = "exactly"
        if prefix:
            how = (f"once the prefix {prefix.old!r} is stripped" if not prefix.new else f"once the prefix {prefix.new!r} is added"
                   if not prefix.old else f"once {prefix.old!r} is read as {prefix.new!r}")
        found = [Finding(
            "stale-checkpoint", ERROR,
            f"Stale checkpoint in the train dir: {_where_selected(info)} ({step}modified {_when(info.mtime)}), {what} "
            f"({matched} of {params} model parameters found as they are); {family.name} in the same dir matches the model "
            f"{how} (all {len(model.entries)} entries).",
            load_instead_fix(family, info, loads_as),
        )]
        if prefix:
            found.append(Finding("rename", ERROR, f"Renamed scope/prefix in {family.name}: {_prefix_what(prefix)}.", rename_fix(prefix, loads_as)))
        return found
    return None


def _layer_fix(keymap: cmp.KeyMap, loads_as: str) -> str:
    """Code that maps every checkpoint name to the model's (prefix and layer renames together)."""
    pairs = keymap.pairs()
    if loads_as == "torch-strict":
        if len(pairs) == 1:
            (old, new), = pairs
            return f"state_dict = {{({new!r} + k[{len(old)}:] if k.startswith({old!r}) else k): v for k, v in state_dict.items()}}"
        return (f"renames = {pairs!r}; state_dict = {{next((new + k[len(old):] for old, new in renames if k.startswith(old)), k): v "
                "for k, v in state_dict.items()}")
    if loads_as == "tf1-saver":
        inverse = sorted(((new, old) for old, new in pairs), key=lambda pair: -len(pair[0]))
        return (f"renames = {inverse!r}; saver = tf.compat.v1.train.Saver({{next((old + v.op.name[len(new):] for new, old in renames "
                "if v.op.name.startswith(new)), v.op.name): v for v in tf.compat.v1.global_variables()})")
    names = ", ".join(f"{new.rstrip('/.')} as {old.rstrip('/.')}" for old, new in pairs if old)
    if loads_as == "keras":
        return f"give the layers their checkpoint names ({names}: name=... in the layer), or load by position into a model with those names"
    return f"give the layers their checkpoint names ({names}: the attribute names of the object graph), or restore them through a tf.train.Checkpoint that maps the names"


def _layer_rename_finding(ckpt, model, result: cmp.Comparison, keymap: cmp.KeyMap, loads_as: str, prefix_what: str) -> Finding:
    shown = [(old, new) for old, new in keymap.layers]
    separator = model.separator
    parts = []
    for old, new in shown:
        count = sum(1 for n in result.matched if n.startswith(new))
        parts.append(f"the checkpoint's {old.rstrip(separator)} is {new.rstrip(separator)} in the model ({_plural(count, 'entry')}, the same shapes)")
    also = f"; and {prefix_what}" if prefix_what else ""
    matched, params = _param_count(result, model)
    return Finding(
        "renamed-layer", ERROR,
        f"Renamed layer{'s' if len(shown) > 1 else ''}: {'; '.join(parts)}{also}: a rename, not a new layer; renamed, "
        f"{_present(result)} of {len(model.entries)} entries match.",
        _layer_fix(keymap, loads_as),
    )


def _prefix_what(rename: cmp.Rename) -> str:
    why = {
        "module.": " (saved from a DataParallel/DistributedDataParallel-wrapped model)",
        "_orig_mod.": " (saved from a torch.compile()d model)",
        "model.": " (saved from a wrapper such as a LightningModule holding the model as `self.model`)",
    }.get(rename.old if rename.old else rename.new, "")
    if rename.old and not rename.new:
        return f"the checkpoint's names carry the prefix {rename.old!r}{why} that the model's names lack"
    if rename.new and not rename.old:
        return f"the model's names carry the prefix {rename.new!r}{why} that the checkpoint's names lack"
    return f"the checkpoint's scope {rename.old!r} is {rename.new!r} in the model"


def _wrapper_rename(rename: Optional[cmp.Rename]) -> bool:
    """A prefix that a wrapper adds or an outer scope (tower_0/): the rest of the names are the model's own."""
    return rename is not None and (not rename.old or not rename.new or rename.old in cmp.KNOWN_PREFIXES or rename.new in cmp.KNOWN_PREFIXES)


def diagnose(ckpt: VariableSet, model: Optional[VariableSet]) -> Diagnosis:
    if model is None:
        return inventory_only(ckpt)
    if not ckpt.safety.safe:
        finding = _unsafe(ckpt)
        return Diagnosis(1, _unsafe_headline(ckpt), [finding])
    loads_as = model.loads_as or ckpt.loads_as
    separator = model.separator
    base = cmp.compare(ckpt.entries, model.entries)
    findings: list[Finding] = []
    wrapper = _wrapper_finding(ckpt, ERROR) if model.format == "torch-module" else None
    if wrapper:
        findings.append(wrapper)
    rename = None
    if not _clean(base, loads_as):
        rename = cmp.best_rename(ckpt.entries, model.entries, separator)
    result = cmp.compare(ckpt.entries, model.entries, rename) if rename else base
    keymap = None
    if not _clean(result, loads_as):
        layers = cmp.layer_renames(result, _renamed_entries(ckpt, rename), model.entries, separator)
        if layers:
            keymap = cmp.KeyMap(rename, layers)
            result = cmp.compare(ckpt.entries, model.entries, keymap)
    depth = cmp.scope_depth(list(model.params()) or list(ckpt.params()), separator)
    groups = {
        "missing": _groups(result.missing, separator, depth),
        "unexpected": _groups(result.unexpected, separator, depth),
        "shape": _groups([n for n, *_ in result.shape], separator, depth),
        "dtype": _groups([n for n, *_ in result.dtype], separator, depth),
    }
    if not _clean(result, loads_as):
        stale = _exact_neighbour(ckpt, model, loads_as, result)
        if stale:  # the fix is the other file: no entry, rename or partial restore of this one
            return Diagnosis(1, stale[0].message, stale, result, groups)

    matched, params = _param_count(result, model)
    matched_share = matched / params
    ckpt_scopes = _scopes(ckpt, ckpt.params())
    model_scopes = _scopes(model, model.params())
    disjoint = not (set(ckpt_scopes) & set(model_scopes))
    head = None
    another = not rename and not _clean(result, loads_as) and matched_share < 0.2 and (disjoint or matched_share < 0.05)
    if not another:
        head = _head_scopes(result, model, depth, loads_as)
        # a rename of the model's own top scope (InceptionV3/ -> InceptionV4/) that leaves much unexplained is another model
        another = (rename is not None and not _wrapper_rename(rename) and not keymap and head is None
                              and not _clean(result, loads_as) and not _width_change(result.shape, model, loads_as))
        if another:
            head = None
    if another:
        findings.append(_another_architecture(ckpt, model, result, ckpt_scopes, model_scopes, rename))
    elif keymap:
        findings.append(_layer_rename_finding(ckpt, model, result, keymap, loads_as, _prefix_what(rename) if rename else ""))
    elif rename:
        after = f"; renamed, {_present(result)} of {len(model.entries)} entries match"
        findings.append(Finding("rename", ERROR, f"Renamed scope/prefix: {_prefix_what(rename)}{after}.", rename_fix(rename, loads_as)))
    head_names = set()
    if head:
        head_names = {n for n in result.missing + [n for n, *_ in result.shape] if cmp.scope_of(n, separator, depth) in head}
        partial = _partial_restore_finding(result, model, head, depth, loads_as, separator, shifted=bool(ckpt.positions))
        if ckpt.positions:  # paired by name or content past an added layer: the loader would not pair them so
            partial.fix = by_name_fix(ckpt, ", ".join(head))
        findings.append(partial)
    if not another:
        findings += explain_shapes(result.shape, loads_as, head_names, model)
    explained = {name for finding in findings for name in finding.entries}
    findings += _leftovers(result, loads_as, separator, depth, head, another, explained)
    code = _exit(findings)
    if code == 0:
        extra = f" ({_plural(len(result.unexpected), 'extra checkpoint entry')} ignored)" if result.unexpected else ""
        headline = f"loads cleanly: all {len(model.entries)} model entries found with matching shapes and dtypes{extra}"
    else:
        headline = _headline(findings)
    return Diagnosis(code, headline, findings, result, groups)


def _partial_restore_finding(result, model, scopes, depth, loads_as, separator, shifted: bool = False) -> Finding:
    """Everything matches but a few layers: new heads (fine-tuning), or layers added to or removed from the middle."""
    order: list[str] = []
    for name in model.params():
        scope = cmp.scope_of(name, separator, depth)
        if scope not in order:
            order.append(scope)
    matched_scopes = {cmp.scope_of(n, separator, depth) for n in result.matched if n in model.params()}
    last_matched = max((order.index(s) for s in matched_scopes if s in order), default=-1)
    heads, added, removed = [], [], []
    for scope in scopes:
        missing = sum(1 for n in result.missing if cmp.scope_of(n, separator, depth) == scope)
        shaped = sum(1 for n, *_ in result.shape if cmp.scope_of(n, separator, depth) == scope)
        extra = sum(1 for n in result.unexpected if cmp.scope_of(n, separator, depth) == scope)
        bits = [b for b in (missing and f"{missing} missing", shaped and f"{shaped} with another shape", extra and f"{extra} unexpected") if b]
        text = f"{scope} ({', '.join(bits)})"
        in_middle = scope in order and order.index(scope) < last_matched
        if _HEAD_WORDS.search(scope) or not in_middle and (missing or shaped):
            heads.append(text)
        elif missing and not extra and not shaped:
            added.append(text)
        elif extra and not missing and not shaped:
            removed.append(text)
        else:
            heads.append(text) if not in_middle else added.append(text)
    only_extra = not result.missing and not result.shape
    severity = NOTE if only_extra and loads_as == "tf1-saver" else ERROR
    fix = exclude_fix(scopes, loads_as, separator)
    it = "them" if len(scopes) > 1 else "it"
    silent = " (a TF2 restore leaves the missing ones at their initial values without an error)" if loads_as == "tf2-object" and result.missing else ""
    if shifted:  # the loader pairs by position: the layers after the added one get the wrong weights, or fail on their shapes
        silent = (", by name: the loader pairs layers by position, so past the added layer it would pair each layer with "
                  "its predecessor's weights")
    if heads and not added and not removed:
        return Finding(
            "fine-tuning", severity,
            f"Fine-tuning: everything matches except the head scope{'s' if len(heads) > 1 else ''} {', '.join(heads)}: restore all but "
            f"{it} and train {it} from scratch{silent}.",
            fix,
        )
    parts = []
    if heads:
        parts.append(f"the head scope{'s' if len(heads) > 1 else ''} {', '.join(heads)}")
    if added:
        parts.append(f"the added layer{'s' if len(added) > 1 else ''} {', '.join(added)}")
    if removed:
        parts.append(f"the removed layer{'s' if len(removed) > 1 else ''} {', '.join(removed)}")
    todo = "restore all the rest" + (f" and train the new layer{'s' if len(heads) + len(added) > 1 else ''} from scratch" if heads or added else "")
    kind = "added-layer" if added else "removed-layer" if removed else "fine-tuning"
    return Finding(kind, severity, f"Changed layers: everything matches except {' and '.join(parts)}: {todo}{silent}.", fix)


def _clean(result: cmp.Comparison, loads_as: str) -> bool:
    if result.missing or result.shape:
        return False
    if result.unexpected and loads_as != "tf1-saver":
        return False
    return all((a, b) in _WIDER for _, a, b in result.dtype) if loads_as in _CASTS else not result.dtype


def _another_architecture(ckpt, model, result, ckpt_scopes, model_scopes, rename=None) -> Finding:
    ours = ", ".join(_own_scopes(ckpt, model)[:4]) or "nothing"
    theirs = ", ".join(model_scopes[:4]) or "nothing"
    matched, params = _param_count(result, model)
    counts = f"{matched} of {params} model parameters are in it"
    if rename is not None:
        counts = f"even with {rename.old!r} read as {rename.new!r}, only {matched} of {params} model parameters match"
    info = ckpt.train_dir
    if info is not None:
        step = f"step {info.step}, " if info.step is not None else ""
        message = (
            f"Stale checkpoint of another model in the train dir: {_where_selected(info)} ({step}modified {_when(info.mtime)}), "
            f"which holds {ours}, while the model is {theirs} ({counts})."
        )
        matching = [f for f in info.families if not is_selected(info, f) and set(f.scopes) & set(model_scopes)]
        loads_as = model.loads_as or ckpt.loads_as
        if matching:
            fix = f"{load_instead_fix(matching[0], info, loads_as, ', '.join(matching[0].scopes))}; or clear the stale files"
        elif info.state_file:
            fix = f"clear the stale checkpoint from {info.directory} (or use a new train dir), or point the state file at the right checkpoint"
        else:
            fix = f"load the file trained for this model by its name (no file in {info.directory} matches it), or clear the stale files"
        return Finding("another-architecture", ERROR, message, fix)
    return Finding(
        "another-architecture", ERROR,
        f"Another architecture: the checkpoint holds {ours}, the model is {theirs} ({counts}): this checkpoint belongs to another model.",
        "use the checkpoint trained for this model (a stale file of another model in the train dir?), or build the model it was saved from",
    )


def _base(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


def _leftovers(result, loads_as, separator, depth, head, another, explained=frozenset()) -> list[Finding]:
    """Counts for what the named patterns above do not explain."""
    findings: list[Finding] = []
    in_head = (lambda n: cmp.scope_of(n, separator, depth) in head) if head else (lambda n: False)
    if another:
        return findings
    missing = [n for n in result.missing if not in_head(n)]
    unexpected = [n for n in result.unexpected if not in_head(n)]
    shapes = [s for s in result.shape if not in_head(s[0]) and s[0] not in explained]
    if missing:
        scopes = cmp.group_by_scope(missing, separator, depth)
        where = ", ".join(f"{s} ({len(items)})" for s, items in scopes[:5])
        effect = {
            "tf1-saver": "Saver.restore fails with NotFoundError",
            "tf2-object": "restore leaves them at their initial values without an error",
            "keras": "load_weights fails",
        }.get(loads_as, "load_state_dict fails (strict)")
        findings.append(Finding("missing", ERROR, f"{_plural(len(missing), 'model entry')} missing from the checkpoint: {where}; {effect}."))
    if unexpected:
        scopes = cmp.group_by_scope(unexpected, separator, depth)
        where = ", ".join(f"{s} ({len(items)})" for s, items in scopes[:5])
        severity, effect = {
            "tf1-saver": (NOTE, "Saver ignores them"),
            "tf2-object": (WARNING, "restore ignores them silently; assert_consumed() fails"),
            "keras": (ERROR, "load_weights fails"),
        }.get(loads_as, (ERROR, "load_state_dict fails (strict)"))
        findings.append(Finding("unexpected", severity, f"{_plural(len(unexpected), 'checkpoint entry')} the model does not have: {where}; {effect}."))
    if shapes:
        where = ", ".join(f"{n} {_shape(a)} vs {_shape(b)}" for n, a, b in shapes[:3])
        effect = (
            "with resource variables Saver.restore may not raise: the variable silently takes the checkpoint's values in the wrong shape"
            if loads_as == "tf1-saver" else "loading fails with a size mismatch"
        )
        findings.append(Finding("shape", ERROR, f"{_plural(len(shapes), 'shape mismatch')} (checkpoint vs model): {where}{', ...' if len(shapes) > 3 else ''}; {effect}."))
    if result.dtype:
        lossless = [d for d in result.dtype if (d[1], d[2]) in _WIDER]
        lossy = [d for d in result.dtype if (d[1], d[2]) not in _WIDER]
        if loads_as in _CASTS:
            if lossy:
                where = ", ".join(f"{n} {a} -> {b}" for n, a, b in lossy[:3])
                convert = ("convert the model (model.to(dtype)) or the checkpoint to the intended dtype first" if loads_as == "torch-strict"
                           else "build the model in the checkpoint's dtype (dtype= on its layers, or keras.config.set_floatx) if it should keep it")
                findings.append(Finding("dtype", ERROR, f"{_plural(len(lossy), 'dtype change')} that lose information: {where}; "
                                                        f"{_CASTS[loads_as]} casts them silently.", convert))
            if lossless:
                where = ", ".join(f"{n} {a} -> {b}" for n, a, b in lossless[:3])
                findings.append(Finding("dtype", NOTE, f"{_plural(len(lossless), 'tensor')} widened on load: {where} (lossless)."))
        else:
            where = ", ".join(f"{n} {a} vs {b}" for n, a, b in result.dtype[:3])
            findings.append(Finding("dtype", ERROR, f"{_plural(len(result.dtype), 'dtype mismatch')} (checkpoint vs model): {where}; restore fails "
                                                    "with InvalidArgumentError.",
                                    "build the model's variables in the checkpoint's dtype, or cast the checkpoint's values and save them again"))
    if result.ignored:
        findings.append(Finding("ignored", NOTE, f"{_plural(len(result.ignored), 'optimizer or counter entry')} in the checkpoint the model does not use (not restored)."))
    return findings
