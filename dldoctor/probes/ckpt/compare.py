"""Checkpoint entries vs model entries: pure functions, no I/O, no frameworks.

`compare` pairs names and checks shapes and dtypes; `best_rename` looks for the one
systematic prefix rename (strip `module.`, add an outer scope, `InceptionV3/` ->
`Net/`) that makes the most names match; `layer_renames` finds layers saved under
another name (`fc.` -> `classifier.`: the same entries with the same shapes, only the
layer's name differs); `group_by_scope` turns thousands of names into a few scopes
with counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from dldoctor.probes.ckpt.facts import Entry

# Prefixes that wrappers add: DataParallel/DDP, torch.compile, Lightning/HF wrappers.
KNOWN_PREFIXES = ("module.", "_orig_mod.", "model.", "module.module.", "net.", "encoder.", "backbone.")


@dataclass(frozen=True)
class Rename:
    """Replace the leading `old` of every checkpoint name with `new` ('' = strip / add)."""

    old: str
    new: str

    def apply(self, name: str) -> str:
        if not self.old:
            return self.new + name
        if name.startswith(self.old):
            return self.new + name[len(self.old):]
        return name

    def describe(self) -> str:
        if not self.old:
            return f"add the prefix {self.new!r} to every checkpoint name"
        if not self.new:
            return f"strip the prefix {self.old!r} from the checkpoint names"
        return f"rename the prefix {self.old!r} to {self.new!r}"


@dataclass(frozen=True)
class KeyMap:
    """How checkpoint names become model names: a prefix rename, then layer renames.

    `layers` holds (checkpoint prefix, model prefix) pairs, both ending with the
    separator and both in the names as they are after the prefix rename.
    """

    prefix: Optional[Rename] = None
    layers: tuple = ()

    def apply(self, name: str) -> str:
        if self.prefix:
            name = self.prefix.apply(name)
        for old, new in self.layers:
            if name.startswith(old):
                return new + name[len(old):]
        return name

    def pairs(self) -> list[tuple[str, str]]:
        """(original checkpoint prefix, model prefix) for every rename, longest first; '' matches every name."""
        found = []
        for old, new in self.layers:
            original = old
            if self.prefix and self.prefix.new and old.startswith(self.prefix.new):
                original = self.prefix.old + old[len(self.prefix.new):]
            elif self.prefix and not self.prefix.new:
                original = self.prefix.old + old
            found.append((original, new))
        if self.prefix:
            found.append((self.prefix.old, self.prefix.new))
        return sorted(found, key=lambda pair: -len(pair[0]))


@dataclass
class Comparison:
    matched: list = field(default_factory=list)  # names present in both, same shape and dtype
    missing: list = field(default_factory=list)  # the model expects them, the checkpoint lacks them
    unexpected: list = field(default_factory=list)  # checkpoint parameters the model does not have
    shape: list = field(default_factory=list)  # (name, checkpoint shape, model shape)
    dtype: list = field(default_factory=list)  # (name, checkpoint dtype, model dtype)
    ignored: list = field(default_factory=list)  # checkpoint optimizer slots / counters the model does not have
    rename: Optional[Rename] = None
    model_count: int = 0
    layer_renames: tuple = ()  # (checkpoint prefix, model prefix) of layers saved under another name

    def same_name(self) -> int:
        return len(self.matched) + len(self.shape) + len(self.dtype) - len({n for n, *_ in self.shape} & {n for n, *_ in self.dtype})

    def to_json(self) -> dict:
        return {
            "rename": {"old": self.rename.old, "new": self.rename.new} if self.rename else None,
            "layer_renames": [{"checkpoint": old, "model": new} for old, new in self.layer_renames],
            "model_entries": self.model_count,
            "matched": len(self.matched),
            "missing": self.missing,
            "unexpected": self.unexpected,
            "shape_mismatches": [{"name": n, "checkpoint": list(a), "model": list(b)} for n, a, b in self.shape],
            "dtype_mismatches": [{"name": n, "checkpoint": a, "model": b} for n, a, b in self.dtype],
            "ignored": self.ignored,
        }


def compare(checkpoint: dict, model: dict, rename: "Optional[Rename | KeyMap]" = None) -> Comparison:
    """Pair checkpoint entries (after `rename`, a prefix Rename or a KeyMap) with the model's, name by name."""
    renamed: dict[str, Entry] = {}
    for name, entry in checkpoint.items():
        renamed[rename.apply(name) if rename else name] = entry
    if isinstance(rename, KeyMap):
        result = Comparison(rename=rename.prefix, model_count=len(model), layer_renames=rename.layers)
    else:
        result = Comparison(rename=rename, model_count=len(model))
    for name, want in model.items():
        have = renamed.get(name)
        if have is None:
            result.missing.append(name)
            continue
        ok = True
        if have.shape is not None and want.shape is not None and tuple(have.shape) != tuple(want.shape):
            result.shape.append((name, tuple(have.shape), tuple(want.shape)))
            ok = False
        if have.dtype != want.dtype:
            result.dtype.append((name, have.dtype, want.dtype))
            ok = False
        if ok:
            result.matched.append(name)
    for name, have in renamed.items():
        if name not in model:
            (result.unexpected if have.kind == "param" else result.ignored).append(name)
    return result


def scope_depth(names, separator: str) -> int:
    """How many leading components to group by: one past what every name shares."""
    names = list(names)
    if not names:
        return 1
    split = [n.split(separator) for n in names]
    shared = 0
    while all(len(parts) > shared + 1 for parts in split) and len({parts[shared] for parts in split}) == 1:
        shared += 1
    return shared + 1


def scope_of(name: str, separator: str, depth: int) -> str:
    parts = name.split(separator)
    return separator.join(parts[: min(depth, max(1, len(parts) - 1))])


def group_by_scope(names, separator: str, depth: int) -> list[tuple[str, list]]:
    """[(scope, [names...])] in order of first appearance."""
    groups: dict[str, list] = {}
    for name in names:
        groups.setdefault(scope_of(name, separator, depth), []).append(name)
    return list(groups.items())


def _leading_prefixes(names, separator: str, share: float = 0.9) -> list[str]:
    """Prefixes (1 or 2 components, with the separator) that at least `share` of the names start with."""
    names = list(names)
    if not names:
        return []
    found = []
    for depth in (1, 2):
        counts = Counter(separator.join(n.split(separator)[:depth]) + separator for n in names if n.count(separator) >= depth)
        for prefix, count in counts.most_common(2):
            if count >= share * len(names) and prefix not in found:
                found.append(prefix)
    for prefix in KNOWN_PREFIXES if separator == "." else ():
        if prefix not in found and any(n.startswith(prefix) for n in names):
            found.append(prefix)
    return found


def _score(checkpoint: dict, model: dict, rename: Optional[Rename]) -> int:
    hits = 0
    for name, entry in checkpoint.items():
        target = model.get(rename.apply(name) if rename else name)
        if target is not None and (entry.shape is None or target.shape is None or tuple(entry.shape) == tuple(target.shape)):
            hits += 1
    return hits


def best_rename(checkpoint: dict, model: dict, separator: str) -> Optional[Rename]:
    """The prefix rename that makes the most model names match (name and shape), or None.

    It must beat the names as they are and cover at least half of the model's entries:
    otherwise it is another model, not a renamed one.
    """
    params = {n: e for n, e in checkpoint.items() if e.kind == "param"}
    if not params or not model:
        return None
    # the prefixes of the parameters: a global_step outside the model's scope is bookkeeping, not a name to match
    ours = _leading_prefixes(params, separator)
    theirs = _leading_prefixes({n: e for n, e in model.items() if e.kind == "param"} or model, separator)
    candidates = [Rename(p, "") for p in ours] + [Rename("", q) for q in theirs]
    candidates += [Rename(p, q) for p in ours for q in theirs if p != q]
    baseline = _score(params, model, None)
    best, best_score = None, baseline
    for candidate in candidates:
        score = _score(params, model, candidate)
        if score > best_score:
            best, best_score = candidate, score
    if best is None or best_score < 0.5 * len(model):
        return _wrapper_prefix(params, model, candidates)
    return best


def _wrapper_prefix(params: dict, model: dict, candidates: list) -> Optional[Rename]:
    """A wrapper's prefix (`module.`, `_orig_mod.`) that makes the names match while the shapes do not.

    DataParallel's `module.` on a checkpoint of a model now built at another width: the prefix
    and the shapes are two problems, and the shapes can be explained only once the names pair up.
    """
    def by_name(rename: Optional[Rename]) -> int:
        return sum(1 for name in params if (rename.apply(name) if rename else name) in model)

    known = [c for c in candidates if not c.new and c.old in KNOWN_PREFIXES or not c.old and c.new in KNOWN_PREFIXES]
    best = max(known, key=by_name, default=None)
    if best is None or by_name(best) < 0.5 * len(model) or by_name(best) <= by_name(None):
        return None
    return best


def _signature(names, cut: int, entries: dict) -> tuple:
    """What a layer holds, without its name: (rest of the name, shape, dtype) of each entry."""
    return tuple(sorted((n[cut:], tuple(entries[n].shape) if entries[n].shape is not None else None, entries[n].dtype) for n in names))


def _parent(prefix: str, separator: str) -> str:
    inner = prefix[: -len(separator)]
    cut = inner.rfind(separator)
    return inner[: cut + len(separator)] if cut >= 0 else ""


def _layers(names: set, entries: dict, separator: str, level: int) -> dict:
    """prefix of `level` components -> the names under it, for prefixes whose every parameter is in `names`."""
    groups: dict = {}
    totals: Counter = Counter()
    for name, entry in entries.items():
        parts = name.split(separator)
        if entry.kind != "param" or len(parts) <= level:
            continue
        prefix = separator.join(parts[:level]) + separator
        totals[prefix] += 1
        if name in names:
            groups.setdefault(prefix, []).append(name)
    return {prefix: found for prefix, found in groups.items() if len(found) == totals[prefix]}


def layer_renames(result: Comparison, checkpoint: dict, model: dict, separator: str) -> tuple:
    """(checkpoint prefix, model prefix) for each layer the model has under another name.

    `checkpoint` holds the checkpoint's entries under the names `result` compared
    (after any prefix rename). A model layer whose parameters are all missing is the
    checkpoint layer whose parameters are all unexpected when both sit under the same
    parent and hold the same entries with the same shapes and dtypes: `fc.weight`,
    `fc.bias` of (10, 16), (10,) saved, `classifier.weight`, `classifier.bias` of the
    same shapes expected. Layers alike in everything pair in their order when both
    sides have as many; a layer that differs in anything but its name is not a rename.
    """
    missing = set(result.missing)
    unexpected = set(result.unexpected)
    if not missing or not unexpected:
        return ()
    pairs: list = []
    depth = max(n.count(separator) for n in missing | unexpected)
    for level in range(1, depth + 1):
        sources: dict = {}
        for prefix, names in _layers(unexpected, checkpoint, separator, level).items():
            sources.setdefault((_parent(prefix, separator), _signature(names, len(prefix), checkpoint)), []).append(prefix)
        targets: dict = {}
        for prefix, names in _layers(missing, model, separator, level).items():
            targets.setdefault((_parent(prefix, separator), _signature(names, len(prefix), model)), []).append(prefix)
        for key, news in targets.items():
            olds = sources.get(key, [])
            if len(olds) != len(news):
                continue  # alike layers on one side and not as many on the other: which is which would be a guess
            for old, new in zip(olds, news):
                pairs.append((old, new))
                missing = {n for n in missing if not n.startswith(new)}
                unexpected = {n for n in unexpected if not n.startswith(old)}
        if not missing or not unexpected:
            break
    return tuple(pairs)
