"""The one verdict model: its JSON Schema for every probe, the exit-code rule, the output formats,
ASCII output, and `dldoctor explain` over the check catalogue."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import clean_env, run_dldoctor
from dldoctor.probes.env import diagnosis as env_diagnosis
from dldoctor.verdict import FAIL, OK, SKIP, WARN, Check, Location, Report, catalogue, reporters
from verdictutil import assert_valid_report, schema

ENV_DATA = Path(__file__).resolve().parent / "data" / "env"
SNAPSHOTS = sorted(ENV_DATA.glob("*.json"))


def env_report(name: str) -> Report:
    return env_diagnosis.report(json.loads((ENV_DATA / f"{name}.json").read_text(encoding="utf-8")))


# --- the model ---------------------------------------------------------------------------------


@pytest.mark.parametrize("statuses, verdict, code, strict_code", [
    ([OK, SKIP], "ok", 0, 0),
    ([OK, WARN, SKIP], "warn", 0, 1),
    ([WARN, FAIL], "fail", 1, 1),
    ([], "ok", 0, 0),
])
def test_verdict_and_exit_code_follow_the_worst_check(statuses, verdict, code, strict_code):
    report = Report("env", [Check("env.os", status, f"check {i}") for i, status in enumerate(statuses)])
    assert report.verdict == verdict
    assert report.exit_code() == code and report.exit_code(strict=True) == strict_code


def test_a_check_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="not one of ok, warn, fail, skip"):
        Check("env.os", "WARN", "the old upper-case status")


def test_the_schema_is_itself_valid_and_rejects_what_it_must():
    jsonschema.Draft202012Validator.check_schema(schema())
    good = Report("env", [Check("env.os", OK, "Linux")]).to_json()
    jsonschema.validate(good, schema())
    for broken in (
        {**good, "verdict": "growth"},
        {**good, "checks": [{**good["checks"][0], "status": "OK"}]},
        {**good, "checks": [{k: v for k, v in good["checks"][0].items() if k != "fix"}]},
        {**good, "checks": [{**good["checks"][0], "title": "two\nlines"}]},
        {k: v for k, v in good.items() if k != "facts"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema())


# --- the catalogue -----------------------------------------------------------------------------


def test_every_catalogued_id_is_well_formed_and_documented():
    pattern = re.compile(schema()["$defs"]["check"]["properties"]["id"]["pattern"])
    docs = catalogue.all_checks()
    assert {doc.probe for doc in docs.values()} == set(catalogue.PROBES)
    for doc in docs.values():
        assert pattern.match(doc.id), doc.id
        assert doc.title and doc.checks and doc.why, doc.id


def test_every_check_env_emits_on_the_recorded_snapshots_is_catalogued_and_valid():
    seen = set()
    for path in SNAPSHOTS:
        document = env_diagnosis.report(json.loads(path.read_text(encoding="utf-8"))).to_json()
        assert_valid_report(document, "env")
        seen |= {check["id"] for check in document["checks"]}
    assert {"env.driver-too-old", "env.gpu-ecc-errors", "env.cublas-smoke-test"} <= seen


def test_explain_prints_a_check_and_lists_them_all(tmp_path):
    run = run_dldoctor("explain", "env.gpu-memory-shared", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.lines[0] == "# env.gpu-memory-shared: other processes hold a GPU's memory"
    assert "## What you see" in run.stdout and "CUBLAS_STATUS_ALLOC_FAILED" in run.stdout and "## Fix" in run.stdout
    listing = run_dldoctor("explain", cwd=tmp_path)
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.lines] == list(catalogue.all_checks())
    assert run_dldoctor("rule", "graph.ops-created-in-loop", cwd=tmp_path).lines[0].startswith("# graph.ops-created-in-loop: ")
    assert run_dldoctor("explain", "DL101", cwd=tmp_path).lines[0].startswith("# DL101 ")
    missing = run_dldoctor("explain", "env.no-such-check", cwd=tmp_path)
    assert missing.returncode == 2 and "no check 'env.no-such-check'" in missing.stderr


# --- the output formats on the command line -----------------------------------------------------


def test_env_json_of_every_snapshot_validates_and_keeps_the_exit_code(tmp_path):
    for name in ("ecc_errors", "two_gpus_one_busy"):
        run = run_dldoctor("env", "--from", ENV_DATA / f"{name}.json", "--output-format", "json", cwd=tmp_path)
        assert_valid_report(run.json(), "env")
        assert run.returncode == (1 if run.json()["verdict"] == "fail" else 0)
        assert run_dldoctor("env", "--from", ENV_DATA / f"{name}.json", "--json", cwd=tmp_path).json() == run.json()


def test_strict_turns_warnings_into_exit_1(tmp_path):
    assert env_report("two_gpus_one_busy").verdict == "warn"
    plain = run_dldoctor("env", "--from", ENV_DATA / "two_gpus_one_busy.json", cwd=tmp_path)
    strict = run_dldoctor("env", "--from", ENV_DATA / "two_gpus_one_busy.json", "--strict", cwd=tmp_path)
    assert (plain.returncode, strict.returncode) == (0, 1)
    assert plain.lines[-1].startswith("verdict: WARN: ") and strict.stdout == plain.stdout


@pytest.mark.parametrize("args, message", [
    (["--output-format", "sarif"], "unknown output format 'sarif' (choose from text, json, github)"),
    (["--json", "--output-format", "github"], "--json and --output-format github ask for two formats"),
])
def test_an_unknown_or_contradictory_format_is_a_usage_error(tmp_path, args, message):
    for command in (["env", "--from", str(ENV_DATA / "ecc_errors.json")], ["graph", "meta", str(tmp_path)]):
        run = run_dldoctor(*command, *args, cwd=tmp_path)
        assert run.returncode == 2 and message in run.stderr and run.stdout == "", (command, run.stderr)


def test_github_annotations_of_env(tmp_path):
    run = run_dldoctor("env", "--from", ENV_DATA / "ecc_errors.json", "--output-format", "github", cwd=tmp_path)
    assert run.returncode == 1
    errors = [line for line in run.lines if line.startswith("::error ")]
    warnings = [line for line in run.lines if line.startswith("::warning ")]
    assert len(errors) == 1 and len(warnings) == 2, run.stdout
    assert errors[0].startswith("::error title=dldoctor env.gpu-ecc-errors::GPU 0: 2 uncorrectable ECC memory errors")
    assert "%0Afix: reset the GPU (`sudo nvidia-smi -r -i 0`)" in errors[0]
    assert run.lines[-1].startswith("dldoctor env: verdict: FAIL: ")


def _unreadable_train_dir(tmp_path: Path) -> Path:
    train = tmp_path / "run"
    train.mkdir()
    (train / "model.ckpt-0.meta").write_bytes(b"")  # an empty .meta: unreadable, never growth evidence
    (train / "model.ckpt-10.meta").write_bytes(b"\x0a\xff\xff\xff\x7f")  # a field longer than the file
    return train


def test_graph_meta_json_and_github_point_at_the_files(tmp_path):
    train = _unreadable_train_dir(tmp_path)
    run = run_dldoctor("graph", "meta", "run", "--output-format", "json", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    document = run.json()
    assert_valid_report(document, "graph meta")
    unreadable = [c for c in document["checks"] if c["id"] == "graph.meta-unreadable"]
    assert {c["location"]["file"] for c in unreadable} == {"run/model.ckpt-0.meta", "run/model.ckpt-10.meta"}
    assert document["facts"]["target"] == "run" and len(document["facts"]["analysis"]["files"]) == 2
    github = run_dldoctor("graph", "meta", str(train), "--output-format", "github", cwd=tmp_path)
    assert github.returncode == 1
    located = [line for line in github.lines if line.startswith("::error file=")]
    assert len(located) == 2 and all(",title=dldoctor graph.meta-unreadable::" in line for line in located), github.stdout


# --- ASCII ---------------------------------------------------------------------------------------


def _ascii_run(*args, cwd, text=True):
    completed = subprocess.run([sys.executable, "-m", "dldoctor", *map(str, args)], capture_output=True, cwd=cwd,
                               env=clean_env(PYTHONIOENCODING="ascii"), timeout=120)
    completed.stdout.decode("ascii")
    if text:  # written as ASCII, not escaped by the stream (`\\xb7`, `\\u2264`) as a last resort
        assert b"\\x" not in completed.stdout and b"\\u2" not in completed.stdout, completed.stdout
    assert b"Traceback" not in completed.stderr, completed.stderr
    return completed


def test_every_command_writes_plain_ascii_to_an_ascii_stream(tmp_path):
    _unreadable_train_dir(tmp_path)
    env = _ascii_run("env", "--from", ENV_DATA / "driver_too_old.json", cwd=tmp_path)
    assert env.returncode == 1 and b"  x driver 470.82.01 supports CUDA <= 11.4" in env.stdout and b"-> " in env.stdout
    meta = _ascii_run("graph", "meta", "run", cwd=tmp_path)
    assert meta.returncode == 1 and b"\n  x run/model.ckpt-0.meta: " not in meta.stdout and b"\nx run/model.ckpt-0.meta: " in meta.stdout
    (tmp_path / "no_framework.py").write_text("total = sum(range(10))\n", encoding="utf-8")
    run = _ascii_run("graph", "run", "no_framework.py", "--quiet", cwd=tmp_path)
    assert run.returncode == 0 and b"\n- no graph execution was observed" in run.stdout, run.stdout
    for args in (["explain", "env.version-malformed"], ["explain"]):
        assert _ascii_run(*args, cwd=tmp_path).returncode == 0
    as_json = _ascii_run("env", "--from", ENV_DATA / "driver_too_old.json", "--json", cwd=tmp_path, text=False)
    document = json.loads(as_json.stdout.decode("ascii"))  # non-ASCII as \\u escapes: still the same document
    assert_valid_report(document, "env")
    assert any("≤" in c["title"] for c in document["checks"])


class _Stream:
    encoding = "utf-8"

    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)

    def flush(self):
        pass


def test_the_text_reporter_groups_by_section_and_escapes_what_a_file_named():
    report = Report("env", [
        Check("env.os", OK, "Linux", "a detail", section="Python and platform"),
        Check("env.gpu-throttled", WARN, "GPU 0: clocks slowed down", fix=["check cooling"], subject="GPU 0",
              section="GPUs", location=Location("/dev/nvidia0")),
        Check("env.gpu", OK, "GPU 1: \x1b[2K\rverdict: OK", "a\tb", ["the code of a note"], section="GPUs"),
    ], headline="2 ok, 1 warning")
    stream = _Stream()
    reporters.write(report, "text", stream, header="dldoctor env: test")
    assert "".join(stream.parts).splitlines() == [
        "dldoctor env: test", "Python and platform", "  ✓ Linux", "      a detail", "GPUs",
        "  ! GPU 0: clocks slowed down", "      → check cooling",
        "  ✓ GPU 1: \\x1b[2K\\rverdict: OK", "      a\\tb", "      → the code of a note",
        "", "verdict: WARN: 2 ok, 1 warning",
    ]
    github = _Stream()
    reporters.write(report, "github", github)
    assert "".join(github.parts).splitlines() == [
        "::warning file=/dev/nvidia0,title=dldoctor env.gpu-throttled::GPU 0: clocks slowed down%0Afix: check cooling",
        "dldoctor env: verdict: WARN: 2 ok, 1 warning",
    ]


def _safetensors(path: Path, tensors: dict) -> Path:
    """A .safetensors file written by hand (the header is JSON): ckpt reads it without a framework."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, (dtype, shape, size) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    data = json.dumps(header).encode()
    path.write_bytes(len(data).to_bytes(8, "little") + data + b"\x00" * offset)
    return path


def test_ckpt_json_github_and_ascii(tmp_path):
    _safetensors(tmp_path / "w.safetensors", {"fc.weight": ("F16", [10, 4], 80)})
    run = run_dldoctor("ckpt", "w.safetensors", "--output-format", "json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    document = run.json()
    assert_valid_report(document, "ckpt")
    assert [(c["id"], c["status"]) for c in document["checks"]] == [("ckpt.unsafe-to-load", "ok")]
    assert document["checks"][0]["location"] == {"file": "w.safetensors"}
    assert document["facts"]["inventory"]["dtypes"] == {"float16": 1}
    text = _ascii_run("ckpt", "w.safetensors", cwd=tmp_path)
    assert text.returncode == 0 and text.stdout.decode("ascii").splitlines()[-1] == (
        "verdict: OK: readable and safe to load (1 tensor)")


def test_a_ckpt_warning_exits_0_and_1_with_strict(tmp_path):
    """`ckpt` once exited 1 on a warning; now a warning exits 1 only with --strict, as for every probe."""
    _safetensors(tmp_path / "empty.safetensors", {})
    plain = run_dldoctor("ckpt", "empty.safetensors", cwd=tmp_path)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "! The checkpoint holds no model parameters." in plain.lines
    assert plain.lines[-1] == "verdict: WARN: The checkpoint holds no model parameters."
    assert run_dldoctor("ckpt", "empty.safetensors", "--strict", cwd=tmp_path).returncode == 1
    github = run_dldoctor("ckpt", "empty.safetensors", "--output-format", "github", cwd=tmp_path)
    assert github.lines[0] == ("::warning file=empty.safetensors,title=dldoctor ckpt.no-parameters::"
                               "The checkpoint holds no model parameters.")
