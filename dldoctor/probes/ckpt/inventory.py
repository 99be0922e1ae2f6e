"""The inventory of a checkpoint: entries grouped by top-level scope, with totals. Pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from dldoctor.probes.ckpt import compare as cmp
from dldoctor.probes.ckpt.facts import VariableSet


@dataclass
class Scope:
    name: str
    count: int = 0
    params: int = 0
    bytes: int = 0
    dtypes: dict = field(default_factory=dict)  # dtype -> count
    entries: list = field(default_factory=list)  # (name, shape, dtype)


@dataclass
class Inventory:
    scopes: list
    tensors: int
    params: int
    bytes: int
    dtypes: dict
    optimizer_entries: int
    other_entries: int  # counters, object graph
    global_step: object
    epoch: object
    optimizer: bool

    def to_json(self) -> dict:
        data = asdict(self)
        for scope in data["scopes"]:
            scope["entries"] = [{"name": n, "shape": list(s) if s is not None else None, "dtype": d} for n, s, d in scope["entries"]]
        return data


def inventory(found: VariableSet) -> Inventory:
    params = found.params()
    depth = 1
    heads = {name.split(found.separator, 1)[0] for name in params}
    if len(heads) == 1 and len(params) > 1:  # one model scope (InceptionV3/...): group one level down
        depth = cmp.scope_depth(params, found.separator)
    scopes: dict[str, Scope] = {}
    dtypes: Counter = Counter()
    for name, entry in params.items():
        scope = scopes.setdefault(cmp.scope_of(name, found.separator, depth), Scope(cmp.scope_of(name, found.separator, depth)))
        scope.count += 1
        scope.params += entry.numel
        scope.bytes += entry.nbytes
        scope.dtypes[entry.dtype] = scope.dtypes.get(entry.dtype, 0) + 1
        scope.entries.append((name, entry.shape, entry.dtype))
        dtypes[entry.dtype] += 1
    optimizer_entries = sum(1 for e in found.entries.values() if e.kind == "optimizer")
    return Inventory(
        scopes=list(scopes.values()),
        tensors=len(params),
        params=sum(s.params for s in scopes.values()),
        bytes=sum(s.bytes for s in scopes.values()),
        dtypes=dict(dtypes),
        optimizer_entries=optimizer_entries,
        other_entries=sum(1 for e in found.entries.values() if e.kind == "meta"),
        global_step=found.global_step,
        epoch=found.epoch,
        optimizer=found.optimizer or optimizer_entries > 0,
    )
