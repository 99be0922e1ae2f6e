"""The catalogue of rules: every `Rule` subclass defined in the `dldoctor.rules` package.

A new rule is a new file in `rules/`; nothing else needs to list it.

Two views of it. `all_rules()` imports every rule module (and libcst with them): what
linting a file needs. `facts()` gives what choosing and naming rules needs (code, name,
severity, summary, the installed versions a rule reads) from `dldoctor.lint.catalogue`,
a table generated from the rule modules, without importing any of them: a run whose
files all come from the cache never pays for the parser or the rules. The table is
trusted only while the digest of the rule sources it was generated from matches the
sources on disk; an edited rule is read from its module until the table is generated
again (`python -m dldoctor.lint.registry`; the test suite fails while it is stale).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from dldoctor.lint.finding import Severity

if TYPE_CHECKING:
    from dldoctor.lint.rule import Rule

# Not a rule: the code under which files that could not be linted are reported
# (syntax errors, undecodable or unreadable files). Always on; can be ignored.
UNREADABLE_CODE = "DL000"
UNREADABLE_NAME = "unreadable-source"
UNREADABLE_SUMMARY = "A file that could not be read, decoded or parsed, so it was not linted."
UNREADABLE_DOCUMENTATION = """\
A file that dldoctor could not lint, so nothing in it was checked. One line says
why and where:

- a syntax error, at the line and column CPython reports (Python 2 code such as
  `print "x"` is named as such: port it, e.g. with `2to3`);
- bytes that are not valid in the file's encoding (UTF-8, or what a PEP 263 coding
  cookie such as `# -*- coding: gbk -*-` declares), with the byte and its place;
- a binary file with a Python name, an unreadable file, a broken symbolic link or a
  symbolic link loop.

The rest of the run goes on. Ignore it like any rule (`--ignore DL000`).
"""


@lru_cache(maxsize=1)
def all_rules() -> dict[str, type[Rule]]:
    """Code -> rule class, sorted by code."""
    import importlib
    import pkgutil

    import dldoctor.rules as package
    from dldoctor.lint.rule import Rule

    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and value.__module__ == module.__name__:
                if value.code in found:
                    raise RuntimeError(f"two rules share the code {value.code}: {found[value.code].__name__}, {value.__name__}")
                found[value.code] = value
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class RuleFacts:
    """What is known of a rule without importing it.

    `triggers` is None for a rule whose own `could_fire` decides (it correlates more
    than words); else the text test is `triggers`, `also_triggers` and the pattern.
    """

    code: str
    name: str
    severity: Severity
    summary: str
    reads_installed: tuple[tuple[str, ...], ...]
    module: str = ""  # its module in `dldoctor.rules` ("" for a rule defined elsewhere)
    triggers: tuple[str, ...] | None = None
    also_triggers: tuple[str, ...] = ()
    pattern: str | None = None
    pattern_flags: int = 0

    def compiled_pattern(self):
        return None if self.pattern is None else _compiled(self.pattern, self.pattern_flags)


@lru_cache(maxsize=None)
def _compiled(pattern: str, flags: int):
    import re

    return re.compile(pattern, flags)


def _rule_sources() -> list[str]:
    import dldoctor.rules as package

    return sorted(
        os.path.join(directory, name)
        for directory in package.__path__
        for name in os.listdir(directory)
        if name.endswith(".py")
    )


def sources_digest() -> str:
    """A digest of the rule modules' names and bytes (a millisecond for all of them)."""
    from dldoctor.lint.cache import blake2b

    digest = blake2b(digest_size=16)
    for path in _rule_sources():
        with open(path, "rb") as handle:
            data = handle.read()
        digest.update(f"{os.path.basename(path)}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _facts_of(rule) -> RuleFacts:
    from dldoctor.lint.rule import Rule

    own_test = rule.could_fire.__func__ is not Rule.could_fire.__func__
    pattern = rule.trigger_pattern
    return RuleFacts(
        rule.code, rule.name, rule.severity, rule.summary, tuple(tuple(group) for group in rule.reads_installed),
        module=rule.__module__.rpartition(".")[2] if rule.__module__.startswith("dldoctor.rules.") else "",
        triggers=None if own_test else tuple(rule.triggers),
        also_triggers=() if own_test else tuple(rule.also_triggers),
        pattern=None if own_test or pattern is None else pattern.pattern,
        pattern_flags=0 if own_test or pattern is None else pattern.flags,
    )


def _facts_of_modules() -> dict[str, RuleFacts]:
    return {code: _facts_of(rule) for code, rule in all_rules().items()}


@lru_cache(maxsize=1)
def facts() -> dict[str, RuleFacts]:
    """Code -> `RuleFacts`, sorted by code: from the generated table while it is current,
    else from the rule modules themselves."""
    try:
        from dldoctor.lint import catalogue
    except ImportError:
        return _facts_of_modules()
    if catalogue.SOURCES_DIGEST != sources_digest():
        return _facts_of_modules()
    found = {}
    for code, entry in catalogue.RULES.items():
        entry = dict(entry)
        entry["severity"] = Severity(entry["severity"])
        entry["reads_installed"] = tuple(tuple(group) for group in entry["reads_installed"])
        found[code] = RuleFacts(code, **entry)
    return found


@lru_cache(maxsize=None)
def rule_class(code: str) -> type[Rule]:
    """The class of one rule, importing its module alone (and what that module imports)."""
    import importlib

    from dldoctor.lint.rule import Rule

    known = facts().get(code)
    if known is None or not known.module:  # not a module of `dldoctor.rules`
        return all_rules()[code]
    module = importlib.import_module(f"dldoctor.rules.{known.module}")
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Rule) and getattr(value, "code", None) == code:
            return value
    return all_rules()[code]


def name_of(code: str) -> str:
    """The rule's name (`binary-read-in-text-mode`), DL000's for a code that is no rule."""
    found = facts().get(code)
    return found.name if found is not None else UNREADABLE_NAME


def default_selection() -> set[str]:
    """Rules on by default: everything of severity warning or error."""
    return {code for code, rule in facts().items() if rule.severity is not Severity.INFO}


def expand_selector(selector: str) -> set[str]:
    """Codes matched by `ALL`, a code (`DL101`) or a prefix (`DL1`); empty when none match."""
    selector = selector.strip().upper()
    codes = set(facts()) | {UNREADABLE_CODE}
    if selector == "ALL":
        return codes
    return {code for code in codes if code.startswith(selector)} if selector else set()


def catalogue_text() -> str:
    """The source of `dldoctor.lint.catalogue` for the rule modules as they are now."""
    lines = [
        '"""What the command line needs of each rule without importing it: generated from the',
        "rule modules by `python -m dldoctor.lint.registry`; do not edit (see `registry.facts`).",
        '"""',
        "",
        f"SOURCES_DIGEST = {sources_digest()!r}",
        "",
        "RULES = {",
    ]
    for code, rule in _facts_of_modules().items():
        lines.append(f"    {code!r}: {{")
        for name in ("module", "name", "severity", "summary", "reads_installed", "triggers", "also_triggers", "pattern", "pattern_flags"):
            value = getattr(rule, name)
            lines.append(f"        {name!r}: {(value.value if name == 'severity' else value)!r},")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def catalogue_path() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalogue.py")


if __name__ == "__main__":
    with open(catalogue_path(), "w", encoding="utf-8") as stream:
        stream.write(catalogue_text())
    print(f"wrote {catalogue_path()}")
