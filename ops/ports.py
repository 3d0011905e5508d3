"""Loopback ports for servers this process is about to start.

Asking the kernel for port 0 and closing the socket hands back a port that any other
process may take before our server binds it: with the tests spread over several
processes, an SMTP sink once answered a test's HTTP request. So a port is chosen below
the kernel's ephemeral range (where no outgoing connection lands) and reserved by
creating a file named after it, atomically, in a folder every process of the run shares;
a reservation is honoured for RESERVED_FOR seconds, long enough for a server to bind.
"""

from __future__ import annotations

import os
import random
import socket
import tempfile
import time
from pathlib import Path

RESERVED_FOR = 15 * 60  # seconds
LOWEST = 20000


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _folder() -> Path:
    folder = Path(tempfile.gettempdir()) / f"pilotwatch-ports-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _reserve(folder: Path, port: int) -> bool:
    mark = folder / str(port)
    try:
        os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        return True
    except FileExistsError:
        try:
            if time.time() - mark.stat().st_mtime < RESERVED_FOR:
                return False
            mark.touch()  # a stale reservation: take it over
            return True
        except FileNotFoundError:
            return _reserve(folder, port)


def port_free(port: int) -> bool:
    """Nobody listens on this loopback port now."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _kernel_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port() -> int:
    """A loopback port nobody listens on and no other process of this machine's runs will
    be handed for the next quarter of an hour."""
    high = _ephemeral_low()
    if high - LOWEST < 1000:  # an unusual port range: fall back to the kernel's choice
        return _kernel_port()
    folder = _folder()
    start = random.randrange(LOWEST, high)
    for step in range(high - LOWEST):
        port = LOWEST + (start - LOWEST + step) % (high - LOWEST)
        if _reserve(folder, port) and port_free(port):
            return port
    return _kernel_port()
