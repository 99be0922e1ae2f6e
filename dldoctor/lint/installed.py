"""Versions of installed packages, read from their metadata: never by importing them.

The version is in the name of a wheel's `.dist-info` directory, so listing the
directories on sys.path answers without importing `importlib.metadata` (30 ms,
a tenth of linting one file); only `.egg-info` installs need it.

Rules judge against the project's target versions (`dldoctor.lint.target`); the
versions installed here are the last source of those, and `--python PATH` reads
another interpreter's installs with `site_packages_of` and `versions_in`, from
their metadata too. The installed versions are part of the lint cache's key.
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


def version_from(listed: dict[str, str | None], distributions: tuple[str, ...]) -> str | None:
    """The version of the first of `distributions` in a `versions_in` listing."""
    for name in distributions:
        version = listed.get(_normalize(name))
        if version:
            return version
    return None


@lru_cache(maxsize=16)
def versions_in(directories: tuple[str, ...]) -> dict[str, str | None]:
    """Distribution -> version for the installs in `directories` (another interpreter's
    site-packages): `.dist-info` names, and the `Version:` line of an `.egg-info`'s
    PKG-INFO (read bounded: nothing of that environment is imported or run)."""
    found: dict[str, str | None] = {}
    for directory in directories:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                distribution, _, version = name[: -len(".dist-info")].partition("-")
                found.setdefault(_normalize(distribution), version or None)
            elif name.endswith(".egg-info"):
                distribution, _, version = name[: -len(".egg-info")].partition("-")
                version = version.partition("-")[0] or _egg_version(os.path.join(directory, name))
                found.setdefault(_normalize(distribution), version or None)
    return found


def _egg_version(path: str) -> str | None:
    from dldoctor import regular_file

    metadata = os.path.join(path, "PKG-INFO") if os.path.isdir(path) else path
    try:
        text = regular_file.read(metadata, 1 << 20).decode("utf-8", "replace")
    except (OSError, regular_file.NotRegularFile, regular_file.TooLarge):
        return None
    match = re.search(r"^Version:\s*(\S+)", text, re.MULTILINE)
    return match.group(1) if match else None


class InterpreterError(Exception):
    """`--python` names no interpreter whose packages can be found."""


ASK_TIMEOUT = 20  # seconds an interpreter may take to print its sys.path


def site_packages_of(python: str) -> list[str]:
    """The directories where the interpreter `python` (or a virtual environment's
    directory) finds its packages.

    Read from the layout first, running nothing: a virtual environment's
    `pyvenv.cfg` beside `bin/` names its version (`lib/pythonX.Y/site-packages`) and
    whether the base interpreter's packages are visible too; a plain installation
    keeps them under `PREFIX/lib/pythonX.Y/`. Only when the layout says nothing is
    the interpreter asked for its `sys.path`, with a time limit (it is the user's
    own interpreter, named on the command line).
    """
    path = os.path.abspath(os.path.expanduser(python))
    if os.path.isdir(path):
        for candidate in ("bin/python", "bin/python3", "Scripts/python.exe"):
            if os.path.isfile(os.path.join(path, candidate)):
                path = os.path.join(path, candidate)
                break
        else:
            raise InterpreterError("a directory without bin/python in it")
    if not os.path.exists(path):
        raise InterpreterError("no such file")
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise InterpreterError("not an executable file")
    directories = _from_layout(path)
    if directories:
        return directories
    return _ask(path)


def _pyvenv(root: str) -> dict[str, str]:
    from dldoctor import regular_file

    try:
        text = regular_file.read(os.path.join(root, "pyvenv.cfg"), 1 << 16).decode("utf-8", "replace")
    except (OSError, regular_file.NotRegularFile, regular_file.TooLarge):
        return {}
    settings = {}
    for line in text.splitlines():
        key, equals, value = line.partition("=")
        if equals:
            settings[key.strip().lower()] = value.strip()
    return settings


def _series(name: str) -> str | None:
    match = re.fullmatch(r"python(\d+\.\d+)[a-z]*(\.exe)?", name)
    return match.group(1) if match else None


def _libraries(prefix: str, series: str | None) -> list[str]:
    """`PREFIX/lib/pythonX.Y/site-packages` (and Debian's dist-packages); any X.Y when unknown."""
    found = []
    lib = os.path.join(prefix, "lib")
    try:
        names = sorted(os.listdir(lib), reverse=True)
    except OSError:
        names = []
    for name in names:
        if name.startswith("python3") and (series is None or name == f"python{series}"):
            for leaf in ("site-packages", "dist-packages"):
                candidate = os.path.join(lib, name, leaf)
                if os.path.isdir(candidate):
                    found.append(candidate)
    windows = os.path.join(prefix, "Lib", "site-packages")
    if os.path.isdir(windows):
        found.append(windows)
    return found


def _from_layout(python: str) -> list[str]:
    bin_dir = os.path.dirname(python)
    for root in (os.path.dirname(bin_dir), bin_dir):
        settings = _pyvenv(root)
        if settings:
            version = settings.get("version_info") or settings.get("version") or ""
            series = ".".join(version.split(".")[:2]) or _series(os.path.basename(python))
            found = _libraries(root, series)
            if settings.get("include-system-site-packages", "").lower() == "true" and settings.get("home"):
                found += _libraries(os.path.dirname(settings["home"].rstrip("/\\")), series)
            return found
    series = _series(os.path.basename(python)) or _series(os.path.basename(os.path.realpath(python)))
    prefix = os.path.dirname(bin_dir)
    found = _libraries(prefix, series)
    if series is None and len({os.path.dirname(d) for d in found}) > 1:
        return []  # several Pythons share this prefix and the name does not say which: ask it
    return found


def _ask(python: str) -> list[str]:
    import json
    import subprocess

    try:
        done = subprocess.run(
            [python, "-c", "import json, sys; print(json.dumps(sys.path))"],
            capture_output=True, text=True, timeout=ASK_TIMEOUT, stdin=subprocess.DEVNULL,
        )
        paths = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 and done.stdout.strip() else None
    except subprocess.TimeoutExpired:
        raise InterpreterError(f"did not print its sys.path within {ASK_TIMEOUT} s") from None
    except (OSError, ValueError) as error:
        raise InterpreterError(f"cannot run it to find its packages ({error})") from None
    if not isinstance(paths, list) or not all(isinstance(entry, str) for entry in paths):
        raise InterpreterError("not a Python interpreter (it did not print its sys.path)")
    return [entry for entry in paths if entry and os.path.isdir(entry)]
