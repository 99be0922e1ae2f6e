"""`dldoctor server` with a bug planted in one rule: DL101 raises on any file named
`build_data.py`, as a real bug in a rule would, so a test can see that the server logs
it and goes on serving. Run as a script: `python tests/server_crashing_rule.py`."""

from __future__ import annotations

import os

from dldoctor.rules.dl101_binary_read_in_text_mode import BinaryReadInTextMode

_visit_call = BinaryReadInTextMode.visit_Call


def _crash_on_build_data(self, node):
    if os.path.basename(self.context.path) == "build_data.py":
        raise ZeroDivisionError("a planted bug in DL101")
    return _visit_call(self, node)


BinaryReadInTextMode.visit_Call = _crash_on_build_data

if __name__ == "__main__":
    from dldoctor.server import server_command

    server_command()
