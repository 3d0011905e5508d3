"""The measurements: intake load, pipeline throughput, a round's wall time, and latency at a fixed rate."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from sqlalchemy import make_url, select

from bench import cpu, load
from bench.baseline.pipeline import DONE_KEY
from bench.sink import AlertSink
from shared import config, db
from shared.models import Evaluation, utcnow
from tests.support.processes import wait_until


@dataclass(frozen=True)
class Sizes:
    name: str
    load_seconds: float
    connections: int
    pipeline_reports: int
    baseline_pipeline_reports: int
    round_units: int
    latency_rate: float
    latency_seconds: float
    reeval_count: int
    reeval_checkpoint: int
    wait: float

    @property
    def latency_reports(self) -> int:
        return round(self.latency_rate * self.latency_seconds)


FULL = Sizes("full", 10, 8, 600, 3000, 428, 50, 10, 100_000, 10_000, 180)
QUICK = Sizes("quick", 3, 8, 100, 500, 428, 50, 3, 20_000, 2_000, 120)
TINY = Sizes("tiny", 1, 4, 15, 40, 30, 50, 1, 2_000, 200, 60)
SIZES = {s.name: s for s in (FULL, QUICK, TINY)}


def steady_rate(times: list[float]) -> float:
    """Completions per second between the 10th and the 90th percentile of completion times."""
    ordered = sorted(times)
    first, last = int(0.1 * len(ordered)), max(int(0.9 * len(ordered)) - 1, 1)
    if len(ordered) < 3 or ordered[last] <= ordered[first]:
        return len(ordered) / max(ordered[-1] - ordered[0], 1e-3) if ordered else 0.0
    return (last - first) / (ordered[last] - ordered[first])


def summary(
    started: float, done: list[float], answers: list[load.Answer], used: dict[str, float] | None = None
) -> dict[str, Any]:
    return {
        "reports": len(done),
        "rejected": sum(1 for a in answers if a.status >= 300),
        "steady_per_second": round(steady_rate(done), 1),
        # the whole run's rate: grouped alerts complete reports in a few bursts, which a steady-state
        # window of a short run overstates
        "per_second": round(len(done) / (max(done) - started), 1) if done else 0.0,
        "wall_seconds": round(max(done) - started, 3) if done else None,
        "posting_seconds": round(max(a.answered_at for a in answers) - started, 3),
        # every process's CPU from the first post to the last completion, per report (bench/cpu.py)
        "cpu_ms_per_report": cpu.per_report(used or {}, len(done)),
    }


def post_all(
    url: str, bodies: list[bytes], headers: dict[str, str], connections: int, wait: float
) -> list[load.Answer]:
    _load, answers = load.closed_loop(url, bodies, headers, wait, connections, limit=len(bodies))
    return answers


def baseline_pipeline(url: str, redis_url: str, sizes: Sizes) -> dict[str, Any]:
    """Bare Flask → Celery → Celery: post, then wait for hop two to have run for every post."""
    client = redis.Redis.from_url(redis_url)
    client.delete(DONE_KEY)
    count = sizes.baseline_pipeline_reports
    bodies = [json.dumps({"unit": f"bare{i:06d}"}).encode() for i in range(count)]
    before = cpu.snapshot()
    answers = post_all(
        url + "/enqueue", bodies, {"Content-Type": "application/json"}, sizes.connections, sizes.wait
    )
    accepted = sum(1 for a in answers if a.status == 202)
    wait_until(lambda: client.llen(DONE_KEY) >= accepted, sizes.wait, "the bare pipeline to drain")
    used = cpu.spent(before, cpu.snapshot())
    done = [float(raw.split()[1]) for raw in client.lrange(DONE_KEY, 0, -1)]
    return summary(min(a.sent_at for a in answers), done, answers, used)


def database_name() -> str | None:
    """The PostgreSQL database the stack under test uses (None on SQLite)."""
    url = make_url(config.current().database_url)
    return url.database if url.get_backend_name() == "postgresql" else None


def our_pipeline(
    url: str, headers: dict[str, str], bodies: dict[str, bytes], sink: AlertSink, sizes: Sizes
) -> dict[str, Any]:
    """Post one report per unit; each is done when the district alert naming the unit is delivered."""
    database = database_name()
    before = cpu.snapshot(database)
    answers = post_all(
        url + "/api/v1/submissions", list(bodies.values()), headers, sizes.connections, sizes.wait
    )
    units = set(bodies)
    wait_until(lambda: len(sink.alerted(units)) >= len(units), sizes.wait, f"alerts for {len(units)} units")
    used = cpu.spent(before, cpu.snapshot(database))
    return summary(min(a.sent_at for a in answers), list(sink.alerted(units).values()), answers, used)


class EvaluationWatch:
    """Polls the database for evaluations and notes when each first became visible."""

    def __init__(self, interval: float = 0.02):
        self.seen: dict[str, float] = {}
        self.interval = interval
        self.since = utcnow() - timedelta(seconds=1)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        with db.session() as session:
            while not self.stopping.is_set():
                found = session.scalars(
                    select(Evaluation.submission_id).where(Evaluation.evaluated_at >= self.since)
                ).all()
                session.rollback()
                now = time.time()
                for submission_id in found:
                    self.seen.setdefault(submission_id, now)
                time.sleep(self.interval)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)


def latency(url: str, headers: dict[str, str], bodies: list[bytes], sizes: Sizes) -> dict[str, Any]:
    """Post at a fixed rate; for each 202, the time until its evaluation is visible in the database."""
    watch = EvaluationWatch()
    try:
        answers = load.fixed_rate(url + "/api/v1/submissions", bodies, headers, sizes.latency_rate)
        ids = {a.json()["id"]: a.answered_at for a in answers if a.status == 202}
        wait_until(lambda: ids.keys() <= watch.seen.keys(), sizes.wait, "every evaluation to be visible")
    finally:
        watch.stop()
    delays = [1000 * (watch.seen[i] - answered) for i, answered in ids.items()]
    took = max(a.sent_at for a in answers) - min(a.sent_at for a in answers)
    return {
        "reports": len(ids),
        "rejected": len(answers) - len(ids),
        "sent_per_second": round((len(answers) - 1) / took, 1) if took else None,
        "p50_ms": round(load.percentile(delays, 50), 1),
        "p99_ms": round(load.percentile(delays, 99), 1),
        "max_ms": round(max(delays), 1),
        "poll_interval_ms": 20,
    }
