"""RabbitMQ for tests and benchmarks: is one answering, and a throwaway virtual host on it, so that
no run sees another's queues or messages."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

# guest/guest on the standard port unless the machine says otherwise.
SERVER = os.environ.get("PILOTWATCH_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672")


def unavailable() -> str | None:
    """Why no throwaway vhost can be had here, or None."""
    parts = urlsplit(SERVER)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout=2).close()
    except OSError as exc:
        return f"no RabbitMQ answers at {parts.hostname}:{parts.port or 5672} ({exc})"
    if shutil.which("rabbitmqctl") is None:
        return "RabbitMQ answers, but rabbitmqctl (to make a throwaway vhost) is not on PATH"
    probe = rabbitmqctl("list_vhosts", check=False)
    if probe.returncode != 0:
        return f"rabbitmqctl cannot manage the server: {probe.stderr.strip()[-300:]}"
    return None


def rabbitmqctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr}")
    return result


@contextmanager
def throwaway_vhost() -> Iterator[str]:
    """A new virtual host for the URL's user; yields its broker URL and deletes it afterwards."""
    name = f"pilotwatch-test-{uuid.uuid4().hex[:12]}"
    user = urlsplit(SERVER).username or "guest"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        yield f"{SERVER.rstrip('/')}/{name}"
    finally:
        rabbitmqctl("delete_vhost", name, check=False)


def queues(broker_url: str) -> dict[str, dict[str, str]]:
    """The vhost's queues as `rabbitmqctl list_queues` shows them: type, ready and unacknowledged."""
    vhost = urlsplit(broker_url).path.lstrip("/")
    columns = ("name", "type", "messages_ready", "messages_unacknowledged", "consumers")
    listing = rabbitmqctl("list_queues", "-p", vhost, "--no-table-headers", *columns)
    found = {}
    for line in listing.stdout.splitlines():
        name, kind, ready, unacked, consumers = line.split("\t")
        found[name] = {"type": kind, "ready": ready, "unacked": unacked, "consumers": consumers}
    return found
