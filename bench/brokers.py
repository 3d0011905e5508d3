"""`python -m bench.brokers`: how fast the evaluation workers drain a queue of reports on Redis and on
RabbitMQ (quorum queues), with one and with two worker processes, PostgreSQL behind every run. The
reports are posted first with no evaluation worker running; a report counts as evaluated at the
time its evaluation row is stamped with, and as alerted when a delivered district alert names its
unit. See
bench/README.md."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench import measure, report, stacks
from bench.__main__ import POSTGRES, ROOT, base_env, bodies, redis_flush, use
from bench.sink import AlertSink
from ops.redis_server import RedisServer
from shared import db
from shared.catalogue import Catalogue, default_file, read_file
from shared.models import Evaluation
from tests.support import rabbitmq
from tests.support.processes import Stack, wait_until
from tests.support.reports import problem_report

CASES = (("redis", 1), ("redis", 2), ("rabbitmq", 1), ("rabbitmq", 2))


def run_case(
    broker: str, workers: int, sizes: measure.Sizes, redis: RedisServer, postgres_url: str, folder: Path
) -> dict[str, Any]:
    """Queue the reports with no evaluation worker running, then start the workers and time the drain:
    the intake's own CPU use stays out of the evaluation figures (two cores are shared by everything)."""
    catalogue = Catalogue(read_file(default_file()))
    with ExitStack() as cleanup:
        database = cleanup.enter_context(stacks.postgres_database(postgres_url))
        broker_url = cleanup.enter_context(rabbitmq.throwaway_vhost()) if broker == "rabbitmq" else redis.url
        env = dict(base_env(folder, redis.url), DATABASE_URL=database, BROKER_URL=broker_url)
        use(env)
        sink = AlertSink()
        cleanup.callback(sink.close)
        seeded = stacks.seed(database, sink.url(), sizes.pipeline_reports)
        units = seeded.extra_units[: sizes.pipeline_reports]
        reports = bodies([problem_report(catalogue, unit, seeded.round_code) for unit in units])
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {seeded.token}"}
        services = Stack(env, folder)
        cleanup.callback(services.stop)
        services.start("intake", "notify", "beat")
        answers = measure.post_all(
            services.url + "/api/v1/submissions", reports, headers, sizes.connections, sizes.wait
        )
        assert all(answer.status == 202 for answer in answers), "a report was not accepted"
        services.start(*["evaluation"] * workers)
        try:
            wait_until(lambda: len(sink.alerted(set(units))) == len(units), sizes.wait, "every alert")
        except AssertionError:
            print(services.logs(), file=sys.stderr)
            raise
        seen = evaluation_times()
        last_alert = max(sink.alerted(set(units)).values())
    redis_flush(redis)
    return {
        "broker": broker,
        "evaluation_workers": workers,
        "reports": len(units),
        "evaluated_per_second": round(measure.steady_rate(seen), 1),
        # Alerts leave in groups (GROUP_WAIT): the drain as a whole says more than their own rate.
        "alerted_per_second": round(len(units) / (last_alert - min(seen)), 1),
        "drain_seconds": round(last_alert - min(seen), 2),
    }


def evaluation_times() -> list[float]:
    """When each evaluation was made, as the workers stamped it (no polling to slow them down)."""
    with db.transaction() as session:
        return [stamp.timestamp() for stamp in session.scalars(select(Evaluation.evaluated_at))]


def markdown(results: dict[str, Any]) -> str:
    rows = [
        "| broker | evaluation workers | reports queued | evaluated / s (steady) | evaluated and alerted / s | first evaluation to last alert |",
        "|---|---|---|---|---|---|",
    ]
    for case in results["cases"]:
        if "skipped" in case:
            rows.append(f"| {case['broker']} | {case['evaluation_workers']} | skipped: {case['skipped']} |||")
            continue
        rows.append(
            f"| {case['broker']} | {case['evaluation_workers']} | {case['reports']} | "
            f"{case['evaluated_per_second']} | {case['alerted_per_second']} | {case['drain_seconds']} s |"
        )
    machine = results["machine"]
    title = (
        f"Brokers, {results['date']} ({machine['cpu']}, {machine['cores']} cores, "
        f"load average at start {machine['load_average_at_start'][0]})"
    )
    return "\n".join([title, "", *rows])


def run(
    reports: int, postgres_url: str, out: Path, cases: tuple[tuple[str, int], ...] = CASES
) -> dict[str, Any]:
    sizes = replace(measure.QUICK, name="brokers", pipeline_reports=reports, wait=300)
    saved = dict(os.environ)
    folder = Path(tempfile.mkdtemp(prefix="pilotwatch-bench-brokers-"))
    redis = RedisServer().start()
    results: dict[str, Any] = {"date": report.now(), "machine": report.machine(), "cases": []}
    problems = {"rabbitmq": rabbitmq.unavailable(), "redis": None}
    postgres = stacks.postgres_problem(postgres_url)
    try:
        for broker, workers in cases:
            problem = postgres or problems[broker]
            if problem:
                results["cases"].append({"broker": broker, "evaluation_workers": workers, "skipped": problem})
                continue
            started = time.monotonic()
            case_folder = folder / f"{broker}-{workers}"
            case_folder.mkdir()
            results["cases"].append(run_case(broker, workers, sizes, redis, postgres_url, case_folder))
            print(f"{broker}, {workers} worker(s): {time.monotonic() - started:.0f} s", file=sys.stderr)
    finally:
        redis.stop()
        use(saved)
        shutil.rmtree(folder, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    stamp = results["date"].replace(":", "").replace("-", "")[:15]
    for name in (f"{stamp}-brokers", "latest-brokers"):
        (out / f"{name}.md").write_text(markdown(results) + "\n")
        (out / f"{name}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=400, help="reports per run (one per fresh unit)")
    parser.add_argument(
        "--postgres-url", default=POSTGRES, help="a server where a throwaway database may be made"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    print(markdown(run(args.reports, args.postgres_url, args.out)))


if __name__ == "__main__":
    main()
