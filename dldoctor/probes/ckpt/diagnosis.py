"""The verdict: pure functions from (checkpoint facts, model facts) to one-sentence findings.

Recognised, in this order: an unsafe file; another architecture (the top-level
scopes differ and no rename helps: a stale checkpoint of another model); a renamed
scope or prefix (`module.` from DataParallel/DDP, `_orig_mod.` from torch.compile,
`model.` from Lightning, an outer scope added or dropped); fine-tuning (everything
matches except a few head scopes); shape mismatches that look like a changed class
count or input size; then whatever is left, grouped by scope.

Load semantics decide what fails: TF1 `Saver.restore` fails on a missing variable
and ignores extra ones (and, with resource variables, may restore a wrong shape
without a word); `load_state_dict(strict=True)` fails on missing, unexpected and
mis-shaped keys and casts dtypes silently; Keras fails on any mismatch; a TF2 object
restore leaves missing variables at their initial values without an error.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
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
    seen: list[str] = []
    for name in names:
        head = name.split(found.separator, 1)[0]
        if head not in seen:
            seen.append(head)
    return seen


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
            f"tf.compat.v1.train.Saver(var_list=[v for v in tf.compat.v1.global_variables() if not v.op.name.startswith({prefixes!r})]) "
            f"to restore (a second Saver over all variables to save), or with slim's train script "
            f"--checkpoint_exclude_scopes={','.join(scopes)}"
        )
    if loads_as == "keras":
        return "model.load_weights(path, skip_mismatch=True), or load the weights into the model without its new head, then add the head"
    return "restore only the backbone: tf.train.Checkpoint(model=backbone).restore(path).expect_partial(), then build the new head"


# -- shape mismatches ------------------------------------------------------------------------------


def _differing_dims(a: tuple, b: tuple) -> list[int]:
    if len(a) != len(b):
        return []
    return [i for i, (x, y) in enumerate(zip(a, b)) if x != y]


def explain_shapes(shapes: list, loads_as: str, head_names: set) -> list[Finding]:
    """Class-count and input-size patterns among (name, checkpoint shape, model shape)."""
    findings: list[Finding] = []
    torch_layout = loads_as == "torch-strict"
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
    """The few head scopes that hold every difference, when everything else matches (fine-tuning).

    A head scope is named like one (fc, classifier, Logits, head, ...) or is among the
    model's last three scopes; a mismatch in an input dimension is not a head change.
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
    if not all(scope in last or _HEAD_WORDS.search(scope) for scope in scopes):
        return None
    params = max(1, len(model.entries))
    differing = len(set(result.missing) | {n for n, *_ in result.shape})
    if len(scopes) <= 3 and len(result.matched) >= 0.5 * params and differing <= 0.5 * params:
        return scopes
    return None


def _exit(findings) -> int:
    return 1 if any(f.severity in (ERROR, WARNING) for f in findings) else 0


def inventory_only(ckpt: VariableSet) -> Diagnosis:
    findings: list[Finding] = []
    if not ckpt.safety.safe:
        findings.append(_unsafe(ckpt))
    elif ckpt.safety.note:
        findings.append(Finding("safety-note", NOTE, ckpt.safety.note[0].upper() + ckpt.safety.note[1:] + "."))
    scanned_only = ckpt.format in ("pickle", "numpy", "archive")  # no tensors expected: the scan is the answer
    if ckpt.safety.safe and not ckpt.params() and not scanned_only:
        findings.append(Finding("empty", WARNING, "The checkpoint holds no model parameters."))
    findings += _train_dir_notes(ckpt, None)
    code = _exit(findings)
    if not ckpt.safety.safe:
        headline = _unsafe_headline(ckpt)
    elif scanned_only and not ckpt.params():
        headline = f"safe to load: nothing in it runs code ({ckpt.wrapper})"
    elif code:
        headline = findings[0].message
    else:
        headline = f"readable and safe to load ({_plural(len(ckpt.params()), 'tensor')})"
    return Diagnosis(code, headline, findings)


def _unsafe_headline(ckpt: VariableSet) -> str:
    if ckpt.framework == "keras":
        return "UNSAFE to load: the model runs Python code when loaded"
    return "UNSAFE to load: the file runs code when unpickled"


def _unsafe(ckpt: VariableSet) -> Finding:
    names = ", ".join(ckpt.safety.unsafe_globals)
    if ckpt.framework == "keras":
        return Finding(
            "unsafe", ERROR,
            f"Unsafe to load: {names}; {ckpt.safety.note}.",
            "load only the weights (model.load_weights) into a model built from your own code, or load_model(..., safe_mode=True)",
        )
    return Finding(
        "unsafe", ERROR,
        f"Unsafe to load: the file needs the globals {names} ({ckpt.safety.note}); dldoctor did not unpickle it, "
        "and torch.load(weights_only=True) refuses it.",
        "load it with weights_only=False only if you trust where it came from; otherwise ask for a state_dict or .safetensors file",
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
    rename = None
    if not _clean(base, loads_as):
        rename = cmp.best_rename(ckpt.entries, model.entries, separator)
    result = cmp.compare(ckpt.entries, model.entries, rename) if rename else base
    depth = cmp.scope_depth(list(model.params()) or list(ckpt.params()), separator)
    model_params = max(1, len(model.entries))

    if rename:
        why = {
            "module.": " (saved from a DataParallel/DistributedDataParallel-wrapped model)",
            "_orig_mod.": " (saved from a torch.compile()d model)",
            "model.": " (saved from a wrapper such as a LightningModule holding the model as `self.model`)",
        }.get(rename.old if rename.old else rename.new, "")
        if rename.old and not rename.new:
            what = f"the checkpoint's names carry the prefix {rename.old!r}{why} that the model's names lack"
        elif rename.new and not rename.old:
            what = f"the model's names carry the prefix {rename.new!r}{why} that the checkpoint's names lack"
        else:
            what = f"the checkpoint's scope {rename.old!r} is {rename.new!r} in the model"
        after = f"; renamed, {len(result.matched)} of {len(model.entries)} entries match"
        findings.append(Finding("rename", ERROR, f"Renamed scope/prefix: {what}{after}.", rename_fix(rename, loads_as)))

    matched_share = len(result.matched) / model_params
    ckpt_scopes = _scopes(ckpt, ckpt.params())
    model_scopes = _scopes(model, model.params())
    disjoint = not (set(ckpt_scopes) & set(model_scopes))
    another = not rename and not _clean(result, loads_as) and matched_share < 0.2 and (disjoint or matched_share < 0.05)
    if another:
        findings.append(_another_architecture(ckpt, model, result, ckpt_scopes, model_scopes))
    head = None if another else _head_scopes(result, model, depth, loads_as)
    head_names = set()
    if head:
        head_names = {n for n in result.missing + [n for n, *_ in result.shape] if cmp.scope_of(n, separator, depth) in head}
        parts = []
        for scope in head:
            missing = sum(1 for n in result.missing if cmp.scope_of(n, separator, depth) == scope)
            shaped = sum(1 for n, *_ in result.shape if cmp.scope_of(n, separator, depth) == scope)
            extra = sum(1 for n in result.unexpected if cmp.scope_of(n, separator, depth) == scope)
            bits = [b for b in (missing and f"{missing} missing", shaped and f"{shaped} with another shape", extra and f"{extra} unexpected") if b]
            parts.append(f"{scope} ({', '.join(bits)})")
        only_extra = not result.missing and not result.shape
        severity = NOTE if only_extra and loads_as == "tf1-saver" else ERROR
        findings.append(Finding(
            "fine-tuning", severity,
            f"Fine-tuning: everything matches except the head scope{'s' if len(head) > 1 else ''} {', '.join(parts)}: restore all but "
            f"{'them' if len(head) > 1 else 'it'} and train {'them' if len(head) > 1 else 'it'} from scratch.",
            exclude_fix(head, loads_as, separator),
        ))
    if not another:
        findings += explain_shapes(result.shape, loads_as, head_names)
    explained = {name for finding in findings for name in finding.entries}
    findings += _leftovers(result, loads_as, separator, depth, head, another, explained)
    groups = {
        "missing": _groups(result.missing, separator, depth),
        "unexpected": _groups(result.unexpected, separator, depth),
        "shape": _groups([n for n, *_ in result.shape], separator, depth),
        "dtype": _groups([n for n, *_ in result.dtype], separator, depth),
    }
    code = _exit(findings)
    if code == 0:
        extra = f" ({_plural(len(result.unexpected), 'extra checkpoint entry')} ignored)" if result.unexpected else ""
        headline = f"loads cleanly: all {len(model.entries)} model entries found with matching shapes and dtypes{extra}"
    else:
        first = next(f for f in findings if f.severity in (ERROR, WARNING))
        headline = first.message
    return Diagnosis(code, headline, findings, result, groups)


def _clean(result: cmp.Comparison, loads_as: str) -> bool:
    if result.missing or result.shape:
        return False
    if result.unexpected and loads_as != "tf1-saver":
        return False
    return all((a, b) in _WIDER for _, a, b in result.dtype) if loads_as == "torch-strict" else not result.dtype


def _another_architecture(ckpt, model, result, ckpt_scopes, model_scopes) -> Finding:
    ours = ", ".join(ckpt_scopes[:4]) or "nothing"
    theirs = ", ".join(model_scopes[:4]) or "nothing"
    counts = f"{len(result.matched)} of {len(model.entries)} model entries are in it"
    info = ckpt.train_dir
    if info is not None:
        where = (
            f"the `checkpoint` state file in {info.directory} selects {_base(info.selected)}" if info.state_file
            else f"the newest file in {info.directory} is {_base(info.selected)}"
        )
        step = f"step {info.step}, " if info.step is not None else ""
        message = (
            f"Stale checkpoint of another model in the train dir: {where} ({step}modified {_when(info.mtime)}), "
            f"which holds {ours}, while the model is {theirs} ({counts})."
        )
        matching = [f for f in info.families if not is_selected(info, f) and set(f.scopes) & set(model_scopes)]
        if matching:
            fix = f"point the state file at {_base(matching[0].paths[-1])} (it holds {', '.join(matching[0].scopes)}), or clear the stale files"
        else:
            fix = f"clear the stale checkpoint from {info.directory} (or use a new train dir), or point to the right checkpoint"
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
        if loads_as == "torch-strict":
            if lossy:
                where = ", ".join(f"{n} {a} -> {b}" for n, a, b in lossy[:3])
                findings.append(Finding("dtype", ERROR, f"{_plural(len(lossy), 'dtype change')} that lose information: {where}; load_state_dict casts them silently.",
                                        "convert the model (model.to(dtype)) or the checkpoint to the intended dtype first"))
            if lossless:
                where = ", ".join(f"{n} {a} -> {b}" for n, a, b in lossless[:3])
                findings.append(Finding("dtype", NOTE, f"{_plural(len(lossless), 'tensor')} widened on load: {where} (lossless)."))
        else:
            where = ", ".join(f"{n} {a} vs {b}" for n, a, b in result.dtype[:3])
            findings.append(Finding("dtype", ERROR, f"{_plural(len(result.dtype), 'dtype mismatch')} (checkpoint vs model): {where}; restore fails."))
    if result.ignored:
        findings.append(Finding("ignored", NOTE, f"{_plural(len(result.ignored), 'optimizer or counter entry')} in the checkpoint the model does not use (not restored)."))
    return findings
