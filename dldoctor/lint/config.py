"""Configuration files, the command line's overrides, and which rules run on each file.

Where settings come from, as in ruff:

- **Each file its nearest configuration**: the closest directory at or above the
  file holding `.dldoctor.toml`, `dldoctor.toml` or a `pyproject.toml` with a
  `[tool.dldoctor]` table (in that order within one directory, as ruff's
  `.ruff.toml`, `ruff.toml`, `pyproject.toml`). A file with none above it takes the
  configuration found from the current directory, else the defaults. So
  `lint A B` and `lint B A` judge each file alike. `--config PATH` names one file
  for every path; `--isolated` reads none.
- **`extend = "../pyproject.toml"`**: the other file's settings first, this file's
  over them (paths in each file are relative to that file's directory).
- **`--config KEY=VALUE`** (a TOML `key = value`): over every configuration file;
  then the command line's own flags over everything.

Rule selection follows ruff too. Each source (the defaults, each file of an
`extend` chain, `--config` overrides, the command line) is a layer of `select`,
`extend-select` and `ignore`. A layer's `select` replaces what the layers before
chose; `extend-select` and `ignore` adjust it. Within a layer the more specific
selector wins (`--select DL401 --ignore DL4` runs DL401), and at equal
specificity `ignore` does. `ALL` is the least specific, a full code the most.
DL000 (a file that could not be linted) is on unless a layer ignores it.

Validation is strict: an unknown key, code or prefix, a string where a list is
wanted (`select = "DL4"`), an empty `select`, a value of the wrong type: each is
one message naming the file and the key, and the run stops (exit 2) before any
file is read. A typo must not silently turn a rule off.

`target-versions = { torch = "2.5" }` names the library versions a project
targets (see `dldoctor.lint.target`); each file is judged against its own
configuration's, and `--target-version torch=2.5` is over all of them.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dldoctor.lint import registry
from dldoctor.lint.inputs import consulted
from dldoctor.lint.target import CONFIG, TargetError, TargetVersion, explicit_version, parse_assignment

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

KNOWN_KEYS = (
    "extend", "select", "extend-select", "ignore", "exclude", "extend-exclude", "per-file-ignores",
    "extend-per-file-ignores", "respect-gitignore", "force-exclude", "target-versions",
    "logs",  # [tool.dldoctor.logs]: the thresholds of `dldoctor logs`; lint does not read them
)
# Within one directory, the first of these that exists is its configuration (ruff's order).
CONFIG_NAMES = (".dldoctor.toml", "dldoctor.toml", "pyproject.toml")
COMMAND_LINE = "command line"


class ConfigError(Exception):
    """A configuration the user must fix; reported as a usage error (exit 2), a line per mistake."""

    def __init__(self, messages: str | Sequence[str]) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


@dataclass(frozen=True)
class Layer:
    """One source's selectors (`select` None: that source does not replace the selection)."""

    where: str
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class PathPattern:
    """A glob from `exclude` or `per-file-ignores`, and the directory it is relative to."""

    pattern: str
    root: str  # absolute


@dataclass
class Options:
    """What one source sets; None where it says nothing (the source before it decides)."""

    layers: list[Layer] = field(default_factory=list)
    exclude: list[PathPattern] | None = None
    extend_exclude: list[PathPattern] = field(default_factory=list)
    per_file_ignores: list[tuple[PathPattern, tuple[str, ...]]] | None = None
    extend_per_file_ignores: list[tuple[PathPattern, tuple[str, ...]]] = field(default_factory=list)
    respect_gitignore: bool | None = None
    force_exclude: bool | None = None
    target_versions: dict[str, TargetVersion] | None = None
    files: list[Path] = field(default_factory=list)  # the configuration files read, the extended first

    def then(self, later: Options) -> Options:
        """These options with `later`'s over them."""
        return Options(
            layers=[*self.layers, *later.layers],
            exclude=later.exclude if later.exclude is not None else self.exclude,
            extend_exclude=[*self.extend_exclude, *later.extend_exclude],
            per_file_ignores=later.per_file_ignores if later.per_file_ignores is not None else self.per_file_ignores,
            extend_per_file_ignores=[*self.extend_per_file_ignores, *later.extend_per_file_ignores],
            respect_gitignore=later.respect_gitignore if later.respect_gitignore is not None else self.respect_gitignore,
            force_exclude=later.force_exclude if later.force_exclude is not None else self.force_exclude,
            target_versions=(
                {**(self.target_versions or {}), **later.target_versions}
                if later.target_versions is not None
                else self.target_versions
            ),
            files=[*self.files, *later.files],
        )


@dataclass
class Settings:
    """The resolved settings of the files one configuration governs."""

    codes: frozenset[str] = field(default_factory=lambda: frozenset(_selected([])))
    exclude: list[PathPattern] | None = None  # None: the default directories only
    extend_exclude: list[PathPattern] = field(default_factory=list)
    per_file_ignores: list[tuple[PathPattern, tuple[str, ...]]] = field(default_factory=list)
    respect_gitignore: bool = True
    force_exclude: bool = False
    target_versions: list[TargetVersion] = field(default_factory=list)  # the command line's, then the configuration's
    root: Path = field(default_factory=Path.cwd)  # the configuration's directory (else the current one)
    source: Path | None = None  # the configuration file, if any
    files: list[Path] = field(default_factory=list)  # every file read for it, the extended first
    layers: list[Layer] = field(default_factory=list)

    def selected_codes(self) -> set[str]:
        return set(self.codes)

    def ignored_for(self, path: str) -> set[str]:
        """Codes `per-file-ignores` turns off for this file."""
        ignored: set[str] = set()
        for pattern, codes in self.per_file_ignores:
            if matches(pattern, path):
                ignored |= _expand(codes)
        return ignored

    def codes_for(self, path: str) -> frozenset[str]:
        return frozenset(self.codes - self.ignored_for(path))

    @property
    def excludes(self) -> list[PathPattern]:
        return [*(self.exclude or []), *self.extend_exclude]


def matches(pattern: PathPattern, path: str) -> bool:
    """Whether `path` matches a glob of `exclude` / `per-file-ignores`.

    A pattern without `/` matches a name anywhere (`generated`, `scratch_*.py`); one
    with `/` is anchored at its root and matches the path or a directory above it
    (`legacy/*.py`, `src/generated`): a directory's pattern covers the files under it.
    """
    glob = pattern.pattern.rstrip("/")
    if glob.startswith("./"):
        glob = glob[2:]
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, pattern.root)
    inside = not relative.startswith("..")
    parts = Path(relative if inside else absolute).as_posix().strip("/").split("/")
    if "/" not in glob:
        return any(fnmatch.fnmatch(part, glob) for part in parts)
    if os.path.isabs(glob):
        target_parts = Path(absolute).as_posix().strip("/").split("/")
        glob = glob.strip("/")
    elif not inside:
        return False
    else:
        target_parts = parts
    prefixes = ["/".join(target_parts[: i + 1]) for i in range(len(target_parts))]
    return any(fnmatch.fnmatch(prefix, glob) for prefix in prefixes)


# --- selection ------------------------------------------------------------------------------------


def _specificity(selector: str) -> int:
    selector = selector.strip().upper()
    return 0 if selector == "ALL" else len(selector)


def _expand(selectors: Iterable[str]) -> set[str]:
    codes: set[str] = set()
    for selector in selectors:
        codes |= registry.expand_selector(selector)
    return codes


def _selected(layers: Sequence[Layer]) -> set[str]:
    """The codes the layers choose, ruff's way (see the module docstring)."""
    chosen = registry.default_selection() | {registry.UNREADABLE_CODE}
    for layer in layers:
        updates: dict[str, bool] = {}
        selecting = [*(layer.select or ()), *layer.extend_select]
        for level in sorted({_specificity(s) for s in [*selecting, *layer.ignore]}):
            for selector in selecting:
                if _specificity(selector) == level:
                    updates.update(dict.fromkeys(registry.expand_selector(selector), True))
            for selector in layer.ignore:
                if _specificity(selector) == level:
                    updates.update(dict.fromkeys(registry.expand_selector(selector), False))
        if layer.select is not None:
            chosen = {code for code, on in updates.items() if on}
            if registry.UNREADABLE_CODE not in updates:
                chosen.add(registry.UNREADABLE_CODE)
        else:
            for code, on in updates.items():
                (chosen.add if on else chosen.discard)(code)
    return chosen


# --- reading a file -------------------------------------------------------------------------------


def _is(path: Path, kind: str) -> bool:
    """`is_file()`/`is_dir()` that says False where a directory on the way cannot be
    entered (no configuration can be read there), instead of raising."""
    consulted(path)
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


def _has_table(path: Path) -> bool:
    tool = _read_toml(path).get("tool")
    return isinstance(tool, dict) and "dldoctor" in tool


def config_in(directory: Path) -> Path | None:
    """The configuration file of `directory`, if it has one (`CONFIG_NAMES`' order)."""
    for name in CONFIG_NAMES:
        candidate = directory / name
        if _is(candidate, "file") and (name != "pyproject.toml" or _has_table(candidate)):
            return candidate
    return None


def find_config(start: Path) -> Path | None:
    """The nearest configuration at or above `start`."""
    directory = Path(os.path.abspath(start))
    if not _is(directory, "dir"):
        directory = directory.parent
    for candidate_dir in (directory, *directory.parents):
        found = config_in(candidate_dir)
        if found is not None:
            return found
    return None


find_pyproject = find_config  # the name this had when only pyproject.toml was read


def _table_of(path: Path) -> dict:
    """The settings table of a configuration file: `[tool.dldoctor]`, or a dedicated file's top level."""
    data = _read_toml(path)
    tool = data.get("tool")
    if isinstance(tool, dict) and "dldoctor" in tool:
        table = tool["dldoctor"]
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.dldoctor] must be a table")
        if path.name != "pyproject.toml" and set(data) - {"tool"}:
            raise ConfigError(f"{path}: settings both at the top level and in [tool.dldoctor]; keep one")
        return table
    if path.name == "pyproject.toml":
        others = f" (it has [tool.{'], [tool.'.join(sorted(tool))}])" if isinstance(tool, dict) and tool else ""
        raise ConfigError(f"{path}: no [tool.dldoctor] table{others}")
    if "tool" in data:
        tables = f"[tool.{'], [tool.'.join(sorted(tool))}]" if isinstance(tool, dict) and tool else "[tool]"
        raise ConfigError(
            f"{path}: no dldoctor settings: it has {tables} but no [tool.dldoctor] table "
            "(a dldoctor.toml holds its keys at the top level)"
        )
    return data


def load(path: Path, *, explicit: bool = False, _chain: tuple[Path, ...] = ()) -> Options:
    """The options of one configuration file, with those of the files it extends first."""
    path = Path(os.path.abspath(path))
    if path in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, path))
        raise ConfigError(f"{path}: `extend` goes round in a circle: {cycle}")
    if not _is(path, "file"):
        where = f"{_chain[-1]}: extend = " if _chain else ""
        raise ConfigError(f"{where}{path}: no such configuration file")
    table = _table_of(path)
    options = parse_table(table, str(path), path.parent)
    options.files = [path]
    extend = table.get("extend")
    if isinstance(extend, str):
        base = load(path.parent / os.path.expanduser(extend), _chain=(*_chain, path))
        options = base.then(options)
    return options


def parse_table(table: dict, where: str, root: Path) -> Options:
    """Options from a settings table; every mistake in it is one message of the ConfigError."""
    problems: list[str] = []
    root_text = os.path.abspath(root)
    for key in table:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(KNOWN_KEYS)})"
            problems.append(f"{where}: unknown key {key!r}{hint}")

    def selectors(key: str, value: object, *, may_be_empty: bool = True) -> tuple[str, ...] | None:
        items = _strings(value, key, where, problems)
        if items is None:
            return None
        if not items and not may_be_empty:
            problems.append(
                f"{where}: {key} = [] selects no rule at all; name the rules (e.g. {key} = [\"DL1\"]) "
                "or remove the key for the default selection"
            )
            return None
        for item in items:
            if not registry.expand_selector(item):
                problems.append(f"{where}: {key}: unknown rule code or prefix {item!r} (see `dldoctor rules`)")
        return tuple(items)

    options = Options()
    select = selectors("select", table["select"], may_be_empty=False) if "select" in table else None
    extend_select = selectors("extend-select", table.get("extend-select", [])) or ()
    ignore = selectors("ignore", table.get("ignore", [])) or ()
    if select is not None or extend_select or ignore:
        options.layers.append(Layer(where, select, extend_select, ignore))
    if "exclude" in table:
        globs = _strings(table["exclude"], "exclude", where, problems)
        options.exclude = [PathPattern(glob, root_text) for glob in globs or []]
    globs = _strings(table.get("extend-exclude", []), "extend-exclude", where, problems)
    options.extend_exclude = [PathPattern(glob, root_text) for glob in globs or []]
    for key in ("per-file-ignores", "extend-per-file-ignores"):
        if key not in table:
            continue
        value = table[key]
        if not isinstance(value, dict):
            problems.append(f'{where}: {key} must be a table of "pattern" = ["codes"] (e.g. {key} = {{ "tests/*" = ["DL1"] }})')
            continue
        entries = []
        for pattern, codes in value.items():
            chosen = selectors(f"{key}[{pattern!r}]", codes)
            if chosen is not None:
                entries.append((PathPattern(pattern, root_text), chosen))
        if key == "per-file-ignores":
            options.per_file_ignores = entries
        else:
            options.extend_per_file_ignores = entries
    for key, attribute in (("respect-gitignore", "respect_gitignore"), ("force-exclude", "force_exclude")):
        if key in table:
            if isinstance(table[key], bool):
                setattr(options, attribute, table[key])
            else:
                problems.append(f"{where}: {key} must be true or false, not {table[key]!r}")
    if "extend" in table and not isinstance(table["extend"], str):
        problems.append(f'{where}: extend must be the path of another configuration file (e.g. extend = "../pyproject.toml")')
    if "target-versions" in table:
        targets = table["target-versions"]
        if not isinstance(targets, dict):
            problems.append(f'{where}: target-versions must be a table of library = "version" (e.g. {{ torch = "2.5" }})')
        else:
            options.target_versions = {}
            for library, version in targets.items():
                try:
                    entry = explicit_version(library, version, f"{where}: target-versions", CONFIG)
                except TargetError as problem:
                    problems.append(str(problem))
                else:
                    options.target_versions[entry.library] = entry
    if problems:
        raise ConfigError(problems)
    return options


def _strings(value: object, key: str, where: str, problems: list[str]) -> list[str] | None:
    if isinstance(value, str):
        problems.append(f'{where}: {key} must be a list of strings, not a string (write {key} = ["{value}"])')
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(f"{where}: {key} must be a list of strings, not {value!r}")
        return None
    return list(value)


def parse_override(text: str) -> Options:
    """`--config "select = ['DL1']"`: one TOML `key = value` over every configuration file."""
    where = f"--config {text!r}"
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: neither a configuration file nor a TOML `key = value` ({error})") from None
    if "extend" in table:
        raise ConfigError(f"{where}: extend names a file; use --config PATH")
    return parse_table(table, where, Path.cwd())


# --- the command line -----------------------------------------------------------------------------


@dataclass
class CommandLine:
    """What the command line says about settings (None / empty: nothing)."""

    config: Sequence[str] = ()  # --config: at most one path, and TOML `key = value` overrides
    isolated: bool = False
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] | None = None
    extend_exclude: list[str] = field(default_factory=list)
    per_file_ignores: list[str] | None = None  # "PATTERN:CODES"
    extend_per_file_ignores: list[str] = field(default_factory=list)
    respect_gitignore: bool | None = None
    force_exclude: bool | None = None
    target_versions: Sequence[str] = ()


def _command_line_options(line: CommandLine) -> Options:
    problems: list[str] = []
    cwd = os.getcwd()

    def checked(option: str, values: list[str]) -> tuple[str, ...]:
        for value in values:
            if not registry.expand_selector(value):
                problems.append(f"{option}: unknown rule code or prefix {value!r} (see `dldoctor rules`)")
        return tuple(values)

    options = Options()
    select = checked("--select", line.select) if line.select is not None else None
    extend_select, ignore = checked("--extend-select", line.extend_select), checked("--ignore", line.ignore)
    if select is not None or extend_select or ignore:
        options.layers.append(Layer(COMMAND_LINE, select, extend_select, ignore))
    if line.exclude is not None:
        options.exclude = [PathPattern(glob, cwd) for glob in line.exclude]
    options.extend_exclude = [PathPattern(glob, cwd) for glob in line.extend_exclude]

    def pairs(option: str, values: list[str]) -> list[tuple[PathPattern, tuple[str, ...]]]:
        found = []
        for value in values:
            pattern, colon, codes = value.rpartition(":")
            chosen = [code.strip() for code in codes.split(",") if code.strip()]
            if not colon or not pattern or not chosen:
                problems.append(f"{option} {value!r}: expected PATTERN:CODES, e.g. {option} 'tests/*:DL101,DL2'")
                continue
            found.append((PathPattern(pattern, cwd), checked(option, chosen)))
        return found

    if line.per_file_ignores is not None:
        options.per_file_ignores = pairs("--per-file-ignores", line.per_file_ignores)
    options.extend_per_file_ignores = pairs("--extend-per-file-ignores", line.extend_per_file_ignores)
    options.respect_gitignore = line.respect_gitignore
    options.force_exclude = line.force_exclude
    if problems:
        raise ConfigError(problems)
    return options


class Resolver:
    """The settings of every path of a run (each file's nearest configuration, with the overrides)."""

    def __init__(self, line: CommandLine, root: str | os.PathLike | None = None) -> None:
        """`root`: where a path without a configuration of its own takes its settings from (the
        nearest configuration at or above it; the current directory by default). An editor's
        workspace folder, for a server that does not run there."""
        self.root = Path(os.path.abspath(root)) if root is not None else Path.cwd()
        paths = [value for value in line.config if _looks_like_path(value)]
        inline = [value for value in line.config if not _looks_like_path(value)]
        if len(paths) > 1:
            raise ConfigError(f"--config names {len(paths)} files ({', '.join(paths)}); give at most one")
        if paths and line.isolated:
            raise ConfigError(f"--config {paths[0]} cannot be used with --isolated (which reads no configuration file)")
        problems: list[str] = []
        overrides = Options()
        for value in inline:
            try:
                overrides = overrides.then(parse_override(value))
            except ConfigError as error:
                problems += error.messages
        try:
            overrides = overrides.then(_command_line_options(line))
        except ConfigError as error:
            problems += error.messages
        try:
            self.cli_targets = [parse_assignment(value, "--target-version") for value in line.target_versions]
        except TargetError as problem:
            problems.append(str(problem))
        if problems:
            raise ConfigError(problems)
        self.overrides = overrides
        self.line = line
        self.fixed: Settings | None = None  # one settings for every path
        self._by_file: dict[Path, Settings] = {}
        self._by_directory: dict[str, Settings] = {}
        if paths:
            self.fixed = self._settings(Path(os.path.abspath(paths[0])), explicit=True)
        elif line.isolated:
            self.fixed = self._build(Options(), None)
        else:
            found = find_config(self.root)
            self.default = self._settings(found) if found else self._build(Options(), None)

    def _settings(self, config_file: Path, explicit: bool = False) -> Settings:
        if config_file not in self._by_file:
            self._by_file[config_file] = self._build(load(config_file, explicit=explicit), config_file)
        return self._by_file[config_file]

    def _build(self, options: Options, source: Path | None) -> Settings:
        merged = options.then(self.overrides)
        per_file = [*(merged.per_file_ignores or []), *merged.extend_per_file_ignores]
        return Settings(
            codes=frozenset(_selected(merged.layers)),
            exclude=merged.exclude,
            extend_exclude=merged.extend_exclude,
            per_file_ignores=per_file,
            respect_gitignore=merged.respect_gitignore if merged.respect_gitignore is not None else True,
            force_exclude=bool(merged.force_exclude),
            target_versions=[*self.cli_targets, *(merged.target_versions or {}).values()],
            root=source.parent if source is not None else self.root,
            source=source,
            files=merged.files,
            layers=merged.layers,
        )

    def for_directory(self, directory: str) -> Settings:
        """The settings of the files in `directory`."""
        if self.fixed is not None:
            return self.fixed
        directory = os.path.abspath(directory)
        found = self._by_directory.get(directory)
        if found is None:
            own = config_in(Path(directory)) if os.path.isdir(directory) else None
            if own is not None:
                found = self._settings(own)
            else:
                parent = os.path.dirname(directory)
                found = self.default if parent == directory else self.for_directory(parent)
            self._by_directory[directory] = found
        return found

    def for_path(self, path: str, is_dir: bool | None = None) -> Settings:
        """The settings of a file (or of the files in a directory, when `is_dir`)."""
        if is_dir is None:
            is_dir = os.path.isdir(path)
        absolute = os.path.abspath(path)
        return self.for_directory(absolute if is_dir else os.path.dirname(absolute))

    def every(self) -> list[Settings]:
        """Every settings resolved so far (for the target versions each configuration names)."""
        found = [self.fixed] if self.fixed is not None else [self.default, *self._by_file.values()]
        unique: list[Settings] = []
        for settings in found:
            if all(settings is not seen for seen in unique):
                unique.append(settings)
        return unique


def _looks_like_path(value: str) -> bool:
    """`--config` takes a file, or a TOML `key = value` (as ruff: an existing file is a file)."""
    if os.path.exists(value):
        return True
    return "=" not in value


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
    """The settings of the first path (kept for callers that lint one project)."""
    resolver = Resolver(
        CommandLine(
            config=[config] if config else [], select=select, extend_select=extend_select, ignore=ignore,
            extend_exclude=list(extra_exclude or []), target_versions=target_versions,
        )
    )
    first = paths[0] if paths and os.path.exists(paths[0]) else os.getcwd()
    return resolver.for_path(first)


def describe(settings: Settings, path: str, resolver: Resolver) -> str:
    """`--show-settings`: what a file is linted with, and where each part comes from."""
    from dldoctor.lint import target

    lines = [f"Settings for {path}"]
    if resolver.line.isolated:
        lines.append("Configuration file: none (--isolated)")
    elif settings.source is None:
        lines.append("Configuration file: none (the defaults)")
    else:
        lines.append(f"Configuration file: {settings.source}")
        for extended in settings.files[:-1] if settings.files and settings.files[-1] == settings.source else ():
            lines.append(f"  extends: {extended}")
    overrides = [value for value in resolver.line.config if not _looks_like_path(value)]
    if overrides:
        lines.append("Overrides: " + "; ".join(overrides))
    lines.append("Selection, in order (each layer over the ones before):")
    lines.append("  defaults: every rule of severity warning or error, and DL000")
    for layer in settings.layers:
        parts = []
        if layer.select is not None:
            parts.append(f"select {', '.join(layer.select)}")
        if layer.extend_select:
            parts.append(f"extend-select {', '.join(layer.extend_select)}")
        if layer.ignore:
            parts.append(f"ignore {', '.join(layer.ignore)}")
        lines.append(f"  {layer.where}: {'; '.join(parts)}")
    codes = settings.codes_for(path)
    catalogue = registry.all_rules()
    lines.append(f"Rules selected for this file ({len(codes)}):")
    for code in sorted(codes):
        name = catalogue[code].name if code in catalogue else registry.UNREADABLE_NAME
        lines.append(f"  {code} {name}")
    turned_off = settings.codes - codes
    if turned_off:
        lines.append(f"Turned off here by per-file-ignores: {', '.join(sorted(turned_off))}")
    shown_excludes = [pattern.pattern for pattern in settings.excludes]
    if settings.exclude is None:
        shown_excludes.insert(0, "the default directories (.git, .venv, build, dist, __pycache__, ...)")
    lines.append("Exclude: " + (", ".join(shown_excludes) or "nothing"))
    lines.append(f"Respect .gitignore/.ignore: {'yes' if settings.respect_gitignore else 'no'}")
    lines.append(f"Force exclude (paths named explicitly too): {'yes' if settings.force_exclude else 'no'}")
    found = target.for_path(path)
    lines.append("Target versions (the first source that knows decides):")
    shown = False
    for library in target.LIBRARIES:
        entry = found.get(library)
        if entry is not None:
            shown = True
            lines.append(f"  {entry.describe()}")
    if not shown:
        lines.append("  none known (no configuration, pin or installed library names one)")
    return "\n".join(lines)




def run_targets(resolver: Resolver, environment, python: str | None):
    """The run's target versions for `dldoctor.lint.target`: each configuration's for its
    files (the command line's first), and `--python`'s environment under them."""
    from dldoctor.lint import target

    if resolver.fixed is not None:
        return target.RunTargets(tuple(resolver.fixed.target_versions), environment, python)
    by_configuration = tuple(
        (os.path.abspath(settings.root), tuple(settings.target_versions))
        for settings in resolver.every()
        if settings.source is not None
    )
    return target.RunTargets(tuple(resolver.default.target_versions), environment, python, by_configuration)
