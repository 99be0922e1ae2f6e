"""Hostile and unlucky inputs to `lint`: one DL000 for the file, the rest of the run intact.

Nesting that crashes libcst's parser, fifos and devices named `.py`, files past the
size limit, broken notebooks, directories that cannot be listed, consoles that
cannot encode, and a main process killed while its workers run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dldoctor.lint import pool

from conftest import clean_env, run_dldoctor, write
from processes import alive, children

BAD = "import torch\nstate = torch.load(path)\n"  # DL501 at 2:9

# Each holds a DL501 trigger, so that it is parsed (a file no rule could fire on is not).
DEEP = {
    "brackets.py": BAD + "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n",  # SIGSEGV in libcst at ~3,000
    "attributes.py": BAD + "y = a" + ".b" * 6000 + "\n",
    "conjunction.py": BAD + "z = a" + " and a" * 20000 + "\n",  # CPython accepts this one
}


def deep_project(root: Path, good_files: int) -> None:
    for name, text in DEEP.items():
        write(root / name, text)
    for index in range(good_files):
        write(root / f"good_{index:02}.py", BAD)


def codes_by_file(run) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in run.json():
        found.setdefault(Path(finding["filename"]).name, set()).add(finding["code"])
    return found


@pytest.mark.parametrize("good_files", [2, 30])  # in-process, and in a pool of workers
def test_deeply_nested_files_are_one_dl000_each(tmp_path, good_files):
    deep_project(tmp_path, good_files)
    run = run_dldoctor("lint", "--no-cache", "--select", "DL000,DL501", "--output-format", "json", ".", cwd=tmp_path)
    run.assert_no_traceback()
    assert run.returncode == 1
    found = codes_by_file(run)
    assert {name: found[name] for name in DEEP} == {name: {"DL000"} for name in DEEP}
    assert all(found[f"good_{index:02}.py"] == {"DL501"} for index in range(good_files))
    messages = {Path(f["filename"]).name: f["message"] for f in run.json() if f["code"] == "DL000"}
    assert messages["brackets.py"] == "SyntaxError: too many nested parentheses"  # CPython's own words
    assert "crashed" in messages["conjunction.py"]  # parsed apart, and it died there alone


def test_a_long_data_table_is_linted_apart_with_its_real_findings(tmp_path):
    # A generated vocabulary on one logical line: past the screen's bound, accepted by
    # CPython, so parsed in a process of its own, which must give the same findings.
    table = "VOCAB = {" + ", ".join(f"'token_{index}': {index}" for index in range(2000)) + "}\n"
    write(tmp_path / "vocab.py", BAD + table)
    from dldoctor.lint import depth

    assert depth.could_crash_libcst(BAD + table)
    run = run_dldoctor("lint", "--no-cache", "--select", "DL000,DL501", "--output-format", "json", "vocab.py", cwd=tmp_path)
    assert [(f["code"], f["location"]["row"]) for f in run.json()] == [("DL501", 2)]
    from dldoctor.lint import runner  # and the same from the API, which forks the isolated parse itself

    result = runner.lint_path(str(tmp_path / "vocab.py"), frozenset({"DL000", "DL501"}))
    assert [(finding.code, finding.line) for finding in result.findings] == [("DL501", 2)]


def _die_on_poison(job):
    if job[0].endswith("poison.py"):
        import faulthandler

        faulthandler.disable()  # pytest's would print the worker's stack
        os.kill(os.getpid(), signal.SIGSEGV)  # a real crash of the worker process
    return job[0]


def test_a_worker_that_dies_costs_its_own_file_only(tmp_path):
    paths = [str(write(tmp_path / f"f{index:02}.py", "x = 1\n")) for index in range(40)]
    paths[17] = str(write(tmp_path / "poison.py", "x = 1\n" * 50))
    results = pool.map_jobs(_die_on_poison, [(path,) for path in paths], workers=2, on_crash=lambda job, why: why)
    assert results[17] == "died of SIGSEGV"
    assert results[:17] + results[18:] == paths[:17] + paths[18:]


def test_fifos_devices_and_huge_files_are_refused_without_reading_them(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    os.symlink("/dev/zero", tmp_path / "zero.py")
    write(tmp_path / "generated.py", "x = 1\n" * 2_000_000)  # 12 MB
    write(tmp_path / "good.py", BAD)
    run = run_dldoctor("lint", "--no-cache", "--output-format", "json", ".", cwd=tmp_path, timeout=60)
    run.assert_no_traceback()
    messages = {Path(f["filename"]).name: f["message"] for f in run.json()}
    assert messages["pipe.py"] == "cannot read: not a regular file (a fifo); skipped"
    assert messages["zero.py"] == "cannot read: not a regular file (a device); skipped"
    assert messages["generated.py"] == "too large to lint: 11.4 MB (the limit is 10 MB; raise it with --max-file-size)"
    assert "torch.load" in messages["good.py"]
    raised = run_dldoctor("lint", "--no-cache", "--max-file-size", "20", "generated.py", cwd=tmp_path)
    assert raised.returncode == 0 and "All checks passed" in raised.stdout
    bad = run_dldoctor("lint", "--max-file-size", "0", "good.py", cwd=tmp_path)
    assert bad.returncode == 2 and "--max-file-size must be a positive number" in bad.stderr


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the peak from /proc")
def test_memory_stays_bounded_on_a_50_mb_file(tmp_path):
    with open(tmp_path / "huge.py", "w") as stream:
        stream.write("import torch\n" + "x = torch.load(p)\n" * 3_000_000)
    # VmHWM: this process's own peak (ru_maxrss would count the forking test runner's too).
    probe = (
        "import sys\n"
        "from dldoctor.cli import main\n"
        "sys.argv = ['dldoctor', 'lint', '--no-cache', 'huge.py']\n"
        "try:\n    main()\nexcept SystemExit as done:\n"
        "    peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
        "    print(done.code, peak // 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, env=clean_env(), timeout=120)
    code, peak_mb = map(int, done.stdout.split()[-2:])
    assert code == 1 and "too large to lint" in done.stdout
    assert peak_mb < 200, f"peak RSS {peak_mb} MB"


def test_broken_notebooks_are_one_dl000_each(tmp_path):
    def notebook(cells):
        return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})

    write(tmp_path / "carriage.ipynb", notebook([{"cell_type": "code", "source": "import torch\rstate = torch.load(path)\r\nprint(1)\n"}]))
    write(tmp_path / "numbers.ipynb", notebook([{"cell_type": "code", "source": ["import torch\n", 3]}]))
    write(tmp_path / "nested.ipynb", "[" * 100_000 + "]" * 100_000)
    write(tmp_path / "good.py", BAD)
    run = run_dldoctor("lint", "--no-cache", "--output-format", "json", ".", cwd=tmp_path)
    run.assert_no_traceback()
    found = {Path(f["filename"]).name: (f["code"], f.get("cell"), f["location"]["row"], f["message"]) for f in run.json()}
    assert found["carriage.ipynb"][:3] == ("DL501", 1, 2)  # the "\r" ends a line, as it does for the parser
    assert found["numbers.ipynb"] == ("DL000", None, 1, "not a notebook: the source of cell 1 holds something other than text")
    assert found["nested.ipynb"] == ("DL000", None, 1, "not a notebook: JSON nested too deeply")
    assert found["good.py"][0] == "DL501"
    fixed = run_dldoctor("lint", "--no-cache", "--fix", "--unsafe-fixes", "carriage.ipynb", cwd=tmp_path)
    assert "cannot be rewritten" in fixed.stderr  # refused whole, never half-rewritten
    assert "\\rstate = torch.load(path)\\r\\n" in (tmp_path / "carriage.ipynb").read_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_a_directory_that_cannot_be_listed_is_a_dl000_not_a_pass():
    # Run as an unprivileged user (root lists any directory), with everything imported
    # first, in a directory that user may enter (pytest's own tmp_path is root's alone).
    import shutil
    import tempfile

    tmp_path = Path(tempfile.mkdtemp(prefix="dldoctor-unlisted-"))
    write(tmp_path / "proj" / "secret" / "a.py", BAD)
    write(tmp_path / "proj" / "good.py", "x = 1\n")
    os.chmod(tmp_path / "proj" / "secret", 0)
    for directory in (tmp_path, tmp_path / "proj"):
        os.chmod(directory, 0o755)
    probe = (
        "import os, sys\n"
        "from dldoctor import cli\n"
        "from dldoctor.lint import cache, config, discovery, fixes, registry, runner\n"
        "from dldoctor.report import json_format\n"
        "registry.all_rules()\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "sys.argv = ['dldoctor', 'lint', '--no-cache', '--output-format', 'json', 'proj']\n"
        "cli.main()\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, env=clean_env(), timeout=120)
    os.chmod(tmp_path / "proj" / "secret", 0o755)
    shutil.rmtree(tmp_path)
    assert done.returncode == 1, done.stderr
    [finding] = json.loads(done.stdout)
    assert (finding["code"], finding["message"]) == ("DL000", "cannot list directory: Permission denied")
    assert finding["filename"].endswith("proj/secret")


def test_a_console_that_cannot_encode_gets_escapes_not_an_error(tmp_path):
    write(tmp_path / "a.py", BAD)
    write(tmp_path / os.fsdecode(b"caf\xe9.py"), BAD)  # a file name that is not UTF-8
    for output in ("text", "concise", "github", "json", "sarif"):
        run = run_dldoctor("lint", "--no-cache", "--output-format", output, ".", cwd=tmp_path, env=clean_env(PYTHONIOENCODING="ascii"))
        run.assert_no_traceback()
        assert run.returncode == 1, (output, run.stderr)
        assert "caf" in run.stdout
    sarif = run_dldoctor("lint", "--no-cache", "--output-format", "sarif", ".", cwd=tmp_path)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in json.loads(sarif.stdout)["runs"][0]["results"]]
    assert "caf%E9.py" in uris  # the file's own bytes, percent-encoded


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_the_main_process(tmp_path, how):
    for index in range(40):
        write(tmp_path / f"f{index:02}.py", "import torch\n" + "x = torch.load(p)\n" * 20_000)
    process = subprocess.Popen(
        [sys.executable, "-m", "dldoctor", "lint", "--no-cache", "."],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(),
    )
    deadline = time.monotonic() + 60
    while len(children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = children(process.pid)
    assert len(workers) >= 2, "the pool never started"
    process.send_signal(how)
    process.communicate(timeout=30)  # the pipes close: no worker holds them open
    time.sleep(0.5)
    assert not [pid for pid in workers if alive(pid)]
