"""DL100 unused-noqa."""

from __future__ import annotations

import re

from dldoctor.lint.finding import Edit, FixProposal, Severity
from dldoctor.lint.noqa import Directive
from dldoctor.lint.rule import Applicability, Rule


_NOQA_WITH_OUR_CODE = re.compile(r"noqa\s*:[^\n\r]*dl[0-9]")


class UnusedNoqa(Rule):
    """
    ## What it does
    Finds `# noqa: CODE` comments that name a dldoctor code (`DL...`) which
    suppresses nothing on their line: the rule ran on the file and reported
    nothing there, or the code is not a dldoctor rule at all (`# noqa: DL999`, a
    prefix such as `# noqa: DL2`). It needs the other rules' results, so it is
    judged after every other selected rule has run on the file.

    Only what the comment can be proved wrong about is reported. Codes of other
    tools (`# noqa: E501`, `# noqa: F401`) are never judged, nor is a bare
    `# noqa` (flake8 and ruff read it too), nor a code whose rule did not run on
    the file (not selected, turned off by `per-file-ignores` or `# dldoctor: noqa:
    CODE`): the run cannot know whether it would be used.

    ## Why is this bad
    A suppression that suppresses nothing hides the next real finding on that
    line: the bug the comment was written for was fixed, or the rule learnt to
    tell the case apart, and the comment stays. A misspelt code is worse: the
    finding it was meant for is still reported, or, if that finding goes away for
    a while, the comment is trusted as if it worked.

    ## Example
    ```python
    config = tf.ConfigProto(log_device_placement=FLAGS.debug)  # noqa: DL201
    images = open(path, "rb").read()  # noqa: DL999
    ```

    ## Use instead
    ```python
    config = tf.ConfigProto(log_device_placement=FLAGS.debug)
    images = open(path, "rb").read()
    ```

    ## Fix safety
    Safe: `--fix` removes the unused or unknown codes from the comment (the
    whole `# noqa: ...` when none is left, keeping other comment text and other
    tools' codes). Nothing but a comment changes.
    """

    code = "DL100"
    name = "unused-noqa"
    severity = Severity.WARNING
    summary = "a `# noqa: DL...` that suppresses nothing on its line, or names no dldoctor rule"
    triggers = ("noqa",)

    VALID = (
        # Used: DL201 reports on this line.
        "import tensorflow.compat.v1 as tf\ntf.ConfigProto(log_device_placement=True)  # noqa: DL201\n",
        # Other tools' codes and a bare noqa are not ours to judge.
        "import os  # noqa: F401\nx = 1  # noqa\ny = 2  # noqa: E501\n",
        # Text in a string is not a comment.
        'HELP = "write # noqa: DL999 to silence it"\n',
    )
    INVALID = (
        "x = open('a.bin', 'rb').read()  # noqa: DL999\n",
        "import numpy as np\nx = np.zeros(3)  # noqa: E501, DL2\n",
    )

    @classmethod
    def could_fire(cls, text: str, lowered: str) -> bool:
        """Only a `noqa:` followed on its line by one of our codes can be judged."""
        return "noqa" in lowered and _NOQA_WITH_OUR_CODE.search(lowered) is not None

    @staticmethod
    def message(unused: list[str], unknown: list[str]) -> str:
        parts = []
        if unused:
            names = ", ".join(unused)
            verb = "reports" if len(unused) == 1 else "report"
            parts.append(f"{names} {verb} nothing on this line")
        if unknown:
            names = ", ".join(unknown)
            parts.append(f"{names} {'is' if len(unknown) == 1 else 'are'} not a dldoctor rule code (see `dldoctor rules`)")
        return f"Unused `noqa` directive: {'; '.join(parts)}; remove {'it' if len(unused) + len(unknown) == 1 else 'them'}"

    @staticmethod
    def fix(directive: Directive, line_text: str, removed: set[str]) -> FixProposal:
        """The edit that takes `removed` out of the directive (1-based columns, end exclusive)."""
        kept = [code for code, _, _ in directive.codes if code.upper() not in removed]
        line = directive.line
        if kept:
            first, last = directive.codes[0][1], directive.codes[-1][2]
            edit = Edit(line, first + 1, line, last + 1, ", ".join(kept))
        else:
            before = line_text[directive.comment_start : directive.start]
            after = line_text[directive.end : directive.comment_start + len(directive.comment)]
            if not before.strip() and not after.strip():
                # The whole comment goes, with the spaces that separated it from the code.
                start = len(line_text[: directive.comment_start].rstrip())
                edit = Edit(line, start + 1, line, directive.comment_start + len(directive.comment) + 1, "")
            elif before.strip():  # `# why  # noqa: DL201`: keep `# why`
                start = directive.comment_start + len(before.rstrip())
                edit = Edit(line, start + 1, line, directive.end + 1, "")
            else:  # `# noqa: DL201 kept for x`: keep `# kept for x`
                edit = Edit(line, directive.start + 1, line, directive.end + len(after) - len(after.lstrip()) + 1, "# ")
        codes = ", ".join(sorted(removed))
        return FixProposal(f"Remove {codes} from the `noqa` directive", Applicability.SAFE.value, (edit,))
