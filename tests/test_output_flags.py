"""ruff's output flags on real runs of the CLI: the `[*]` marker and the fix summary,
--statistics, --output-file, --quiet, --silent, --verbose, --fix-only, --unfixable, the
ASCII fallback of every command, and `rule NAME` / `rule --all` / DL000 in `rules`."""

from __future__ import annotations

import json

from conftest import BAD, BAD_COLUMN, BAD_LINE, CLEAN, clean_env, run_dldoctor, write

# DL501's fix (`map_location="cpu"`) is unsafe; DL201's (drop the switch) is safe.
UNSAFE_ONLY = 'import torch\nstate = torch.load("model.pt")\n'


def lint(project, *args, **kwargs):
    return run_dldoctor("lint", "--no-cache", *args, cwd=project, **kwargs)


def two_kinds(project):
    write(project / "a.py", BAD)
    write(project / "b.py", UNSAFE_ONLY)


# --- [*] and the fix summary ------------------------------------------------------------------


def test_hidden_unsafe_fixes_are_counted_as_ruff_does(project):
    two_kinds(project)
    run = lint(project, "--output-format", "concise", ".")
    assert run.returncode == 1
    assert run.lines[0].startswith(f"a.py:{BAD_LINE}:{BAD_COLUMN}: DL201 [*] ")
    assert run.lines[1].startswith("b.py:2:9: DL501 `torch.load")  # no marker: --fix would not apply it
    assert run.lines[2:] == [
        "Found 2 findings.",
        "[*] 1 fixable with the `--fix` option (1 hidden fix can be enabled with the `--unsafe-fixes` option).",
    ]
    only_unsafe = lint(project, "--output-format", "concise", "b.py")
    assert only_unsafe.lines[-1] == "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option)."


def test_unsafe_fixes_without_fix_shows_them_as_available_and_changes_nothing(project):
    two_kinds(project)
    run = lint(project, "--output-format", "concise", "--unsafe-fixes", ".")
    assert run.lines[1].startswith("b.py:2:9: DL501 [*] `torch.load")
    assert run.lines[-1] == "[*] 2 fixable with the `--fix --unsafe-fixes` options."
    assert (project / "b.py").read_text() == UNSAFE_ONLY
    text = lint(project, "--unsafe-fixes", "b.py")
    assert any(line.startswith("  2:9  DL501 [*] torch-load-map-location") for line in text.lines), text.stdout
    assert "[*] 1 fixable with the `--fix --unsafe-fixes` options." in text.lines


def test_fix_with_concise_says_how_many_were_fixed(project):
    two_kinds(project)
    run = lint(project, "--fix", "--output-format", "concise", ".")
    assert run.returncode == 1  # DL501 is left: its fix is unsafe
    assert (project / "a.py").read_text() == BAD.replace("log_device_placement=True", "")
    assert run.lines[-3:] == [
        "Fixed 1 finding.",
        "Found 1 finding.",
        "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option).",
    ]
    write(project / "c.py", BAD)
    clean = lint(project, "--fix", "--output-format", "concise", "c.py")
    assert (clean.returncode, clean.lines) == (0, ["Fixed 1 finding.", "All checks passed!"])


# --- --statistics -----------------------------------------------------------------------------


def test_statistics_is_ruffs_table(project):
    write(project / "a.py", BAD + "tf.ConfigProto(log_device_placement=1)\n")
    write(project / "b.py", UNSAFE_ONLY)
    run = lint(project, "--statistics", ".")
    assert run.returncode == 1
    assert run.lines == [
        "2\tDL201\t[*] log-device-placement",
        "1\tDL501\t[ ] torch-load-map-location",
        "Found 3 findings.",
        "[*] 2 fixable with the `--fix` option (1 hidden fix can be enabled with the `--unsafe-fixes` option).",
    ]
    rows = lint(project, "--statistics", "--output-format", "json", ".").json()
    assert rows == [
        {"code": "DL201", "name": "log-device-placement", "count": 2, "fixable": True, "url": "docs/rules/DL201.md"},
        {"code": "DL501", "name": "torch-load-map-location", "count": 1, "fixable": False, "url": "docs/rules/DL501.md"},
    ]


def test_statistics_without_fixes_has_no_marker_column(project):
    write(project / "b.py", UNSAFE_ONLY)
    run = lint(project, "--statistics", "-q", "b.py")
    assert run.lines == ["1\tDL501\ttorch-load-map-location"]


# --- where the report goes, and how much of it --------------------------------------------------


def test_output_file_takes_the_report(project):
    write(project / "a.py", BAD)
    run = lint(project, "--output-format", "json", "-o", "report.json", "a.py")
    assert (run.returncode, run.stdout) == (1, "")
    [finding] = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert finding["code"] == "DL201"
    text = lint(project, "--output-file", "report.txt", "a.py", env=clean_env(FORCE_COLOR="1"))
    assert "\x1b[" not in (project / "report.txt").read_text(encoding="utf-8")  # a file is never coloured
    assert text.stdout == ""


def test_output_file_that_cannot_be_written_is_a_usage_error(project):
    write(project / "a.py", BAD)
    run = lint(project, "-o", str(project / "missing-dir" / "report.txt"), "a.py")
    assert run.returncode == 2
    assert "cannot write" in run.stderr and "missing-dir" in run.stderr


def test_quiet_text_has_no_summary(project):
    write(project / "a.py", BAD)
    run = lint(project, "-q", "a.py")
    assert run.returncode == 1
    assert "a.py" in run.lines and not any(line.startswith("Found ") for line in run.lines)
    assert not any("fixable" in line or "Explain a rule" in line for line in run.lines)


def test_silent_prints_nothing_but_the_status_tells(project):
    write(project / "a.py", BAD)
    write(project / "good.py", CLEAN)
    run = lint(project, "--silent", "a.py")
    assert (run.returncode, run.stdout, run.stderr) == (1, "", "")
    assert lint(project, "-s", "good.py").returncode == 0
    missing = lint(project, "--silent", "nothere.py")
    assert missing.returncode == 2 and "nothere.py" in missing.stderr  # errors are never silenced


def test_verbose_says_what_it_did_on_stderr(project):
    write(project / "a.py", BAD)
    run = lint(project, "--verbose", "--output-format", "json", "a.py")
    assert run.returncode == 1
    assert [f["code"] for f in run.json()] == ["DL201"]  # stdout is still the report alone
    debug = [line for line in run.stderr.splitlines() if line.startswith("dldoctor: debug: ")]
    assert any("rules selected" in line for line in debug), run.stderr
    assert any("1 file checked in" in line for line in debug), run.stderr


# --- --fix-only and --unfixable -----------------------------------------------------------------


def test_fix_only_fixes_and_reports_only_the_count(project):
    two_kinds(project)
    run = lint(project, "--fix-only", ".")
    assert (run.returncode, run.stdout) == (0, "Fixed 1 finding.\n")  # DL501 is left, and does not fail the run
    assert "log_device_placement" not in (project / "a.py").read_text()
    assert (project / "b.py").read_text() == UNSAFE_ONLY
    again = lint(project, "--fix-only", ".")
    assert (again.returncode, again.stdout) == (0, "No findings fixed.\n")


def test_fix_only_on_stdin_prints_the_fixed_source(project):
    run = lint(project, "--fix-only", "-", "--stdin-filename", "x.py", stdin=BAD)
    assert run.returncode == 0
    assert run.stdout == BAD.replace("log_device_placement=True", "")
    assert "Fixed 1 finding." in run.stderr


def test_unfixable_codes_are_neither_fixed_nor_offered(project):
    write(project / "a.py", BAD)
    offered = lint(project, "--unfixable", "DL201", "--output-format", "concise", "a.py")
    assert " DL201 [*] " not in offered.stdout and " DL201 " in offered.stdout
    assert not any("fixable" in line for line in offered.lines)
    fixed = lint(project, "--fix", "--unfixable", "DL2", "a.py")
    assert fixed.returncode == 1
    assert (project / "a.py").read_text() == BAD
    assert "Fixed" not in fixed.stdout
    assert lint(project, "--fix", "--unfixable", "DL501", "a.py").returncode == 0  # another code: DL201 is fixed
    unknown = lint(project, "--unfixable", "DL999", "a.py")
    assert unknown.returncode == 2 and "DL999" in unknown.stderr


# --- a console that cannot encode the report ----------------------------------------------------


def test_ascii_console_gets_ascii_for_every_format(project):
    # DL301's message says O(n·m); the file name is not ASCII.
    source = (
        "def captions(lines, vocabulary_file):\n"
        "    vocab = [w.strip() for w in open(vocabulary_file)]\n"
        "    for line in lines:\n"
        "        for word in line.split():\n"
        "            if word in vocab:\n"
        "                yield word\n"
    )
    write(project / "café.py", source)
    ascii_env = clean_env(PYTHONIOENCODING="ascii")
    reports = {}
    for output_format in ("text", "concise", "github", "json", "sarif"):
        run = lint(project, "--select", "ALL", "--output-format", output_format, ".", env=ascii_env)
        run.assert_no_traceback()
        assert run.returncode == 1, (output_format, run.stderr)
        assert run.stdout.isascii(), output_format
        reports[output_format] = run
    assert "caf\\xe9.py" in reports["concise"].stdout  # no look-alike: escaped
    assert any("DL301" in line for line in reports["concise"].lines)
    # JSON escapes of its own: the documents stay valid and say the real name.
    [finding] = [f for f in reports["json"].json() if f["code"] == "DL301"]
    assert finding["filename"].endswith("café.py")
    sarif = reports["sarif"].json()
    assert any("O(n·m)" in rule["shortDescription"]["text"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"])


def test_ascii_console_for_rule_rules_and_explain(project):
    ascii_env = clean_env(PYTHONIOENCODING="ascii")
    rule = run_dldoctor("rule", "DL301", cwd=project, env=ascii_env)
    assert rule.returncode == 0, rule.stderr
    assert rule.stdout.isascii()
    assert "O(n-m)" in rule.stdout  # the look-alike, not `\xb7`
    rules = run_dldoctor("rules", cwd=project, env=ascii_env)
    assert rules.returncode == 0 and rules.stdout.isascii() and "O(n-m)" in rules.stdout
    explain = run_dldoctor("explain", "DL301", cwd=project, env=ascii_env)
    assert explain.returncode == 0 and explain.stdout.isascii()
    env = run_dldoctor("env", "--quick", cwd=project, env=ascii_env)
    assert env.returncode in (0, 1) and env.stdout.isascii() and "verdict: " in env.stdout


# --- rule NAME, rule --all, DL000 in rules -------------------------------------------------------


def test_rule_by_name_or_code_in_any_case(project):
    by_code = run_dldoctor("rule", "DL101", cwd=project)
    by_name = run_dldoctor("rule", "binary-read-in-text-mode", cwd=project)
    lower = run_dldoctor("rule", "dl101", cwd=project)
    assert by_code.returncode == by_name.returncode == lower.returncode == 0
    assert by_code.stdout == by_name.stdout == lower.stdout
    assert by_code.lines[0] == "# DL101 binary-read-in-text-mode (error)"
    unknown = run_dldoctor("rule", "binary-read-in-txt-mode", cwd=project)
    assert unknown.returncode == 2 and "no rule 'binary-read-in-txt-mode'" in unknown.stderr


def test_rule_all_explains_every_code(project):
    codes = [row["code"] for row in run_dldoctor("rules", "--json", cwd=project).json()]
    run = run_dldoctor("rule", "--all", cwd=project)
    assert run.returncode == 0, run.stderr
    headers = [line.split()[1] for line in run.lines if line.startswith("# DL")]
    assert headers == codes
    assert run_dldoctor("rule", cwd=project).returncode == 2  # neither a rule nor --all
    pages = run_dldoctor("rule", "--all", "--json", cwd=project).json()
    assert [page["code"] for page in pages] == codes
    assert all(page["explanation"].startswith(f"# {page['code']} ") for page in pages)


def test_rules_lists_dl000_and_links_every_page(project):
    rows = run_dldoctor("rules", "--json", cwd=project).json()
    assert rows[0] == {
        "code": "DL000", "name": "unreadable-source", "severity": "error", "default": True,
        "summary": "A file that could not be read, decoded or parsed, so it was not linted.",
        "url": "docs/rules/DL000.md",
    }
    assert all(row["url"] == f"docs/rules/{row['code']}.md" for row in rows)
    text = run_dldoctor("rules", cwd=project)
    assert any(line.startswith("DL000  unreadable-source") for line in text.lines)
    dl000 = run_dldoctor("rule", "unreadable-source", cwd=project)
    assert dl000.returncode == 0 and dl000.lines[0] == "# DL000 unreadable-source (error)"


def test_fixed_source_on_stdin_is_bytes_untouched_by_an_ascii_console(project):
    source = BAD.replace("tf.ConfigProto(", "label = 'naïve — 你好'\ntf.ConfigProto(")
    run = lint(project, "--fix", "-", "--stdin-filename", "x.py", stdin=source, env=clean_env(PYTHONIOENCODING="ascii"))
    assert run.returncode == 0, run.stderr
    assert run.stdout == source.replace("log_device_placement=True", "")  # the characters as they were
    assert "Fixed 1 finding." in run.stderr
