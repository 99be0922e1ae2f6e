"""`[tool.dldoctor]` in pyproject.toml, the command-line overrides, and rule selection.

Selection follows ruff: `select` (default: every rule of severity warning or
error) plus `extend-select`, minus `ignore`; a selector is `ALL`, a code
(`DL101`) or a prefix (`DL1`). A command-line `--select` replaces the file's
`select`; `--extend-select` and `--ignore` add to the file's. An unknown key,
code or prefix is a usage error: a typo must not silently turn a rule off.

`target-versions = { torch = "2.5", tensorflow = "1.15" }` names the library
versions the project targets (see `dldoctor.lint.target`); `--target-version
torch=2.5` overrides one library's. An unknown library or a value that is not a
version is a usage error too.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dldoctor.lint import registry
from dldoctor.lint.target import CONFIG, TargetError, TargetVersion, explicit_version, parse_assignment

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

KNOWN_KEYS = ("select", "ignore", "extend-select", "exclude", "per-file-ignores", "target-versions")


class ConfigError(Exception):
    """A configuration the user must fix; reported as a usage error (exit 2)."""


@dataclass
class Settings:
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    target_versions: list[TargetVersion] = field(default_factory=list)  # the configuration's, then the CLI's
    root: Path = field(default_factory=Path.cwd)  # paths in the file are relative to it
    source: Path | None = None  # the pyproject.toml read, if any

    def selected_codes(self) -> set[str]:
        chosen = _expand(self.select, "select") if self.select is not None else registry.default_selection()
        chosen |= {registry.UNREADABLE_CODE}
        chosen |= _expand(self.extend_select, "extend-select")
        return chosen - _expand(self.ignore, "ignore")

    def ignored_for(self, path: str) -> set[str]:
        """Codes `per-file-ignores` turns off for this file."""
        if not self.per_file_ignores:
            return set()
        relative = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(self.root))).as_posix()
        name = os.path.basename(path)
        ignored: set[str] = set()
        for pattern, codes in self.per_file_ignores.items():
            target = relative if "/" in pattern else name
            if fnmatch.fnmatch(target, pattern.rstrip("/")) or fnmatch.fnmatch(relative, pattern.rstrip("/") + "/*"):
                ignored |= _expand(codes, f"per-file-ignores[{pattern!r}]")
        return ignored

    def validate(self) -> None:
        """Expand every selector once, so an unknown code fails before any file is read."""
        self.selected_codes()
        for pattern, codes in self.per_file_ignores.items():
            _expand(codes, f"per-file-ignores[{pattern!r}]")


def _expand(selectors: Iterable[str], where: str) -> set[str]:
    codes: set[str] = set()
    for selector in selectors:
        matched = registry.expand_selector(selector)
        if not matched:
            raise ConfigError(f"unknown rule code or prefix {selector!r} in {where} (see `dldoctor rules`)")
        codes |= matched
    return codes


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` that has a [tool.dldoctor] table."""
    directory = start.resolve()
    if not _is(directory, "dir"):
        directory = directory.parent
    for candidate_dir in (directory, *directory.parents):
        candidate = candidate_dir / "pyproject.toml"
        if _is(candidate, "file"):
            if "dldoctor" in _read_toml(candidate).get("tool", {}):
                return candidate
    return None


def _is(path: Path, kind: str) -> bool:
    """`is_file()`/`is_dir()` that says False where a directory on the way cannot be
    entered (no configuration can be read there), instead of raising."""
    try:
        return path.is_file() if kind == "file" else path.is_dir()
    except OSError:
        return False


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def load(path: Path, *, explicit: bool = False) -> Settings:
    """Settings from a pyproject.toml's [tool.dldoctor] (or a dldoctor.toml's top level)."""
    data = _read_toml(path)
    table = data.get("tool", {}).get("dldoctor")
    if table is None:
        if not explicit or path.name == "pyproject.toml":
            raise ConfigError(f"{path}: no [tool.dldoctor] table")
        table = data  # a dedicated file named with --config holds the keys at top level
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.dldoctor] must be a table")
    unknown = sorted(set(table) - set(KNOWN_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) in [tool.dldoctor]: {', '.join(unknown)} (known: {', '.join(KNOWN_KEYS)})")
    settings = Settings(root=path.parent.resolve(), source=path)
    if "select" in table:
        settings.select = _string_list(table["select"], path, "select")
    settings.extend_select = _string_list(table.get("extend-select", []), path, "extend-select")
    settings.ignore = _string_list(table.get("ignore", []), path, "ignore")
    settings.exclude = _string_list(table.get("exclude", []), path, "exclude")
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{path}: per-file-ignores must be a table of pattern = [codes]")
    settings.per_file_ignores = {
        pattern: _string_list(codes, path, f"per-file-ignores[{pattern!r}]") for pattern, codes in per_file.items()
    }
    targets = table.get("target-versions", {})
    if not isinstance(targets, dict):
        raise ConfigError(f'{path}: target-versions must be a table of library = "version" (e.g. {{ torch = "2.5" }})')
    try:
        settings.target_versions = [
            explicit_version(library, version, f"{path}: target-versions", CONFIG) for library, version in targets.items()
        ]
    except TargetError as problem:
        raise ConfigError(str(problem)) from None
    return settings


def _string_list(value: object, path: Path, key: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{path}: {key} must be a list of strings")
    return list(value)


def resolve(
    config: str | None,
    paths: Sequence[str],
    *,
    select: list[str] | None,
    extend_select: list[str],
    ignore: list[str],
    extra_exclude: list[str] | None = None,
    target_versions: Sequence[str] = (),
) -> Settings:
    """The settings for a run: the config file (named, or found near the first path), then the CLI."""
    if config is not None:
        settings = load(Path(config), explicit=True)
    else:
        found = find_pyproject(Path(paths[0]) if paths and os.path.exists(paths[0]) else Path.cwd())
        settings = load(found) if found else Settings()
    if select is not None:
        settings.select = select
    settings.extend_select = [*settings.extend_select, *extend_select]
    settings.ignore = [*settings.ignore, *ignore]
    if extra_exclude:
        settings.exclude = [*settings.exclude, *extra_exclude]
    try:
        given = [parse_assignment(value, "--target-version") for value in target_versions]
    except TargetError as problem:
        raise ConfigError(str(problem)) from None
    # The command line's first: a library it names is decided there.
    settings.target_versions = [*given, *settings.target_versions]
    settings.validate()
    return settings
