"""Time the main server-rendered pages with the 428-unit demo data and 300 evaluated reports
(median and max of 5 requests each, in one process): `.venv/bin/python -m bench.pages`."""

from __future__ import annotations

import os
import statistics
import tempfile
import time

PAGES = (
    ("supervisor", ("/", "/findings", "/findings?status=all", "/dashboard", "/deliveries")),
    ("gulou", ("/", "/findings", "/submissions/new")),
    ("admin", ("/admin/",)),
)


def prepare(folder: str, redis_url: str) -> None:
    os.environ.update(
        DATABASE_URL=f"sqlite:///{folder}/pages.db",
        PILOTWATCH_ENV="test",
        SECRET_KEY="bench",
        REDIS_URL=redis_url,
        PILOTWATCH_INSTANCE=folder,
        LOG_LEVEL="WARNING",
    )
    from sqlalchemy import select

    from ops import demo
    from shared import db, migrate
    from shared.catalogue import Catalogue, default_file, read_file
    from shared.models import PilotUnit
    from tests.support.evaluated import store_and_evaluate
    from tests.support.reports import clean_report, open_round, problem_report

    migrate.upgrade()
    with db.transaction() as session:
        demo.load(session)
        units = session.scalars(select(PilotUnit.credit_code)).all()
    catalogue, round_code = Catalogue(read_file(default_file())), open_round()
    for i, unit in enumerate(units[:300]):
        store_and_evaluate((problem_report if i % 2 else clean_report)(catalogue, unit, round_code))


def measure() -> None:
    from services.intake.app import create_app
    from tests.support.web import AuthActions

    app = create_app()
    for who, pages in PAGES:
        client = AuthActions(app).sign_in(who)
        for page in pages:
            times = []
            for _ in range(5):
                started = time.perf_counter()
                answer = client.get(page)
                times.append((time.perf_counter() - started) * 1000)
            print(
                f"{who:10} {page:25} {answer.status_code} median {statistics.median(times):6.1f} ms"
                f"  max {max(times):6.1f} ms"
            )


def main() -> None:
    from ops.redis_server import RedisServer

    redis = RedisServer().start()
    try:
        prepare(tempfile.mkdtemp(prefix="pilotwatch-pages-"), redis.url)
        measure()
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
