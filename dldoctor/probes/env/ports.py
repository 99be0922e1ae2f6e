"""Is the torch.distributed rendezvous port free on 127.0.0.1, and who holds it if not.

Bind test first (what `init_process_group` will do); when the bind fails, the
holder is found the way `ss -ltnp` does it: the socket's inode from
/proc/net/tcp{,6}, then the process whose /proc/PID/fd links to that inode.
"""

from __future__ import annotations

import os
import socket
from typing import Optional, Union

DEFAULT_PORT = 29500

# /proc/net/tcp state codes (include/net/tcp_states.h).
TCP_STATES = {"01": "ESTABLISHED", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "0A": "LISTEN"}


def choose_port(option: Optional[int], environ: Optional[dict] = None) -> tuple[Union[int, str], str]:
    """(port, where it came from): --port, else MASTER_PORT, else torch's default 29500.

    A MASTER_PORT that is set but is no TCP port number ('abc', '99999', '0') is returned
    as its text: it is what torch.distributed will read, and fail on (`check` says so)."""
    environ = os.environ if environ is None else environ
    if option is not None:
        return option, "option"
    raw = environ.get("MASTER_PORT")
    if raw is None or raw.strip() == "":
        return DEFAULT_PORT, "default"
    value = raw.strip()
    number = parse_port(value)
    return (number, "MASTER_PORT") if number is not None else (raw, "MASTER_PORT")


def parse_port(text: str) -> Optional[int]:
    """'29500' -> 29500; None for anything torch.distributed cannot use as a rendezvous port."""
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number < 65536 else None


def bind_test(port: int, host: str = "127.0.0.1") -> Optional[str]:
    """None if `host:port` can be bound now (as a rendezvous server would), else the error."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if os.name == "posix":  # as torch's TCPStore: a TIME_WAIT leftover does not block it
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        return None
    except OSError as error:
        return f"{error.strerror or error} (errno {error.errno})"
    finally:
        sock.close()


def parse_proc_net(text: str, port: int) -> list[dict]:
    """Sockets bound to local `port` in the text of /proc/net/tcp or tcp6."""
    found = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or ":" not in fields[1]:
            continue
        address, _, port_hex = fields[1].rpartition(":")
        try:
            if int(port_hex, 16) != port:
                continue
        except ValueError:
            continue
        state = TCP_STATES.get(fields[3].upper(), fields[3])
        if state in ("ESTABLISHED", "TIME_WAIT", "CLOSE_WAIT") and fields[2].rpartition(":")[2] != "0000":
            continue  # a connection that merely uses this port; only a bound server socket blocks a bind
        found.append({"address": _address(address), "state": state, "uid": int(fields[7]), "inode": int(fields[9])})
    return found


def _address(hex_address: str) -> str:
    try:
        raw = bytes.fromhex(hex_address)
        if len(raw) == 4:
            return socket.inet_ntop(socket.AF_INET, raw[::-1])
        if len(raw) == 16:  # four little-endian 32-bit words
            words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
            return socket.inet_ntop(socket.AF_INET6, words)
    except (ValueError, OSError):
        pass
    return hex_address


def processes_with_inodes(inodes: set[int], proc: str = "/proc") -> tuple[dict[int, dict], int]:
    """{inode: {pid, name, cmdline}} for sockets we may look at, and how many processes we could not read."""
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    found: dict[int, dict] = {}
    unreadable = 0
    try:
        entries = os.listdir(proc)
    except OSError:
        return found, 0
    for entry in entries:
        if not entry.isdigit():
            continue
        fd_dir = os.path.join(proc, entry, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            unreadable += 1
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target in wanted and wanted[target] not in found:
                found[wanted[target]] = _process(int(entry), proc)
        if len(found) == len(wanted):
            break
    return found, unreadable


def _process(pid: int, proc: str) -> dict:
    info: dict = {"pid": pid, "name": None, "cmdline": None}
    try:
        with open(os.path.join(proc, str(pid), "comm"), encoding="utf-8", errors="replace") as handle:
            info["name"] = handle.read().strip()
        with open(os.path.join(proc, str(pid), "cmdline"), "rb") as handle:
            info["cmdline"] = " ".join(handle.read().replace(b"\0", b" ").decode("utf-8", "replace").split())[:300]
    except OSError:
        pass
    return info


def check(port: int, source: str, host: str = "127.0.0.1") -> dict:
    """Facts about one port: free or not, and the holders where /proc tells."""
    facts: dict = {"port": port, "source": source, "host": host}
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        shown = f"{source}={port!r}" if source == "MASTER_PORT" else repr(port)
        return {**facts, "free": None, "invalid": True,
                "error": f"{shown} is not a TCP port number (1-65535); torch.distributed cannot use it "
                         "(env:// rendezvous: `ValueError` or a failed bind, before any worker connects)"}
    error = bind_test(port, host)
    facts["free"] = error is None
    if error is None:
        return facts
    facts["error"] = error
    sockets: list[dict] = []
    for name in ("tcp", "tcp6"):
        try:
            with open(f"/proc/net/{name}", encoding="ascii", errors="replace") as handle:
                sockets += parse_proc_net(handle.read(), port)
        except OSError:
            continue
    holders, unreadable = processes_with_inodes({s["inode"] for s in sockets if s["inode"]})
    for sock in sockets:
        sock.update(holders.get(sock["inode"], {}))
    facts["sockets"] = sockets
    facts["unreadable_processes"] = unreadable
    return facts
