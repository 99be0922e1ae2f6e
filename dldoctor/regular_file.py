"""Read a file only when it is a regular file, and never past a limit.

Every input dldoctor reads can be something else under a trusted name: a fifo
named `x.py` (an `open` blocks on it for ever), a link to `/dev/zero` (a read
never ends), a file that grows while it is read. `read` opens without blocking,
checks the opened file itself (no window between a check and the open), and
reads at most the limit plus one byte. Callers word the refusals for their own
users (lint's DL000, the cache's warning, ckpt's verdict). Standard library only.
"""

from __future__ import annotations

import errno
import os
import stat


class NotRegularFile(Exception):
    """The path opened to a fifo, a device, a socket or a directory; `mode` says which."""

    def __init__(self, mode: int) -> None:
        super().__init__(f"not a regular file (mode {stat.filemode(mode)})")
        self.mode = mode


class TooLarge(Exception):
    """The file holds more than the limit: `size` bytes (at least that many, when it grew)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


def read(path: str | os.PathLike, limit: int, *, follow_links: bool = True) -> bytes:
    """The bytes of a regular file of at most `limit` bytes. OSError as `open` raises it
    (ELOOP for a link when `follow_links` is off), NotRegularFile, or TooLarge."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(info.st_mode)
        if info.st_size > limit:
            raise TooLarge(info.st_size)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise TooLarge(total)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def is_link_loop(error: OSError) -> bool:
    """Whether `open` refused a symbolic link (O_NOFOLLOW) or a loop of them."""
    return error.errno == errno.ELOOP
