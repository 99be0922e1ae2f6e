"""Findings that depend on library versions are judged against the project's target environment:
`--target-version`, `target-versions`, `--python`, the file's own version checks, the project's
pins, then what is installed here; the report says which versions were assumed and from where."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import run_dldoctor, write
from dldoctor.lint import runner, target

TORCH_RESUME = '''
import torch

def resume(model, path):
    state = torch.load(path, map_location="cpu")
    model.load_state_dict(state["model"])
'''

# A TF 1 graph-mode trainer: fine under TensorFlow 1.15, broken under TensorFlow 2.
TF1_TRAINER = '''
import tensorflow as tf

def train(loss, steps):
    optimizer = tf.train.AdamOptimizer(1e-4).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(optimizer)
'''

# `tf.scalar_summary` went away in TensorFlow 1.0 itself.
TF0_SUMMARY = '''
import tensorflow as tf

def summaries(loss):
    tf.scalar_summary("loss", loss)
'''

SLIM_IMPORTS = '''
import tensorflow as tf
import tensorflow.contrib.slim as slim
from tensorflow.contrib.slim.python.slim.nets.inception_v4 import inception_v4_base
'''


@pytest.fixture(autouse=True)
def fresh_targets():
    """Each test starts with no run settings and reads pin files anew."""
    target.configure(target.RunTargets())
    target.pins_in.cache_clear()
    yield
    target.configure(target.RunTargets())
    target.pins_in.cache_clear()


def project_with(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)  # the project root: pins above it are not the project's
    for name, content in files.items():
        write(root / name, textwrap.dedent(content))
    return root


def findings(path: Path, *codes: str):
    result = runner.lint_path(str(path), frozenset(codes))
    assert result.internal_error is None, result.internal_error
    return result.findings


def lines(path: Path, *codes: str) -> list[tuple[int, str]]:
    return [(finding.line, finding.code) for finding in findings(path, *codes)]


# -- what a pin means ------------------------------------------------------------------------------


def test_pin_semantics():
    point = target.from_specifiers
    assert point([("==", "2.5.1")]) == ("2.5.1", "2.5.1")
    assert point([("==", "1.15.*")]) == ("1.15.9999", "1.15.*")
    assert point([("=", "1.15")]) == ("1.15.9999", "1.15.*")  # conda's series match
    assert point([(">=", "1.12"), ("<", "2.0")]) == ("1.9999", "<2.0")  # the newest release below 2
    assert point([("<", "2.6")]) == ("2.5.9999", "<2.6")
    assert point([("<=", "1.15")]) == ("1.15", "<=1.15")
    assert point([("~=", "1.15")]) == ("1.9999", "<2")  # >=1.15, ==1.*
    assert point([("~=", "2.5.1")]) == ("2.5.9999", "<2.6")
    assert point([(">=", "1.8")]) is None  # a floor alone: every later release qualifies
    assert point([("!=", "2.0")]) is None
    with pytest.raises(target.BadPin):
        point([("==", "abc")])
    with pytest.raises(target.BadPin):
        point([("~=", "2")])


def test_requirement_lines():
    parse = target.parse_requirement
    assert parse("tensorflow-gpu==1.15.0  # the cluster's CUDA 10") == ("tensorflow", [("==", "1.15.0")])
    assert parse("torch>=1.8,<2.6; python_version >= '3.8'") == ("torch", [(">=", "1.8"), ("<", "2.6")])
    assert parse("Pillow[tests] ~= 9.5") == ("pillow", [("~=", "9.5")])
    assert parse("pytorch=2.5") == ("torch", [("=", "2.5")])
    assert parse("requests==2.31") is None  # not a library any rule reads
    assert parse("torch @ https://download.pytorch.org/whl/torch-2.5.1.whl") is None
    assert parse("torch") == ("torch", [])


# -- where pins are found ------------------------------------------------------------------------------


def test_requirements_pin_torch_below_2_6(tmp_path):
    root = project_with(tmp_path, {"requirements.txt": "numpy\ntorch==2.5.1\n", "train.py": TORCH_RESUME})
    [finding] = findings(root / "train.py", "DL502")
    assert finding.line == 5
    assert "the target torch is 2.5.1" in finding.message and "requirements.txt:2" in finding.message
    assert [entry.describe() for entry in finding.assumed] == [f"torch 2.5.1 from {_label(root / 'requirements.txt')}:2"]


def test_requirements_pin_torch_2_6_is_quiet(tmp_path):
    root = project_with(tmp_path, {"requirements.txt": "torch==2.6.0\n", "train.py": TORCH_RESUME})
    assert lines(root / "train.py", "DL502") == []


def test_a_floor_alone_leaves_it_to_the_installed_torch(tmp_path):
    # torch>=1.8 pins nothing; the torch installed here (2.13) decides, and its default is safe.
    root = project_with(tmp_path, {"requirements.txt": "torch>=1.8\n", "train.py": TORCH_RESUME})
    assert lines(root / "train.py", "DL502") == []


def test_uv_lock_then_requirements_then_pyproject(tmp_path):
    lock = '''
        version = 1

        [[package]]
        name = "torch"
        version = "2.4.1"
    '''
    root = project_with(
        tmp_path,
        {
            "uv.lock": lock,
            "requirements.txt": "torch==2.7.0\n",
            "pyproject.toml": '[project]\nname = "p"\ndependencies = ["tensorflow==2.15.1"]\n',
            "train.py": TORCH_RESUME,
        },
    )
    here = target.for_path(str(root / "train.py"))
    assert (here.get("torch").version, here.get("torch").source) == ("2.4.1", f"{_label(root / 'uv.lock')}:5")
    assert here.get("tensorflow").version == "2.15.1"
    assert here.get("tensorflow").source == f"{_label(root / 'pyproject.toml')}:3"


def test_poetry_lock_and_conda_environment(tmp_path):
    poetry = '[[package]]\nname = "numpy"\nversion = "1.23.5"\n'
    conda = '''
        name: faces
        dependencies:
          - python=3.7
          - tensorflow-gpu=1.15=h0d30ee6_0
          - pip:
            - pytorch==1.13.1
    '''
    root = project_with(tmp_path, {"poetry.lock": poetry, "environment.yml": conda})
    here = target.for_path(str(root / "x.py"))
    assert here.get("numpy").version == "1.23.5"
    assert (here.get("tensorflow").shown, here.get("tensorflow").version) == ("1.15.*", "1.15.9999")
    assert here.get("torch").version == "1.13.1"


def test_the_nearest_directory_wins_and_the_project_root_ends_the_search(tmp_path):
    write(tmp_path / "requirements.txt", "torch==1.4.0\n")  # outside the project: not read
    root = project_with(
        tmp_path,
        {"requirements.txt": "tensorflow==2.15.0\n", "legacy/requirements.txt": "tensorflow==1.15.5\n"},
    )
    assert target.for_path(str(root / "legacy" / "a.py")).get("tensorflow").version == "1.15.5"
    assert target.for_path(str(root / "b.py")).get("tensorflow").version == "2.15.0"
    torch = target.for_path(str(root / "b.py")).get("torch")
    assert torch is None or torch.kind == target.INSTALLED


# -- TF 1 code against a TF 1 target ------------------------------------------------------------------


def test_tf1_code_against_a_tf1_pin_is_not_removed(tmp_path):
    root = project_with(
        tmp_path,
        {"requirements.txt": "tensorflow>=1.12,<2\n", "train.py": TF1_TRAINER, "summaries.py": TF0_SUMMARY,
         "nets.py": SLIM_IMPORTS},
    )
    assert lines(root / "train.py", "DL601", "DL602") == []
    # Removed in TensorFlow 1.0: gone from every 1.x as well.
    [summary] = findings(root / "summaries.py", "DL602")
    assert "removed in TensorFlow 1.0" in summary.message and "<2" in summary.message
    # contrib's slim exists in 1.x; inception_v4 never shipped there.
    [(line, code)] = lines(root / "nets.py", "DL601")
    assert (line, code) == (4, "DL601")


def test_tf1_code_against_a_tf2_pin_names_compat_v1_first(tmp_path):
    root = project_with(tmp_path, {"requirements.txt": "tensorflow==2.15.0\n", "train.py": TF1_TRAINER, "nets.py": SLIM_IMPORTS})
    [finding] = findings(root / "train.py", "DL602")
    assert "TensorFlow 2.15.0 (the target, from" in finding.message and "requirements.txt:1" in finding.message
    assert finding.message.index("tensorflow.compat.v1") < finding.message.index("tf_upgrade_v2")
    assert lines(root / "nets.py", "DL601") == [(3, "DL601"), (4, "DL601")]
    assert "the target is TensorFlow 2.15.0" in findings(root / "nets.py", "DL601")[0].message


# -- a file's own version checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "check",
    [
        'assert tf.__version__.startswith("1.")',
        "assert tf.__version__ < '2.0', 'this code needs TensorFlow 1.x'",
        "assert int(tf.__version__.split('.')[0]) == 1",
        'if not tf.__version__.startswith("1."):\n    sys.exit("TensorFlow 1.x is required")',
        "if tf.__version__ >= '2':\n    raise ImportError('needs TensorFlow 1')",
    ],
)
def test_a_file_that_requires_tf1_is_judged_against_tf1(tmp_path, check):
    source = "import sys\nimport tensorflow as tf\n" + check + "\n" + textwrap.dedent(TF1_TRAINER).replace("import tensorflow as tf\n", "")
    root = project_with(tmp_path, {"train.py": source})
    assert lines(root / "train.py", "DL602") == []


def test_a_version_branch_is_not_a_requirement(tmp_path):
    # Both branches run somewhere: the file supports TF 1 and TF 2, and says nothing of its target.
    source = 'import tensorflow as tf\nif tf.__version__.startswith("1."):\n    pass\nelse:\n    pass\n'
    root = project_with(tmp_path, {"a.py": source})
    import libcst as cst

    from dldoctor.lint.names import ImportTable

    module = cst.parse_module(source)
    assert target.asserted(module, ImportTable.from_module(module).qualify, "a.py") == {}


def test_the_file_check_wins_over_the_pins_and_says_so(tmp_path):
    source = 'import torch\nassert torch.__version__.startswith("2.4")\nstate = torch.load("ckpt.pt")\n'
    root = project_with(tmp_path, {"requirements.txt": "torch==2.6.0\n", "load.py": source})
    [finding] = findings(root / "load.py", "DL502")
    assert "the target torch is 2.4.*" in finding.message
    assert "`assert torch.__version__.startswith(\"2.4\")` in load.py" in finding.message


# -- command line, configuration, --python ---------------------------------------------------------------


def test_command_line_over_configuration_over_pins(tmp_path):
    root = project_with(
        tmp_path,
        {
            "pyproject.toml": '[tool.dldoctor]\ntarget-versions = { torch = "2.5" }\n',
            "requirements.txt": "torch==2.7.0\n",
            "train.py": TORCH_RESUME,
        },
    )
    configured = run_dldoctor("lint", "--no-cache", "--select", "DL502", "--output-format", "json", "train.py", cwd=root)
    [finding] = configured.json()
    assert finding["assumed_versions"] == [
        {"library": "torch", "version": "2.5", "source": f"{root / 'pyproject.toml'}: target-versions"}
    ]
    overridden = run_dldoctor("lint", "--no-cache", "--select", "DL502", "--target-version", "torch=2.6", "train.py", cwd=root)
    assert overridden.returncode == 0, overridden.stdout + overridden.stderr


@pytest.mark.parametrize(
    "args, said",
    [
        (["--target-version", "tensorflo=2.15"], "unknown library 'tensorflo'"),
        (["--target-version", "torch=two"], "is not a version"),
        (["--target-version", "torch"], "expected LIBRARY=VERSION"),
        (["--python", "/no/such/python"], "--python /no/such/python: no such file"),
    ],
)
def test_bad_target_settings_are_usage_errors(tmp_path, args, said):
    root = project_with(tmp_path, {"train.py": TORCH_RESUME})
    run = run_dldoctor("lint", *args, "train.py", cwd=root)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and said in run.stderr, run.stderr


def test_bad_configured_target_is_a_usage_error(tmp_path):
    root = project_with(
        tmp_path, {"pyproject.toml": '[tool.dldoctor]\ntarget-versions = { torch = 2.5 }\n', "train.py": TORCH_RESUME}
    )
    run = run_dldoctor("lint", "train.py", cwd=root)
    assert run.returncode == 2 and "is not a version" in run.stderr and run.stderr.count("\n") == 1


def fake_venv(root: Path, **versions: str) -> Path:
    """A virtual environment's layout with these distributions installed (metadata only)."""
    write(root / "pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n")
    site = root / "lib" / "python3.11" / "site-packages"
    for name, version in versions.items():
        (site / f"{name}-{version}.dist-info").mkdir(parents=True)
    python = write(root / "bin" / "python", "#!/bin/sh\nexit 3\n")  # never run: the layout answers
    python.chmod(0o755)
    return python


def test_python_reads_the_other_environment_without_running_it(tmp_path):
    python = fake_venv(tmp_path / "venv", torch="2.5.1", tensorflow_cpu="2.15.0")
    root = project_with(tmp_path, {"requirements.txt": "torch==2.7.0\n", "train.py": TORCH_RESUME})
    run = run_dldoctor("lint", "--no-cache", "--select", "DL502", "--python", python, "--output-format", "json", "train.py", cwd=root)
    [finding] = run.json()
    assert f"the target torch is 2.5.1 (--python {python})" in finding["message"]
    entries = {entry.library: entry.version for entry in target.environment_targets(str(python))}
    assert (entries["torch"], entries["tensorflow"], entries["numpy"]) == ("2.5.1", "2.15.0", None)


def test_python_of_this_interpreter_is_what_is_installed_here():
    from dldoctor.lint import installed

    for entry in target.environment_targets(sys.executable):
        assert entry.version == installed.installed_version(*target.LIBRARIES[entry.library][1]), entry.library


def test_python_naming_a_directory_without_an_interpreter(tmp_path):
    with pytest.raises(target.TargetError, match="without bin/python"):
        target.environment_targets(str(tmp_path))


# -- reports ------------------------------------------------------------------------------------------------------


def test_every_format_says_what_was_assumed(tmp_path):
    root = project_with(tmp_path, {"requirements.txt": "torch==2.5.1\n", "train.py": TORCH_RESUME})
    args = ("lint", "--no-cache", "--select", "DL502", "train.py")
    text = run_dldoctor(*args, cwd=root).stdout
    assert "Judged against torch 2.5.1 from requirements.txt:1." in text
    sarif = json.loads(run_dldoctor(*args, "--output-format", "sarif", cwd=root).stdout)
    [run] = sarif["runs"]
    expected = [{"library": "torch", "version": "2.5.1", "source": "requirements.txt:1"}]
    assert run["properties"]["assumedVersions"] == expected
    assert run["results"][0]["properties"]["assumedVersions"] == expected
    github = run_dldoctor(*args, "--output-format", "github", cwd=root).stdout
    assert "::notice title=dldoctor target versions::judged against torch 2.5.1 from requirements.txt:1" in github


def test_findings_that_do_not_depend_on_versions_assume_nothing(tmp_path):
    root = project_with(
        tmp_path, {"requirements.txt": "torch==2.5.1\n", "a.py": "import torch\nx = torch.load(p, weights_only=False)\n"}
    )
    run = run_dldoctor("lint", "--no-cache", "--select", "DL502", "--output-format", "json", "a.py", cwd=root)
    [finding] = run.json()
    assert finding["assumed_versions"] == []  # weights_only=False is unsafe in every torch
    assert "Judged against" not in run_dldoctor("lint", "--no-cache", "--select", "DL502", "a.py", cwd=root).stdout


# -- the cache -------------------------------------------------------------------------------------------------------


def test_a_changed_pin_is_not_served_from_the_cache(tmp_path):
    root = project_with(tmp_path, {"requirements.txt": "torch==2.5.1\n", "train.py": TORCH_RESUME})
    first = run_dldoctor("lint", "--select", "DL502", "train.py", cwd=root)
    assert first.returncode == 1, first.stdout + first.stderr
    write(root / "requirements.txt", "torch==2.6.0\n")
    second = run_dldoctor("lint", "--select", "DL502", "train.py", cwd=root)
    assert second.returncode == 0, second.stdout + second.stderr
    third = run_dldoctor("lint", "--select", "DL502", "--target-version", "torch=2.1", "train.py", cwd=root)
    assert third.returncode == 1, third.stdout + third.stderr


# -- bad pin files --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content, note",
    [
        ("requirements.txt", b"numpy==1.26.4\ntorch==two\n", "cannot read the version pin '==two'"),
        ("requirements.txt", b"\xff\xfe\x00garbage", "not UTF-8"),
        ("uv.lock", b"[[package]\nname = ", "invalid TOML"),
        ("poetry.lock", b"[" * 100_000, "invalid TOML"),
        ("pyproject.toml", b"[project]\ndependencies = 3\n", None),
    ],
)
def test_a_bad_pin_file_is_a_note_never_a_crash(tmp_path, name, content, note):
    root = project_with(tmp_path, {"train.py": TORCH_RESUME})
    write(root / name, content)
    run = run_dldoctor("lint", "--no-cache", "--select", "DL502", "train.py", cwd=root)
    run.assert_no_traceback()
    assert run.returncode == 0, run.stdout + run.stderr  # torch 2.13 installed here: the default is safe
    if note is None:
        assert run.stderr == ""
    else:
        assert note in run.stderr and run.stderr.count(note) == 1


def test_a_huge_requirements_file_is_not_read(tmp_path):
    root = project_with(tmp_path, {"train.py": TORCH_RESUME})
    with open(root / "requirements.txt", "wb") as handle:
        handle.truncate(target.PIN_FILE_LIMIT + 1)  # sparse: no disk spent
    notes = target.pins_in(str(root)).notes
    assert len(notes) == 1 and "cannot read the version pins" in notes[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs fifos")
def test_a_fifo_named_requirements_txt_does_not_hang(tmp_path):
    root = project_with(tmp_path, {"train.py": TORCH_RESUME})
    os.mkfifo(root / "requirements.txt")
    run = run_dldoctor("lint", "--no-cache", "--select", "DL502", "train.py", cwd=root, timeout=60)
    run.assert_no_traceback()
    assert "not a regular file" in run.stderr


def _label(path: Path) -> str:
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative


def test_a_file_that_requires_tf2_is_judged_against_tf2(tmp_path):
    # The twin of the TF 1 checks above: a file that insists on TF 2 gets the TF 1 names reported.
    source = 'import tensorflow as tf\nassert tf.__version__.startswith("2.")\n' + textwrap.dedent(TF1_TRAINER).replace(
        "import tensorflow as tf\n", ""
    )
    root = project_with(tmp_path, {"requirements.txt": "tensorflow==1.15.5\n", "train.py": source})
    [finding] = findings(root / "train.py", "DL602")
    assert "TensorFlow 2.* (the target, from `assert tf.__version__.startswith(\"2.\")` in train.py)" in finding.message


def test_the_versions_a_finding_names_do_not_depend_on_the_other_rules_selected(tmp_path):
    """A rule whose lookup comes after some reports in the traversal (DL219 reads TensorFlow's
    version through DL218's helpers), alone or beside every rule: its findings name the same
    versions, those of its libraries that were looked up anywhere in the file."""
    from dldoctor import api

    (tmp_path / "requirements.txt").write_text("tensorflow==1.15.5\n", encoding="utf-8")
    text = (Path(__file__).resolve().parent.parent / "examples" / "tf1_wrong_arguments.py").read_text(encoding="utf-8")
    path = str(tmp_path / "train.py")
    alone = [f.assumed for f in api.Linter(root=tmp_path, select=["DL219"]).lint(text, path)]
    beside = [f.assumed for f in api.Linter(root=tmp_path, select=["ALL"]).lint(text, path) if f.code == "DL219"]
    assert alone and alone == beside
    assert [entry.describe() for entry in alone[0]] == [f"TensorFlow 1.15.5 from {_label(tmp_path / 'requirements.txt')}:1"]
