"""The command line of each long-running process, built in one place for `pilotwatch up`, the tests and
the benchmark (docker-compose.yml spells the same commands for the containers)."""

from __future__ import annotations

import sys
from pathlib import Path

# Each service's worker consumes its own queue (the intake's runs the documents pages ask for).
WORKER_QUEUES = ("evaluation", "notify", "intake")


def python() -> str:
    return sys.executable


def intake(bind: str, workers: int, access_log: bool = True) -> list[str]:
    command = [python(), "-m", "gunicorn", "--workers", str(workers), "--bind", bind, "--no-control-socket"]
    if access_log:
        command += ["--access-logfile", "-"]
    return [*command, "services.intake.wsgi:app"]


def worker(queue: str, concurrency: int, node: str | None = None, level: str = "INFO") -> list[str]:
    """A Celery worker of one service, consuming only that service's queue."""
    if queue not in WORKER_QUEUES:
        raise ValueError(f"no worker for queue {queue!r}")
    return [
        python(),
        "-m",
        "celery",
        "-A",
        f"services.{queue}.worker",
        "worker",
        "-Q",
        queue,
        "-c",
        str(concurrency),
        "-n",
        node or f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "-l",
        level,
    ]


def scheduler(schedule_file: Path, level: str = "WARNING") -> list[str]:
    return [python(), "-m", "celery", "-A", "shared.scheduler", "beat", "-l", level, "-s", str(schedule_file)]


def mail_sink(port: int, folder: Path) -> list[str]:
    return [python(), "-m", "ops.mailsink", "--port", str(port), "--dir", str(folder)]
