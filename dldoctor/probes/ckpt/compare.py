"""Checkpoint entries vs model entries: pure functions, no I/O, no frameworks.

`compare` pairs names and checks shapes and dtypes; `best_rename` looks for the one
systematic prefix rename (strip `module.`, add an outer scope, `InceptionV3/` ->
`Net/`) that makes the most names match; `group_by_scope` turns thousands of names
into a few scopes with counts.
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

    def same_name(self) -> int:
        return len(self.matched) + len(self.shape) + len(self.dtype) - len({n for n, *_ in self.shape} & {n for n, *_ in self.dtype})

    def to_json(self) -> dict:
        return {
            "rename": {"old": self.rename.old, "new": self.rename.new} if self.rename else None,
            "model_entries": self.model_count,
            "matched": len(self.matched),
            "missing": self.missing,
            "unexpected": self.unexpected,
            "shape_mismatches": [{"name": n, "checkpoint": list(a), "model": list(b)} for n, a, b in self.shape],
            "dtype_mismatches": [{"name": n, "checkpoint": a, "model": b} for n, a, b in self.dtype],
            "ignored": self.ignored,
        }


def compare(checkpoint: dict, model: dict, rename: Optional[Rename] = None) -> Comparison:
    """Pair checkpoint entries (after `rename`) with the model's, name by name."""
    renamed: dict[str, Entry] = {}
    for name, entry in checkpoint.items():
        renamed[rename.apply(name) if rename else name] = entry
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
    ours, theirs = _leading_prefixes(params, separator), _leading_prefixes(model, separator)
    candidates = [Rename(p, "") for p in ours] + [Rename("", q) for q in theirs]
    candidates += [Rename(p, q) for p in ours for q in theirs if p != q]
    baseline = _score(params, model, None)
    best, best_score = None, baseline
    for candidate in candidates:
        score = _score(params, model, candidate)
        if score > best_score:
            best, best_score = candidate, score
    if best is None or best_score < 0.5 * len(model):
        return None
    return best
