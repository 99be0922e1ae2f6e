"""The rule format: one class per rule that reads like its documentation.

A rule file holds, for one rule, everything about it (after Fixit's rules and
ruff's rule docs): the code, name, severity and one-line summary; the
documentation as the class docstring, in the sections *What it does / Why is
this bad / Example / Use instead / Fix safety*, quoting the error the user would
have seen; `VALID` and `INVALID` examples that the test suite runs; the text
`triggers` that decide whether a file is worth parsing for it; and the libcst
visitor that finds it.

All selected rules visit a module in one batched traversal, so a rule is a
`libcst.BatchableCSTVisitor`: it cannot stop the traversal at a node, and it
keeps whatever state it needs (a stack of function scopes, say) itself.
"""

from __future__ import annotations

import enum
import inspect
import re
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import ImportTable
from dldoctor.lint.target import Target, TargetVersion, current, library_of
from dldoctor.lint.triggers import hold

DOC_SECTIONS = ("What it does", "Why is this bad", "Example", "Use instead", "Fix safety")
_CODE_PATTERN = re.compile(r"DL\d{3}")
_NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


class Applicability(str, enum.Enum):
    """ruff's terms: `safe` fixes keep the program's meaning and run with `--fix`;
    `unsafe` ones may change behaviour and need `--unsafe-fixes` too."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Fix:
    """A rule's proposed edit: nodes of the parsed module and what to put in their place.

    Each replacement is `(old_node, new_node)`: the text of `old_node` gives way
    to `new_node` rendered with the module's own formatting settings. To drop an
    argument, replace the whole call with `call.with_changes(args=...)`: commas
    and parentheses then stay right by construction.
    """

    description: str
    applicability: Applicability
    replacements: tuple[tuple[cst.CSTNode, cst.CSTNode], ...]


@dataclass
class Report:
    """A rule's report before positions are known: the node, what to say, and a fix."""

    rule: type[Rule]
    node: cst.CSTNode
    message: str
    fix: Fix | None = None
    severity: Severity | None = None  # None: the rule's own severity
    assumed: tuple[TargetVersion, ...] = ()  # the target versions the finding was judged against


@dataclass
class LintContext:
    """What every rule sees of the file being linted, and where reports go.

    `target` holds the library versions the file is judged against (the project's
    target environment, `dldoctor.lint.target`); rules' module-level helpers reach
    the same object through `target.current()` while the file is traversed.
    """

    path: str
    module: cst.Module
    names: ImportTable
    reports: list[Report] = field(default_factory=list)
    target: Target = field(default_factory=current)


class Rule(cst.BatchableCSTVisitor):
    """Base class of every rule. Subclasses set the class attributes below."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    # The file is parsed for this rule only if one of `triggers` occurs in it
    # and, when `also_triggers` is set, one of those too (both compared
    # case-insensitively), and, when `trigger_pattern` is set, that regular
    # expression matches the (original) text outside comment and doctest lines.
    # Rules whose evidence is spread over a file (DL301: a list binding *and* a
    # membership test of the same name; DL501: `torch.load` through the imports)
    # extend `could_fire` to correlate it. A trigger that misses a file the rule
    # would report on is a bug: the test suite lints every test source with and
    # without the prefilter and wants the same findings.
    triggers: ClassVar[tuple[str, ...]]
    also_triggers: ClassVar[tuple[str, ...]] = ()
    trigger_pattern: ClassVar[re.Pattern[str] | None] = None
    # A rule whose text trigger still passes many files it will not report on may
    # take a second, costlier look (`worth_parsing`), which the runner asks only
    # when no other rule wants the file parsed anyway.
    second_look: ClassVar[bool] = False
    # Groups of distribution names (`("tensorflow", "tensorflow-cpu", ...)`) whose
    # version in the target environment the rule's findings depend on: the installed
    # ones are part of the cache's key, and each finding names the target versions
    # of these libraries that the rule looked up in its file.
    reads_installed: ClassVar[tuple[tuple[str, ...], ...]] = ()
    VALID: ClassVar[tuple[str, ...]] = ()
    INVALID: ClassVar[tuple[str, ...]] = ()

    def __init__(self, context: LintContext) -> None:
        super().__init__()
        self.context = context
        self.names = context.names

    @classmethod
    def could_fire(cls, text: str, lowered: str) -> bool:
        """Whether the file could hold a finding of this rule, judged from its text
        (`lowered` is `text.lower()`, computed once for all rules)."""
        return hold(text, lowered, cls.triggers, cls.also_triggers, cls.trigger_pattern)

    @classmethod
    def worth_parsing(cls, text: str) -> bool:
        """The second look (see `second_look`): whether to parse the file for this rule."""
        return True

    def report(
        self, node: cst.CSTNode, message: str, fix: Fix | None = None, severity: Severity | None = None
    ) -> None:
        """Report a finding at `node`. `severity` overrides the rule's own for this finding
        (DL502: an explicit `weights_only=False` is an error, a missing one a warning). The
        versions it was judged against are added once the whole file has been traversed
        (`libraries_read`): the libraries of the rule that some rule looked up in the file."""
        self.context.reports.append(Report(type(self), node, message, fix, severity))

    @classmethod
    def documentation(cls) -> str:
        """The rule's documentation, as Markdown (the class docstring, dedented)."""
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def problems(cls) -> list[str]:
        """What is wrong with the rule's own definition; the test suite wants none."""
        found = []
        if not _CODE_PATTERN.fullmatch(getattr(cls, "code", "")):
            found.append("code must look like DL123")
        if not _NAME_PATTERN.fullmatch(getattr(cls, "name", "")):
            found.append("name must be kebab-case")
        if not isinstance(getattr(cls, "severity", None), Severity):
            found.append("severity must be a Severity")
        if not getattr(cls, "summary", ""):
            found.append("summary is empty")
        if not getattr(cls, "triggers", ()):
            found.append("triggers are empty")
        docs = cls.documentation()
        for section in DOC_SECTIONS:
            if f"## {section}" not in docs:
                found.append(f"documentation lacks a '## {section}' section")
        if not cls.VALID or not cls.INVALID:
            found.append("needs VALID and INVALID examples")
        return found


def libraries_read(rule: type[Rule]) -> frozenset[str]:
    """The libraries (`dldoctor.lint.target.LIBRARIES`) whose versions a rule reads."""
    return frozenset(library for group in rule.reads_installed if group and (library := library_of(group[0])))
