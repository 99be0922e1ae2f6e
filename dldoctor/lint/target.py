"""The target environment: the library versions findings are judged against, and where each came from.

Some findings depend on a library's version: `torch.load`'s `weights_only` default
changed in torch 2.6 (DL502), TensorFlow 2 removed `tf.contrib` and the TF 1 names
(DL601, DL602), NumPy 2 brought `np.bool` back (DL602). They are judged against the
versions the project targets, not against whatever happens to be installed where
dldoctor runs, so that pre-commit's isolated environment, CI and the project's own
venv give one answer. For each library the first of these that knows wins:

1. `--target-version torch=2.5` on the command line;
2. `target-versions = { torch = "2.5" }` in `[tool.dldoctor]`;
3. `--python PATH`: what is installed in that interpreter's environment (read from
   its package metadata; a library not installed there is absent from the target);
4. the file's own version check: `assert tf.__version__.startswith("1.")`, or an `if`
   on the version whose body only raises or exits (`if not tf.__version__.startswith("1."):
   sys.exit(...)`);
5. the project's pins, from the linted file's directory up to the project root (the
   first directory holding `.git`, `pyproject.toml`, `setup.py` or `setup.cfg`), the
   nearest directory first; in a directory `uv.lock`, then `poetry.lock`, then
   `requirements*.txt`, then `pyproject.toml` (`[project] dependencies` and
   `optional-dependencies`), then `environment.yml`;
6. what is installed beside the interpreter running dldoctor.

What a pin means is the release a fresh install gets under it: `==2.5.1` (and conda's
`=2.5`, `==2.5.*`) that release or series; `<2` or `<=1.15` (with or without a lower
bound) the newest release below the bound; `~=1.15` the newest release of that
series (below 2). A lower bound alone (`>=1.8`), `!=`, or no specifier pins nothing:
every release since then qualifies, so the next source decides. A pin that cannot
be read (`torch==abc`), or a pin file that is unreadable, huge or malformed, is
ignored with a note.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from dldoctor import regular_file
from dldoctor.lint import installed
from dldoctor.lint.inputs import consulted

# Library -> (the name messages use, the distributions that install it).
LIBRARIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "torch": ("torch", ("torch",)),
    "tensorflow": (
        "TensorFlow",
        (
            "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tensorflow-macos",
            "tensorflow-rocm", "tf-nightly", "tf-nightly-cpu", "tf-nightly-gpu",
        ),
    ),
    "numpy": ("NumPy", ("numpy",)),
    "keras": ("Keras", ("keras",)),
    "pillow": ("Pillow", ("pillow", "pillow-simd")),
    "scipy": ("SciPy", ("scipy",)),
    "matplotlib": ("matplotlib", ("matplotlib",)),
    "torchvision": ("torchvision", ("torchvision",)),
    "torchtext": ("torchtext", ("torchtext",)),
}
# Other names a pin may give a library under: conda's packages.
_ALIASES = {"pytorch": "torch", "tensorflow-base": "tensorflow", "tf": "tensorflow", "pil": "pillow"}
# The module a version check reads (`tf.__version__`), by library.
_MODULES = {
    "torch": "torch", "tensorflow": "tensorflow", "numpy": "numpy", "keras": "keras", "PIL": "pillow",
    "scipy": "scipy", "matplotlib": "matplotlib", "torchvision": "torchvision", "torchtext": "torchtext",
}
_VERSION_ATTRIBUTES = ("__version__", "VERSION", "version.VERSION", "version.__version__")

VERSION_PATTERN = re.compile(r"v?\d+(\.\d+)*([._-]?(a|b|rc|alpha|beta|pre|post|dev)\.?\d*)*(\+[A-Za-z0-9.]+)?")
_RELEASE = re.compile(r"\d+(?:\.\d+)*")
_TOP = 9999  # "the newest release below 2" is compared as 1.9999: above every real 1.x

# Where a version came from, strongest first (see the module docstring).
CLI, CONFIG, PYTHON, FILE, PIN, INSTALLED = "command line", "configuration", "python", "file", "pin", "installed"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


@lru_cache(maxsize=None)
def library_of(name: str) -> str | None:
    """The library (a key of LIBRARIES) a library, distribution or conda package name denotes."""
    wanted = _normalize(name)
    wanted = _ALIASES.get(wanted, wanted)
    for library, (_, distributions) in LIBRARIES.items():
        if wanted == library or wanted in (_normalize(d) for d in distributions):
            return library
    return None


def display_name(library: str) -> str:
    return LIBRARIES[library][0] if library in LIBRARIES else library


class TargetError(Exception):
    """A target version the user gave that cannot be used: a usage error (exit 2)."""


@dataclass(frozen=True)
class TargetVersion:
    """One library's version in the target environment.

    `version` is what rules compare (`1.9999` stands for "the newest release below 2"),
    `shown` what messages print (`<2`), `source` where it came from (`requirements.txt:3`,
    `--target-version`, `installed here`). `version` None: known to be absent (not
    installed in the environment `--python` names).
    """

    library: str
    version: str | None
    shown: str
    source: str
    kind: str

    def describe(self) -> str:
        """`TensorFlow <2 from requirements.txt:3`, `torch 2.13.0 installed here`."""
        name = display_name(self.library)
        if self.version is None:
            return f"{name} not installed ({self.source})"
        if self.kind == INSTALLED:
            return f"{name} {self.shown} installed here"
        return f"{name} {self.shown} from {self.source}"

    def as_json(self) -> dict:
        return {"library": self.library, "version": self.shown if self.version is not None else None, "source": self.source}


class Version(str):
    """A version string as rules have always compared it, that also knows its origin."""

    origin: TargetVersion

    def __new__(cls, origin: TargetVersion) -> Version:
        made = super().__new__(cls, origin.version or "")
        made.origin = origin
        return made


def installed_here(version: str | None) -> bool:
    """Whether `version` was read from the environment running dldoctor (a plain string counts so)."""
    return not isinstance(version, Version) or version.origin.kind == INSTALLED


def shown(version: str) -> str:
    return version.origin.shown if isinstance(version, Version) else version


def source(version: str) -> str:
    """Where the version came from, for a message: `requirements.txt:3`, `--python .venv/bin/python`."""
    return version.origin.source if isinstance(version, Version) else "installed here"


# -- versions and pins ---------------------------------------------------------------------------


def release(text: str) -> tuple[int, ...] | None:
    match = _RELEASE.match(text.strip().lstrip("v"))
    return tuple(int(part) for part in match.group().split(".")) if match else None


def _below(bound: tuple[int, ...]) -> str | None:
    """A version that compares as the newest release below `bound`: (2, 6) -> 2.5.9999."""
    while len(bound) > 1 and bound[-1] == 0:
        bound = bound[:-1]
    if not bound or bound == (0,):
        return None
    return ".".join(str(part) for part in (*bound[:-1], bound[-1] - 1, _TOP))


def _dotted(parts: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in parts)


class BadPin(ValueError):
    """A specifier that cannot be read: reported as a note and ignored."""


def from_specifiers(specifiers: list[tuple[str, str]]) -> tuple[str, str] | None:
    """(version to compare, version to show) for a list of (operator, version), or None
    when they pin nothing (a lower bound alone). Raises BadPin for an unreadable version."""
    exact: tuple[str, str] | None = None
    upper: tuple[tuple[int, ...], bool] | None = None  # (bound, inclusive)
    for operator, text in specifiers:
        text = text.strip()
        wildcard = text.endswith(".*")
        core = text[:-2] if wildcard else text
        if not VERSION_PATTERN.fullmatch(core):
            raise BadPin(f"{operator}{text}")
        parts = release(core)
        assert parts is not None
        if operator in ("==", "===", "=") and (wildcard or operator == "="):
            # a series: `==1.15.*`, conda's `=1.15`
            compared = _below((*parts[:-1], parts[-1] + 1))
            if compared is not None:
                exact = (compared, f"{core}.*")
        elif operator in ("==", "==="):
            exact = (core.lstrip("v"), core.lstrip("v"))
        elif operator == "~=":
            if len(parts) < 2:
                raise BadPin(f"{operator}{text}")
            bound = (*parts[:-2], parts[-2] + 1)
            upper = min(upper, (bound, False)) if upper else (bound, False)
        elif operator in ("<", "<="):
            candidate = (parts, operator == "<=")
            upper = min(upper, candidate) if upper else candidate
        elif operator not in (">=", ">", "!="):
            raise BadPin(f"{operator}{text}")
    if exact is not None:
        return exact
    if upper is not None:
        bound, inclusive = upper
        if inclusive:
            return _dotted(bound), f"<={_dotted(bound)}"
        compared = _below(bound)
        return (compared, f"<{_dotted(bound)}") if compared else None
    return None


_SPECIFIER = re.compile(r"\s*(===|==|~=|!=|<=|>=|<|>|=)\s*([^,;\s]+)")
_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)")


def parse_requirement(text: str) -> tuple[str, list[tuple[str, str]]] | None:
    """(library, specifiers) for a requirement line of a library dldoctor knows, else None."""
    text = text.split("#", 1)[0].split(";", 1)[0].strip()
    match = _REQUIREMENT.fullmatch(text)
    if not match:
        return None
    library = library_of(match.group(1))
    rest = match.group(3).strip()
    if library is None or rest.startswith("@"):
        return None
    rest = rest.strip("()")
    specifiers = []
    for part in filter(None, (piece.strip() for piece in rest.split(","))):
        found = _SPECIFIER.fullmatch(part)
        if not found:
            raise BadPin(part)
        specifiers.append((found.group(1), found.group(2)))
    return library, specifiers


# -- the project's pin files -----------------------------------------------------------------------

PIN_FILE_LIMIT = 4 * 1024 * 1024
LOCK_FILE_LIMIT = 32 * 1024 * 1024
_PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")


@dataclass
class _Pins:
    found: dict[str, TargetVersion]
    notes: list[str]


def _read_text(path: str, limit: int, notes: list[str]) -> str | None:
    try:
        data = regular_file.read(path, limit)
    except FileNotFoundError:
        return None
    except (OSError, regular_file.NotRegularFile, regular_file.TooLarge) as problem:
        notes.append(f"{path}: cannot read the version pins ({problem}); ignored")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        notes.append(f"{path}: not UTF-8 text; its version pins are ignored")
        return None


def _pin(pins: _Pins, requirement: str, where: str) -> None:
    """Record one requirement (`torch==2.5`) found at `where` (`requirements.txt:3`)."""
    try:
        parsed = parse_requirement(requirement)
        if parsed is None:
            return
        library, specifiers = parsed
        point = from_specifiers(specifiers)
    except BadPin as problem:
        pins.notes.append(f"{where}: cannot read the version pin {str(problem)!r} in {requirement.strip()!r}; ignored")
        return
    if point is not None and library not in pins.found:
        pins.found[library] = TargetVersion(library, point[0], point[1], where, PIN)


def _line_of(text: str, needle: str) -> int | None:
    offset = text.find(needle)
    return text.count("\n", 0, offset) + 1 if offset >= 0 else None


def _label(path: str, line: int | None) -> str:
    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    return f"{shown}:{line}" if line else shown


def _toml(text: str, path: str, notes: list[str]) -> dict | None:
    from dldoctor.lint.config import tomllib

    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as error:
        notes.append(f"{path}: invalid TOML ({str(error).splitlines()[0] if str(error) else type(error).__name__}); its version pins are ignored")
        return None


def _locked(pins: _Pins, path: str, notes: list[str]) -> None:
    """`uv.lock` / `poetry.lock`: `[[package]]` tables with an exact `version`."""
    text = _read_text(path, LOCK_FILE_LIMIT, notes)
    if text is None:
        return
    data = _toml(text, path, notes)
    packages = data.get("package") if isinstance(data, dict) else None
    if not isinstance(packages, list):
        return
    for package in packages:
        if not isinstance(package, dict):
            continue
        name, version = package.get("name"), package.get("version")
        if isinstance(name, str) and isinstance(version, str):
            line = _line_of(text, f'name = "{name}"')
            _pin(pins, f"{name}=={version}", _label(path, line))


def _requirements(pins: _Pins, path: str, notes: list[str]) -> None:
    text = _read_text(path, PIN_FILE_LIMIT, notes)
    if text is None:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "-", "git+", "http:", "https:", "file:")):
            continue  # options (`-r`, `-e`, `--index-url`) and URLs pin no version
        _pin(pins, stripped, _label(path, number))


def _pyproject(pins: _Pins, path: str, notes: list[str]) -> None:
    text = _read_text(path, PIN_FILE_LIMIT, notes)
    if text is None:
        return
    data = _toml(text, path, notes)
    project = data.get("project") if isinstance(data, dict) else None
    if not isinstance(project, dict):
        return
    requirements = list(project.get("dependencies") or []) if isinstance(project.get("dependencies"), list) else []
    optional = project.get("optional-dependencies")
    if isinstance(optional, dict):
        for group in optional.values():
            if isinstance(group, list):
                requirements += group
    for requirement in requirements:
        if isinstance(requirement, str):
            _pin(pins, requirement, _label(path, _line_of(text, requirement)))


_CONDA_ITEM = re.compile(r"\s*-\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)")


def _environment(pins: _Pins, path: str, notes: list[str]) -> None:
    """A conda `environment.yml`: `- tensorflow-gpu=1.15`, `- pytorch==2.5.1`, and its `pip:` list."""
    text = _read_text(path, PIN_FILE_LIMIT, notes)
    if text is None:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        match = _CONDA_ITEM.fullmatch(line.split("#", 1)[0].rstrip())
        if not match or library_of(match.group(1)) is None:
            continue
        rest = match.group(2).strip().strip("'\"")
        conda_single = re.fullmatch(r"=([^=<>!~\s]+)(=\S+)?", rest)  # conda: `=1.15` or `=1.15=py37_0`
        requirement = f"{match.group(1)}={conda_single.group(1)}" if conda_single else f"{match.group(1)}{rest}"
        _pin(pins, requirement, _label(path, number))


def _requirement_files(directory: str) -> list[str]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    listed = [name for name in names if name.startswith("requirements") and name.endswith(".txt")]
    return sorted(listed, key=lambda name: (name != "requirements.txt", name))


@lru_cache(maxsize=4096)
def pins_in(directory: str) -> _Pins:
    """The pins of one directory's pin files (the first file that pins a library wins)."""
    pins = _Pins({}, [])
    join = os.path.join
    readers = [(_locked, join(directory, "uv.lock")), (_locked, join(directory, "poetry.lock"))]
    readers += [(_requirements, join(directory, name)) for name in _requirement_files(directory)]
    readers += [(_pyproject, join(directory, "pyproject.toml"))]
    readers += [(_environment, join(directory, name)) for name in ("environment.yml", "environment.yaml")]
    for reader, path in readers:
        consulted(path)
        if os.path.lexists(path):
            reader(pins, path, pins.notes)
    return pins


def project_directories(directory: str) -> list[str]:
    """`directory` and those above it, up to the project root (see the module docstring)."""
    found = []
    current = os.path.abspath(directory)
    home = os.path.expanduser("~")
    while True:
        found.append(current)
        for marker in _PROJECT_MARKERS:
            consulted(os.path.join(current, marker))
        if current == home or any(os.path.lexists(os.path.join(current, marker)) for marker in _PROJECT_MARKERS):
            return found
        parent = os.path.dirname(current)
        if parent == current:
            return found
        current = parent


# -- a file's own version checks -------------------------------------------------------------------


def asserted(module, qualify, name: str) -> dict[str, TargetVersion]:
    """The versions a file's own checks require, by library (see the module docstring); read
    from its libcst tree by `dldoctor.lint.version_checks`, imported only when a file is parsed."""
    from dldoctor.lint import version_checks

    return version_checks.asserted(module, qualify, name)


MENTIONS_VERSION = re.compile(r"__version__|\bVERSION\b")


# -- the run's settings, and the target of each file -----------------------------------------------


@dataclass(frozen=True)
class RunTargets:
    """What the command line and the configuration say, for the whole run (sent to workers)."""

    explicit: tuple[TargetVersion, ...] = ()  # --target-version, then target-versions
    environment: tuple[TargetVersion, ...] | None = None  # --python: every library, present or not
    python: str | None = None
    # Each configuration's directory and its `explicit` (the command line's, then its own
    # target-versions), for the files it governs: a file takes its nearest configuration's.
    by_configuration: tuple[tuple[str, tuple[TargetVersion, ...]], ...] = ()

    def explicit_for(self, directory: str) -> tuple[TargetVersion, ...]:
        """The explicit versions of the files in `directory` (its nearest configuration's)."""
        best, chosen = -1, self.explicit
        for root, versions in self.by_configuration:
            if (directory == root or directory.startswith(root.rstrip(os.sep) + os.sep)) and len(root) > best:
                best, chosen = len(root), versions
        return chosen


_run = RunTargets()


def configure(run: RunTargets) -> None:
    global _run
    _run = run
    for_directory.cache_clear()


def configured() -> RunTargets:
    return _run


def parse_assignment(text: str, where: str) -> TargetVersion:
    """`torch=2.5` (from `--target-version`) as a target version; TargetError if unusable."""
    library, equals, version = text.partition("=")
    if not equals:
        raise TargetError(f"{where} {text!r}: expected LIBRARY=VERSION, e.g. torch=2.5")
    return explicit_version(library, version, where, CLI)


def explicit_version(library: str, version: object, where: str, kind: str) -> TargetVersion:
    known = library_of(library) if isinstance(library, str) else None
    if known is None:
        raise TargetError(f"{where}: unknown library {library!r} (known: {', '.join(LIBRARIES)})")
    if not isinstance(version, str) or not VERSION_PATTERN.fullmatch(version.strip()):
        raise TargetError(f"{where}: {library} = {version!r} is not a version (e.g. \"2.5\" or \"1.15.5\")")
    version = version.strip().lstrip("v")
    return TargetVersion(known, version, version, where, kind)


def environment_targets(python: str) -> tuple[TargetVersion, ...]:
    """Every library's version in the environment of the interpreter `python` (TargetError if none)."""
    try:
        directories = installed.site_packages_of(python)
    except installed.InterpreterError as problem:
        raise TargetError(f"--python {python}: {problem}") from None
    listed = installed.versions_in(tuple(directories))
    where = f"--python {python}"
    found = []
    for library, (_, distributions) in LIBRARIES.items():
        version = installed.version_from(listed, distributions)
        found.append(TargetVersion(library, version, version or "", where, PYTHON))
    return tuple(found)


class Target:
    """The versions one file is judged against; rules look libraries up through `version`."""

    def __init__(self, entries: dict[str, TargetVersion], fixed: frozenset[str], notes: tuple[str, ...] = ()) -> None:
        self.entries = entries
        self.fixed = fixed  # libraries the command line, configuration or --python decided
        self.notes = notes
        self.consulted: set[str] = set()

    def get(self, library: str) -> TargetVersion | None:
        """The entry for `library` (None: nothing knows it); a rule's lookup, recorded in `consulted`."""
        self.consulted.add(library)
        return self.entry(library)

    def entry(self, library: str) -> TargetVersion | None:
        """`get` without recording a lookup."""
        entry = self.entries.get(library)
        if entry is None and library not in self.fixed and library in LIBRARIES:
            version = installed.installed_version(*LIBRARIES[library][1])
            if version is not None:
                entry = TargetVersion(library, version, version, "installed here", INSTALLED)
        return entry

    def version(self, library: str) -> Version | None:
        """The version to judge `library` against, or None when unknown or absent."""
        entry = self.get(library)
        return Version(entry) if entry is not None and entry.version is not None else None

    def absent(self, library: str) -> str:
        """Why `library`'s version is unknown, for a message: `torch is not installed here`."""
        entry = self.entries.get(library)
        name = display_name(library)
        if entry is not None and entry.kind == PYTHON:
            return f"{name} is not installed in the environment of `{entry.source}`"
        return f"{name} is not installed here"

    def with_file_checks(self, checks: dict[str, TargetVersion]) -> Target:
        entries = dict(self.entries)
        for library, entry in checks.items():
            if library not in self.fixed:
                entries[library] = entry
        return Target(entries, self.fixed, self.notes)

    def assumed(self, libraries: frozenset[str], consulted: frozenset[str] | set[str] | None = None) -> tuple[TargetVersion, ...]:
        """The entries of `libraries` that rules looked up in this file (or in `consulted`)."""
        found = []
        for library in sorted(libraries & (self.consulted if consulted is None else consulted)):
            entry = self.entry(library)
            if entry is not None:
                found.append(entry)
        return tuple(found)

    def key(self) -> str:
        """What the lint cache keys on besides a file's bytes (the installed fallbacks are in its fingerprint)."""
        return ";".join(
            f"{entry.library}={entry.version}@{entry.source}" for _, entry in sorted(self.entries.items())
        )


@lru_cache(maxsize=4096)
def for_directory(directory: str) -> Target:
    """The target of the files in `directory`, before their own version checks."""
    entries: dict[str, TargetVersion] = {}
    for entry in _run.explicit_for(directory):
        entries.setdefault(entry.library, entry)
    if _run.environment is not None:
        for entry in _run.environment:
            entries.setdefault(entry.library, entry)
    fixed = frozenset(entries)
    notes: list[str] = []
    if len(fixed) < len(LIBRARIES):
        for candidate in project_directories(directory):
            pins = pins_in(candidate)
            notes += pins.notes
            for library, entry in pins.found.items():
                entries.setdefault(library, entry)
    return Target(entries, fixed, tuple(notes))


def for_path(path: str) -> Target:
    """The target of the file at `path` (stdin's `-`: the current directory), a fresh copy."""
    directory = os.path.dirname(os.path.abspath(path)) if path != "-" else os.getcwd()
    shared = for_directory(directory)
    return Target(dict(shared.entries), shared.fixed, shared.notes)


_current: Target | None = None


def current() -> Target:
    """The target of the file being linted; outside a lint, the installed versions alone."""
    return _current if _current is not None else Target({}, frozenset())


def set_current(target: Target | None) -> None:
    global _current
    _current = target
