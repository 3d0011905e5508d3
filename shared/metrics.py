"""Prometheus metrics shared by the services, in prometheus-client's multiprocess mode.

The intake runs several gunicorn processes and each worker a prefork pool, so a counter lives in
many processes. Every process of one service instance writes its samples to a folder of its own
(`METRICS_DIR/<service>-<pid of the parent>`), and whichever process answers a scrape adds them
up. `prepare` must run before `prometheus_client` is first imported in that process, because the
library picks its storage at import time; the worker and WSGI entry points call it first thing.

Gauges that describe the whole system (the outbox backlog, dead letters, deliveries, open
findings) are read from the database when scraped, so they are right however many workers run.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shared import config

log = logging.getLogger(__name__)
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(base: Path, service: str) -> None:
    """Folders left by instances that are gone (their parent process no longer runs)."""
    for folder in base.glob(f"{service}-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def prepare(service: str, owner_pid: int, fresh: bool = False) -> Path:
    """Point prometheus-client at this instance's folder; call before importing it."""
    base = config.current().metrics_dir
    folder = base / f"{service}-{owner_pid}"
    base.mkdir(parents=True, exist_ok=True)
    _remove_stale(base, service)
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    config.hand_to_library(MULTIPROC_VARIABLE, str(folder))
    return folder


def registry(*extra: Any) -> Any:
    """What to expose: the sum over this instance's processes (multiprocess mode) or this process's
    own metrics, plus `extra` collectors that are read at scrape time."""
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

    folder = config.environ().get(MULTIPROC_VARIABLE)
    if not folder and not extra:
        return REGISTRY
    collected = CollectorRegistry(auto_describe=False)
    if folder:
        multiprocess.MultiProcessCollector(collected, path=folder)
    else:
        collected.register(_Own(REGISTRY))
    for collector in extra:
        collected.register(collector)
    return collected


class _Own:
    def __init__(self, source: Any) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        yield from self.source.collect()


def exposition(*extra: Any) -> tuple[bytes, str]:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(registry(*extra)), CONTENT_TYPE_LATEST


def process_ended(pid: int) -> None:
    from prometheus_client import multiprocess

    if config.environ().get(MULTIPROC_VARIABLE):
        multiprocess.mark_process_dead(pid)


class DatabaseGauges:
    """Gauges counted in the database at scrape time; `kinds` picks which (a service exports its own)."""

    def __init__(self, *kinds: str) -> None:
        self.kinds = kinds

    def collect(self) -> Iterator[Any]:
        from shared import db
        from shared.metrics_queries import QUERIES

        with db.transaction() as session:
            for kind in self.kinds:
                yield QUERIES[kind](session)
