"""Pure verdicts: analyses and the script's outcome in, checks (`dldoctor.verdict.Check`) with their fixes out.

Every check id is documented in checks.py (`dldoctor explain graph.ops-created-in-loop`).
A growing graph and a failed script are `fail` checks, so both exit 1; the report's
headline says which it is.
"""

from __future__ import annotations

from typing import Optional

from dldoctor.probes.graph.growth import LIMIT_BYTES, Cause, MetaGrowth, Retrace, Tf1Growth, TorchGrowth
from dldoctor.probes.graph.sources import display_path
from dldoctor.verdict import FAIL, OK, SKIP, WARN, Check, Location, Report

FINALIZE = ("then call `sess.graph.finalize()` (or `tf.get_default_graph().finalize()`) before the loop: "
            "any op created after it raises `RuntimeError: Graph is finalized and cannot be modified` at the line that creates it")

SUMMARY_CALLS = {"image": "tf.summary.image", "scalar": "tf.summary.scalar", "histogram": "tf.summary.histogram",
                 "audio": "tf.summary.audio", "tensor": "tf.summary.text` / `tf.summary.tensor_summary",
                 "merge": "tf.summary.merge_all"}

SUMMARY_FIXES = {
    "image": "create the image summary once, before the loop, with a fixed name and a placeholder for the images "
             "(`img = tf.placeholder(tf.float32, [None, height, width, channels])`; `summary = tf.summary.image('sample', img)`), "
             "and in the loop `writer.add_summary(sess.run(summary, feed_dict={img: batch}), global_step=step)`: TensorBoard "
             "keeps every step's image (a step slider), nothing is overwritten",
    "scalar": "create the scalar summary once, before the loop, on the tensor it reports (`loss_summary = tf.summary.scalar('loss', loss)`), "
              "and in the loop `writer.add_summary(sess.run(loss_summary, feed_dict=feed), global_step=step)` (`feed`: what the "
              "loss needs fed, as for the training step); a number computed in Python needs "
              "no op at all: `writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag='loss', simple_value=value)]), step)`",
    "histogram": "create the histogram summary once, before the loop, on the tensor it reports "
                 "(`weights_summary = tf.summary.histogram('weights', weights)`), and in the loop "
                 "`writer.add_summary(sess.run(weights_summary, feed_dict=feed), global_step=step)` (`feed`: what the tensor needs "
                 "fed, if anything)",
    "audio": "create the audio summary once, before the loop, on a placeholder (`clip = tf.placeholder(tf.float32, [None, None])`; "
             "`summary = tf.summary.audio('clip', clip, sample_rate)`), and in the loop "
             "`writer.add_summary(sess.run(summary, feed_dict={clip: samples}), global_step=step)`",
    "tensor": "create the summary once, before the loop, on a placeholder for what changes (`text = tf.placeholder(tf.string)`; "
              "`summary = tf.summary.text('note', text)`), and in the loop "
              "`writer.add_summary(sess.run(summary, feed_dict={text: value}), global_step=step)`",
    "merge": "call `merged = tf.summary.merge_all()` once, after the last summary op is created and before the loop, and in "
             "the loop `writer.add_summary(sess.run(merged, feed_dict=feed), global_step=step)` (`feed`: what the summaries "
             "need fed, if anything)",
}

CONSTANT_FIXES = {
    "assign": "build the assign op once, before the loop, fed by a placeholder (`value = tf.placeholder(var.dtype.base_dtype, "
              "var.shape)`; `assign = var.assign(value)`), and in the loop `sess.run(assign, feed_dict={value: array})`",
    "summary": "create the summary once, before the loop, on a `tf.placeholder` shaped like the array "
               "(`batch_ph = tf.placeholder(tf.float32, array.shape)`; `summary = tf.summary.image('batch', batch_ph)`, or "
               "the summary you use), and in the loop `sess.run(summary, feed_dict={batch_ph: array})`",
    "": "feed the array through a `tf.placeholder` built once, before the loop (`x = tf.placeholder(tf.float32, array.shape)`, "
        "the op built on `x`), and in the loop `sess.run(op, feed_dict={x: array})`, or read the data with a `tf.data` "
        "pipeline; never pass a NumPy array to a TensorFlow op inside the loop",
}

OTHER_FIXES = {
    "saver": "create the Saver once, before the loop, and call `saver.save(sess, path, global_step=step)` in it",
    "variable": "create the variables once, before the loop; assign to them with an op built once (`var.assign` of a placeholder)",
    "ops": "build every op once, before the loop; in the loop only call `sess.run` on the ops you built",
}


def _names(cause: Cause) -> str:
    return ", ".join(cause.names[:3]) + (", ..." if len(cause.names) > 3 else "") if cause.names else ""


def short_cause(cause: Cause) -> str:
    """A few words for the verdict line: what it is that grows."""
    if cause.kind == "constant":
        return "NumPy arrays embedded as constants"
    if cause.kind == "summary":
        return "a new tf.summary.merge_all op" if cause.detail == "merge" else f"new {SUMMARY_CALLS[cause.detail].replace('`', '')} ops"
    return {"saver": "a new tf.train.Saver", "variable": "new variables"}.get(cause.kind, "new ops")


def explain(cause: Cause) -> str:
    """What is created on every step, and why it grows the graph."""
    names = _names(cause)
    if cause.kind == "constant":
        what = {"assign": "`var.assign(array)` (or `tf.assign`) with a NumPy array",
                "summary": "a summary of a NumPy array"}.get(cause.detail, "a TensorFlow op given a NumPy array (`tf.constant(array)`, "
                                                                   "`tensor * array`)")
        return (f"{what} embeds the array in the graph as a new `Const` op on every call ({human_bytes(cause.const_bytes)} of "
                f"array constants in {cause.ops:,} new ops, up to {human_bytes(cause.largest_op)} each): the array's bytes are "
                "copied into the GraphDef each time")
    if cause.kind == "summary":
        if cause.detail == "merge":
            return (f"`tf.summary.merge_all()` (or `tf.summary.merge`) is called on every step: each call adds a new "
                    f"MergeSummary op ({names})")
        return (f"a `{SUMMARY_CALLS[cause.detail]}` op is created on every call (a new name each time: {names}); each call "
                "adds ops to the graph")
    if cause.kind == "saver":
        return f"a `tf.train.Saver` is created in the loop: every Saver adds its own save/restore ops ({names})"
    if cause.kind == "variable":
        return f"variables are created in the loop ({names})"
    return f"ops are created between runs ({names})" if names else "ops are created between runs"


def fix_for(cause: Cause) -> str:
    if cause.kind == "constant":
        return CONSTANT_FIXES.get(cause.detail, CONSTANT_FIXES[""])
    if cause.kind == "summary":
        return SUMMARY_FIXES[cause.detail]
    return OTHER_FIXES.get(cause.kind, OTHER_FIXES["ops"])


def fixes_for(causes: list) -> str:
    """One fix per kind of growth, numbered when there are several."""
    fixes = list(dict.fromkeys(fix_for(c) for c in causes)) or [OTHER_FIXES["ops"]]
    if len(fixes) == 1:
        return fixes[0]
    return " ".join(f"({n}) {fix};" for n, fix in enumerate(fixes, 1))[:-1]


def human_bytes(count: float) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"


def human_seconds(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _where(site: dict | None, cwd: Optional[str]) -> str:
    if not site:
        return "?"
    return f"{display_path(site.get('file'), cwd)}:{site.get('line')}"


def projection_text(p, unit: str = "run") -> Optional[str]:
    if p is None or p.at_run is None:
        return None
    text = (f"the serialized graph grows {human_bytes(p.bytes_per_run)} per {unit} ({human_bytes(p.bytes_now)} at {unit} "
            f"{p.run_now:,}) and reaches protobuf's 2 GB limit at {unit} ~{p.at_run:,} ({p.runs_to_limit:,} more")
    if p.eta_seconds:
        text += f", ~{human_seconds(p.eta_seconds)} at {p.seconds_per_run * 1000:.1f} ms per {unit}"
    return text + ")"


def _also(causes: list, cwd: Optional[str]) -> list[str]:
    """A detail line for each kind of growth after the first."""
    lines = []
    for cause in causes[1:]:
        where = f" at {_where(cause.where, cwd)}: {cause.where.get('code')}" if cause.where else ""
        lines.append(f"also growing{where}: {explain(cause)}")
    return lines


def _location(site: Optional[dict], cwd: Optional[str]) -> Optional[Location]:
    """The source line a check points at (relative to `cwd` where it lies under it), for annotations."""
    if not site or not site.get("file"):
        return None
    line = site.get("line")
    return Location(display_path(site.get("file"), cwd), line if isinstance(line, int) and line > 0 else None)


def tf1_finding(g: Tf1Growth, cwd: Optional[str]) -> tuple[Check, Optional[str]]:
    """The check of one TF1 graph, and the headline it gives the report when it grows."""
    subject = f"graph {g.graph}"
    evidence = {"graph": g.graph, "runs": g.runs, "baseline_ops": g.baseline_ops, "final_ops": g.final_ops,
                "growth_runs": g.growth_runs, "ops_added": g.ops_added, "ops_per_run": g.ops_per_run}
    check_id = "graph.ops-created-in-loop"
    if not g.growing:
        if g.growth_runs:
            return Check(check_id, OK, f"graph {g.graph}: ops were added in {g.growth_runs} run(s) after the warm-up, the "
                                       f"last at run {g.last_growth_run} of {g.runs}, then the graph stayed at "
                                       f"{g.final_ops:,} ops: not a growing graph", evidence=evidence, subject=subject), None
        return Check(check_id, OK, f"graph {g.graph}: stable, {g.final_ops:,} ops over {g.runs:,} Session.run calls"
                                   + (" (finalized)" if g.finalized else ""), evidence=evidence, subject=subject), None
    causes = [c if isinstance(c, Cause) else Cause(**c) for c in g.causes]
    main = causes[0] if causes else Cause("ops", "", g.ops_added, 0, 0, 0, list(g.op_types)[:4])
    where = main.where
    message = (f"graph {g.graph} grows: {g.ops_added:,} ops added in {g.growth_runs} of {g.runs} runs after the warm-up "
               f"({g.ops_per_run:g} per run; {g.baseline_ops:,} -> {g.final_ops:,} ops); {explain(main)}")
    details = []
    if where:
        details.append(f"created at {_where(where, cwd)}: {where.get('code')}")
    details.extend(_also(causes, cwd))
    text = projection_text(g.projection)
    if text:
        details.append(text)
    headline = f"graph {g.graph} grows by {g.ops_per_run:g} ops per Session.run ({short_cause(main)})"
    if where:
        headline += f", created at {_where(where, cwd)}"
    if g.projection and g.projection.at_run:
        headline += f"; 2 GB at run ~{g.projection.at_run:,}"
        evidence["limit_at_run"] = g.projection.at_run
    evidence["causes"] = [c.kind + (f":{c.detail}" if c.detail else "") for c in causes]
    return Check(check_id, FAIL, message, "\n".join(details), [f"{fixes_for(causes)}; {FINALIZE}"], evidence,
                 _location(where, cwd), subject), headline


def retrace_finding(r: Retrace, cwd: Optional[str]) -> tuple[Check, str]:
    site = r.created if r.kind == "loop" else (r.defined or r.created)
    where = _where(site, cwd)
    evidence = {"function": r.name, "traces": r.traces, "calls": r.calls}
    if r.kind == "loop":
        message = (f"tf.function `{r.name}` is created {r.functions} times at {where}, and each new one is traced again "
                   f"({r.traces} traces in {r.calls} calls)")
        fix = "create the tf.function once, outside the loop (decorate the function at module level), and call that one"
        evidence["functions"] = r.functions
        return (Check("graph.tf-function-created-in-loop", FAIL, message, fix=[fix], evidence=evidence,
                      location=_location(site, cwd), subject=r.name),
                f"tf.function `{r.name}` is created and traced again on every call")
    message = f"tf.function `{r.name}` ({where}) retraces on {r.traces} of {r.calls} calls"
    kinds = {k for k, _ in r.reasons}
    fixes = []
    if "python" in kinds:
        fixes.append("pass tensors, not Python numbers: `f(tf.constant(x))` (or keep the value in a `tf.Variable`); "
                     "a Python value is part of the trace key")
    if "shape" in kinds:
        fixes.append("give a shape-generic signature: `@tf.function(input_signature=[tf.TensorSpec([None, ...], tf.float32)])` "
                     "or `@tf.function(reduce_retracing=True)`")
    if "object" in kinds:
        fixes.append("pass the same object each call, or its tensors")
    if not fixes:
        fixes.append("make each call's arguments the same kinds: tensors of fixed dtype and shape")
    evidence["reasons"] = [text for _, text in r.reasons]
    return (Check("graph.tf-function-retracing", FAIL, message, "\n".join(f"why: {text}" for _, text in r.reasons),
                  ["; ".join(fixes)], evidence, _location(site, cwd), r.name),
            f"tf.function `{r.name}` retraces on {r.traces} of {r.calls} calls")


def torch_finding(t: TorchGrowth, cwd: Optional[str]) -> tuple[Check, str]:
    holder = f"`{t.name}`" + (f" (a {t.container})" if t.container != "Tensor" else "")
    message = (f"{holder} keeps every step's autograd graph alive: {t.first_nodes:,} -> {t.last_nodes:,} autograd nodes "
               f"from step {t.first_step} to {t.last_step} (+{t.nodes_per_step:g} per step), and with them each step's "
               "activations: memory grows until out-of-memory")
    if t.accumulated_at:
        detail = f"accumulated at {_where(t.accumulated_at, cwd)}: {t.accumulated_at['code']}"
        location = _location(t.accumulated_at, cwd)
    else:
        detail = f"in {t.function}() of {display_path(t.file, cwd)}"
        location = _location({"file": t.file, "line": t.backward_line}, cwd)
    fix = ("accumulate a number, not the tensor: `total += loss.item()` (or `loss.detach()`; "
           "`losses.append(loss.item())` for a list)")
    evidence = {"variable": t.name, "container": t.container, "first_step": t.first_step, "last_step": t.last_step,
                "first_nodes": t.first_nodes, "last_nodes": t.last_nodes, "nodes_per_step": t.nodes_per_step}
    return (Check("graph.autograd-graph-kept", FAIL, message, detail, [fix], evidence, location, t.name),
            f"`{t.name}` keeps every step's autograd graph alive (+{t.nodes_per_step:g} nodes per step)")


def script_finding(run: dict, cwd: Optional[str]) -> Optional[Check]:
    """The script's own failure, apart from the graph verdict."""
    name = display_path(run["script"], cwd)
    probe = run.get("probe") or {}
    outcome = probe.get("outcome") or {}
    check_id = "graph.script-failed"
    evidence = {"script": name, "returncode": run.get("returncode")}
    if run.get("error"):
        return Check(check_id, FAIL, f"{name} could not be started: {run['error']}", evidence=evidence)
    if run.get("timed_out"):
        return Check(check_id, FAIL, f"{name} did not finish within --timeout {run['timeout']:g} s and was stopped (a hang, or "
                                     "a long run: a larger --timeout, or a smaller --steps, lets it get further)",
                     fix=[f"a larger --timeout (now {run['timeout']:g} s), or a smaller --steps"], evidence=evidence)
    if outcome.get("status") == "raised":
        where = outcome.get("where")
        at = f" at {_where(where, cwd)}" if where else ""
        message = outcome.get("message") or ""
        evidence["exception"] = outcome.get("exception")
        return Check(check_id, FAIL, f"{name} raised {outcome['exception']}{': ' + message if message else ''}{at}",
                     "(the script's traceback is above)", evidence=evidence, location=_location(where, cwd))
    if outcome.get("status") == "exit":
        extra = f": {outcome['message']}" if outcome.get("message") else ""
        return Check(check_id, FAIL, f"{name} exited with status {outcome['exit_code']}{extra}", evidence=evidence)
    if run.get("signal"):
        evidence["signal"] = run["signal"]
        return Check(check_id, FAIL, f"{name} was killed by {run['signal']} (a crash in native code, or out of memory)",
                     evidence=evidence)
    if not outcome:
        return Check(check_id, FAIL, f"{name} ended (status {run.get('returncode')}) before the instrumentation could report",
                     evidence=evidence)
    return None


def diagnose_run(run: dict, tf1: list[Tf1Growth], tf2: list[Retrace], tf2_calls: int, torch: list[TorchGrowth],
                 torch_steps: int, cwd: Optional[str] = None) -> Report:
    checks: list[Check] = []
    headlines: list[str] = []  # of each growth, in report order
    problem = script_finding(run, cwd)
    if problem:
        checks.append(problem)
    probe = run.get("probe") or {}
    for g in tf1:
        check, headline = tf1_finding(g, cwd)
        checks.append(check)
        if headline:
            headlines.append(headline)
    for r in tf2:
        check, headline = retrace_finding(r, cwd)
        checks.append(check)
        headlines.append(headline)
    if tf2_calls and not tf2:
        functions = len((probe.get("tf2") or {}).get("functions") or [])
        checks.append(Check("graph.tf-function-retracing", OK,
                            f"tf.function: {functions} function(s), {tf2_calls} call(s), no retracing",
                            evidence={"functions": functions, "calls": tf2_calls}))
    for t in torch:
        check, headline = torch_finding(t, cwd)
        checks.append(check)
        headlines.append(headline)
    if torch_steps and not torch:
        observed_steps = min(torch_steps, probe.get('steps', torch_steps))
        checks.append(Check("graph.autograd-graph-kept", OK,
                            f"PyTorch: no autograd graph kept alive across {observed_steps} observed backward steps",
                            evidence={"steps": observed_steps}))
    observed = bool(tf1) or bool(tf2_calls) or bool(torch_steps)
    if not observed and probe:
        checks.append(Check("graph.nothing-observed", SKIP, "no graph execution was observed (no Session.run, tf.function "
                                                            "call or backward): nothing to measure",
                            fix=["run the script with the arguments that start its training loop (after `--`)"]))
    for error in probe.get("errors") or []:
        checks.append(Check("graph.instrumentation", WARN, f"instrumentation: {error}",
                            "what the instrumentation could not see is not in this report",
                            ["please report it, with the script's framework version"], {"error": error}))
    stopped = probe.get("stopped")
    if headlines:
        headline = headlines[0] + (f" (the script was stopped after {stopped['at']} runs)" if stopped else "")
    elif problem:
        headline = problem.title
    else:
        headline = "the graph does not grow" if observed else "nothing grew (no graph execution observed)"
    return Report("graph run", checks, headline=headline)


def diagnose_meta(m: MetaGrowth, cwd: Optional[str] = None) -> Report:
    checks: list[Check] = []
    for path in m.oversized:
        checks.append(Check("graph.meta-too-large", FAIL,
                            f"{display_path(path, cwd)} is 2 GB or more: protobuf cannot parse it, so TensorFlow "
                            "cannot import it (`DecodeError`, `libprotobuf FATAL ... CHECK failed`, "
                            "\"GraphDef cannot be larger than 2GB\")",
                            fix=["rebuild the graph from code and restore only the variables (`saver.restore`): the "
                                 ".meta is not needed for that"],
                            evidence={"path": path}, location=Location(display_path(path, cwd)),
                            subject=display_path(path, cwd)))
    for path, error in m.unreadable:
        checks.append(Check("graph.meta-unreadable", FAIL, f"{display_path(path, cwd)}: {error}",
                            fix=["save that checkpoint again: a truncated or empty file is usually a full disk or a job "
                                 "killed while saving"],
                            evidence={"path": path, "error": error}, location=Location(display_path(path, cwd)),
                            subject=display_path(path, cwd)))
    growth_id = "graph.saved-graph-grows"
    if m.growing:
        causes = [c if isinstance(c, Cause) else Cause(**c) for c in m.causes]
        main = causes[0] if causes else Cause("ops", "", m.nodes_added, 0, 0, 0, list(m.added_types)[:4])
        message = (f"the graph grows between checkpoints: {m.nodes_added:,} nodes in {display_path(m.last, cwd)} that "
                   f"{display_path(m.first, cwd)} does not have; {explain(main)}")
        details = []
        for g in m.groups[:5]:
            loop = f"created in a loop: {g.scopes} scopes named like `{g.pattern}`" if g.scopes > 1 else f"scope `{g.pattern}`"
            types = _type_counts(g.op_types, 5)
            details.append(f"{loop} ({', '.join(g.examples[:3])}{', ...' if g.scopes > 3 else ''}): {g.nodes} nodes, "
                           f"{human_bytes(g.bytes)}; {types}")
        details.extend(_also(causes, cwd))
        text = projection_text(m.projection, unit="step")
        if text:
            details.append(text.replace("the serialized graph", "the .meta file"))
        if m.unreadable:
            details.append(f"fitted to the {m.readable} readable file(s); the unreadable ones above are left out")
        evidence = {"first": m.first, "last": m.last, "nodes_added": m.nodes_added,
                    "causes": [c.kind + (f":{c.detail}" if c.detail else "") for c in causes]}
        if m.projection and m.projection.at_run:
            evidence["limit_at_step"] = m.projection.at_run
        checks.append(Check(growth_id, FAIL, message, "\n".join(details),
                            [f"{fixes_for(causes)}; {FINALIZE}; `saver.save(..., write_meta_graph=False)` after the first "
                             "save also stops rewriting the graph"], evidence,
                            Location(display_path(m.last, cwd)) if m.last else None))
    elif len(m.files) < 2:
        checks.append(Check(growth_id, SKIP, "one .meta file: nothing to compare it with",
                            fix=["point `graph meta` at the train dir that holds the checkpoints of several steps"]))
    elif m.first and m.last:
        nodes = next((f["nodes"] for f in m.files if f["path"] == m.last), None)
        checks.append(Check(growth_id, OK, f"the graph is the same in every readable checkpoint ({nodes:,} nodes)"
                            if m.unreadable else f"the graph is the same size in every checkpoint ({nodes:,} nodes)",
                            evidence={"nodes": nodes}))
    else:
        checks.append(Check(growth_id, SKIP, f"fewer than two readable .meta files ({m.readable} of {len(m.files)}): no "
                                             "growth can be measured"))
    failures = [c for c in checks if c.status == FAIL]
    if m.growing:
        headline = f"the graph saved with each checkpoint grows ({short_cause(main)})"
        if m.unreadable:
            headline += f"; {len(m.unreadable)} .meta file(s) cannot be read"
    elif failures:
        headline = failures[0].title
        if len(failures) > 1:
            headline += f" (and {len(failures) - 1} more problem(s) above)"
    else:
        headline = "the saved graph does not grow"
    return Report("graph meta", checks, headline=headline)


def _type_counts(types: dict, limit: int) -> str:
    items = list(types.items())
    return ", ".join(f"{t} x{c}" for t, c in items[:limit]) + (f", +{len(items) - limit} more" if len(items) > limit else "")


__all__ = ["diagnose_meta", "diagnose_run", "script_finding", "LIMIT_BYTES"]
