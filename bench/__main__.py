"""`python -m bench [--size full|quick|tiny]`: the whole benchmark in one run; see bench/README.md."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import update

from bench import load, measure, report, scale, stacks
from bench.baseline.app import create_table
from bench.measure import Sizes
from bench.sink import AlertSink
from ops import demo
from ops.redis_server import RedisServer
from shared import config, db
from shared.catalogue import Catalogue, default_file, read_file
from shared.models import OutboxEvent, utcnow
from tests.support.processes import Stack
from tests.support.reports import clean_report, problem_report

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
INTAKE_UNITS = 50
# Alert grouping waits briefly so that "alerted" means delivered within the run.
SETTINGS = {
    "GROUP_WAIT": "0.5",
    "GROUP_INTERVAL": "0.5",
    "ALERT_FLUSH_INTERVAL": "0.5",
    "DELIVERY_BACKOFF": "0.2",
    "PILOTWATCH_ENV": "production",
    "SECRET_KEY": "bench-secret-not-for-use",
    # The webhook sink listens on loopback, which production channels may not reach unless allowed.
    "CHANNEL_ALLOWED_INTERNAL": "127.0.0.0/8",
    "WEB_CONCURRENCY": "2",
    "gunicorn": "--workers 2 (sync)",
    "celery": "one worker process per queue (-c 1), prefetch 1, acks late",
}


def base_env(folder: Path, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in config.environ().items() if k not in ("PILOTWATCH_CLOCK_FILE", "DATABASE_URL")}
    env.update({k: v for k, v in SETTINGS.items() if k.isupper()})
    env.update(
        REDIS_URL=redis_url,
        PILOTWATCH_INSTANCE=str(folder / "instance"),
        PUBLIC_URL="http://pilotwatch.bench",
        DATABASE_URL=f"sqlite:///{folder / 'baseline.db'}",
    )
    return env


def use(env: dict[str, str]) -> None:
    """Make `env` this process's configuration too (the bench seeds and watches the database itself)."""
    os.environ.clear()
    os.environ.update(env)
    config.reset()


def bodies(reports: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(r, ensure_ascii=False).encode() for r in reports]


def run_baseline(
    env: dict[str, str], folder: Path, redis: RedisServer, sizes: Sizes, catalogue: Catalogue
) -> dict[str, Any]:
    units = [u["credit_code"] for u in demo.synthetic_units()[:INTAKE_UNITS]]
    payloads = bodies([clean_report(catalogue, unit, "2024H1") for unit in units])
    headers = {"Content-Type": "application/json"}
    baseline = stacks.Baseline(env, folder)
    try:
        baseline.start_web()
        hello = load.throughput(
            baseline.url + "/hello", payloads, headers, sizes.load_seconds, sizes.connections
        )
        enqueue = load.throughput(
            baseline.url + "/enqueue", payloads, headers, sizes.load_seconds, sizes.connections
        )
        redis_flush(redis)
        baseline.start_workers()
        pipeline = measure.baseline_pipeline(baseline.url, redis.url, sizes)
    finally:
        baseline.stop()
        redis_flush(redis)
    return {"hello": hello.as_dict(), "enqueue": enqueue.as_dict(), "pipeline": pipeline}


def discard_outbox() -> None:
    """Mark every event of the bench's database published, as if a consumer had taken it."""
    with db.transaction() as session:
        session.execute(
            update(OutboxEvent).where(OutboxEvent.published_at.is_(None)).values(published_at=utcnow())
        )


def redis_flush(redis: RedisServer) -> None:
    import redis as client

    client.Redis.from_url(redis.url).flushall()


def run_same_work(
    env: dict[str, str], folder: Path, redis: RedisServer, url: str, payloads: list[bytes], sizes: Sizes
) -> dict[str, Any]:
    """The bare app's `/report` (schema, one INSERT, one task) on its own database at `url`, under the
    same load as our intake."""
    create_table(url)
    baseline = stacks.Baseline(dict(env, DATABASE_URL=url), folder)
    try:
        baseline.start_web()
        return load.throughput(
            baseline.url + "/report",
            payloads,
            {"Content-Type": "application/json"},
            sizes.load_seconds,
            sizes.connections,
        ).as_dict()
    finally:
        baseline.stop()
        redis_flush(redis)


def run_ours(
    env: dict[str, str],
    folder: Path,
    redis: RedisServer,
    sizes: Sizes,
    catalogue: Catalogue,
    bare_url: str,
) -> dict[str, Any]:
    use(env)
    sink = AlertSink()
    needed = INTAKE_UNITS + sizes.pipeline_reports + sizes.latency_reports
    seeded = stacks.seed(env["DATABASE_URL"], sink.url(), needed)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {seeded.token}"}
    extra = seeded.extra_units

    def reports(units: list[str], make: Any = problem_report) -> dict[str, bytes]:
        return dict(zip(units, bodies([make(catalogue, u, seeded.round_code) for u in units]), strict=True))

    folder.mkdir(parents=True, exist_ok=True)
    intake_bodies = list(reports(extra[:INTAKE_UNITS], clean_report).values())
    same_work = run_same_work(env, folder, redis, bare_url, intake_bodies, sizes)
    stack = Stack(env, folder)
    try:
        stack.start("intake")
        intake = load.throughput(
            stack.url + "/api/v1/submissions",
            intake_bodies,
            headers,
            sizes.load_seconds,
            sizes.connections,
        )
        # Nobody consumes the intake run's events: leave them out of the pipeline runs, in the queue and
        # in the outbox (else the relay sends them again, and the workers evaluate thousands of reports
        # in the middle of the later runs).
        redis_flush(redis)
        discard_outbox()
        stack.start("evaluation", "notify", "beat")
        round_ = measure.our_pipeline(
            stack.url, headers, reports(seeded.demo_units[: sizes.round_units]), sink, sizes
        )
        piped = extra[INTAKE_UNITS : INTAKE_UNITS + sizes.pipeline_reports]
        pipeline = measure.our_pipeline(stack.url, headers, reports(piped), sink, sizes)
        timed = extra[INTAKE_UNITS + sizes.pipeline_reports :]
        latency = measure.latency(stack.url, headers, list(reports(timed).values()), sizes)
    except Exception:
        print(stack.logs(), file=sys.stderr)
        raise
    finally:
        stack.stop()
        sink.close()
        redis_flush(redis)
    return {
        "intake": intake.as_dict(),
        "same_work": same_work,
        "round": round_,
        "pipeline": pipeline,
        "latency": latency,
    }


def run_databases(
    env: dict[str, str],
    folder: Path,
    redis: RedisServer,
    sizes: Sizes,
    catalogue: Catalogue,
    names: list[str],
    postgres_url: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "sqlite" in names:
        out["sqlite"] = run_ours(
            dict(env, DATABASE_URL=f"sqlite:///{folder / 'sqlite' / 'bench.db'}"),
            folder / "sqlite",
            redis,
            sizes,
            catalogue,
            f"sqlite:///{folder / 'sqlite' / 'bare.db'}",
        )
    if "postgresql" in names:
        problem = stacks.postgres_problem(postgres_url)
        if problem:
            print(f"PostgreSQL part skipped: {problem}", file=sys.stderr)
            out["postgresql"] = {"skipped": f"skipped: {problem}"}
            return out
        try:
            with (
                stacks.postgres_database(postgres_url) as url,
                stacks.postgres_database(postgres_url) as bare_url,
            ):
                out["postgresql"] = run_ours(
                    dict(env, DATABASE_URL=url), folder / "postgresql", redis, sizes, catalogue, bare_url
                )
        except Exception as exc:  # recorded in the table's notes and the JSON, and the run goes on
            print(f"PostgreSQL part failed: {exc!r}", file=sys.stderr)
            out["postgresql"] = {"skipped": f"failed: {str(exc).splitlines()[0][:300]}"}
    return out


def reevaluate(sizes: Sizes) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.reeval",
        "--count",
        str(sizes.reeval_count),
        "--checkpoint",
        str(sizes.reeval_checkpoint),
        "--seconds",
        "200",
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(
    sizes: Sizes, databases: list[str], postgres_url: str, out: Path, scale_size: str | None = None
) -> dict[str, Any]:
    started = time.monotonic()
    saved = dict(os.environ)
    folder = Path(tempfile.mkdtemp(prefix="pilotwatch-bench-"))
    redis = RedisServer().start()
    catalogue = Catalogue(read_file(default_file()))
    results: dict[str, Any] = {
        "date": report.now(),
        "sizes": vars(sizes),
        "settings": SETTINGS,
        "machine": report.machine(),
    }
    try:
        env = base_env(folder, redis.url)
        use(env)
        if not load.have_wrk():
            print(load.WRK_HINT, file=sys.stderr)
        results["baseline"] = run_baseline(env, folder, redis, sizes, catalogue)
        results["databases"] = run_databases(env, folder, redis, sizes, catalogue, databases, postgres_url)
        results["reevaluation"] = reevaluate(sizes)
        scale_size = scale_size or sizes.name
        if scale_size != "none":
            results["scale"] = scale.run(
                scale.SIZES[scale_size],
                databases,
                postgres_url,
                scale.scale_env(folder, redis.url),
                folder,
                out,
            )
    finally:
        redis.stop()
        use(saved)
        shutil.rmtree(folder, ignore_errors=True)
    results["seconds"] = round(time.monotonic() - started, 1)
    results["lines"] = report.lines(results)
    results["paths"] = [
        str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p) for p in report.write(results, out)
    ]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="Pilotwatch side by side with bare Flask and Celery.")
    parser.add_argument("--size", choices=sorted(measure.SIZES), default="full")
    parser.add_argument(
        "--quick", action="store_const", const="quick", dest="size", help="same as --size quick"
    )
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url", default=POSTGRES, help="a server where a throwaway database may be made"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--scale-size",
        choices=[*sorted(n for n in scale.SIZES if "-" not in n), "none"],
        help="the scale data set's size (default: the run's; the full one takes about 45 minutes to build)",
    )
    args = parser.parse_args()
    results = run(
        measure.SIZES[args.size], args.databases.split(","), args.postgres_url, args.out, args.scale_size
    )
    print(report.markdown(results))
    print("written: " + ", ".join(results["paths"]))


if __name__ == "__main__":
    main()
