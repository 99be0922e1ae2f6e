"""A train directory -> the checkpoint TensorFlow would restore, and everything else in it.

TensorFlow's `tf.train.latest_checkpoint(dir)` follows the `checkpoint` state file (a
text proto: `model_checkpoint_path: "model.ckpt-0"`); a train dir that once held
another model's run keeps pointing at that run's files. This module says which file
the state file selects, its step and modification time, and lists every checkpoint
family in the directory, so a stale one is visible. Stdlib only.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from dldoctor.probes.ckpt import guard
from dldoctor.probes.ckpt.facts import CkptError, Family, TrainDir

STATE_FILE = "checkpoint"
FILE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".safetensors", ".h5", ".keras")
_LINE = re.compile(r'^\s*(\w+)\s*:\s*"((?:[^"\\]|\\.)*)"\s*$')
_STEP = re.compile(r"^(.*?)[-_=](\d+)$")


def parse_state_file(text: str) -> dict:
    """`model_checkpoint_path` (str) and `all_model_checkpoint_paths` (list) of a state file."""
    state: dict = {"model_checkpoint_path": None, "all_model_checkpoint_paths": []}
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        key, value = match.group(1), match.group(2).encode("latin-1", "backslashreplace").decode("unicode_escape")
        if key == "all_model_checkpoint_paths":
            state[key].append(value)
        elif key == "model_checkpoint_path":
            state[key] = value
    return state


def split_step(name: str) -> tuple[str, int | None]:
    """`model.ckpt-100` -> ('model.ckpt', 100); `inception_v3.ckpt` -> ('inception_v3.ckpt', None)."""
    match = _STEP.match(name)
    if match and match.group(1):
        return match.group(1), int(match.group(2))
    return name, None


def _basename_any(path: str) -> str:
    """The last component of a path written on any OS (`E:\\train\\model.ckpt-0`)."""
    return re.split(r"[\\/]", path)[-1]


def _within(directory: Path, target: Path) -> bool:
    """`target` (a file, or a TF prefix whose .index is the file) lies inside `directory`."""
    return guard.inside(directory, target) and guard.inside(directory, Path(str(target) + ".index"))


def _tf_exists(prefix: Path) -> bool:
    return Path(str(prefix) + ".index").is_file()


def families(directory: Path) -> list[Family]:
    """Every checkpoint family in `directory`, newest first."""
    found: dict[tuple[str, str], Family] = {}
    try:
        children = sorted(directory.iterdir())
    except OSError as problem:
        raise CkptError(f"{directory}: cannot list the directory ({problem.strerror})", 2)
    for child in children:
        if not child.is_file() or not guard.inside(directory, child):
            continue  # a link out of the train dir is not one of its checkpoints (nor read)
        if child.name.endswith(".index"):
            member, fmt = child.name[: -len(".index")], "tensorflow"
            family, step = split_step(member)
        elif child.suffix in FILE_SUFFIXES:
            member, fmt = child.name, child.suffix.lstrip(".")
            stem, step = split_step(child.stem)
            family = stem + "*" + child.suffix if step is not None else child.name
        else:
            continue
        mtime = child.stat().st_mtime
        entry = found.setdefault((family, fmt), Family(family, fmt, [], [], 0.0))
        entry.paths.append(str(directory / member))
        entry.steps.append(step)
        entry.mtime = max(entry.mtime, mtime)
    result = sorted(found.values(), key=lambda f: f.mtime, reverse=True)
    for family in result:  # members in step order, newest last
        order = sorted(range(len(family.paths)), key=lambda i: (family.steps[i] is None, family.steps[i] or 0))
        family.paths = [family.paths[i] for i in order]
        family.steps = [family.steps[i] for i in order]
    return result


def _mtime(target: Path) -> float:
    for candidate in (Path(str(target) + ".index"), target):
        if candidate.exists():
            return candidate.stat().st_mtime
    return 0.0


def resolve(directory: Path) -> tuple[str, TrainDir]:
    """The checkpoint a train dir selects (a TF prefix or a file path) and how it was chosen."""
    all_families = families(directory)
    state_path = directory / STATE_FILE
    if state_path.is_file():
        try:
            raw = guard.read_capped(state_path, guard.STATE_FILE_LIMIT, "TensorFlow `checkpoint` state file")
            state = parse_state_file(raw.decode("utf-8", errors="replace"))
        except OSError as problem:
            raise CkptError(f"{state_path}: cannot read the state file ({problem.strerror})", 2)
        written = state["model_checkpoint_path"]
        if not written:
            raise CkptError(f"{state_path}: the state file names no model_checkpoint_path (not a TensorFlow `checkpoint` file?)")
        how = "state file"
        target = Path(written) if os.path.isabs(written) or re.match(r"^[A-Za-z]:[\\/]", written) else directory / written
        if not _within(directory, target):
            # TensorFlow would follow it; dldoctor reads only inside the train dir (a state file
            # from the internet may name /etc/shadow), so only a same-named file here is used
            moved = directory / _basename_any(written)
            if moved.name not in ("", ".", "..") and (_tf_exists(moved) or moved.is_file()) and _within(directory, moved):
                where = "is outside the dir" if _tf_exists(target) or target.is_file() else "does not exist here"
                how = f"state file (its path {written!r} {where}; found {moved.name} in the dir)"
                target = moved
            else:
                raise CkptError(
                    f"{state_path}: the state file points to {written!r}, outside the train dir {directory}: refused "
                    "(dldoctor reads only checkpoints inside the directory; pass the checkpoint itself to inspect it)"
                )
        if not _tf_exists(target) and not target.is_file():
            moved = directory / _basename_any(written)
            if (_tf_exists(moved) or moved.is_file()) and _within(directory, moved):
                how = f"state file (its path {written!r} does not exist here; found {moved.name} in the dir)"
                target = moved
            else:
                others = ", ".join(f.name for f in all_families) or "none"
                raise CkptError(
                    f"{state_path}: the state file points to {written!r}, which does not exist "
                    f"({_basename_any(written)}.index missing); checkpoints in the dir: {others}"
                )
        _, step = split_step(target.name if target.suffix not in FILE_SUFFIXES else target.stem)
        info = TrainDir(str(directory), str(state_path), str(target), step, _mtime(target), how, all_families)
        return str(target), info
    if not all_families:
        raise CkptError(f"{directory}: no checkpoint in this directory (no `checkpoint` state file, no *.index, {', '.join('*' + s for s in FILE_SUFFIXES)})", 2)
    newest = all_families[0]
    target = Path(newest.paths[-1])
    _, step = split_step(target.name if target.suffix not in FILE_SUFFIXES else target.stem)
    info = TrainDir(str(directory), None, str(target), step, _mtime(target), "newest file (no `checkpoint` state file)", all_families)
    return str(target), info
