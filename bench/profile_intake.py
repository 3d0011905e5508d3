"""`python -m bench.profile_intake [--count 300] [--database postgresql://...]`: where a submission's
time goes, measured in one process with cProfile.

Posts `count` valid reports to `POST /api/v1/submissions` through the app's test client (no HTTP
server, no gunicorn) on a throwaway database with the demo data and a Redis of its own, then prints
the cumulative time per request of the steps of the hot path, and the functions costing most.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench import stacks
from ops.redis_server import RedisServer
from shared import config, metrics
from shared.catalogue import Catalogue, default_file, read_file
from tests.support.reports import clean_report

# (label, file suffix, function name): the steps of a submission, by the function that does each.
STEPS = [
    ("whole request (test client)", "flask/app.py", "wsgi_app"),
    ("token → user", "intake/auth.py", "authenticate_bearer"),
    ("schema: marshmallow load", "marshmallow/schema.py", "load"),
    ("unit, round, catalogue checks", "intake/reports.py", "check"),
    ("store report + outbox row (flush)", "intake/reports.py", "store"),
    ("commit", "orm/session.py", "commit"),
    ("publish (send + mark)", "shared/outbox.py", "publish"),
    ("send_task", "shared/outbox.py", "send"),
    ("answer body (url_for)", "intake/api.py", "accepted"),
    ("request metrics and log line", "intake/observe.py", "finish"),
]


def steps(stats: pstats.Stats, count: int) -> list[tuple[str, float]]:
    table = stats.stats  # type: ignore[attr-defined]
    out = []
    for label, suffix, name in STEPS:
        total = sum(
            cumulative
            for (path, _line, func), (_cc, _nc, _tt, cumulative, _callers) in table.items()
            if path.endswith(suffix) and (func == name or not name)
        )
        out.append((label, 1000 * total / count))
    return out


def run(count: int, database: str | None) -> str:
    saved = dict(os.environ)
    folder = Path(tempfile.mkdtemp(prefix="pilotwatch-profile-"))
    with ExitStack() as stack:
        redis = RedisServer().start()
        stack.callback(redis.stop)
        stack.callback(shutil.rmtree, folder, True)
        url = (
            stack.enter_context(stacks.postgres_database(database))
            if database
            else f"sqlite:///{folder / 'profile.db'}"
        )
        os.environ.update(
            DATABASE_URL=url,
            REDIS_URL=redis.url,
            PILOTWATCH_ENV="production",
            SECRET_KEY="profile-secret-not-for-use",
            PILOTWATCH_INSTANCE=str(folder / "instance"),
            PUBLIC_URL="http://pilotwatch.profile",
        )
        config.reset()
        seeded = stacks.seed(url, "http://127.0.0.1:9/", 50)
        catalogue = Catalogue(read_file(default_file()))
        bodies = [
            json.dumps(clean_report(catalogue, u, seeded.round_code), ensure_ascii=False)
            for u in seeded.extra_units
        ]
        metrics.prepare("intake", os.getpid(), fresh=True)  # as gunicorn's workers count, in files
        from services.intake.app import create_app

        client = create_app().test_client()
        headers = {"Authorization": f"Bearer {seeded.token}", "Content-Type": "application/json"}
        for body in bodies[:10]:  # warm up: imports, first connections, caches
            assert client.post("/api/v1/submissions", data=body, headers=headers).status_code == 202

        def post(i: int) -> None:
            answer = client.post("/api/v1/submissions", data=bodies[i % len(bodies)], headers=headers)
            assert answer.status_code == 202, answer.get_data(as_text=True)

        started = time.perf_counter()
        for i in range(count):
            post(i)
        plain = 1000 * (time.perf_counter() - started) / count
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for i in range(count):
            post(i)
        profile.disable()
        wall = 1000 * (time.perf_counter() - started) / count
    os.environ.clear()
    os.environ.update(saved)
    config.reset()
    stats = pstats.Stats(profile)
    lines = [
        f"{count} submissions on {url.split(':', 1)[0]}: {plain:.2f} ms each, {wall:.2f} ms profiled;"
        " per request, profiled:",
        "",
    ]
    lines += [f"{ms:8.2f} ms  {label}" for label, ms in steps(stats, count)]
    top = io.StringIO()
    pstats.Stats(profile, stream=top).sort_stats("tottime").print_stats(25)
    lines += ["", "functions by own time:", top.getvalue().split("\n", 4)[-1]]
    ours = io.StringIO()
    pstats.Stats(profile, stream=ours).sort_stats("cumulative").print_stats(r"(services|shared)/", 30)
    lines += ["our functions by cumulative time:", ours.getvalue().split("\n", 4)[-1]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--database", help="a PostgreSQL server's URL where a throwaway database may be made")
    args = parser.parse_args()
    print(run(args.count, args.database))


if __name__ == "__main__":
    main()
