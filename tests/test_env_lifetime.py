"""`dldoctor env` probes end with dldoctor, and with their own deadline: real fake frameworks on the probes'
PYTHONPATH that hang, start children, or start a daemon that holds the probe's stdout; a real SIGTERM / SIGINT
to dldoctor. Also: a malformed installed version (a real .dist-info) and MASTER_PORT values torch cannot use."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import clean_env, run_dldoctor, write
from processes import alive, living

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sessions and /proc: Linux")

# On import: start a child, record the probe's pid, group, session and the child's pid, then hang.
HANG = """import json, os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
path = os.path.join(os.environ["DLDOCTOR_TEST_IDS"], os.path.basename(os.path.dirname(__file__)) + ".json")
with open(path + ".tmp", "w") as handle:
    json.dump({"pid": os.getpid(), "pgid": os.getpgid(0), "sid": os.getsid(0), "child": child.pid}, handle)
os.replace(path + ".tmp", path)
time.sleep(600)
"""

# On import: start a daemon that inherits the probe's stdout and stderr and sleeps; the import then succeeds.
DAEMON = """import os, subprocess, sys
daemon = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
with open(os.path.join(os.environ["DLDOCTOR_TEST_IDS"], "daemon.pid"), "w") as handle:
    handle.write(str(daemon.pid))
__version__ = "2.3.0"
"""


def fakes(root: Path, **packages: str) -> Path:
    for name, source in packages.items():
        write(root / "fakes" / name / "__init__.py", source)
    return root / "fakes"


def start_env(tmp_path: Path, probes: int, **packages: str) -> tuple[subprocess.Popen, list[dict]]:
    """`dldoctor env` with fake frameworks on its probes' path, once `probes` of them have
    recorded their ids (pid, group, session, child)."""
    path = fakes(tmp_path, **packages)
    ids = tmp_path / "ids"
    ids.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "dldoctor", "env", "--timeout", "120"], cwd=tmp_path,
                               env=clean_env(DLDOCTOR_ENV_PYTHONPATH=str(path), DLDOCTOR_TEST_IDS=str(ids)),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while len(list(ids.glob("*.json"))) < probes:
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            process.communicate()
            pytest.fail("the probes never started")
        time.sleep(0.05)
    return process, [json.loads(p.read_text()) for p in ids.glob("*.json")]


@linux
@pytest.mark.parametrize("number, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_to_dldoctor_kills_the_probes_and_their_children(tmp_path, number, code):
    process, recorded = start_env(tmp_path, 2, torch=HANG, tensorflow=HANG)
    try:
        started = time.monotonic()
        process.send_signal(number)
        _, err = process.communicate(timeout=20)
        elapsed = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == code, err.decode()
    assert f"interrupted ({signal.Signals(number).name})" in err.decode() and "Traceback" not in err.decode()
    assert elapsed < 8
    for probe in recorded:
        assert probe["sid"] == probe["pgid"] != os.getsid(0), "each probe runs in a session of its own"
        assert not living(sid=probe["sid"]), f"left in the probe's session: {living(sid=probe['sid'])}"
        assert not alive(probe["pid"]) and not alive(probe["child"])


@linux
def test_sigkill_of_dldoctor_kills_the_probes_too(tmp_path):
    process, (probe,) = start_env(tmp_path, 1, torch=HANG)
    process.kill()
    process.communicate(timeout=10)
    deadline = time.monotonic() + 5
    while living(sid=probe["sid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not living(sid=probe["sid"]) and not alive(probe["child"])


def test_a_daemon_holding_the_probes_stdout_does_not_hold_env(tmp_path):
    """The import returns, the daemon keeps the probe's stdout open: the probe's answer is read when
    the probe exits (not at the pipe's EOF, which never comes), and the daemon is killed."""
    path = fakes(tmp_path, torch=DAEMON)
    ids = tmp_path / "ids"
    ids.mkdir()
    started = time.monotonic()
    run = run_dldoctor("env", "--json", "--timeout", "25", cwd=tmp_path, timeout=60,
                       env=clean_env(DLDOCTOR_ENV_PYTHONPATH=str(path), DLDOCTOR_TEST_IDS=str(ids)))
    elapsed = time.monotonic() - started
    assert "Traceback" not in run.stderr, run.stderr
    probe = run.json()["facts"]["torch"]["probe"]
    assert probe["outcome"] != "timeout", probe
    assert elapsed < 15, f"env took {elapsed:.1f} s: it waited for the daemon's end of the pipe"
    daemon = int((ids / "daemon.pid").read_text())
    time.sleep(0.1)
    if sys.platform.startswith("linux"):
        assert not alive(daemon), "the daemon the probe started is still running"


def test_a_malformed_installed_version_is_a_verdict(tmp_path):
    site = tmp_path / "site"
    write(site / "numpy-2.2.dist-info" / "METADATA", "Metadata-Version: 2.1\nName: numpy\nVersion: 2.\u00b2\n")
    run = run_dldoctor("env", "--quick", "--json", cwd=tmp_path, env=clean_env(PYTHONPATH=str(site)))
    run.assert_no_traceback()
    assert run.returncode in (0, 1), run.stderr
    found = {v["id"] + (f"[{v['subject']}]" if v.get("subject") else ""): v for v in run.json()["checks"]}
    verdict = found["env.version-malformed[numpy]"]
    assert verdict["status"] == "warn" and "'2.\u00b2'" in verdict["title"] and "not a valid version" in verdict["title"]
    assert str(site / "numpy-2.2.dist-info") in verdict["detail"]
    assert any("--force-reinstall" in a for a in verdict["fix"])
    text = run_dldoctor("env", "--quick", cwd=tmp_path, env=clean_env(PYTHONPATH=str(site)))
    text.assert_no_traceback()
    assert "numpy's installed metadata gives the version '2.\u00b2'" in text.stdout


@pytest.mark.parametrize("value", ["abc", "99999", "0", "-1"])
def test_an_invalid_master_port_is_a_failure_with_the_fix(tmp_path, value):
    run = run_dldoctor("env", "--quick", "--json", cwd=tmp_path, env=clean_env(MASTER_PORT=value))
    run.assert_no_traceback()
    assert run.returncode == 1
    port = run.json()["facts"]["port"]
    assert port["source"] == "MASTER_PORT" and port["free"] is None and port["port"] == value
    (verdict,) = [v for v in run.json()["checks"] if v["id"] == "env.rendezvous-port"]
    assert verdict["status"] == "fail" and f"MASTER_PORT='{value}' is not a TCP port number" in verdict["title"]
    assert any("export MASTER_PORT=29500" in a for a in verdict["fix"])
