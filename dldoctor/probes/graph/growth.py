"""Pure analysis of the observations: TF1 graph growth and its 2 GB projection, tf.function
retracing, PyTorch autograd graphs kept alive. Facts in, plain data out; no I/O except
`sources.find_accumulation` for the PyTorch line."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Optional

from dldoctor.probes.graph import sources

LIMIT_BYTES = 2**31  # protobuf refuses to serialize or parse a message of 2 GiB or more
ESTABLISHED_EVENTS = 3
RETRACE_MIN = 3
LOOP_FUNCTIONS_MIN = 3
TORCH_STEPS_MIN = 4
LARGE_CONST_BYTES = 64 * 1024


@dataclass
class Projection:
    bytes_now: int
    run_now: int
    bytes_per_run: float
    runs_to_limit: Optional[int]
    at_run: Optional[int]
    seconds_per_run: Optional[float] = None
    eta_seconds: Optional[float] = None


def project(points: list[tuple[float, float]], seconds_per_run: Optional[float] = None) -> Optional[Projection]:
    """(run or step, bytes) points -> when the size reaches LIMIT_BYTES at the observed rate (least squares)."""
    points = sorted(set((float(x), float(y)) for x, y in points))
    if len(points) < 2 or points[-1][0] == points[0][0]:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else 0.0
    run_now, bytes_now = points[-1]
    if slope <= 0:
        return Projection(int(bytes_now), int(run_now), slope, None, None, seconds_per_run, None)
    remaining = max(0.0, LIMIT_BYTES - bytes_now)
    runs_to_limit = int(math.ceil(remaining / slope))
    eta = runs_to_limit * seconds_per_run if seconds_per_run else None
    return Projection(int(bytes_now), int(run_now), round(slope, 3), runs_to_limit, int(run_now) + runs_to_limit, seconds_per_run, eta)


@dataclass
class Site:
    file: str
    line: int
    function: str
    code: str
    ops: int
    bytes: int
    max_op_bytes: int
    runs: int
    types: dict
    names: list
    chain: list
    share: float = 0.0


@dataclass
class Tf1Growth:
    graph: int
    runs: int
    baseline_ops: int
    final_ops: int
    growth_runs: int
    ops_added: int
    ops_per_run: float
    first_growth_run: Optional[int]
    last_growth_run: Optional[int]
    growing: bool
    op_types: dict
    sites: list[Site]
    untraced_types: dict
    projection: Optional[Projection]
    bytes_now: Optional[int]
    finalized: bool
    series: list
    cause: str = "ops"
    inspected_runs: int = 0

    def to_json(self) -> dict:
        return asdict(self)


def analyze_tf1(graph: dict, warmup: int, steps: int) -> Tf1Growth:
    runs = int(graph.get("runs") or 0)
    events = graph.get("events") or []
    count = int(graph.get("event_count", len(events)))
    added = sum(a for r, a in events if r > warmup)
    last = events[-1][0] if events else None
    growing = count >= ESTABLISHED_EVENTS and last is not None and last >= runs - max(steps // 2, 5)
    span = max(1, runs - warmup)
    sites = [Site(**{k: s.get(k) for k in Site.__dataclass_fields__ if k != "share"}) for s in graph.get("sites") or []]
    total_traced = sum(s.ops for s in sites) or 1
    for site in sites:
        site.share = round(site.ops / total_traced, 3)
    sites.sort(key=lambda s: (-s.ops, -s.bytes))
    types: Counter = Counter()
    for site in sites:
        types.update(site.types)
    types.update(graph.get("untraced_types") or {})
    samples = graph.get("bytes_samples") or []
    seconds = graph.get("seconds") or 0.0
    per_run = seconds / (runs - 1) if runs > 1 and seconds else None
    projection = project([(r, b) for r, _, b, *_ in samples], per_run) if growing else None
    return Tf1Growth(
        graph=int(graph.get("graph", 1)), runs=runs, baseline_ops=int(graph.get("baseline_ops") or 0),
        final_ops=int(graph.get("ops") or 0), growth_runs=count, ops_added=added, ops_per_run=round(added / span, 2),
        first_growth_run=events[0][0] if events else None, last_growth_run=last, growing=growing,
        op_types=dict(types.most_common()), sites=sites, untraced_types=graph.get("untraced_types") or {},
        projection=projection, bytes_now=samples[-1][2] if samples else None, finalized=bool(graph.get("finalized")),
        series=graph.get("series") or [], cause=classify(types, sites), inspected_runs=int(graph.get("events_inspected") or 0),
    )


def classify(types: Counter, sites: list[Site]) -> str:
    """What kind of op creation this is, for the explanation and the fix."""
    top = sites[0] if sites else None
    top_types = Counter(top.types) if top else types
    if top and top.max_op_bytes >= LARGE_CONST_BYTES and top_types.get("Const"):
        return "constant"
    if any(t in top_types for t in ("SaveV2", "RestoreV2", "SaveSlices", "RestoreSlice", "MergeV2Checkpoints")):
        return "saver"
    if any("Summary" in t for t in top_types):
        return "summary"
    if any(t in top_types for t in ("VariableV2", "VarHandleOp", "Variable")):
        return "variable"
    return "ops"


@dataclass
class Retrace:
    name: str
    kind: str  # "retrace" (one function traced again and again) or "loop" (a new tf.function per call)
    calls: int
    traces: int
    defined: Optional[dict]
    created: Optional[dict]
    reasons: list = field(default_factory=list)  # (kind, text)
    functions: int = 1

    def to_json(self) -> dict:
        return asdict(self)


def _label(index: int, arg: dict) -> str:
    return f"`{arg['keyword']}`" if arg.get("keyword") else f"argument {index + 1}"


def retrace_reasons(traced_calls: list[dict]) -> list[tuple[str, str]]:
    """Why successive traces happened: which argument differed between them, and how."""
    reasons: list[tuple[str, str]] = []
    if len(traced_calls) < 2:
        return reasons
    columns = max(len(c["args"]) for c in traced_calls)
    for index in range(columns):
        values = [c["args"][index] for c in traced_calls if index < len(c["args"])]
        label = _label(index, values[0])
        kinds = {v["kind"] for v in values}
        if kinds == {"python"}:
            distinct = list(dict.fromkeys(v["value"] for v in values))
            if len(distinct) > 1:
                shown = ", ".join(distinct[:4]) + (", ..." if len(distinct) > 4 else "")
                reasons.append(("python", f"{label} is a Python {values[0]['type']} with a new value on each call ({shown}): "
                                          "every new Python value is a new trace"))
        elif kinds <= {"tensor", "numpy"}:
            shapes = list(dict.fromkeys(str(v.get("shape")) for v in values))
            dtypes = list(dict.fromkeys(v.get("dtype") for v in values))
            if len(shapes) > 1:
                reasons.append(("shape", f"{label}'s shape changes ({', '.join(shapes[:4])}{', ...' if len(shapes) > 4 else ''})"))
            if len(dtypes) > 1:
                reasons.append(("dtype", f"{label}'s dtype changes ({', '.join(map(str, dtypes[:4]))})"))
        elif kinds == {"object"}:
            reasons.append(("object", f"{label} is a {values[0]['type']} object: each new object is a new trace"))
        elif len(kinds) > 1:
            reasons.append(("mixed", f"{label} is sometimes a {' and sometimes a '.join(sorted(kinds))}"))
    return reasons


def analyze_tf2(tf2: dict) -> list[Retrace]:
    found: list[Retrace] = []
    functions = tf2.get("functions") or []
    groups: dict[tuple, list[dict]] = {}
    for f in functions:
        if f["traces"] >= RETRACE_MIN and f["traces"] * 2 >= f["calls"]:
            found.append(Retrace(f["name"], "retrace", f["calls"], f["traces"], f.get("defined"), f.get("created"),
                                 [list(r) for r in retrace_reasons(f.get("traced_calls") or [])]))
        elif f["traces"] >= 1 and f.get("created"):
            key = (f["created"].get("file"), f["created"].get("line"), f["name"])
            groups.setdefault(key, []).append(f)
    for (_, _, name), members in groups.items():
        if len(members) >= LOOP_FUNCTIONS_MIN:
            found.append(Retrace(name, "loop", sum(m["calls"] for m in members), sum(m["traces"] for m in members),
                                 members[0].get("defined"), members[0].get("created"),
                                 [["loop", f"a new tf.function is created {len(members)} times at the same line, "
                                           "and each new one traces again"]], functions=len(members)))
    return found


@dataclass
class TorchGrowth:
    name: str
    container: str
    file: str
    function: str
    backward_line: int
    first_step: int
    last_step: int
    first_nodes: int
    last_nodes: int
    nodes_per_step: float
    accumulated_at: Optional[dict]

    def to_json(self) -> dict:
        return asdict(self)


def analyze_torch(torch: dict) -> list[TorchGrowth]:
    found = []
    for v in torch.get("variables") or []:
        points = v.get("nodes") or []
        tail = [n for _, n in points[-(TORCH_STEPS_MIN + 1):]]
        if len(tail) <= TORCH_STEPS_MIN or not all(b > a for a, b in zip(tail, tail[1:])):
            continue
        (s0, n0), (s1, n1) = points[0], points[-1]
        found.append(TorchGrowth(
            v["name"], v.get("container", "Tensor"), v["file"], v["function"], v.get("backward_line", 0), s0, s1, n0, n1,
            round((n1 - n0) / max(1, s1 - s0), 1),
            sources.find_accumulation(v["file"], v["function"], v.get("function_line", 0), v["name"])))
    found.sort(key=lambda g: -g.nodes_per_step)
    return found


@dataclass
class NameGroup:
    pattern: str
    nodes: int
    scopes: int
    examples: list
    op_types: dict
    bytes: int


@dataclass
class MetaGrowth:
    files: list  # MetaFile.to_json() of each, by step
    first: Optional[str]
    last: Optional[str]
    growing: bool
    nodes_added: int
    nodes_removed: int
    bytes_per_step: Optional[float]
    groups: list[NameGroup]
    added_types: dict
    projection: Optional[Projection]
    unreadable: list  # (path, error)
    oversized: list  # paths of files of 2 GiB or more
    cause: str = "ops"

    def to_json(self) -> dict:
        return asdict(self)


_DIGITS = None


def name_pattern(scope: str) -> str:
    global _DIGITS
    if _DIGITS is None:
        import re

        _DIGITS = re.compile(r"\d+")
    return _DIGITS.sub("N", scope)


def group_names(names: list) -> list[NameGroup]:
    """Added (name, op, bytes) -> groups by top scope with digits folded: step_100, step_200 -> step_N."""
    groups: dict[str, dict] = {}
    for name, op, size in names:
        scope = name.split("/", 1)[0]
        pattern = name_pattern(scope)
        g = groups.setdefault(pattern, {"nodes": 0, "scopes": {}, "types": Counter(), "bytes": 0})
        g["nodes"] += 1
        g["scopes"].setdefault(scope, None)
        g["types"][op] += 1
        g["bytes"] += size
    result = [NameGroup(p, g["nodes"], len(g["scopes"]), list(g["scopes"])[:4], dict(g["types"].most_common(5)), g["bytes"])
              for p, g in groups.items()]
    result.sort(key=lambda g: (-g.nodes, g.pattern))
    return result


def analyze_meta(files: list) -> MetaGrowth:
    """MetaFile list (by step) -> growth between the first and last readable files, projection by size."""
    readable = [f for f in files if f.parsed]
    unreadable = [[f.path, f.error] for f in files if f.error]
    oversized = [f.path for f in files if f.size >= LIMIT_BYTES]
    first, last = (readable[0], readable[-1]) if len(readable) >= 2 else (None, None)
    added: list = []
    removed = 0
    diff = getattr(last, "diff", None) if first and last else None
    if diff is not None:  # computed while the last file was read (metagraph.read_dir)
        added, removed = diff["added"], diff["removed"]
    elif first and last and first.names is not None and last.names:
        before = {n for n, _, _ in first.names}
        after = {n for n, _, _ in last.names}
        added = [item for item in last.names if item[0] not in before]
        removed = len(before - after)
    xs = [(f.step if f.step is not None else i, f.size) for i, f in enumerate(files)]
    sizes = [f.size for f in files]
    size_growing = len(files) >= 2 and sizes[-1] > sizes[0] and all(b >= a for a, b in zip(sizes, sizes[1:]))
    growing = bool(added) if first and last else (size_growing and sizes[-1] > sizes[0] * 1.01)
    projection = project(xs) if growing else None
    types: Counter = Counter(op for _, op, _ in added)
    groups = group_names(added)
    cause = "ops"
    if any("Summary" in t for t in types):
        cause = "summary"
    if any(t in types for t in ("SaveV2", "RestoreV2")):
        cause = "saver"
    big = max((size for _, op, size in added if op == "Const"), default=0)
    if big >= LARGE_CONST_BYTES:
        cause = "constant"
    return MetaGrowth(
        files=[f.to_json() for f in files], first=first.path if first else None, last=last.path if last else None,
        growing=growing, nodes_added=len(added), nodes_removed=removed,
        bytes_per_step=projection.bytes_per_run if projection else None, groups=groups,
        added_types=dict(types.most_common()), projection=projection, unreadable=unreadable, oversized=oversized, cause=cause)
