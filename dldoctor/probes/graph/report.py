"""The facts `graph` shows above its checks: what ran, the charts, where the ops are created, the .meta files.

These are (style, line) pairs; the checks, the verdict line and every output format
are the shared reporters' (dldoctor.verdict.reporters). No decisions are made here.
"""

from __future__ import annotations

import os
from typing import Optional

from dldoctor.probes.graph import chart
from dldoctor.probes.graph.diagnosis import human_bytes, human_seconds
from dldoctor.probes.graph.sources import display_path
from dldoctor.verdict.reporters import ascii_only

CHART_WIDTH = 40
SITES_SHOWN = 5


def _types(types: dict, limit: int = 4) -> str:
    items = list(types.items())
    text = ", ".join(f"{t} x{c}" for t, c in items[:limit])
    return text + (f", +{len(items) - limit} more" if len(items) > limit else "")


def run_lines(run: dict, analysis: dict, cwd: Optional[str], ascii_only: bool) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    add = lambda line, style="": out.append((style, line))  # noqa: E731
    probe = run.get("probe") or {}
    outcome = probe.get("outcome") or {}
    name = display_path(run["script"], cwd)
    args = (" " + " ".join(run["args"])) if run.get("args") else ""
    instrumented = ", ".join(probe.get("instrumented") or []) or "nothing (no framework imported)"
    stopped = probe.get("stopped")
    if stopped:
        status = f"was stopped by dldoctor after {stopped['at']} runs ({stopped['reason']})"
    elif run.get("timed_out"):
        status = f"was stopped at --timeout {run['timeout']:g} s"
    else:
        status = {"finished": "finished", "raised": f"raised {outcome.get('exception')}", "exit": f"exited with status {outcome.get('exit_code')}"}.get(
            outcome.get("status"), f"ended with status {run.get('returncode')}")
    add(f"dldoctor graph run {name}{args}", "bold")
    add(f"  instrumented: {instrumented}; the script {status} ({run.get('seconds', 0):.1f} s)")
    for g in analysis["tf1"]:
        add("")
        values = chart.step_values(g.series, CHART_WIDTH)
        add(f"graph {g.graph}  ops per Session.run  {chart.sparkline(values, ascii_only)}  "
            f"{g.baseline_ops:,} -> {g.final_ops:,} ops over {g.runs:,} runs", "bold")
        if g.growth_runs:
            add(f"  ops added after the warm-up: {g.ops_added:,} in {g.growth_runs} of {g.runs} runs "
                f"({g.ops_per_run:g} per run), first at run {g.first_growth_run}, last at run {g.last_growth_run}")
            add(f"  op types: {_types(g.op_types)}")
        if g.sites:
            add("  where the new ops are created (ranked by ops; TensorFlow's creation traceback of each op):")
            for rank, site in enumerate(g.sites[:SITES_SHOWN], 1):
                add(f"  {rank}. {display_path(site.file, cwd)}:{site.line} in {site.function}: {site.ops:,} ops "
                    f"({site.share:.0%}), {human_bytes(site.bytes)}, in {site.runs} runs; {_types(site.types, 3)}", "bold" if rank == 1 else "")
                add(f"       {site.code}")
                if site.names:
                    add(f"       op names: {', '.join(site.names[:4])}{', ...' if len(site.names) > 4 else ''}", "dim")
                for caller in site.chain[:2]:
                    add(f"       called from {display_path(caller['file'], cwd)}:{caller['line']} in {caller['function']}: "
                        f"{caller['code']}", "dim")
            if len(g.sites) > SITES_SHOWN:
                add(f"  ... {len(g.sites) - SITES_SHOWN} more lines (--json lists all)", "dim")
        if g.untraced_types:
            add(f"  ops with no line of yours in their traceback: {_types(g.untraced_types)}", "dim")
        if g.bytes_now is not None and g.growing:
            at = g.projection.run_now if g.projection else g.runs
            add(f"  serialized GraphDef: {human_bytes(g.bytes_now)} at run {at}"
                + (f"; 2 GB at run ~{g.projection.at_run:,}" if g.projection and g.projection.at_run else ""))
    if analysis["tf2_calls"]:
        add("")
        functions = (probe.get("tf2") or {}).get("functions") or []
        add(f"tf.function  {len(functions)} function(s), {analysis['tf2_calls']:,} calls", "bold")
        for f in sorted(functions, key=lambda f: -f["traces"])[:SITES_SHOWN]:
            where = f.get("defined") or f.get("created") or {}
            add(f"  {f['name']} ({display_path(where.get('file'), cwd)}:{where.get('line')}): {f['traces']} trace(s) in {f['calls']} call(s)")
    torch = probe.get("torch") or {}
    if torch.get("steps"):
        add("")
        add(f"PyTorch  {torch['steps']:,} backward steps (the first {min(torch['steps'], probe.get('steps', 0) + 1)} observed)", "bold")
        for v in torch.get("variables") or []:
            values = [n for _, n in v["nodes"]]
            add(f"  `{v['name']}` in {v['function']}(): autograd nodes per step {chart.sparkline(chart.step_values(v['nodes'], CHART_WIDTH), ascii_only)} "
                f"{values[0]:,} -> {values[-1]:,}")
    if outcome.get("status") == "raised" and outcome.get("traceback"):
        add("")
        add("the script's traceback:", "bold")
        for line in outcome["traceback"].rstrip().splitlines():
            add(f"  {line}", "dim")
    elif (run.get("signal") or (not outcome and not run.get("timed_out"))) and run.get("stderr_tail"):
        add("")
        add("the script's last output on stderr:", "bold")
        for line in run["stderr_tail"].rstrip().splitlines()[-20:]:
            add(f"  {line}", "dim")
    return out


def meta_lines(target: str, m, cwd: Optional[str], ascii_only: bool) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    add = lambda line, style="": out.append((style, line))  # noqa: E731
    files = m.files
    add(f"dldoctor graph meta {display_path(target, cwd)}  ({len(files)} .meta file(s))", "bold")
    points = meta_points(files)
    if len(points) > 1:
        unreadable = f"  (the {len(files) - len(points)} unreadable file(s) left out)" if len(points) < len(files) else ""
        add(f"  .meta size per step  {chart.sparkline(chart.step_values(points, CHART_WIDTH), ascii_only)}  "
            f"{human_bytes(points[0][1])} -> {human_bytes(points[-1][1])}{unreadable}")
    shown = files if len(files) <= 12 else files[:5] + [None] + files[-5:]
    for f in shown:
        if f is None:
            add(f"    ... {len(files) - 10} more", "dim")
            continue
        nodes = f"{f['nodes']:,} nodes" if f["nodes"] is not None else (
            ("truncated" if f["error"].startswith("truncated") else "unreadable") if f["error"] else "")
        step = f"step {f['step']}" if f["step"] is not None else "no step"
        add(f"    {os.path.basename(f['path']):<28} {step:>12}  {human_bytes(f['size']):>9}  {nodes}")
    if m.growing and m.added_types:
        add(f"  added between {os.path.basename(m.first)} and {os.path.basename(m.last)}: {_types(m.added_types, 6)}")
    return out


def progress_line(probe: Optional[dict], seconds: float) -> str:
    """One line for stderr while the script runs: what has been observed so far."""
    parts = []
    probe = probe or {}
    for g in (probe.get("tf1") or {}).get("graphs") or []:
        added = g.get("ops", 0) - g.get("baseline_ops", 0)
        parts.append(f"graph {g.get('graph')}: {g.get('runs', 0):,} Session.run calls, {g.get('ops', 0):,} ops"
                     + (f" (+{added:,} since the first run)" if added > 0 else ""))
    tf2 = probe.get("tf2") or {}
    if tf2.get("calls"):
        parts.append(f"tf.function: {tf2['calls']:,} calls, {tf2.get('traces', 0):,} traces")
    torch = probe.get("torch") or {}
    if torch.get("steps"):
        parts.append(f"PyTorch: {torch['steps']:,} backward steps")
    if probe.get("stopped"):
        parts.append("growth established, stopping the script")
    return f"dldoctor graph run: {seconds:.0f} s: " + ("; ".join(parts) if parts else "no graph execution observed yet")


def run_panels(analysis: dict, probe: dict) -> list[tuple[str, str, list, None]]:
    """The charts of `graph run --plot`: one per framework that ran, each against its own step count."""
    panels = []
    tf1 = [(f"graph {g.graph}", [x for x, _ in g.series], [y for _, y in g.series]) for g in analysis["tf1"]]
    if tf1:
        panels.append(("Session.run call", "ops in the graph", tf1, None))
    tf2 = probe.get("tf2") or {}
    if tf2.get("calls"):
        series = []
        functions = tf2.get("functions") or []
        if len(functions) > 1:  # several (a new tf.function per call, too): their sum, and each one that retraces
            total = [[0, 0]] + (tf2.get("series") or []) + [[tf2["calls"], tf2.get("traces", 0)]]
            series.append(("all tf.functions", [x for x, _ in total], [y for _, y in total]))
            retracing = {r.name for r in analysis["tf2"] if r.kind == "retrace"}
            functions = sorted((f for f in functions if f["name"] in retracing), key=lambda f: -f["traces"])[:SITES_SHOWN]
        for f in functions:
            points = [[0, 0]] + (f.get("series") or []) + [[f["calls"], f["traces"]]]
            series.append((f"{f['name']} (its own calls)", [x for x, _ in points], [y for _, y in points]))
        panels.append(("tf.function call", "traces so far", series, None))
    torch = probe.get("torch") or {}
    if torch.get("steps"):
        variables = sorted(torch.get("variables") or [], key=lambda v: -(v["nodes"][-1][1] if v["nodes"] else 0))
        series = [(f"`{v['name']}` in {v['function']}()", [x for x, _ in v["nodes"]], [y for _, y in v["nodes"]])
                  for v in variables[:SITES_SHOWN] if v.get("nodes")]
        if series:
            panels.append(("backward step", "autograd nodes held", series, None))
    return panels


def meta_points(files: list) -> list[tuple[float, int]]:
    """(step, size) of the files that could be read: an unreadable file's size says nothing about the graph."""
    return [(f["step"] if f["step"] is not None else i, f["size"]) for i, f in enumerate(files) if not f["error"]]


__all__ = ["run_lines", "meta_lines", "progress_line", "run_panels", "meta_points", "ascii_only", "human_seconds"]
