"""The catalogue of rules: every `Rule` subclass defined in the `dldoctor.rules` package.

A new rule is a new file in `rules/`; nothing else needs to list it.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from dldoctor.lint.finding import Severity
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
    import dldoctor.rules as package

    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and value.__module__ == module.__name__:
                if value.code in found:
                    raise RuntimeError(f"two rules share the code {value.code}: {found[value.code].__name__}, {value.__name__}")
                found[value.code] = value
    return dict(sorted(found.items()))


def default_selection() -> set[str]:
    """Rules on by default: everything of severity warning or error."""
    return {code for code, rule in all_rules().items() if rule.severity is not Severity.INFO}


def expand_selector(selector: str) -> set[str]:
    """Codes matched by `ALL`, a code (`DL101`) or a prefix (`DL1`); empty when none match."""
    selector = selector.strip().upper()
    codes = set(all_rules()) | {UNREADABLE_CODE}
    if selector == "ALL":
        return codes
    return {code for code in codes if code.startswith(selector)} if selector else set()
