"""Every rule's own definition: documentation, examples, triggers."""

from __future__ import annotations

import pytest

from dldoctor.lint.registry import all_rules, default_selection
from dldoctor.lint.runner import lint_text

from lintutil import lint_checked

RULES = list(all_rules().values())
EXAMPLES = [(rule, example, "valid") for rule in RULES for example in rule.VALID] + [
    (rule, example, "invalid") for rule in RULES for example in rule.INVALID
]


def test_the_five_core_rules_exist_with_fixed_names():
    names = {code: rule.name for code, rule in all_rules().items()}
    assert names["DL101"] == "binary-read-in-text-mode"
    assert names["DL102"] == "str-of-bytes-feature"
    assert names["DL201"] == "log-device-placement"
    assert names["DL301"] == "list-membership-in-loop"
    assert names["DL401"] == "infinite-poll-loop"
    assert {"DL101", "DL102", "DL201", "DL301", "DL401"} <= default_selection()


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_is_well_formed(rule):
    assert rule.problems() == []


@pytest.mark.parametrize(
    ("rule", "example", "kind"), EXAMPLES, ids=lambda value: value.code if hasattr(value, "code") else None
)
def test_documented_examples(rule, example, kind):
    result = lint_checked(example, frozenset({rule.code}), "example.py")  # and the prefilter hides nothing
    codes = [finding.code for finding in result.findings]
    if kind == "valid":
        assert codes == [], example
    else:
        assert rule.code in codes, example


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_invalid_examples_fire_only_their_own_rule_among_the_core(rule):
    """An INVALID example of one rule is not a finding of another rule (no double reports)."""
    others = frozenset(all_rules()) - {rule.code}
    for example in rule.INVALID:
        result = lint_text("example.py", example, "utf-8", others)
        assert result.findings == [], (example, result.findings)
