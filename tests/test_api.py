"""`dldoctor.api`: the names the CLI and the language server are built on, used as a caller would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_dldoctor, write
from dldoctor import api

DECODE = (
    "import tensorflow as tf\n"
    "\n"
    "\n"
    "def load(path):\n"
    "    raw = open(path).read()\n"
    "    return tf.image.decode_jpeg(raw)\n"
)
DECODE_FIXED = DECODE.replace("open(path)", 'open(path, "rb")')


def test_lint_source_finds_the_bug_where_it_is():
    findings = api.lint_source(DECODE, "loader.py")
    assert [(f.code, f.line, f.column) for f in findings] == [("DL101", 5, DECODE.splitlines()[4].index("open") + 1)]
    finding = findings[0]
    assert finding.severity is api.Severity.ERROR and finding.fix is not None and finding.fix.applicability == "safe"
    assert api.lint_source(DECODE_FIXED, "loader.py") == []


def test_fix_source_applies_the_fix_and_leaves_nothing():
    fixed = api.fix_source(DECODE, "loader.py")
    assert fixed.text == DECODE_FIXED and fixed.applied == 1 and fixed.findings == [] and fixed.refused is None
    compile(fixed.text, "loader.py", "exec")
    untouched = api.fix_source(DECODE_FIXED, "loader.py")
    assert untouched.text == DECODE_FIXED and untouched.applied == 0


def test_fix_only_the_rules_asked_for(tmp_path):
    text = DECODE + "import tensorflow.compat.v1 as tf1\ncfg = tf1.ConfigProto(log_device_placement=True)\n"
    linter = api.Linter(root=tmp_path)
    done = linter.fix(text, str(tmp_path / "both.py"), codes=["DL201"])
    assert done.applied == 1 and "open(path)" in done.text and "log_device_placement" not in done.text
    assert [f.code for f in done.findings] == ["DL101"]  # the other rule's finding stays, unfixed


def test_each_file_takes_its_nearest_configuration(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.dldoctor]\n")
    write(tmp_path / "quiet" / "pyproject.toml", '[tool.dldoctor]\nignore = ["DL101"]\n')
    linter = api.Linter(root=tmp_path)
    assert [f.code for f in linter.lint(DECODE, str(tmp_path / "loud.py"))] == ["DL101"]
    assert linter.lint(DECODE, str(tmp_path / "quiet" / "loader.py")) == []  # need not exist: an unsaved buffer
    assert "DL101" not in linter.codes_for(str(tmp_path / "quiet" / "loader.py"))
    # Keyword options win over the files, as the command line's do.
    assert [f.code for f in api.Linter(root=tmp_path, extend_select=["DL101"]).lint(
        DECODE, str(tmp_path / "quiet" / "loader.py"))] == ["DL101"]


def test_bad_settings_raise_one_message_each(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.dldoctor]\nselect = 3\n")
    with pytest.raises(api.ConfigurationError) as raised:
        api.Linter(root=tmp_path).lint(DECODE, str(tmp_path / "x.py"))
    assert raised.value.messages and all("select" in message for message in raised.value.messages)
    with pytest.raises(api.ConfigurationError):
        api.Linter(target_versions=["torch=banana"])
    with pytest.raises(api.ConfigurationError):
        api.Linter(unfixable=["XX9"])


def test_unparsable_text_is_a_dl000_finding_not_an_exception():
    findings = api.lint_source(DECODE.replace("def load(path):", "def load(path:"), "broken.py")
    assert [(f.code, f.line) for f in findings] == [("DL000", 4)]


def test_notebook_cells_are_one_module_and_findings_name_their_cell():
    cells = [("markdown", "# Look at the data"), ("code", "import tensorflow as tf\n"),
             ("code", "def load(path):\n    raw = open(path).read()\n    return tf.image.decode_jpeg(raw)\n")]
    findings = api.Linter().lint_cells(cells, "explore.ipynb")
    assert [(f.code, f.cell, f.line) for f in findings] == [("DL101", 3, 2)]
    sources, done = api.Linter().fix_cells(cells, "explore.ipynb")
    assert done.applied == 1 and sources[0] == "# Look at the data" and sources[1] == cells[1][1]
    assert 'open(path, "rb")' in sources[2]


def test_noqa_edit_silences_the_finding():
    finding = api.lint_source(DECODE, "loader.py")[0]
    edit = api.noqa_edit(DECODE, finding)
    lines = DECODE.splitlines(keepends=True)
    assert (edit.line, edit.column, edit.end_line) == (5, 1, 5)
    lines[4] = edit.content + "\n"
    silenced = "".join(lines)
    assert silenced.splitlines()[4].endswith("# noqa: DL101")
    assert api.lint_source(silenced, "loader.py") == []


def test_lint_paths_matches_the_command_line(tmp_path):
    examples = Path(__file__).resolve().parent.parent / "examples"
    import shutil

    shutil.copytree(examples, tmp_path / "examples")
    run = api.lint_paths([str(tmp_path / "examples")], cache=False)
    cli = run_dldoctor("lint", "--no-cache", "--output-format", "json", "examples", cwd=tmp_path)
    from_cli = {(Path(f["filename"]).name, f["location"]["row"], f["code"]) for f in json.loads(cli.stdout)}
    assert {(Path(f.path).name, f.line, f.code) for f in run.findings} == from_cli
    assert run.files_checked > 20 and not run.ok and run.missing == []
    assert api.lint_paths([str(tmp_path / "nowhere")], cache=False).missing == [str(tmp_path / "nowhere")]


def test_rules_and_their_documentation(tmp_path):
    codes = [rule.code for rule in api.rules()]
    assert codes[0] == "DL000" and "DL101" in codes
    assert api.rule("binary-read-in-text-mode").code == "DL101"
    assert api.rule("DL999") is None
    page = api.rule_documentation("DL101")
    cli = run_dldoctor("rule", "DL101", cwd=tmp_path)
    assert page.startswith("# DL101 binary-read-in-text-mode") and cli.stdout.strip() == page.strip()


def test_importing_the_api_costs_the_standard_library_only():
    code = "import sys, dldoctor.api; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('libcst', 'typer', 'rich', 'torch', 'tensorflow') or m.startswith('dldoctor.rules'))))"
    done = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


# --- probes ---------------------------------------------------------------------------------------


def test_ckpt_reports_a_real_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(4, 2).state_dict(), path)
    report = api.ckpt(str(path))
    assert isinstance(report, api.Report) and report.command == "ckpt" and report.exit_code() == 0
    assert report.to_json()["command"] == "ckpt"
    with pytest.raises(api.ProbeError) as raised:
        api.ckpt(str(tmp_path / "missing.pt"))
    assert raised.value.exit_code == 2 and "missing.pt" in raised.value.message


def test_ckpt_scan_names_an_unsafe_pickle(tmp_path):
    import pickle

    class Payload:
        def __reduce__(self):
            return (print, ("loaded",))

    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(Payload()))
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.zeros(2)}, tmp_path / "fine.pt")
    report = api.ckpt_scan([str(tmp_path)])
    statuses = {check.subject.rsplit("/", 1)[-1]: check.status for check in report.checks}
    assert statuses == {"evil.pkl": "fail", "fine.pt": "ok"} and report.exit_code() == 1
    with pytest.raises(api.ProbeError):
        api.ckpt_scan([])


def test_env_diagnoses_a_saved_snapshot(tmp_path):
    saved = run_dldoctor("env", "--quick", "--json", cwd=tmp_path, timeout=120)
    document = json.loads(saved.stdout)
    report = api.env(snapshot=document)
    assert report.command == "env" and {check.id for check in report.checks} == {c["id"] for c in document["checks"]}
    path = write(tmp_path / "snap.json", saved.stdout)
    assert [c.id for c in api.env(snapshot=str(path)).checks] == [c.id for c in report.checks]
    with pytest.raises(api.ProbeError, match="no such file"):
        api.env(snapshot=str(tmp_path / "none.json"))


def test_data_finds_a_truncated_image(tmp_path):
    from PIL import Image

    for index in range(3):
        Image.new("RGB", (32, 32), (index * 40, 0, 0)).save(tmp_path / f"ok{index}.jpg")
    whole = (tmp_path / "ok0.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    report = api.data([str(tmp_path)], jobs=1)
    assert report.exit_code() == 1
    assert any(check.status == "fail" and "cut.jpg" in json.dumps(check.to_json()) for check in report.checks)
    with pytest.raises(api.ProbeError):
        api.data([str(tmp_path / "empty-dir-that-is-missing")])


def test_graph_meta_of_nothing_is_a_probe_error(tmp_path):
    with pytest.raises(api.ProbeError):
        api.graph_meta(str(tmp_path))


def test_a_probe_error_is_the_commands_exit_2(tmp_path):
    done = run_dldoctor("ckpt", tmp_path / "missing.pt", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("dldoctor: error: ") and "Traceback" not in done.stderr


def test_excluded_follows_the_configuration(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.dldoctor]\nextend-exclude = ["generated"]\n')
    linter = api.Linter(root=tmp_path)
    assert linter.excluded(str(tmp_path / "generated" / "ops.py"))
    assert linter.excluded(str(tmp_path / ".venv" / "lib" / "site.py"))  # a default-skipped directory
    assert not linter.excluded(str(tmp_path / "train.py"))


# -- a document's rules shared with a helper process ---------------------------------------------

NOQA_MIX = (
    "import tensorflow.compat.v1 as tf\n"
    "first = tf.image.decode_jpeg(open(path).read())  # noqa: DL101\n"  # used
    "cfg = tf.ConfigProto(log_device_placement=True)  # noqa: DL101, DL999\n"  # unused and unknown, DL201 stays
    "ok = 1  # noqa: DL201, E501\n"  # unused, another tool's code not judged
    "bare = open(p).read()  # noqa\n"
    "img = tf.image.decode_jpeg(open(q).read())\n"
)


@pytest.fixture(scope="module")
def shared_and_alone(tmp_path_factory):
    root = tmp_path_factory.mktemp("shared")
    (root / "pyproject.toml").write_text('[tool.dldoctor]\nselect = ["ALL"]\n', encoding="utf-8")
    shared = api.Linter(root=root, incremental=True, processes=2)
    alone = api.Linter(root=root)
    import time

    deadline = time.monotonic() + 120
    while not shared._helper.ready():
        assert time.monotonic() < deadline, "the helper process never became ready"
        time.sleep(0.05)
    yield root, shared, alone
    shared.close()


def test_rules_shared_with_a_helper_find_what_one_process_finds(shared_and_alone):
    """Every example, a text whose `# noqa` comments DL100 judges, an unparsable text: the same
    findings (messages, fixes, the versions they were judged against) as one process's lint."""
    root, shared, alone = shared_and_alone
    path = str(root / "train.py")
    texts = [p.read_text(encoding="utf-8") for p in sorted((Path(__file__).resolve().parent.parent / "examples").rglob("*.py"))]
    texts += [NOQA_MIX, NOQA_MIX + "x = (\n", "# dldoctor: noqa: DL100\n" + NOQA_MIX]
    for text in texts:
        assert shared.lint(text, path) == alone.lint(text, path), text[:200]
    found = {finding.code for finding in shared.lint(NOQA_MIX, path)}
    assert {"DL100", "DL201"} <= found and "DL101" in found  # the unsilenced decode_jpeg read
    assert sum(finding.code == "DL100" for finding in shared.lint(NOQA_MIX, path)) == 2


def test_a_helper_that_dies_leaves_the_lint_to_this_process(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.dldoctor]\nselect = ["ALL"]\n', encoding="utf-8")
    path = str(tmp_path / "train.py")
    shared = api.Linter(root=tmp_path, incremental=True, processes=2)
    import time

    while not shared._helper.ready():
        time.sleep(0.05)
    expected = api.Linter(root=tmp_path).lint(NOQA_MIX, path)
    shared._helper._process.kill()
    shared._helper._process.wait()
    assert shared.lint(NOQA_MIX, path) == expected  # its part linted here
    assert shared._helper is None
    assert shared.lint(NOQA_MIX, path) == expected
    shared.close()  # nothing left to end


def test_processes_must_be_positive():
    with pytest.raises(api.ConfigurationError, match="processes must be at least 1"):
        api.Linter(processes=0)
