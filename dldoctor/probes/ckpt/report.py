"""What `ckpt` shows above its checks (the checkpoint, the train dir, the inventory, the comparison), and its
findings as the shared checks (`to_report`): text, JSON and GitHub output are the shared reporters'
(dldoctor.verdict.reporters). No decisions are made here.

Names and metadata come from the file: every line and every check's text goes through
`guard.printable`, so a tensor named "\x1b[2K\rverdict: OK" prints as those characters.
"""

from __future__ import annotations

import os
from datetime import datetime

from dldoctor.probes.ckpt.checks import KINDS
from dldoctor.probes.ckpt.diagnosis import ERROR, NOTE, WARNING, Diagnosis, is_selected
from dldoctor.probes.ckpt.facts import VariableSet
from dldoctor.probes.ckpt.guard import human as human_bytes
from dldoctor.probes.ckpt.guard import printable
from dldoctor.probes.ckpt.inventory import Inventory
from dldoctor.verdict import FAIL, OK, WARN, Check, Location, Report

STATUS = {ERROR: FAIL, WARNING: WARN, NOTE: OK}

FORMAT_NAMES = {
    "tf1": "TensorFlow checkpoint (TF1 name-based, Saver)",
    "tf2-object": "TensorFlow checkpoint (TF2 object-based)",
    "keras": "Keras .keras archive",
    "keras-h5": "Keras HDF5 weights",
    "torch": "PyTorch checkpoint (zip)",
    "torch-legacy": "PyTorch checkpoint (legacy pickle)",
    "safetensors": "safetensors",
    "torch-module": "torch.nn.Module",
    "keras-model": "Keras model",
    "tf1-graph": "TF1 graph",
    "meta-graph": "MetaGraphDef",
}
LIST_ALL_BELOW = 40  # entries: up to this many, every entry is listed with its shape
PER_SCOPE = 3




def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S") if timestamp else "unknown"


def _shape(shape) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _describe(found: VariableSet) -> str:
    kind = FORMAT_NAMES.get(found.format, found.format)
    size = f", {human_bytes(found.size_bytes)}" if found.size_bytes else ""
    return f"{kind}{size}"


def text_lines(ckpt: VariableSet, inv: Inventory, model: VariableSet | None, diagnosis: Diagnosis) -> list[tuple[str, str]]:
    """(style, line) pairs above the checks, made printable; style is '' or a rich style name."""
    out: list[tuple[str, str]] = []
    add = lambda line, style="": out.append((style, line))  # noqa: E731
    shown = ckpt.train_dir.selected if ckpt.train_dir else ckpt.path
    add(f"checkpoint  {shown}  [{_describe(ckpt)}]", "bold")
    info = ckpt.train_dir
    if info:
        step = f"step {info.step}, " if info.step is not None else ""
        if info.state_file:
            add(f"  state file {info.state_file} selects {os.path.basename(info.selected)} ({step}modified {_when(info.mtime)})"
                + ("" if info.how == "state file" else f" via {info.how}"))
        else:
            add(f"  {info.directory}: {info.how}: {os.path.basename(info.selected)} ({step}modified {_when(info.mtime)})")
        add("  checkpoint families in the dir (* = selected):")
        for family in info.families:
            steps = [s for s in family.steps if s is not None]
            span = f"steps {', '.join(map(str, steps[-5:]))}" if steps else "no step"
            mark = "*" if is_selected(info, family) else " "
            scopes = f", scopes {', '.join(family.scopes)}" if family.scopes else ""
            add(f"  {mark} {family.name} [{family.format}] {len(family.paths)} file(s), {span}, modified {_when(family.mtime)}{scopes}")
    if ckpt.wrapper:
        add(f"  {ckpt.wrapper}")
    facts = []
    if inv.global_step is not None:
        named = info.step if info else None
        facts.append(f"global step {inv.global_step}" + (f" (the file name says {named})" if named is not None and named != inv.global_step else ""))
    if inv.epoch is not None:
        facts.append(f"epoch {inv.epoch}")
    if ckpt.safety.safe:
        facts.append(f"optimizer state {'present' if inv.optimizer else 'absent'}" + (f" ({inv.optimizer_entries} entries)" if inv.optimizer_entries else ""))
    if facts:
        add("  " + ", ".join(facts))
    if inv.tensors:  # for a file that is not safe to load, what its bytes say without running it
        add("")
        if not ckpt.safety.safe and ckpt.framework == "torch":
            add("  read from the pickle's opcodes, nothing unpickled:", "dim")
        width = max([len(s.name) for s in inv.scopes] + [5])
        add(f"  {'scope':<{width}}  {'tensors':>7}  {'params':>13}  {'size':>9}  dtypes")
        many = inv.tensors > LIST_ALL_BELOW
        for scope in inv.scopes:
            dtypes = ", ".join(f"{d}" if len(scope.dtypes) == 1 else f"{d} ({c})" for d, c in scope.dtypes.items())
            add(f"  {scope.name:<{width}}  {scope.count:>7}  {scope.params:>13,}  {human_bytes(scope.bytes):>9}  {dtypes}")
            listed = scope.entries[:PER_SCOPE] if many else scope.entries
            for name, shape, dtype in listed:
                add(f"      {name}  {_shape(shape)} {dtype}", "dim")
            if many and len(scope.entries) > PER_SCOPE:
                add(f"      ... {len(scope.entries) - PER_SCOPE} more (--json lists all)", "dim")
        dtypes = ", ".join(f"{d} ({c})" for d, c in inv.dtypes.items())
        add(f"  {'total':<{width}}  {inv.tensors:>7}  {inv.params:>13,}  {human_bytes(inv.bytes):>9}  {dtypes}", "bold")
    if model is not None:
        add("")
        add(f"model       {model.label}  [{FORMAT_NAMES.get(model.format, model.format)}, {len(model.entries)} entries]", "bold")
        for note in model.notes:
            add(f"  {note}")
        result = diagnosis.comparison
        if result is not None:
            renamed = f" (after the rename {result.rename.describe()})" if result.rename else ""
            add(
                f"  {len(result.matched)} match, {len(result.missing)} missing, {len(result.unexpected)} unexpected, "
                f"{len(result.shape)} shape and {len(result.dtype)} dtype mismatches{renamed}"
            )
            titles = {"missing": "missing from the checkpoint", "unexpected": "in the checkpoint only", "shape": "shape mismatches", "dtype": "dtype mismatches"}
            for key, title in titles.items():
                groups = diagnosis.groups.get(key) or []
                if not groups:
                    continue
                add(f"  {title}:")
                for scope, count, examples in groups[:8]:
                    more = ", ..." if count > len(examples) else ""
                    add(f"      {scope:<28} {count:>5}  {', '.join(examples)}{more}")
                if len(groups) > 8:
                    add(f"      ... {len(groups) - 8} more scopes (--json lists all)")
            for name, have, want in result.shape[:5]:
                add(f"      {name}: {_shape(have)} in the checkpoint, {_shape(want)} in the model", "dim")
    return [(style, printable(line)) for style, line in out]


def to_report(ckpt: VariableSet, inv: Inventory, model: VariableSet | None, diagnosis: Diagnosis) -> Report:
    """The findings as checks (error -> fail, warning -> warn, note -> ok), with what was read as the facts."""
    location = Location(printable(ckpt.train_dir.selected if ckpt.train_dir else ckpt.path))
    checks: list[Check] = []
    seen: dict[str, int] = {}
    for finding in diagnosis.findings:
        check_id = KINDS[finding.kind]
        seen[check_id] = seen.get(check_id, 0) + 1
        checks.append(Check(check_id, STATUS[finding.severity], printable(finding.message),
                            fix=[printable(finding.fix)] if finding.fix else [],
                            evidence={"kind": finding.kind, "entries": list(finding.entries)}, location=location,
                            subject=None if seen[check_id] == 1 else str(seen[check_id])))
    if not any(check.status in (FAIL, WARN) for check in checks):  # the answer itself, as a check
        summary = ("ckpt.loads-cleanly", "loads-cleanly") if model is not None else ("ckpt.unsafe-to-load", "safe")
        if summary[0] not in seen:
            checks.append(Check(summary[0], OK, printable(diagnosis.headline), evidence={"kind": summary[1], "entries": []},
                                location=location))
    return Report("ckpt", checks, facts(ckpt, inv, model, diagnosis), printable(diagnosis.headline))


def facts(ckpt: VariableSet, inv: Inventory, model: VariableSet | None, diagnosis: Diagnosis) -> dict:
    """What was read: the checkpoint (without its entries, which the inventory lists), the model, the comparison."""
    checkpoint = ckpt.to_json()
    checkpoint.pop("entries")
    whole = diagnosis.to_json()
    return {
        "checkpoint": checkpoint,
        "inventory": inv.to_json(),
        "model": None if model is None else {k: v for k, v in model.to_json().items() if k in ("label", "format", "framework", "loads_as", "notes", "entries")},
        "comparison": whole["comparison"],
        "groups": whole["groups"],
    }
