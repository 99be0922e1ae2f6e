"""`dldoctor server`: the language server editors start (LSP over stdio).

Diagnostics as the user types, a quick fix per fix, `# noqa` per finding and a safe
fix-all, in files and in notebooks, with the project's own settings. Built on
`dldoctor.api` only; importing this package costs nothing (pygls and the linter load
when the server starts), so registering the command costs `dldoctor lint` nothing.
"""

from __future__ import annotations

import sys

INSTALL_HINT = "dldoctor server needs pygls: pip install 'dldoctor[server]'"


def server_command() -> None:
    """Run the language server on stdin/stdout (editors start it: see docs/server.md)."""
    raise SystemExit(serve())


def serve(stdin=None, stdout=None) -> int:
    """Serve one client over the given binary streams (default: this process's stdin and
    stdout). Returns the exit status."""
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        print(f"dldoctor: error: {INSTALL_HINT}", file=sys.stderr)
        return 2
    from dldoctor.server.server import build, log_to_stderr

    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    # The protocol owns stdout: anything printed by mistake goes to stderr, the client's log.
    sys.stdout = sys.stderr
    log_to_stderr()
    build().start_io(stdin, stdout)
    return 0
