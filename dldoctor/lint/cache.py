"""The lint cache: a file that has not changed costs a hash, not a parse.

One JSON file per *fingerprint* under the cache directory (`.dldoctor_cache/`
in the project root, like `.ruff_cache`): the fingerprint covers everything
besides a file's bytes that decides its findings: dldoctor's version and the
size and time of its own rule and lint sources (so an edited rule in a
development install never serves old findings), the Python version, and the
installed versions that rules declare they read (`Rule.reads_installed`:
torch for DL502, TensorFlow, NumPy, Pillow and SciPy for DL601/DL602), and the
run's target versions (`--target-version`, `target-versions`, `--python`).
Inside, each linted path maps to the digest of its bytes, the rules it was
linted with (the selection after per-file ignores) together with the target
versions its project's pins give it (`dldoctor.lint.target`: a changed
`requirements.txt` changes a file's findings, not its bytes), and its findings.

Safe under concurrent runs: the file is replaced atomically (a temporary
file, then `os.replace`), so a reader sees the old cache or the new one,
never half of one; when two runs write, the last one wins and the other's
new entries are recomputed next time. A cache that cannot be read or written
(corrupt, read-only, full disk) is ignored, with one warning for the run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import dldoctor
from dldoctor import regular_file
from dldoctor.lint.finding import Edit, Finding, FixProposal, Severity
from dldoctor.lint import project_imports, registry, target
from dldoctor.lint.inputs import consulted
from dldoctor.lint.installed import installed_version

try:  # hashlib's own BLAKE2, without the OpenSSL library hashlib loads first (3 ms a run)
    from _blake2 import blake2b
except ImportError:  # another Python implementation
    from hashlib import blake2b

DIRECTORY_NAME = ".dldoctor_cache"


def digest(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


def _sources_fingerprint() -> list:
    """Size and modification time of dldoctor's lint and rule sources."""
    import dldoctor.lint
    import dldoctor.rules

    found = []
    for package in (dldoctor.lint, dldoctor.rules):
        for directory in package.__path__:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.name.endswith(".py"):
                        consulted(entry.path)
                        info = entry.stat()
                        found.append((entry.name, info.st_size, info.st_mtime_ns))
    return sorted(found)


def _read_by_rules() -> list[tuple[str, ...]]:
    """The distribution groups whose versions some rule reads (`Rule.reads_installed`),
    from the rules' catalogue: a cache hit imports no rule."""
    return sorted({names for rule in registry.facts().values() for names in rule.reads_installed})


def fingerprint() -> str:
    facts = {
        "dldoctor": dldoctor.__version__,
        "python": sys.version_info[:2],
        "sources": _sources_fingerprint(),
        "installed": [installed_version(*names) for names in _read_by_rules()],
        "targets": [entry.as_json() for entry in target.configured().explicit],
        "environment": [entry.as_json() for entry in target.configured().environment or ()],
    }
    return digest(json.dumps(facts, sort_keys=True).encode())


class LintCache:
    """Findings of unchanged files, loaded once per run and saved once at its end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / f"{fingerprint()}.json"
        self.problem: str | None = None  # why the cache was not read or written, for one warning
        self._entries: dict[str, list] = {}
        self._changed = False
        self._corrupt = 0  # entries whose own check failed: linted again, and said once
        try:
            loaded = json.loads(_read_cache_file(self.path, MAX_CACHE_BYTES))
            if isinstance(loaded, dict):
                self._entries = loaded
        except FileNotFoundError:
            pass
        except CacheUnusable as problem:
            self.problem = f"cannot read the cache {self.path}: {problem}; linting without it"
        except (OSError, ValueError, RecursionError) as error:
            message = "nested too deeply" if isinstance(error, RecursionError) else error
            self.problem = f"cannot read the cache {self.path}: {message}; linting without it"

    @staticmethod
    def _codes_key(codes: frozenset[str], target_key: str = "") -> str:
        joined = ",".join(sorted(codes))
        return f"{joined}|{target_key}" if target_key else joined

    def get(self, path: str, data_digest: str, codes: frozenset[str], target_key: str = "") -> list[Finding] | None:
        """The findings stored for `path` if its bytes, rules and target versions are the same,
        and the other files its findings rest on are unchanged; else None."""
        entry = self._entries.get(path)
        if not isinstance(entry, list) or len(entry) != 5:
            return None
        stored_digest, stored_codes, findings, dependencies, check = entry
        if stored_digest != data_digest or stored_codes != self._codes_key(codes, target_key):
            return None
        try:
            intact = check == _entry_check(path, stored_digest, stored_codes, findings, dependencies)
            if intact and not project_imports.unchanged(dependencies):
                return None  # a project module it imports from has changed: lint it again
            found = [_finding_from_json(path, item) for item in findings] if intact else None
        except (KeyError, TypeError, ValueError, RecursionError):
            found = None
        if found is None:  # a damaged entry: lint the file again, and say so once
            self._corrupt += 1
            self.problem = f"{self._corrupt} damaged entr{'y' if self._corrupt == 1 else 'ies'} in the cache {self.path} ignored; those files were linted again"
        return found

    def put(
        self, path: str, data_digest: str, codes: frozenset[str], findings: list[Finding], target_key: str = "",
        dependencies: tuple[tuple[str, int, int], ...] = (),
    ) -> None:
        codes_key = self._codes_key(codes, target_key)
        stored = [_finding_to_json(f) for f in findings]
        depends = [list(item) for item in dependencies]
        self._entries[path] = [data_digest, codes_key, stored, depends, _entry_check(path, data_digest, codes_key, stored, depends)]
        self._changed = True

    def save(self) -> None:
        """Write the cache atomically, if anything was added."""
        if not self._changed:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            gitignore = self.directory / ".gitignore"
            if not os.path.lexists(gitignore):
                # O_EXCL: never through a link, never blocked on a fifo someone left there.
                descriptor = os.open(gitignore, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                    stream.write("# Created by dldoctor: the lint cache.\n*\n")
            import tempfile

            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump(self._entries, stream, separators=(",", ":"))
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as error:
            self.problem = f"cannot write the cache in {self.directory}: {error}"


MAX_CACHE_BYTES = 512 * 1024 * 1024


class CacheUnusable(Exception):
    """The cache file is not something to read: a fifo, a device, a link, a huge file."""


def _read_cache_file(path: Path, limit: int) -> bytes:
    """The cache file's bytes: a regular file, not a link, at most `limit` bytes."""
    try:
        return regular_file.read(path, limit, follow_links=False)
    except regular_file.NotRegularFile:
        raise CacheUnusable("not a regular file") from None
    except regular_file.TooLarge:
        raise CacheUnusable(f"larger than {limit // (1024 * 1024)} MB") from None
    except OSError as error:
        if regular_file.is_link_loop(error):
            raise CacheUnusable("a symbolic link, not a cache file") from None
        raise


def _entry_check(path: str, data_digest: str, codes_key: str, findings: list, dependencies: list) -> str:
    """A digest of the entry itself: a byte changed anywhere in it (a finding's line,
    its message, a dependency) is caught, not served as the file's findings."""
    return digest(
        json.dumps([path, data_digest, codes_key, findings, dependencies], separators=(",", ":"), sort_keys=True).encode()
    )


def _finding_to_json(finding: Finding) -> dict:
    fix = finding.fix
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.value,
        "message": finding.message,
        "place": [finding.line, finding.column, finding.end_line, finding.end_column],
        "source_line": finding.source_line,
        "cell": finding.cell,
        "assumed": [[a.library, a.version, a.shown, a.source, a.kind] for a in finding.assumed],
        "fix": None
        if fix is None
        else {
            "description": fix.description,
            "applicability": fix.applicability,
            "edits": [[e.line, e.column, e.end_line, e.end_column, e.content] for e in fix.edits],
        },
    }


def _finding_from_json(path: str, item: dict) -> Finding:
    fix = item["fix"]
    line, column, end_line, end_column = item["place"]
    return Finding(
        path=path,
        code=item["code"],
        name=item["name"],
        severity=Severity(item["severity"]),
        message=item["message"],
        line=line,
        column=column,
        end_line=end_line,
        end_column=end_column,
        source_line=item["source_line"],
        cell=item["cell"],
        assumed=tuple(target.TargetVersion(*fields) for fields in item.get("assumed", ())),
        fix=None
        if fix is None
        else FixProposal(fix["description"], fix["applicability"], tuple(Edit(*edit) for edit in fix["edits"])),
    )
