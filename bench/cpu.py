"""Where a run's CPU went: each process's CPU time (user + system, from /proc), by its part in the run.

On two cores every process of a run shares the same two CPUs, so the pipeline's rate is bounded by
the CPU all of them spend per report; the ratio to the bare chain is the ratio of those costs. A
snapshot is taken before and after a run; `per_report` turns the difference into milliseconds of
CPU per report, by part. Where /proc cannot be read (not Linux), the snapshots are empty.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PROC = Path("/proc")
# A process's part by what its command line runs; the first that matches names it.
PARTS = (
    ("services.intake.wsgi", "intake"),
    ("bench.baseline.app", "bare web"),
    ("bench.baseline.pipeline", "bare workers"),
    ("services.evaluation.worker", "evaluation"),
    ("services.notify.worker", "notify"),
    ("shared.scheduler", "scheduler"),
    ("redis-server", "Redis"),
    ("postgres:", "PostgreSQL"),
)
OWN = "load and sink (bench)"
CLIENT = re.compile(r"\S+\(\d+\)")  # a backend's client in its process title: host(port)

Snapshot = dict[int, tuple[str, float]]


def part_of(command: str, database: str | None = None) -> str | None:
    """The part a process plays, None for a process of none. A PostgreSQL backend serving a client
    counts only for `database` (the server may serve others meanwhile); its shared background
    processes (writers, checkpointer, autovacuum) count for every run."""
    for marker, part in PARTS:
        if marker in command:
            if part == "PostgreSQL" and serves_another(command, database):
                return None
            return part
    return None


def serves_another(command: str, database: str | None) -> bool:
    """Whether a PostgreSQL process is a client's backend for a database other than `database`: its
    title names the user, the database and the client ("postgres: [cluster:] user database
    host(port) activity", "[local]" for a socket); a background process's names none."""
    words = command.split()
    for i, word in enumerate(words[3:], start=3):
        if word == "[local]" or CLIENT.fullmatch(word):
            return words[i - 1] != database
    return False


def _ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat: str, ticks: int) -> float:
    """User and system time of a process from its /proc/<pid>/stat line (fields 14 and 15; the
    command name before them may hold spaces and parentheses)."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks


def snapshot(database: str | None = None) -> Snapshot:
    """Every process of a part, and this process, with the CPU seconds it has spent so far; the
    PostgreSQL backends only of `database` (a name), if any."""
    found: Snapshot = {}
    if not PROC.is_dir():
        return found
    ticks, own = _ticks(), os.getpid()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile, or is not ours to read
            continue
        part = OWN if pid == own else part_of(command, database) or part_of(stat, database)
        if part is not None:
            found[pid] = (part, cpu_seconds(stat, ticks))
    return found


def spent(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds spent between the snapshots, by part (a process started meanwhile counts whole;
    one that ended meanwhile is not seen, which the runs avoid by stopping nothing in between)."""
    parts: dict[str, float] = {}
    for pid, (part, seconds) in after.items():
        earlier = before.get(pid)
        used = seconds - (earlier[1] if earlier is not None and earlier[0] == part else 0.0)
        parts[part] = parts.get(part, 0.0) + max(used, 0.0)
    return parts


def per_report(parts: dict[str, float], reports: int) -> dict[str, float]:
    """Milliseconds of CPU per report by part, largest first, with their sum as "all"."""
    if reports <= 0:
        return {}
    ordered = sorted(parts.items(), key=lambda item: -item[1])
    shares = {part: round(1000 * seconds / reports, 2) for part, seconds in ordered if seconds > 0}
    return {**shares, "all": round(1000 * sum(parts.values()) / reports, 2)}
