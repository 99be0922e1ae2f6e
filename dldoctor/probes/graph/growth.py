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
EMBEDDED_CONST_BYTES = 1024  # a Const node this large holds an array's data, not a shape or a tag
SIGNIFICANT_SHARE = 0.1  # a second cause is named when it holds this share of the added ops or bytes
SUMMARY_OPS = {"ImageSummary": "image", "ScalarSummary": "scalar", "HistogramSummary": "histogram",
               "AudioSummary": "audio", "AudioSummaryV2": "audio", "TensorSummary": "tensor",
               "TensorSummaryV2": "tensor", "MergeSummary": "merge"}
SAVER_OPS = ("SaveV2", "RestoreV2", "SaveSlices", "RestoreSlice", "MergeV2Checkpoints")
VARIABLE_OPS = ("VariableV2", "VarHandleOp", "Variable")
ASSIGN_OPS = ("Assign", "AssignVariableOp")


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
    const_bytes: int = 0  # bytes of the Const ops of EMBEDDED_CONST_BYTES or more (arrays embedded in the graph)
    cause: str = "ops"
    detail: str = ""


@dataclass
class Cause:
    """One kind of op creation, with what it adds: the explanation and the fix are written from it."""
    kind: str  # constant, saver, summary, variable, ops
    detail: str  # summary: image, scalar, histogram, audio, tensor, merge; constant: assign, summary or ""
    ops: int
    bytes: int
    const_bytes: int
    largest_op: int
    names: list
    where: Optional[dict] = None  # the source line with the most bytes of this kind (graph run); None for .meta

    def to_json(self) -> dict:
        return asdict(self)


def classify(types: dict, size: int, const_bytes: int) -> tuple[str, str]:
    """What kind of op creation a set of new ops is, by what they hold: (kind, detail).

    Embedded arrays come first when they are most of the bytes: a `tf.constant(array)`,
    `var.assign(array)` or `tf.summary.image('x', array)` per step grows the graph by the
    array each time, whatever op the array feeds."""
    summaries = Counter({SUMMARY_OPS[t]: c for t, c in types.items() if t in SUMMARY_OPS})
    if const_bytes and const_bytes * 2 >= size:
        if any(t in types for t in ASSIGN_OPS):
            return "constant", "assign"
        return "constant", "summary" if summaries else ""
    if any(t in types for t in SAVER_OPS):
        return "saver", ""
    if summaries:
        specific = [(kind, count) for kind, count in summaries.most_common() if kind != "merge"]
        return "summary", specific[0][0] if specific else "merge"
    if any(t in types for t in VARIABLE_OPS):
        return "variable", ""
    return "ops", ""


def gather_causes(parts: list[tuple[dict, int, int, int, list, Optional[dict]]]) -> list[Cause]:
    """(types, bytes, const bytes, largest op, names, where) of each site or name group ->
    one Cause per kind, the kind with the most bytes first; minor kinds are dropped."""
    merged: dict[tuple[str, str], Cause] = {}
    most: dict[tuple[str, str], int] = {}
    for types, size, const_bytes, largest, names, where in parts:
        key = classify(types, size, const_bytes)
        cause = merged.get(key)
        if cause is None:
            cause = merged[key] = Cause(key[0], key[1], 0, 0, 0, 0, [], where)
            most[key] = -1
        cause.ops += sum(types.values())
        cause.bytes += size
        cause.const_bytes += const_bytes
        cause.largest_op = max(cause.largest_op, largest)
        cause.names.extend(n for n in names if n not in cause.names and len(cause.names) < 6)
        if size > most[key]:
            most[key], cause.where = size, where
    causes = sorted(merged.values(), key=lambda c: (-c.bytes, -c.ops))
    total_ops = sum(c.ops for c in causes) or 1
    total_bytes = sum(c.bytes for c in causes) or 1
    return [c for i, c in enumerate(causes)
            if i == 0 or c.ops / total_ops >= SIGNIFICANT_SHARE or c.bytes / total_bytes >= SIGNIFICANT_SHARE]


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
    causes: list = field(default_factory=list)  # Cause of each kind of op creation, the most bytes first

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
    computed = ("share", "cause", "detail")
    sites = [Site(**{k: s.get(k, 0) for k in Site.__dataclass_fields__ if k not in computed}) for s in graph.get("sites") or []]
    total_traced = sum(s.ops for s in sites) or 1
    for site in sites:
        site.share = round(site.ops / total_traced, 3)
        site.cause, site.detail = classify(site.types, site.bytes, site.const_bytes or 0)
    sites.sort(key=lambda s: (-s.ops, -s.bytes))
    types: Counter = Counter()
    for site in sites:
        types.update(site.types)
    types.update(graph.get("untraced_types") or {})
    samples = graph.get("bytes_samples") or []
    seconds = graph.get("seconds") or 0.0
    per_run = seconds / (runs - 1) if runs > 1 and seconds else None
    projection = project([(r, b) for r, _, b, *_ in samples], per_run) if growing else None
    causes = gather_causes([(site.types, site.bytes, site.const_bytes or 0, site.max_op_bytes, site.names,
                             {"file": site.file, "line": site.line, "function": site.function, "code": site.code})
                            for site in sites])
    if not causes and types:  # ops with no line of the user's in their traceback
        causes = gather_causes([(dict(types), 0, 0, 0, [], None)])
    return Tf1Growth(
        graph=int(graph.get("graph", 1)), runs=runs, baseline_ops=int(graph.get("baseline_ops") or 0),
        final_ops=int(graph.get("ops") or 0), growth_runs=count, ops_added=added, ops_per_run=round(added / span, 2),
        first_growth_run=events[0][0] if events else None, last_growth_run=last, growing=growing,
        op_types=dict(types.most_common()), sites=sites, untraced_types=graph.get("untraced_types") or {},
        projection=projection, bytes_now=samples[-1][2] if samples else None, finalized=bool(graph.get("finalized")),
        series=graph.get("series") or [], cause=causes[0].kind if causes else "ops",
        inspected_runs=int(graph.get("events_inspected") or 0), causes=causes,
    )


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
    const_bytes: int = 0  # bytes of its Const nodes of EMBEDDED_CONST_BYTES or more
    largest_node: int = 0
    cause: str = "ops"
    detail: str = ""


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
    causes: list = field(default_factory=list)  # Cause of each kind of node added, the most bytes first
    readable: int = 0  # files parsed, or checked sound, and so in the size series

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
        g = groups.setdefault(pattern, {"nodes": 0, "scopes": {}, "types": Counter(), "bytes": 0, "const": 0, "largest": 0})
        g["nodes"] += 1
        g["scopes"].setdefault(scope, None)
        g["types"][op] += 1
        g["bytes"] += size
        g["largest"] = max(g["largest"], size)
        if op == "Const" and size >= EMBEDDED_CONST_BYTES:
            g["const"] += size
    result = []
    for p, g in groups.items():
        kind, detail = classify(g["types"], g["bytes"], g["const"])
        result.append(NameGroup(p, g["nodes"], len(g["scopes"]), list(g["scopes"])[:4], dict(g["types"].most_common()),
                                g["bytes"], g["const"], g["largest"], kind, detail))
    result.sort(key=lambda g: (-g.nodes, g.pattern))
    return result


def analyze_meta(files: list) -> MetaGrowth:
    """MetaFile list (by step) -> growth between the first and last readable files, projection by size.

    A file that could not be read is reported, and is no evidence of anything: it is
    neither compared nor in the size series the projection is fitted to."""
    readable = [f for f in files if f.parsed]
    unreadable = [[f.path, f.error] for f in files if f.error]
    oversized = [f.path for f in files if f.size >= LIMIT_BYTES]
    first, last = (readable[0], readable[-1]) if len(readable) >= 2 else (None, None)
    added: list = []
    removed = 0
    diff = getattr(last, "diff", None) if first and last else None
    if diff is not None:  # computed while the last file was read (metagraph.read_dir)
        added, removed = diff["added"], diff["removed"]
    elif first and last and first.names and last.names:
        before = {n for n, _, _ in first.names}
        after = {n for n, _, _ in last.names}
        added = [item for item in last.names if item[0] not in before]
        removed = len(before - after)
    sound = [(i, f) for i, f in enumerate(files) if not f.error]
    xs = [(f.step if f.step is not None else i, f.size) for i, f in sound]
    growing = bool(added)
    projection = project(xs) if growing else None
    types: Counter = Counter(op for _, op, _ in added)
    groups = group_names(added)
    causes = gather_causes([(g.op_types, g.bytes, g.const_bytes, g.largest_node, g.examples, None) for g in groups])
    return MetaGrowth(
        files=[f.to_json() for f in files], first=first.path if first else None, last=last.path if last else None,
        growing=growing, nodes_added=len(added), nodes_removed=removed,
        bytes_per_step=projection.bytes_per_run if projection else None, groups=groups,
        added_types=dict(types.most_common()), projection=projection, unreadable=unreadable, oversized=oversized,
        cause=causes[0].kind if causes else "ops", causes=causes, readable=len(sound))

