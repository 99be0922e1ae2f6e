"""Versions of installed packages, read from their metadata: never by importing them.

The version is in the name of a wheel's `.dist-info` directory, so listing the
directories on sys.path answers without importing `importlib.metadata` (30 ms,
a tenth of linting one file); only `.egg-info` installs need it.

Some rules name the installed version in their message, or decide from it
(DL502: `torch.load`'s default changed in torch 2.6), so the versions are also
part of the lint cache's key.
"""

from __future__ import annotations

import os
import re
import sys
from functools import lru_cache


@lru_cache(maxsize=None)
def installed_version(*distributions: str) -> str | None:
    """The version of the first of `distributions` that is installed (`tensorflow`,
    `tensorflow-cpu`, ...), or None when none is (or its metadata is broken)."""
    listed = _versions_in_directory_names()
    for name in distributions:
        version = listed.get(_normalize(name), "")
        if version:
            return version
        if version is None:  # listed without a version (an .egg-info): ask the metadata
            from importlib import metadata  # 30 ms to import: only for such installs

            try:
                return metadata.version(name)
            except Exception:  # a broken .egg-info
                continue
    return None


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@lru_cache(maxsize=1)
def _versions_in_directory_names() -> dict[str, str | None]:
    """Distribution -> version, from the `NAME-VERSION.dist-info` directories on sys.path
    (the wheel standard puts both in the name; the first entry of sys.path wins), or
    None for an `.egg-info` whose name may lack the version."""
    found: dict[str, str | None] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                distribution, _, version = name[: -len(".dist-info")].partition("-")
                found.setdefault(_normalize(distribution), version or None)
            elif name.endswith(".egg-info"):
                found.setdefault(_normalize(name[: -len(".egg-info")].partition("-")[0]), None)
    return found
