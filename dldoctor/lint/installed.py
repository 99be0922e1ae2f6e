"""Versions of installed packages, read from their metadata: never by importing them.

Some rules name the installed version in their message, or decide from it
(DL502: `torch.load`'s default changed in torch 2.6), so the versions are also
part of the lint cache's key.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=None)
def installed_version(*distributions: str) -> str | None:
    """The version of the first of `distributions` that is installed (`tensorflow`,
    `tensorflow-cpu`, ...), or None when none is (or its metadata is broken)."""
    from importlib import metadata  # about 10 ms: only when a rule asks

    for name in distributions:
        try:
            return metadata.version(name)
        except Exception:  # not installed, or a broken .dist-info
            continue
    return None
