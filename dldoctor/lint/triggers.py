"""The text test that decides whether a file is worth parsing for a rule (`Rule.triggers`).

Kept apart from `dldoctor.lint.rule` so that it runs without libcst or the rule
module: the rules' catalogue holds each rule's triggers, and a rule whose triggers
do not hold in a file is never imported for it (a one-file run loads the few rules
the file could concern, not all of them).
"""

from __future__ import annotations

import re

from dldoctor.lint.textscan import search_code


def hold(
    text: str, lowered: str, triggers: tuple[str, ...], also_triggers: tuple[str, ...], pattern: re.Pattern[str] | None
) -> bool:
    """One of `triggers` occurs in the file, and one of `also_triggers` when there are any (both
    case-insensitively: `lowered` is `text.lower()`), and `pattern` matches outside comment and
    doctest lines when it is given."""
    if not any(trigger.lower() in lowered for trigger in triggers):
        return False
    if also_triggers and not any(trigger.lower() in lowered for trigger in also_triggers):
        return False
    return pattern is None or search_code(pattern, text)
