"""The README and docs/ say what the product does, and every snippet in them works.

Each fenced `sh`, `yaml` and `toml` block carries an HTML comment saying how it is
checked, `<!-- check: KIND -->` (with `exit=N` for a command that should exit N):

- `run`: run with bash in a copy of the docs, the project's virtualenv beside it;
- `synopsis`: usage lines; every `dldoctor` command and option in them must exist;
- `network`: needs the network (pip, a clone); checked statically: what pip installs
  exists (this project and its extras, or a git URL of the documented form), the
  `dldoctor` commands as a synopsis, and with `exit=N` they are run here;
- `config`: parsed, and used as the `pyproject.toml` of a project that is linted;
- `pre-commit`: run by the real `pre-commit` in a new git repository, its `repo` and
  `rev` pointing at a snapshot of this working tree;
- `workflow`: a GitHub Actions workflow, parsed, its steps checked, and its dldoctor
  steps run here on a project with a finding;
- `python` (a `python` block): run with this interpreter in a copy of the bundled
  `examples/`, as the API's examples are written;
- `fragment` (a `python` block): an excerpt that is not a program (comments shown in
  place), which must still tokenize as Python;
- `editor` (`json`, `lua` or `toml`): an editor's configuration for `dldoctor server`,
  parsed (JSON, TOML; Lua by the `cmd` it names), and the command it starts must be
  `dldoctor server`, a command that exists.

The rule pages (`docs/rules/`) are generated from the rules' docstrings and must be
current; the README's rule table must list exactly the codes `dldoctor rules` does; the
reference table of `docs/lint.md` must list exactly the options of `dldoctor lint`.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import BAD, CLEAN, clean_env, run_dldoctor, write
from test_pre_commit import env, git, hook_repo  # noqa: F401  (fixtures: the snapshot repository pre-commit installs)

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
PAGES = sorted([README, *DOCS.glob("*.md")])  # docs/rules/ is generated from docstrings: not snippets
CHECKED_LANGUAGES = {"sh", "bash", "yaml", "toml", "python"}
KINDS = {"run", "synopsis", "network", "config", "pre-commit", "workflow", "python", "fragment", "editor"}
MARKER = re.compile(r"<!-- check: ([a-z-]+)(?: exit=(\d+))? -->")
FENCE = re.compile(r"^```(\S*)\s*$")
# The placeholders the install instructions use until there is a release (said in the README).
REPOSITORY_URL = "https://github.com/OWNER/dldoctor"
COMMIT = "COMMIT_SHA"
GIT_REQUIREMENT = f"dldoctor @ git+{REPOSITORY_URL}@{COMMIT}"


@dataclass
class Snippet:
    page: Path
    line: int
    language: str
    kind: str | None
    exit_code: int
    text: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def snippets() -> list[Snippet]:
    found = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        index = 0
        while index < len(lines):
            match = FENCE.match(lines[index])
            if not match:
                index += 1
                continue
            start, language = index, match.group(1)
            index += 1
            body = []
            while index < len(lines) and lines[index].strip() != "```":
                body.append(lines[index])
                index += 1
            index += 1
            before = next((line for line in reversed(lines[:start]) if line.strip()), "")
            marker = MARKER.fullmatch(before.strip())
            found.append(Snippet(
                page, start + 1, language, marker.group(1) if marker else None,
                int(marker.group(2) or 0) if marker else 0, "\n".join(body) + "\n",
            ))
    return found


ALL = snippets()
CHECKED = [snippet for snippet in ALL if snippet.language in CHECKED_LANGUAGES]


def of_kind(kind: str) -> list[Snippet]:
    return [snippet for snippet in CHECKED if snippet.kind == kind]


# --- the command tree, for synopses --------------------------------------------------------------


def command_tree():
    import typer.main

    from dldoctor.cli import app

    return typer.main.get_command(app)


def options_of(command) -> set[str]:
    names = {"--help", "-h"}
    for param in command.params:
        if getattr(param, "param_type_name", "") == "option":  # not the positional arguments
            names |= set(param.opts) | set(param.secondary_opts)
    return names


def segments(line: str) -> list[list[str]]:
    """The simple commands of a shell line (split at &&, ||, |, ;), redirections dropped."""
    tokens = shlex.split(line, comments=True)
    found, current = [], []
    skip_next = False
    for token in tokens:
        if skip_next:
            skip_next = False
            continue
        if token in ("&&", "||", "|", ";"):
            found.append(current)
            current = []
        elif token in (">", ">>", "2>", "<"):
            skip_next = True
        else:
            current.append(token)
    return [segment for segment in [*found, current] if segment]


def is_dldoctor(segment: list[str]) -> bool:
    return segment[0] == "dldoctor" or segment[0].endswith("/dldoctor")


def check_dldoctor_command(segment: list[str], where: str) -> None:
    """The subcommands and options of `dldoctor ...` exist (arguments after `--` are the script's)."""
    command = command_tree()
    tokens = segment[1:]
    while tokens and hasattr(command, "commands") and tokens[0] in command.commands:
        command = command.commands[tokens.pop(0)]
    assert not hasattr(command, "commands"), f"{where}: `{' '.join(segment)}` names no command"
    known = options_of(command)
    for token in tokens:
        if token == "--":
            break
        if token.startswith("-") and token != "-":
            assert token.split("=", 1)[0] in known, f"{where}: `dldoctor {command.name}` has no option {token}"


def check_synopsis(snippet: Snippet) -> list[list[str]]:
    commands = []
    for line in snippet.text.splitlines():
        for segment in segments(line):
            if is_dldoctor(segment):
                check_dldoctor_command(segment, str(snippet))
                commands.append(segment)
            elif segment[0].startswith((".venv/bin/python", "python")) and len(segment) > 1 and segment[1].endswith(".py"):
                assert (REPO / segment[1]).is_file(), f"{snippet}: no script {segment[1]}"
    return commands


def check_requirement(requirement: str, where: str) -> None:
    from packaging.requirements import Requirement

    if requirement.startswith("."):  # this checkout, maybe with extras: `.`, `'.[test]'`
        parsed = Requirement("dldoctor" + requirement[1:])
        pyproject = _pyproject()
        assert pyproject["project"]["name"] == "dldoctor"
        missing = parsed.extras - set(pyproject["project"].get("optional-dependencies", {}))
        assert not missing, f"{where}: no extra {missing}"
    elif "git+" in requirement:
        assert requirement == GIT_REQUIREMENT, f"{where}: install from {GIT_REQUIREMENT!r}, the documented form"
        Requirement(requirement)
    else:
        Requirement(requirement)  # a pinned peer (`ruff==0.17.6`): a valid requirement at least


def _pyproject() -> dict:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def check_installs(snippet_text: str, where: str) -> None:
    for line in snippet_text.splitlines():
        for segment in segments(line):
            if len(segment) > 2 and segment[0].endswith("pip") and segment[1] == "install":
                arguments = [token for token in segment[2:] if token not in ("-q", "-e", "--quiet", "--editable")]
                assert arguments, f"{where}: pip install of nothing"
                for requirement in arguments:
                    check_requirement(requirement, where)


def run_here(command: list[str], cwd: Path):
    """A documented `dldoctor ...` (or `.venv/bin/dldoctor ...`) run with this interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "dldoctor", *command[1:]], cwd=cwd, capture_output=True, text=True,
        env=clean_env(), timeout=300,
    )


# --- every snippet is checked ------------------------------------------------------------------


def test_every_snippet_says_how_it_is_checked():
    unmarked = [str(snippet) for snippet in CHECKED if snippet.kind not in KINDS]
    assert not unmarked, f"fenced blocks without a `<!-- check: KIND -->` comment (KIND in {sorted(KINDS)}): {unmarked}"
    assert of_kind("synopsis") and of_kind("network") and of_kind("config") and of_kind("pre-commit") and of_kind("workflow")


@pytest.mark.parametrize("snippet", of_kind("synopsis"), ids=str)
def test_synopsis_commands_and_options_exist(snippet):
    assert check_synopsis(snippet) or "pytest" in snippet.text, f"{snippet}: no dldoctor command"


@pytest.mark.parametrize("snippet", of_kind("network"), ids=str)
def test_network_snippets_install_what_exists(snippet):
    check_installs(snippet.text, str(snippet))
    for command in check_synopsis(snippet):
        if snippet.exit_code:  # what the snippet promises after installing: run it here
            done = run_here(command, REPO)
            assert done.returncode == snippet.exit_code, f"{snippet}: {command}: {done.stdout[-2000:]}{done.stderr}"


@pytest.mark.parametrize("snippet", of_kind("run"), ids=str)
def test_run_snippets_run(snippet, tmp_path):
    copy = tmp_path / "checkout"
    shutil.copytree(DOCS, copy / "docs")
    (copy / ".venv").symlink_to(REPO / ".venv")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", snippet.text], cwd=copy, capture_output=True, text=True,
        env=clean_env(), timeout=300,
    )
    assert done.returncode == snippet.exit_code, f"{snippet}: {done.stdout}{done.stderr}"


@pytest.mark.parametrize("snippet", of_kind("python"), ids=str)
def test_python_snippets_run(snippet, tmp_path):
    assert snippet.language == "python", f"{snippet}: a python check on a {snippet.language} block"
    shutil.copytree(REPO / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("build", "__pycache__"))
    done = subprocess.run([sys.executable, "-c", snippet.text], cwd=tmp_path, capture_output=True, text=True,
                          env=clean_env(), timeout=300)
    assert done.returncode == snippet.exit_code, f"{snippet}: {done.stdout}{done.stderr}"
    assert "Traceback" not in done.stderr, f"{snippet}: {done.stderr}"


@pytest.mark.parametrize("snippet", of_kind("fragment"), ids=str)
def test_fragments_are_python_tokens(snippet):
    import io
    import tokenize

    assert snippet.language == "python", f"{snippet}: a fragment is a python block"
    list(tokenize.generate_tokens(io.StringIO(snippet.text).readline))


EDITOR = [snippet for snippet in ALL if snippet.kind == "editor"]


@pytest.mark.parametrize("snippet", EDITOR, ids=str)
def test_editor_snippets_start_the_server(snippet):
    import tomllib

    if snippet.language == "json":  # VS Code settings.json, a generic LSP client
        settings = json.loads(snippet.text)
        command = [settings["glspc.server.command"], *settings["glspc.server.commandArguments"]]
        assert settings["glspc.server.languageId"] == ["python"]
    elif snippet.language == "toml":  # Helix languages.toml
        settings = tomllib.loads(snippet.text)
        server = settings["language-server"]["dldoctor"]
        command = [server["command"], *server["args"]]
        assert any("dldoctor" in language.get("language-servers", []) for language in settings["language"])
    else:  # Neovim init.lua
        assert snippet.language == "lua", f"{snippet}: an editor snippet is json, lua or toml"
        assert 'cmd = { "dldoctor", "server" }' in snippet.text and "vim.lsp.start" in snippet.text
        command = ["dldoctor", "server"]
    assert command == ["dldoctor", "server"], f"{snippet}: starts {command}"
    assert "server" in command_tree().commands, "`dldoctor server` is not a command"


@pytest.mark.parametrize("snippet", of_kind("config"), ids=str)
def test_config_snippets_are_valid_settings(snippet, project):
    import tomllib

    settings = tomllib.loads(snippet.text)
    assert "dldoctor" in settings.get("tool", {}), f"{snippet}: not a [tool.dldoctor] table"
    write(project / "pyproject.toml", snippet.text)
    write(project / "train.py", CLEAN)
    run = run_dldoctor("lint", "--no-cache", ".", cwd=project)
    assert run.returncode == 0, f"{snippet}: {run.stdout}{run.stderr}"
    assert "error" not in run.stderr, run.stderr


# --- pre-commit, for real ---------------------------------------------------------------------


@pytest.mark.parametrize("snippet", of_kind("pre-commit"), ids=str)
def test_pre_commit_config_works_as_written(snippet, tmp_path, hook_repo, env):  # noqa: F811
    config = yaml.safe_load(snippet.text)
    [repository] = config["repos"]
    assert repository["repo"] == REPOSITORY_URL and repository["rev"] == COMMIT, "the documented placeholders"
    hook_ids = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert {hook["id"] for hook in repository["hooks"]} <= hook_ids
    # The snippet as written, with the repository and the commit the user would fill in.
    sha = git("rev-parse", "HEAD", cwd=hook_repo, env=env).strip()
    text = snippet.text.replace(REPOSITORY_URL, str(hook_repo)).replace(f"rev: {COMMIT}", f"rev: {sha}")
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", cwd=work, env=env)
    write(work / ".pre-commit-config.yaml", text)
    write(work / "train.py", BAD)
    write(work / "utils.py", CLEAN)
    git("add", "-A", cwd=work, env=env)
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
        cwd=work, capture_output=True, text=True, env=env, timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "DL201" in output and "train.py" in output, output


# --- GitHub Actions -----------------------------------------------------------------------------


def _steps(workflow: dict) -> list[dict]:
    [job] = workflow["jobs"].values()
    assert job["runs-on"]
    return job["steps"]


@pytest.mark.parametrize("snippet", of_kind("workflow"), ids=str)
def test_workflow_is_complete(snippet, project):
    workflow = yaml.safe_load(snippet.text)
    assert workflow["name"]
    assert workflow.get("on", workflow.get(True)), f"{snippet}: no trigger"  # YAML 1.1 reads `on` as True
    steps = _steps(workflow)
    uses = [step.get("uses", "") for step in steps]
    assert uses[0].startswith("actions/checkout@v"), f"{snippet}: the first step checks the code out"
    [setup] = [step for step in steps if step.get("uses", "").startswith("actions/setup-python@v")]
    assert float(setup["with"]["python-version"]) >= 3.10
    runs = [step["run"] for step in steps if "run" in step]
    installs = [run for run in runs if "pip install" in run]
    assert installs, f"{snippet}: dldoctor is never installed"
    check_installs("\n".join(installs), str(snippet))
    lints = [segment for run in runs for segment in segments(run) if is_dldoctor(segment)]
    assert lints, f"{snippet}: dldoctor never runs"
    for segment in lints:
        check_dldoctor_command(segment, str(snippet))
    assert steps.index(setup) < min(index for index, step in enumerate(steps) if "pip install" in step.get("run", ""))
    uploads = [step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@v")]
    for upload in uploads:
        permissions = {**workflow.get("permissions", {}), **next(iter(workflow["jobs"].values())).get("permissions", {})}
        assert permissions.get("security-events") == "write", f"{snippet}: code scanning needs security-events: write"
        [sarif_lint] = [segment for segment in lints if "sarif" in segment]
        assert "--exit-zero" in sarif_lint, f"{snippet}: findings must not stop the job before the upload"
        written = sarif_lint[sarif_lint.index("--output-file") + 1]
        assert upload["with"]["sarif_file"] == written
    # The dldoctor steps, run here on a project with a finding.
    write(project / "train.py", BAD)
    for segment in lints:
        done = run_here(segment, project)
        if "sarif" in segment:
            assert done.returncode == 0, done.stderr
            document = json.loads((project / segment[segment.index("--output-file") + 1]).read_text(encoding="utf-8"))
            assert [result["ruleId"] for result in document["runs"][0]["results"]] == ["DL201"]
        else:
            assert done.returncode == 1, done.stderr  # a finding fails the job
            assert done.stdout.startswith("::warning file=train.py,line=2,"), done.stdout


# --- the front page, the rule pages, the reference table ------------------------------------------


QUICK_START = [
    "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/dldoctor lint examples/",
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest",
]


def test_readme_is_a_front_page_that_opens_with_the_quick_start():
    text = README.read_text(encoding="utf-8")
    readme_blocks = [snippet for snippet in ALL if snippet.page == README]
    assert [block.text.strip() for block in readme_blocks[:2]] == QUICK_START
    assert len(text.encode("utf-8")) < 20_000, "the reference belongs in docs/"
    assert "pip install dldoctor\n" not in text and "`pip install dldoctor` finds nothing" in text
    for heading in ("## Quick start", "## What it finds", "## Real code: the review corpus", "## Documentation"):
        assert heading in text


def test_relative_links_lead_somewhere():
    broken = []
    for page in [*PAGES, *(DOCS / "rules").glob("*.md")]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            if not (page.parent / target.split("#", 1)[0]).exists():
                broken.append(f"{page.relative_to(REPO)}: {target}")
    assert not broken, broken


def test_rule_pages_are_generated_from_the_docstrings():
    done = subprocess.run(
        [sys.executable, str(DOCS / "generate.py"), "--check"], cwd=REPO, capture_output=True, text=True,
        env=clean_env(), timeout=120,
    )
    assert done.returncode == 0, done.stderr
    page = (DOCS / "rules" / "DL201.md").read_text(encoding="utf-8")
    shown = run_dldoctor("rule", "DL201", cwd=REPO)
    assert shown.stdout.strip() in page  # the same text as `dldoctor rule`


def test_generator_notices_a_stale_page(tmp_path):
    copy = tmp_path / "docs"
    shutil.copytree(DOCS, copy)
    (copy / "rules" / "DL201.md").write_text("# out of date\n", encoding="utf-8")
    (copy / "rules" / "DL999.md").write_text("# no such rule\n", encoding="utf-8")
    check = subprocess.run([sys.executable, str(copy / "generate.py"), "--check"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 1
    assert "DL201.md" in check.stderr and "DL999.md" in check.stderr
    subprocess.run([sys.executable, str(copy / "generate.py")], check=True, capture_output=True, timeout=120)
    assert not (copy / "rules" / "DL999.md").exists()
    assert (copy / "rules" / "DL201.md").read_text(encoding="utf-8") == (DOCS / "rules" / "DL201.md").read_text(encoding="utf-8")


def test_readme_rule_table_lists_every_rule():
    rows = run_dldoctor("rules", "--json", cwd=REPO).json()
    table = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| DL") and len(cells) >= 3:
            table[cells[0]] = cells
    assert list(table) == [row["code"] for row in rows], "README's rule table and `dldoctor rules` differ"
    for row in rows:
        code, name, severity = table[row["code"]][:3]
        assert name == row["name"], code
        assert severity.split()[0] == row["severity"], code
        assert ("off by default" in severity) == (not row["default"]), code


def _reference_options() -> set[str]:
    text = (DOCS / "lint.md").read_text(encoding="utf-8")
    table = text[text.index("## Options"):]
    table = table[: table.index("\n\n", table.index("| option |"))]
    first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`(--?[a-z][a-z-]*)", cell)}


def test_lint_reference_table_lists_every_option_and_no_other():
    command = command_tree().commands["lint"]
    options = options_of(command) - {"--help", "-h"}
    documented = _reference_options()
    assert sorted(options - documented) == [], "options of `dldoctor lint` missing from docs/lint.md"
    assert sorted(documented - options) == [], "docs/lint.md lists options `dldoctor lint` does not have"
