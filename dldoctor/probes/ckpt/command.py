"""`dldoctor ckpt CHECKPOINT [--model MODULE:CALLABLE | --meta FILE.meta | --against OTHER] [--json]`,
and `dldoctor ckpt scan PATH...`: the code-execution scan of many files and directories at once.

Facts (formats, model, inventory) -> findings (diagnosis) -> the shared checks and
reporters (report.to_report, dldoctor.verdict). Module-level imports are stdlib, typer
and the shared option definitions only: torch, tensorflow and h5py are imported by the
readers when this command runs, never on `dldoctor lint`'s path.
"""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from dldoctor.verdict import options

EXIT_USAGE = options.EXIT_USAGE


def ckpt_command(
    checkpoint: str = typer.Argument(..., help="A TF checkpoint prefix or train dir, a TF2/Keras/PyTorch/safetensors file; or `scan`."),
    more: Optional[List[str]] = typer.Argument(None, help="After `scan`: the files and directories to scan for code that loading runs."),
    model_spec: Optional[str] = typer.Option(None, "--model", help="path/to/file.py:CALLABLE or package.module:CALLABLE returning the model (runs your code)."),
    meta: Optional[str] = typer.Option(None, "--meta", help="A MetaGraphDef (.meta) whose variables are the model's (nothing is run)."),
    against: Optional[str] = typer.Option(None, "--against", help="Another checkpoint to compare with."),
    output_format: str = options.output_format_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the checks and the facts as JSON (the same as --output-format json)."),
    strict: bool = options.strict_option(),
    allow_global: list[str] = typer.Option([], "--allow-global", help="A pickle global you trust (module.name), as torch.serialization.add_safe_globals; repeatable."),
) -> None:
    """Will this checkpoint load into this model, and if not, why. Without a model: an inventory.

    `dldoctor ckpt scan PATH...` scans files and directories (recursively) for code that loading
    them would run, without torch and without unpickling: one line a file, exit 1 if any is unsafe.
    """
    chosen = options.resolve_format(output_format, as_json)
    if checkpoint == "scan" and (more or not _exists("scan")):
        if model_spec or meta or against:
            _error("`ckpt scan` takes only paths (and --json, --allow-global)")
            raise typer.Exit(EXIT_USAGE)
        from dldoctor.probes.ckpt import scan as scan_module

        raise typer.Exit(scan_module.run(more or [], chosen, allow_global, strict))
    if more:
        _error(f"one checkpoint at a time (got {len(more) + 1}); to scan several for unsafe code: dldoctor ckpt scan PATH...")
        raise typer.Exit(EXIT_USAGE)
    from dldoctor.verdict import ProbeError, reporters

    try:
        result, body = _report_and_body(checkpoint, model_spec, meta, against, allow_global)
    except ProbeError as problem:
        _error(problem.message)
        raise typer.Exit(problem.exit_code)
    reporters.write(result, chosen, sys.stdout, body=body() if chosen == "text" else ())
    raise typer.Exit(result.exit_code(strict))


def build_report(checkpoint: str, *, model: Optional[str] = None, meta: Optional[str] = None,
                 against: Optional[str] = None, allow_global: List[str] = ()):
    """Will `checkpoint` load into the model (`model`: file.py:CALLABLE, which runs that code; `meta`: a
    MetaGraphDef; `against`: another checkpoint), as a `Report`; without one, its inventory.
    `ProbeError` for what cannot be read or used."""
    return _report_and_body(checkpoint, model, meta, against, list(allow_global))[0]


def _report_and_body(checkpoint: str, model_spec, meta, against, allow_global):
    """The report, and a function giving the text reporter's body (the tables of names and shapes)."""
    from dldoctor.verdict import ProbeError

    if sum(option is not None for option in (model_spec, meta, against)) > 1:
        raise ProbeError("--model, --meta and --against are alternatives: give one")
    from dldoctor.probes.ckpt import diagnosis as diagnosis_module
    from dldoctor.probes.ckpt import formats, inventory, model, report, safety
    from dldoctor.probes.ckpt.facts import CkptError

    safety.clear_allowed()  # each run allows only what its own --allow-global names
    if allow_global:
        try:
            safety.allow_globals(allow_global)
        except ValueError as problem:
            raise ProbeError(str(problem)) from None
    try:
        found = formats.read(checkpoint)
        _read_family_scopes(found, formats)
        reference = None
        if model_spec is not None:
            if found.safety.safe:
                reference = model.from_factory(model_spec, found)
        elif meta is not None:
            reference = model.from_meta(meta)
        elif against is not None:
            reference = model.from_checkpoint(against)
    except CkptError as problem:
        raise ProbeError(problem.message, problem.exit_code) from None
    if reference is not None:  # Keras and TF2 load layers by position: pair them as the loader will
        model.align_positions(found, reference)
    if reference is not None and reference.display:  # Keras: the user's layer names on both sides
        model.apply_display(found, reference.display)
        model.apply_display(reference, reference.display)
    elif reference is None and found.display:  # a .keras archive's config names its layers
        model.apply_display(found, found.display)
    diagnosis = diagnosis_module.diagnose(found, reference)
    facts = inventory.inventory(found)
    result = report.to_report(found, facts, reference, diagnosis)
    return result, lambda: report.text_lines(found, facts, reference, diagnosis)


def _read_family_scopes(found, formats) -> None:
    """Top-level scopes of every checkpoint family in the train dir (its newest member)."""
    from dldoctor.probes.ckpt.diagnosis import is_selected as diagnosis_is_selected

    info = found.train_dir
    if info is None:
        return
    for family in info.families:
        if diagnosis_is_selected(info, family):
            family.scopes = formats.top_scopes(found)
            continue
        if family.format not in ("tensorflow", "safetensors") and "torch" not in sys.modules:
            continue  # do not import another framework just to label a neighbour
        try:
            neighbour = formats.read(family.paths[-1])
            family.scopes = formats.top_scopes(neighbour)[:6]
            if neighbour.safety.safe:  # compared with the model too: an exact match there is the fix
                family.entries, family.weights_key = neighbour.entries, neighbour.weights_key or ""
                family.whole = neighbour.wrapper.startswith("a whole pickled")
        except Exception as problem:  # a broken neighbour is a note, never a crash
            family.scopes = [f"unreadable: {getattr(problem, 'message', type(problem).__name__)}"]


def _exists(path: str) -> bool:
    import os

    return os.path.lexists(path) or os.path.lexists(path + ".index")


def _error(message: str) -> None:
    from dldoctor.probes.ckpt.guard import printable

    print(f"dldoctor: error: {printable(message)}", file=sys.stderr)
