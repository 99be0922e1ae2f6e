"""dldoctor from Python: lint and fix source text or files, and run a probe for its verdicts.

These are the stable names. The command line (`dldoctor lint`, the probes) and the
language server (`dldoctor server`) are built on them and reach nothing private of
each other; a notebook server, a CI bot or another tool can do the same.

    from dldoctor import api

    linter = api.Linter(select=["ALL"])                  # settings as `dldoctor lint` reads them
    for finding in linter.lint(open("train.py").read(), "train.py"):
        print(finding.place, finding.code, finding.message)
    fixed = linter.fix(text, "train.py")                  # safe fixes, applied to a fixed point
    report = api.ckpt("model.pt")                         # a probe: a Report of Checks

A `Linter` reads each file's nearest `pyproject.toml` / `dldoctor.toml` (as the
command line does, so `lint A B` and `lint B A` agree), its per-file ignores and its
target versions; the keyword arguments are the command line's options and win over
the configuration files. Findings are `Finding`s, the objects every reporter writes:
1-based lines and columns in code points, end exclusive, and in notebooks the cell.

Probes return a `Report` (`checks`, `facts`, `verdict`, `exit_code()`, `to_json()`:
the shape of `--output-format json`) or raise `ProbeError` where the command would
exit 2 (a missing file, an option it cannot use).

Importing this module costs the standard library only: the linter, libcst and the
rules load when a `Linter` first lints, a probe's modules when it runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dldoctor.lint.finding import Edit, Finding, FixProposal, Severity
from dldoctor.verdict.model import Check, Location, ProbeError, Report

__all__ = [
    "Linter", "lint_source", "fix_source", "lint_paths", "LintRun", "Files", "Fixed", "ConfigurationError", "InternalError",
    "Finding", "FixProposal", "Edit", "Severity", "noqa_edit", "Rule", "rules", "rule", "rule_url", "rule_documentation",
    "Report", "Check", "Location", "ProbeError", "env", "ckpt", "ckpt_scan", "graph_meta", "graph_run", "data", "logs",
]


class ConfigurationError(ValueError):
    """The settings cannot be used: a configuration file or option is wrong. One message per problem."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


@dataclass
class Fixed:
    """What fixing one text did: the fixed text, how many fixes were applied, the findings left."""

    text: str
    applied: int
    findings: list[Finding]
    refused: str | None = None  # why a fix was not applied (it would not parse, say)
    encoding: str = "utf-8"  # the source's own encoding (its coding cookie), for writing it back

    @property
    def changed(self) -> bool:
        return self.applied > 0


@dataclass
class LintRun:
    """What linting paths found, and what could not be linted."""

    findings: list[Finding]
    files_checked: int
    codes: frozenset[str]  # every rule that ran on some file
    missing: list[str] = field(default_factory=list)  # paths named that do not exist
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why) passed over
    internal_errors: list[tuple[str, str]] = field(default_factory=list)  # (path, traceback): dldoctor bugs
    notes: list[str] = field(default_factory=list)  # warnings: an unreadable pin, an unusable cache

    @property
    def ok(self) -> bool:
        return not (self.findings or self.missing or self.internal_errors)


@dataclass
class Files:
    """The files a run lints, each with its rules, and what the paths named yield instead of files."""

    jobs: list[tuple[str, frozenset[str]]]
    unreadable: list  # runner.FileResult of directories that could not be listed: a DL000 each
    missing: list[str]
    skipped: list[tuple[str, str]]


_active: object = None  # the Linter whose settings the process-wide lint state holds


class Linter:
    """Settings resolved once, then any number of texts or paths linted and fixed with them.

    Keep one per project (an editor session keeps one per workspace folder): the
    settings of each directory and the project pins are read once and remembered.
    """

    def __init__(
        self,
        *,
        select: Sequence[str] | None = None,
        extend_select: Sequence[str] = (),
        ignore: Sequence[str] = (),
        exclude: Sequence[str] | None = None,
        extend_exclude: Sequence[str] = (),
        per_file_ignores: Sequence[str] | None = None,
        extend_per_file_ignores: Sequence[str] = (),
        respect_gitignore: bool | None = None,
        force_exclude: bool | None = None,
        config: str | Sequence[str] = (),
        isolated: bool = False,
        target_versions: Sequence[str] = (),
        python: str | None = None,
        unfixable: Sequence[str] = (),
        max_file_size_mb: float = 10,
        root: str | os.PathLike | None = None,
        incremental: bool = False,
        processes: int = 1,
    ) -> None:
        """The command line's options as keywords (`select=["DL1"]` is `--select DL1`).

        `config` is a configuration file for every path, and/or TOML `key = value`
        overrides; `target_versions` are `library=version` (`torch=2.5`); `python` an
        interpreter whose installed libraries are the target; `root` the directory a
        file without a configuration of its own takes its settings from (default: the
        current directory). `incremental` keeps the statements of the texts linted (4 MB
        of text at most) so that the next version of a text re-parses only the statements
        that changed: for a process that lints the same documents again and again (an
        editor's); the findings are the same. `processes=2` has `lint` share a Python file's
        rules with a helper process holding the same settings (`dldoctor.lint.helper_process`):
        about half the rules' wait for a document linted after every keystroke, at the cost
        of a second interpreter; the findings are the same (more than 2 is taken as 2: one
        helper). Call `close()` to end the helper.
        Raises `ConfigurationError`.
        """
        # The helper process makes a Linter of its own from the same options.
        options = {name: value for name, value in locals().items() if name not in ("self", "processes")}
        from dldoctor.lint import config as config_module
        from dldoctor.lint import registry, target

        if not max_file_size_mb > 0:
            raise ConfigurationError([f"max_file_size_mb must be a positive number, not {max_file_size_mb:g}"])
        line = config_module.CommandLine(
            config=[config] if isinstance(config, str) else list(config), isolated=isolated,
            select=_strings(select) if select is not None else None, extend_select=_strings(extend_select),
            ignore=_strings(ignore), exclude=list(exclude) if exclude is not None else None,
            extend_exclude=list(extend_exclude),
            per_file_ignores=list(per_file_ignores) if per_file_ignores is not None else None,
            extend_per_file_ignores=list(extend_per_file_ignores),
            respect_gitignore=respect_gitignore, force_exclude=force_exclude,
            target_versions=[part.strip() for value in target_versions for part in value.split(",") if part.strip()],
        )
        try:
            self.resolver = config_module.Resolver(line, root=root)
        except config_module.ConfigError as problem:
            raise ConfigurationError(problem.messages) from None
        self.unfixable: frozenset[str] = frozenset()
        for selector in _strings(unfixable):
            matched = registry.expand_selector(selector)
            if not matched:
                raise ConfigurationError([f"unfixable: no rule matches {selector!r} (see `dldoctor rules`)"])
            self.unfixable |= matched
        self.environment = None
        self.python = python
        if python is not None:
            try:
                self.environment = target.environment_targets(python)
            except target.TargetError as problem:
                raise ConfigurationError([str(problem)]) from None
        self.max_file_bytes = int(max_file_size_mb * 1024 * 1024)
        self._configured_settings = -1
        self.incremental = incremental
        self._reparser = None  # made at the first lint: it needs libcst
        if processes < 1:
            raise ConfigurationError([f"processes must be at least 1, not {processes}"])
        self._helper = None
        if processes > 1:
            from dldoctor.lint.helper_process import HelperProcess

            try:
                self._helper = HelperProcess(options)
            except OSError:
                self._helper = None  # no interpreter to start (an embedded Python): one process then

    def close(self) -> None:
        """End the helper process (`processes=2`); the linter goes on in this process alone."""
        if self._helper is not None:
            self._helper.close()
            self._helper = None

    # Settings ---------------------------------------------------------------------------------

    def settings_for(self, path: str, is_dir: bool | None = None):
        """The settings a file is linted with (`dldoctor lint --show-settings` describes them)."""
        try:
            return self.resolver.for_path(path, is_dir=is_dir)
        except _config_error() as problem:
            raise ConfigurationError(problem.messages) from None

    def codes_for(self, path: str) -> frozenset[str]:
        """The rules that run on the file at `path`: its settings' selection less its per-file ignores."""
        return frozenset(self.settings_for(path, is_dir=False).codes_for(path))

    def describe(self, path: str) -> str:
        """What `--show-settings` prints for `path`: its settings and where each part comes from."""
        from dldoctor.lint import config as config_module

        self._activate()
        return config_module.describe(self.settings_for(path, is_dir=False), path, self.resolver)

    def _activate(self) -> None:
        """Hand this linter's size limit and target versions to the lint modules (process-wide state,
        read by worker processes too) when they hold another linter's, or settings were resolved since."""
        global _active
        from dldoctor.lint import config as config_module
        from dldoctor.lint import source, target

        known = len(self.resolver.every())
        if _active is self and known == self._configured_settings:
            return
        source.configure(self.max_file_bytes)
        target.configure(config_module.run_targets(self.resolver, self.environment, self.python))
        _active, self._configured_settings = self, known

    def target_notes(self, paths: Iterable[str]) -> list[str]:
        """One warning per pin that could not be read where these files' versions come from."""
        from dldoctor.lint import target

        self._activate()
        notes: list[str] = []
        for path in paths:
            for note in target.for_path(path).notes:
                if note not in notes:
                    notes.append(note)
        return notes

    # Texts ------------------------------------------------------------------------------------

    def lint(self, text: str | bytes, path: str, *, codes: Iterable[str] | None = None) -> list[Finding]:
        """The findings in `text`, linted as the file `path` (which need not exist: an editor's
        unsaved buffer). Bytes are decoded as Python decodes a file (coding cookie, BOM); a
        path ending in `.ipynb` takes the notebook's JSON. `codes` narrows the rules further."""
        return self._lint_result(text, path, codes).findings

    def _lint_result(self, text: str | bytes, path: str, codes: Iterable[str] | None = None):
        from dldoctor.lint import runner

        selected = self.rules_for(path, codes)
        self._activate()
        data = text.encode("utf-8") if isinstance(text, str) else text
        if self.incremental and self._reparser is None:
            from dldoctor.lint.reparse import Reparser

            self._reparser = Reparser()
        if self._helper is not None and self._helper.gone():
            self.close()  # this process lints everything from now on
        if self._helper is not None and not path.endswith(".ipynb") and self._helper.ready():
            result = self._lint_shared(path, data, selected)
        else:
            result = runner.lint_bytes(path, data, selected, self._reparser)
        if result.internal_error:
            raise InternalError(path, result.internal_error)
        return result

    def _lint_shared(self, path: str, data: bytes, selected: frozenset[str]):
        """`runner.lint_bytes` of every rule in `selected`, half of them in the helper process."""
        from dldoctor.lint import runner
        from dldoctor.lint.helper_process import HelperGone

        mine, theirs = _shares(selected)
        if not theirs:
            return runner.lint_bytes(path, data, selected, self._reparser)
        try:
            self._helper.submit(path, data, theirs)
        except HelperGone:
            self.close()
            return runner.lint_bytes(path, data, selected, self._reparser)
        other = None
        try:
            own = runner.lint_bytes(path, data, mine, self._reparser, as_part=True)
        finally:  # the helper's answer is read whatever happens here, or the next one would be this one
            try:
                other = self._helper.result()
            except HelperGone:
                self.close()
        if other is None:
            other = runner.lint_bytes(path, data, theirs, self._reparser, as_part=True)
        error = own.internal_error or other.internal_error
        if error:
            return runner.FileResult(path, internal_error=error)
        findings = runner.judged_against(own.findings + other.findings, own.consulted | other.consulted)
        if own.reported_at is not None:  # the text was checked (DL100 goes with this part)
            findings += runner.judge_noqa(
                path, data, selected, own.reported_at | (other.reported_at or frozenset()), self._reparser)
        return runner.FileResult(path, sorted(findings, key=Finding.sort_key))

    def lint_part(self, path: str, data: bytes, codes: frozenset[str]):
        """The helper process's half of `_lint_shared`: these rules, `# noqa` comments not judged."""
        from dldoctor.lint import runner

        self._activate()
        if self.incremental and self._reparser is None:
            from dldoctor.lint.reparse import Reparser

            self._reparser = Reparser()
        return runner.lint_bytes(path, data, codes, self._reparser, as_part=True)

    def lint_cells(self, cells: Sequence[tuple[str, str]], path: str, *, codes: Iterable[str] | None = None) -> list[Finding]:
        """A notebook given as its cells, `(kind, source)` with kind `code` or `markdown`: linted as
        one module, as Jupyter runs them; each finding's `cell` is 1-based over all cells and its
        line is within that cell."""
        return self.lint(notebook_json(cells), path, codes=codes)

    def fix(self, text: str | bytes, path: str, *, unsafe: bool = False, codes: Iterable[str] | None = None) -> Fixed:
        """`text` with the fixes of its findings applied, rounds repeated until none is left
        (`--fix`): safe fixes, and unsafe ones with `unsafe`; only the rules in `codes` when
        given. A fix that would leave the text unparsable is not applied (`refused` says so).
        A notebook (`path` ending in `.ipynb`) is its JSON, fixed cell by cell."""
        from dldoctor.lint import fixes

        every = self.rules_for(path)
        selected = every if codes is None else every & frozenset(code.upper() for code in codes)
        self._activate()
        data = text.encode("utf-8") if isinstance(text, str) else text
        unfixable = self.unfixable | (every - selected)  # the other rules' findings stay, unfixed
        outcome = fixes.fix_bytes(path, data, every, unsafe, unfixable)
        if outcome.result.internal_error:
            raise InternalError(path, outcome.result.internal_error)
        original = text if isinstance(text, str) else data.decode(outcome.encoding, "replace")
        fixed = outcome.fixed if outcome.fixed is not None and outcome.applied else original
        return Fixed(fixed, outcome.applied, outcome.result.findings, outcome.refused, outcome.encoding)

    def fix_cells(self, cells: Sequence[tuple[str, str]], path: str, *, unsafe: bool = False,
                  codes: Iterable[str] | None = None) -> tuple[list[str], Fixed]:
        """`fix` of a notebook given as its cells: the cells' new sources (one per cell, markdown
        unchanged) and what was done."""
        import json

        done = self.fix(notebook_json(cells), path, unsafe=unsafe, codes=codes)
        if not done.applied:
            return [text for _, text in cells], done
        book = json.loads(done.text)
        return ["".join(cell.get("source", "")) for cell in book["cells"]], done

    def excluded(self, path: str) -> bool:
        """Whether the configuration leaves `path` out of a run over its directory (its
        `exclude`, a default-skipped directory such as `.venv`, `.gitignore`): an editor
        lints such a file only when asked to."""
        from dldoctor.lint import discovery

        try:
            return discovery.excluded_anywhere(path, self.resolver)
        except _config_error() as problem:
            raise ConfigurationError(problem.messages) from None

    def rules_for(self, path: str, codes: Iterable[str] | None = None) -> frozenset[str]:
        """The rules that run on `path` when it is linted by name: `codes_for`, none at all when
        `force_exclude` leaves the path out (as ruff, for pre-commit), narrowed to `codes`."""
        from dldoctor.lint import discovery

        selected = self.codes_for(path)
        if path != "-" and discovery.force_excluded(path, self.resolver):
            return frozenset()  # as ruff: an excluded file named with --force-exclude is not linted
        if codes is not None:
            selected &= frozenset(code.upper() for code in codes)
        return selected

    # Paths ------------------------------------------------------------------------------------

    def files(self, paths: Sequence[str]) -> Files:
        """The files under `paths` that a run lints (exclusions, .gitignore, per-file rules applied)."""
        from dldoctor.lint import discovery, runner

        jobs: list[tuple[str, frozenset[str]]] = []
        unreadable, missing, skipped = [], [], []
        try:
            for item in discovery.discover(list(paths), self.resolver):
                if isinstance(item, discovery.Skipped) and item.unreadable:
                    codes = self.settings_for(item.path, is_dir=True).selected_codes()
                    unreadable.append(runner.unreadable_result(item.path, item.reason, frozenset(codes)))
                elif isinstance(item, discovery.Skipped) and item.missing:
                    missing.append(item.path)
                elif isinstance(item, discovery.Skipped):
                    skipped.append((item.path, item.reason))
                else:
                    jobs.append((item, self.codes_for(item)))
        except _config_error() as problem:
            raise ConfigurationError(problem.messages) from None
        return Files(jobs, unreadable, missing, skipped)

    def lint_paths(self, paths: Sequence[str] = (".",), *, cache: bool = True, cache_dir: str | None = None,
                   workers: int | None = None) -> LintRun:
        """Lint the files under `paths` (worker processes when many; unchanged files from the cache
        in `cache_dir`, by default `.dldoctor_cache` in the project root)."""
        found = self.files(paths)
        return self.lint_files(found, cache=cache, cache_dir=cache_dir, workers=workers, first=paths[0] if paths else ".")

    def lint_files(self, found: Files, *, cache: bool = True, cache_dir: str | None = None,
                   workers: int | None = None, first: str = ".") -> LintRun:
        """`lint_paths` of files already found (`files`)."""
        from dldoctor.lint import runner

        self._activate()
        notes = self.target_notes([path for path, _ in found.jobs])
        lint_cache = None
        if cache and runner.PREFILTER:  # without the prefilter: a check of it, so lint everything
            from pathlib import Path

            from dldoctor.lint.cache import DIRECTORY_NAME, LintCache

            root = self.settings_for(first).root
            lint_cache = LintCache(Path(cache_dir) if cache_dir else root / DIRECTORY_NAME)
        results = runner.lint_paths(found.jobs, workers=workers, lint_cache=lint_cache)
        if lint_cache is not None and lint_cache.problem:
            notes.append(lint_cache.problem)
        return _run_of(found, results + found.unreadable, notes, self)

    def fix_files(self, found: Files, named: Sequence[str], *, unsafe: bool = False, write: bool = True,
                  workers: int | None = None) -> list:
        """Fix the files found under the paths `named` (writing them back when `write`): one
        `FixOutcome` (original and fixed text, fixes applied, findings left) per file. A file is
        written once, whole, never through a symbolic link out of the paths named."""
        from dldoctor.lint import fixes

        self._activate()
        refusals = fixes.write_refusals([path for path, _ in found.jobs], list(named))
        return fixes.fix_paths(
            [(path, codes, unsafe, write, refusal, self.unfixable) for (path, codes), refusal in zip(found.jobs, refusals)],
            workers,
        )

    def add_noqa(self, found: Files) -> list:
        """Write `# noqa: CODE` on the line of every current finding of the files found: one
        `NoqaOutcome` a file (lines given a comment, lines that could not take one, and why)."""
        from dldoctor.lint import fixes

        self._activate()
        return [fixes.add_noqa(path, codes) for path, codes in found.jobs]


class InternalError(RuntimeError):
    """A bug in dldoctor while linting `path` (a rule crashed); `details` is the traceback's end."""

    def __init__(self, path: str, details: str) -> None:
        super().__init__(f"internal error while linting {path}: {details.splitlines()[-1] if details else ''}")
        self.path = path
        self.details = details


def _run_of(found: Files, results: list, notes: list[str], linter: Linter) -> LintRun:
    findings = sorted((finding for result in results for finding in result.findings), key=Finding.sort_key)
    ran = frozenset().union(*(codes for _, codes in found.jobs)) if found.jobs else frozenset()
    return LintRun(
        findings=findings,
        files_checked=len(found.jobs),
        codes=ran,
        missing=list(found.missing),
        skipped=list(found.skipped),
        internal_errors=[(result.path, result.internal_error) for result in results if result.internal_error],
        notes=notes,
    )


def _shares(selected: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The rules this process lints and those the helper lints: every other rule in code order
    (rules of one family, which cost alike, fall on both sides), DL000 and DL100 here."""
    from dldoctor.lint.noqa import UNUSED_NOQA_CODE
    from dldoctor.lint.registry import UNREADABLE_CODE

    here = {UNREADABLE_CODE, UNUSED_NOQA_CODE}
    mine, theirs = set(), set()
    for index, code in enumerate(sorted(selected - here)):
        (theirs if index % 2 == 0 else mine).add(code)
    mine |= selected & here
    return frozenset(mine), frozenset(theirs)


def _strings(values: Iterable[str]) -> list[str]:
    """Selectors as the command line takes them: repeated, or comma-separated."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _config_error():
    from dldoctor.lint.config import ConfigError

    return ConfigError


def notebook_json(cells: Sequence[tuple[str, str]]) -> str:
    """A minimal nbformat 4 notebook holding these `(kind, source)` cells, in order."""
    import json

    return json.dumps({
        "cells": [
            {"cell_type": "code" if kind == "code" else "markdown", "metadata": {}, "source": text,
             **({"outputs": [], "execution_count": None} if kind == "code" else {})}
            for kind, text in cells
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    })


# One-shot helpers ----------------------------------------------------------------------------


def lint_source(text: str | bytes, path: str = "<string>.py", **options) -> list[Finding]:
    """The findings in one text, with the settings `Linter(**options)` resolves for `path`."""
    return Linter(**options).lint(text, path)


def fix_source(text: str | bytes, path: str = "<string>.py", *, unsafe: bool = False, **options) -> Fixed:
    """One text with its fixes applied (see `Linter.fix`)."""
    return Linter(**options).fix(text, path, unsafe=unsafe)


def lint_paths(paths: Sequence[str] = (".",), *, cache: bool = True, **options) -> LintRun:
    """The findings in the files under `paths` (see `Linter.lint_paths`)."""
    return Linter(**options).lint_paths(paths, cache=cache)


def noqa_edit(text: str, finding: Finding) -> Edit | None:
    """The edit that silences `finding` with a `# noqa: CODE` comment (joined to a `# noqa` already
    on its line, placed after a multi-line string the line belongs to), or None where no
    comment can go. `text` is what the finding's lines count in: the file, or its cell."""
    import re

    from dldoctor.lint import noqa

    new_text, changed, _ = noqa.with_noqa(text, {finding.line: {finding.code}})
    if not changed:
        return None
    old_lines, new_lines = re.split(r"\r\n|\r|\n", text), re.split(r"\r\n|\r|\n", new_text)
    for number, (old, new) in enumerate(zip(old_lines, new_lines), start=1):
        if old != new:
            return Edit(number, 1, number, len(old) + 1, new)
    return None


# Rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A rule of the catalogue, as `dldoctor rules` lists it."""

    code: str
    name: str
    severity: Severity
    summary: str
    default: bool  # selected without being asked for


def rules() -> list[Rule]:
    """Every code `lint` can report, DL000 first."""
    from dldoctor.lint import registry

    default = registry.default_selection()
    found = [Rule(registry.UNREADABLE_CODE, registry.UNREADABLE_NAME, Severity.ERROR, registry.UNREADABLE_SUMMARY, True)]
    for code, facts in registry.facts().items():  # the generated table: no rule module imported
        found.append(Rule(code, facts.name, facts.severity, facts.summary, code in default))
    return found


def rule(code_or_name: str) -> Rule | None:
    """A rule by code (`DL101`) or name (`binary-read-in-text-mode`); None when there is none."""
    wanted = code_or_name.strip()
    for found in rules():
        if found.code == wanted.upper() or found.name == wanted.lower():
            return found
    return None


def rule_url(code: str) -> str:
    """Where the rule's page is read: its `https://` address when the project declares one in
    `[project.urls]`, else the path of `docs/rules/CODE.md` (what reports link to)."""
    from dldoctor.report import rule_url as url

    return url(code)


def rule_documentation(code: str) -> str:
    """The rule's page in Markdown (what `dldoctor rule CODE` prints and docs/rules/CODE.md holds).
    `code` is a code or a name; KeyError when no rule has it."""
    from dldoctor.lint import registry

    found = rule(code)
    if found is None:
        raise KeyError(code)
    if found.code == registry.UNREADABLE_CODE:
        return f"# {found.code} {found.name} (error)\n\n{found.summary}\n\n{registry.UNREADABLE_DOCUMENTATION}"
    default = "" if found.default else ", off by default"
    body = registry.all_rules()[found.code].documentation()
    return f"# {found.code} {found.name} ({found.severity.value}{default})\n\n{found.summary}\n\n{body}\n"


# Probes --------------------------------------------------------------------------------------


def env(*, quick: bool = False, timeout: float = 60.0, port: int | None = None, snapshot: str | dict | None = None) -> Report:
    """`dldoctor env`: this machine's driver, GPUs, frameworks, TensorBoard and rendezvous port, or
    a snapshot saved with `env --json` (a path or the parsed dict) diagnosed instead."""
    from dldoctor.probes.env.command import build_report

    return build_report(quick=quick, timeout=timeout, port=port, snapshot=snapshot)


def ckpt(checkpoint: str, *, model: str | None = None, meta: str | None = None, against: str | None = None,
         allow_global: Sequence[str] = ()) -> Report:
    """`dldoctor ckpt`: will this checkpoint load into this model, and if not, why. `model` is
    `file.py:CALLABLE` (runs that code), `meta` a MetaGraphDef, `against` another checkpoint."""
    from dldoctor.probes.ckpt.command import build_report

    return build_report(checkpoint, model=model, meta=meta, against=against, allow_global=list(allow_global))


def ckpt_scan(paths: Sequence[str], *, allow_global: Sequence[str] = ()) -> Report:
    """`dldoctor ckpt scan`: files that would run code when loaded, without unpickling anything."""
    from dldoctor.probes.ckpt.scan import build_report

    return build_report(list(paths), list(allow_global))


def graph_meta(train_dir: str) -> Report:
    """`dldoctor graph meta`: what the .meta files saved with the checkpoints of a train dir (or
    one .meta file) say about graph growth: size per step, ops added, when 2 GB is reached."""
    from dldoctor.probes.graph.command import build_meta_report

    return build_meta_report(train_dir)


def graph_run(script: str, args: Sequence[str] = (), *, steps: int = 50, timeout: float = 600.0,
              python: str | None = None) -> Report:
    """`dldoctor graph run`: run `script` (your code: it is executed, in a subprocess, with an empty
    stdin and its output not shown) with graph execution instrumented; report a graph that grows
    at every step (ops per Session.run, traces per tf.function call, autograd nodes per step)."""
    from dldoctor.probes.graph.command import build_run_report

    return build_run_report(script, args, steps=steps, timeout=timeout, python=python)


def data(paths: Sequence[str], *, code: str | None = None, sample: int | None = None, min_side: int = 8,
         jobs: int = 0, scheduler: str | None = None, record_images: bool = True) -> Report:
    """`dldoctor data`: images that do not decode, odd modes and sizes, duplicates, classes, labels and
    TFRecords under `paths`; `code` compares the records with training code (counts, parse specs)."""
    from dldoctor.probes.data.command import build_report

    return build_report(list(paths), code=code, sample=sample, min_side=min_side, jobs=jobs, scheduler=scheduler,
                        record_images=record_images)


def logs(paths: Sequence[str], *, thresholds: Sequence[str] = (), plot: str | None = None) -> Report:
    """`dldoctor logs`: the training pathology in these event files or CSV logs (`thresholds` are
    `NAME=VALUE` overrides; `plot` a PNG to draw the curves in)."""
    from dldoctor.probes.logs.command import build_report

    return build_report(list(paths), list(thresholds), plot)
