"""The rendezvous port check against real sockets: free, taken by this very process, and who holds it."""

from __future__ import annotations

import os
import socket

import pytest

from conftest import clean_env, run_dldoctor
from dldoctor.probes.env import ports


@pytest.fixture
def listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


def free_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def port_verdict(run) -> dict:
    return next(v for v in run.json()["checks"] if v["id"] == "env.rendezvous-port")


def test_a_busy_port_named_with_port_fails_and_names_this_process(tmp_path, listener):
    run = run_dldoctor("env", "--quick", "--port", str(listener), "--json", cwd=tmp_path)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1
    v = port_verdict(run)
    assert v["status"] == "fail"
    assert f"127.0.0.1:{listener} (--port) is in use" in v["title"]
    if os.path.exists("/proc/net/tcp"):
        assert f"pid {os.getpid()}" in v["title"], v
        assert "LISTEN" in v["title"]
        assert any(f"kill {os.getpid()}" in a for a in v["fix"])


def test_the_text_report_of_a_busy_port(tmp_path, listener):
    run = run_dldoctor("env", "--quick", "--port", str(listener), cwd=tmp_path)
    assert run.returncode == 1
    line = next(line for line in run.lines if f":{listener}" in line)
    assert line.startswith("  ✗ rendezvous port")
    assert "Address already in use" in run.stdout


def test_master_port_is_the_default_and_a_busy_one_fails(tmp_path, listener):
    run = run_dldoctor("env", "--quick", "--json", cwd=tmp_path, env=clean_env(MASTER_PORT=str(listener)))
    assert run.returncode == 1
    assert run.json()["facts"]["port"]["source"] == "MASTER_PORT"
    assert port_verdict(run)["status"] == "fail"


def test_a_free_port_is_ok(tmp_path):
    port = free_port()
    run = run_dldoctor("env", "--quick", "--port", str(port), "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stdout
    v = port_verdict(run)
    assert v["status"] == "ok" and f"127.0.0.1:{port}" in v["title"]


def test_the_busy_default_port_only_warns():
    snap_port = ports.check(29500, "default")
    if not snap_port["free"]:
        pytest.skip("29500 is taken on this machine already")
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 29500))
    except OSError:
        pytest.skip("29500 became busy")
    sock.listen()
    try:
        from dldoctor.probes.env.diagnosis import port_checks

        facts = ports.check(29500, "default")
        assert facts["free"] is False
        assert port_checks({"port": facts})[0].status == "warn"
    finally:
        sock.close()


def test_a_bound_socket_that_does_not_listen_blocks_the_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    try:
        facts = ports.check(port, "option")
        assert facts["free"] is False
        # Linux lists only listening and connected sockets in /proc/net/tcp: no holder to name
        from dldoctor.probes.env.diagnosis import port_checks

        v = port_checks({"port": facts})[0]
        assert v.status == "fail" and "bound but not listening" in v.title
    finally:
        sock.close()
    assert ports.check(port, "option")["free"] is True


def test_parse_proc_net_reads_the_real_table(listener):
    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("no /proc/net/tcp here")
    with open("/proc/net/tcp", encoding="ascii") as handle:
        found = ports.parse_proc_net(handle.read(), listener)
    assert [(s["address"], s["state"]) for s in found] == [("127.0.0.1", "LISTEN")]
    assert found[0]["uid"] == os.getuid() and found[0]["inode"] > 0


def test_parse_proc_net_ipv6_and_connections():
    text = (
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 00000000000000000000000000000000:7530 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0\n"
        "   1: 0000000000000000FFFF00000100007F:7530 0000000000000000FFFF00000100007F:D2F0 01 00000000:00000000 00:00000000 00000000  1000        0 4243 1 0000000000000000 20 4 30 10 -1\n"
    )
    found = ports.parse_proc_net(text, 29999 + 1)  # 0x7530 == 30000
    assert [(s["address"], s["state"], s["inode"]) for s in found] == [("::", "LISTEN", 4242)]


def test_choose_port():
    assert ports.choose_port(1234, {"MASTER_PORT": "5678"}) == (1234, "option")
    assert ports.choose_port(None, {"MASTER_PORT": "5678"}) == (5678, "MASTER_PORT")
    assert ports.choose_port(None, {"MASTER_PORT": "nope"}) == ("nope", "MASTER_PORT")  # reported, not replaced
    assert ports.choose_port(None, {"MASTER_PORT": "99999"}) == ("99999", "MASTER_PORT")
    assert ports.choose_port(None, {"MASTER_PORT": " 5678 "}) == (5678, "MASTER_PORT")
    assert ports.choose_port(None, {"MASTER_PORT": ""}) == (29500, "default")
    assert ports.choose_port(None, {}) == (29500, "default")
