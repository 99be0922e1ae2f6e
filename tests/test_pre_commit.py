"""The pre-commit hook, run by the real pre-commit in a throwaway git repository.

`pre-commit try-repo` installs the hook's repository into a fresh virtualenv
with pip, so this needs the network to PyPI and takes a while (timeouts are
generous). It tries a snapshot of this working tree, not the repository
itself: try-repo takes HEAD plus changes to *tracked* files only, so an
uncommitted new file (a new rule, or the manifest itself) would be silently
left out. The snapshot holds exactly what `git ls-files --cached --others
--exclude-standard` lists, committed in a repository of its own.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import BAD, CLEAN, clean_env, write

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / ".pre-commit-hooks.yaml"
TIMEOUT = 600


def test_manifest_declares_the_hook():
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    [hook] = [hook for hook in hooks if hook["id"] == "dldoctor"]
    assert hook["name"] == "dldoctor"
    assert hook["entry"] == "dldoctor lint --force-exclude"  # exclusions apply to the staged files pre-commit names
    assert hook["language"] == "python"
    assert hook["types_or"] == ["python", "pyi", "jupyter"]  # as ruff's hook: notebooks too
    assert hook["require_serial"] is False


def test_manifest_is_valid_for_pre_commit():
    completed = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(MANIFEST)],
        capture_output=True, text=True, env=clean_env(), timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """An isolated home (pre-commit's and pip's caches live there) and a git identity."""
    home = tmp_path_factory.mktemp("home")
    return clean_env(
        HOME=str(home),
        PRE_COMMIT_HOME=str(home / "pre-commit"),
        XDG_CACHE_HOME=str(home / "cache"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="dldoctor tests",
        GIT_AUTHOR_EMAIL="tests@dldoctor.invalid",
        GIT_COMMITTER_NAME="dldoctor tests",
        GIT_COMMITTER_EMAIL="tests@dldoctor.invalid",
    )


def git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )
    assert completed.returncode == 0, f"git {' '.join(args)}: {completed.stdout}{completed.stderr}"
    return completed.stdout


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory, env) -> Path:
    """This working tree, as pre-commit would see it once committed."""
    if shutil.which("git") is None:
        pytest.fail("git is needed to test the pre-commit hook")
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO, env=env)
    snapshot = tmp_path_factory.mktemp("hook-repo")
    copied = 0
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if not source.is_file():  # deleted in the working tree
            continue
        target = snapshot / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied += 1
    assert (snapshot / ".pre-commit-hooks.yaml").is_file() and (snapshot / "pyproject.toml").is_file()
    git("init", "-q", cwd=snapshot, env=env)
    git("add", "-A", cwd=snapshot, env=env)
    git("commit", "-q", "-m", "snapshot of the working tree", cwd=snapshot, env=env)
    return snapshot


def try_repo(tmp_path: Path, files: dict[str, str], hook_repo: Path, env: dict[str, str]):
    """`pre-commit try-repo HOOK_REPO dldoctor --all-files` in a new git repository holding `files`."""
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", cwd=work, env=env)
    for name, content in files.items():
        write(work / name, content)
    git("add", "-A", cwd=work, env=env)
    completed = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "dldoctor", "--all-files", "--verbose", "--color", "never"],
        cwd=work, capture_output=True, text=True, env=env, timeout=TIMEOUT,
    )
    return completed, completed.stdout + completed.stderr


def test_hook_fails_on_a_finding(tmp_path, hook_repo, env):
    completed, output = try_repo(
        tmp_path,
        # notes.txt holds the same code, but `types: [python]` keeps it from the hook.
        {"train.py": BAD, "utils.py": CLEAN, "notes.txt": BAD},
        hook_repo,
        env,
    )
    assert completed.returncode == 1, output
    assert "Failed" in output
    assert "DL201" in output
    assert "train.py" in output
    assert "(2 files checked)" in output  # train.py and utils.py, not notes.txt
    assert "notes.txt" not in output


def test_hook_lints_notebooks_and_keeps_the_projects_exclusions(tmp_path, hook_repo, env):
    notebook = (
        '{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], '
        '"source": ["import tensorflow.compat.v1 as tf\\n", "tf.ConfigProto(log_device_placement=True)\\n"]}], '
        '"metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'
    )
    files = {
        "explore.ipynb": notebook, "utils.py": CLEAN, "vendored/lib.py": BAD,
        "pyproject.toml": '[tool.dldoctor]\nextend-exclude = ["vendored"]\n',
    }
    completed, output = try_repo(tmp_path, files, hook_repo, env)
    assert completed.returncode == 1, output
    assert "explore.ipynb" in output and "DL201" in output
    assert "vendored" not in output  # named by pre-commit, excluded by the project (--force-exclude)


def test_hook_passes_on_clean_code(tmp_path, hook_repo, env):
    completed, output = try_repo(tmp_path, {"train.py": CLEAN, "notes.txt": BAD}, hook_repo, env)
    assert completed.returncode == 0, output
    assert "Passed" in output
    assert "All checks passed! (1 file checked)" in output  # the hook ran, on train.py only
    assert "DL201" not in output


# A project that pins its versions: every version-dependent finding is decided by the pins,
# so pre-commit's isolated venv (no torch, no TensorFlow, no NumPy) and the project's own
# venv (torch 2.13, TensorFlow 2.21, NumPy 2) must report the same. Judged by what is
# installed instead, they would disagree on every file here.
PINNED_PROJECT = {
    "requirements.txt": "tensorflow==1.15.5\ntorch==2.5.1\nnumpy==1.26.4\n",
    "resume.py": (
        "import torch\n\n\ndef resume(model, path):\n"
        "    state = torch.load(path, map_location='cpu')\n    model.load_state_dict(state['model'])\n"
    ),
    "graph.py": (
        "import tensorflow as tf\nimport tensorflow.contrib.slim as slim\n"
        "from tensorflow.contrib.slim.python.slim.nets.inception_v4 import inception_v4_base\n\n\n"
        "def train(loss):\n    step = tf.train.AdamOptimizer(1e-4).minimize(loss)\n"
        "    with tf.Session() as sess:\n        sess.run(tf.global_variables_initializer())\n"
        "        sess.run(step)\n"
    ),
    "masks.py": "import numpy as np\n\nmask = np.zeros(3, dtype=np.bool)\n",
}


def _reported(output: str) -> tuple[list[tuple[str, str]], set[str]]:
    """(file, finding line) pairs of dldoctor's text report, sorted, and the versions it says
    it assumed: pre-commit may split the files over several runs, each with its own report."""
    import re

    findings, assumed, path = [], set(), ""
    for line in output.splitlines():
        if re.fullmatch(r"\S+\.py", line):
            path = line
        elif re.match(r"  \d+:\d+  DL\d{3} ", line):
            findings.append((path, line))
        elif line.startswith("Judged against "):
            assumed |= set(line[len("Judged against ") :].rstrip(".").split("; "))
    return sorted(findings), assumed


def test_hook_and_project_venv_agree_on_a_pinned_project(tmp_path, hook_repo, env):
    completed, output = try_repo(tmp_path, PINNED_PROJECT, hook_repo, env)
    assert completed.returncode == 1, output
    work = tmp_path / "work"
    here = subprocess.run(
        [sys.executable, "-m", "dldoctor", "lint", "--no-cache", *sorted(n for n in PINNED_PROJECT if n.endswith(".py"))],
        cwd=work, capture_output=True, text=True, env=env, timeout=TIMEOUT,
    )
    assert here.returncode == 1, here.stdout + here.stderr
    assert _reported(output) == _reported(here.stdout), output
    findings, assumed = _reported(here.stdout)
    # inception_v4 (contrib never had it), np.bool under NumPy 1.26, torch.load under torch 2.5
    assert [(path, line.split()[1]) for path, line in findings] == [
        ("graph.py", "DL601"), ("masks.py", "DL602"), ("resume.py", "DL502")
    ], findings
    assert assumed == {
        "TensorFlow 1.15.5 from requirements.txt:1", "torch 2.5.1 from requirements.txt:2",
        "NumPy 1.26.4 from requirements.txt:3",
    }
