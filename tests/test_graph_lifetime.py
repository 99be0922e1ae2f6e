"""`dldoctor graph run` leaves no process behind: real scripts that fork, start daemons (double-forked,
`setsid`), recurse deeply or run past `--timeout`, and a dldoctor that gets SIGTERM, SIGINT, SIGHUP or SIGKILL.

Each script records its pid, process group, session and the pids of what it started; after each run
the test checks /proc (and `os.killpg(pgid, 0)`) that no process of that group, that session, or the
escaped daemon's own session is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import clean_env
from processes import living
from test_graph_helpers import graph, script

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups, sessions and /proc: Linux")

# Starts `sleep 1000` (same group), and a double-forked daemon in a session of its own; records them all.
SPAWNER = """\
import json, os, subprocess, sys, time
sleeper = subprocess.Popen(["sleep", "1000"])
read_end, write_end = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(write_end, str(os.getpid()).encode())
        time.sleep(1000)
    os._exit(0)
daemon = int(os.read(read_end, 32))
with open(sys.argv[1] + ".tmp", "w") as handle:
    json.dump({"pid": os.getpid(), "pgid": os.getpgid(0), "sid": os.getsid(0), "sleeper": sleeper.pid,
               "daemon": daemon, "daemon_sid": os.getsid(daemon)}, handle)
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
"""


def assert_all_gone(ids: dict, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while True:
        left = living(ids["pgid"], ids["sid"]) + living(sid=ids["daemon_sid"])
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not left, f"processes left behind: {left}"
    try:
        os.killpg(ids["pgid"], 0)
    except ProcessLookupError:
        pass
    except PermissionError:
        pytest.fail(f"process group {ids['pgid']} exists (another user's)")
    else:  # only a zombie may still be in it (an init that is slow to reap)
        assert not living(ids["pgid"]), f"process group {ids['pgid']} still has processes"


def wait_for(path: Path, within: float = 30.0) -> dict:
    deadline = time.monotonic() + within
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.02)
    return json.loads(path.read_text())


def test_daemons_and_children_of_a_finished_script_are_killed(tmp_path):
    script(tmp_path, "train.py", SPAWNER + "print('done')\n")
    started = time.monotonic()
    run = graph("run", "train.py", "--json", "--", str(tmp_path / "ids.json"), cwd=tmp_path, timeout=60)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.json()["facts"]["run"]["returncode"] == 0 and "done" in run.json()["facts"]["run"]["stdout_tail"]
    ids = json.loads((tmp_path / "ids.json").read_text())
    assert ids["daemon_sid"] != ids["sid"], "the daemon escaped into its own session"
    assert_all_gone(ids, within=0.5)  # gone when dldoctor returns, not some time later
    assert elapsed < 30


def test_a_grandchild_of_a_failing_script_is_killed(tmp_path):
    script(tmp_path, "train.py", SPAWNER + "raise RuntimeError('boom')\n")
    run = graph("run", "train.py", "--", str(tmp_path / "ids.json"), cwd=tmp_path, timeout=60)
    assert run.returncode == 1 and "RuntimeError: boom" in run.stderr
    assert_all_gone(json.loads((tmp_path / "ids.json").read_text()), within=0.5)


def test_timeout_kills_the_whole_tree(tmp_path):
    script(tmp_path, "train.py", SPAWNER + "import time\ntime.sleep(1000)\n")
    started = time.monotonic()
    run = graph("run", "train.py", "--timeout", "3", "--json", "--", str(tmp_path / "ids.json"), cwd=tmp_path, timeout=60)
    elapsed = time.monotonic() - started
    assert run.json()["facts"]["run"]["timed_out"] is True, run.stdout
    assert elapsed < 3 + 8, f"--timeout 3 took {elapsed:.1f} s"
    assert_all_gone(json.loads((tmp_path / "ids.json").read_text()), within=0.5)


@pytest.mark.parametrize("number, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129),
                                          (signal.SIGKILL, -signal.SIGKILL)])
def test_a_signal_to_dldoctor_kills_the_script_tree(tmp_path, number, code):
    script(tmp_path, "train.py", SPAWNER + "import time\ntime.sleep(1000)\n")
    ids_path = tmp_path / "ids.json"
    process = subprocess.Popen([sys.executable, "-m", "dldoctor", "graph", "run", "train.py", "--", str(ids_path)],
                               cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        ids = wait_for(ids_path)
        process.send_signal(number)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == code, err.decode()
    if number != signal.SIGKILL:
        assert f"interrupted ({signal.Signals(number).name})" in err.decode()
        assert "Traceback" not in err.decode()
        assert_all_gone(ids, within=0.5)
    else:  # nothing of dldoctor runs after SIGKILL: the supervisor sees its pipe close, and sweeps
        assert_all_gone(ids, within=5.0)


DEEP = """\
import sys
sys.setrecursionlimit(100_000)


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


depth(10**7)
"""


def test_deep_recursion_is_reported_fast(tmp_path):
    """A RecursionError 100,000 frames deep: the traceback is cut to the innermost frames, in linear time
    (it took 13.6 s, quadratic in the depth: each `tb_next =` walked the rest of the chain)."""
    script(tmp_path, "train.py", DEEP)
    plain_started = time.monotonic()
    subprocess.run([sys.executable, "train.py"], cwd=tmp_path, capture_output=True, timeout=60)
    plain = time.monotonic() - plain_started
    started = time.monotonic()
    run = graph("run", "train.py", "--json", cwd=tmp_path, timeout=60)
    elapsed = time.monotonic() - started
    outcome = run.json()["facts"]["observations"]["outcome"]
    assert outcome["exception"] == "RecursionError" and outcome["where"]["function"] == "depth"
    assert "Previous line repeated" in outcome["traceback"]
    assert elapsed < plain + 6, f"graph run took {elapsed:.1f} s, the script alone {plain:.1f} s"


def test_unbounded_recursion_ends_and_leaves_nothing(tmp_path):
    script(tmp_path, "train.py", """\
        import json, os, sys
        with open(sys.argv[1], "w") as handle:
            json.dump({"pgid": os.getpgid(0), "sid": os.getsid(0), "daemon_sid": os.getsid(0)}, handle)

        def forever(n):
            return forever(n + 1)

        forever(0)
        """)
    started = time.monotonic()
    run = graph("run", "train.py", "--timeout", "30", "--", str(tmp_path / "ids.json"), cwd=tmp_path, timeout=60)
    assert time.monotonic() - started < 15
    assert run.returncode == 1 and "RecursionError" in run.stderr
    assert_all_gone(json.loads((tmp_path / "ids.json").read_text()), within=0.5)
