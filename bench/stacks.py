"""The processes under test and their data: the bare baseline, our stack, and a throwaway database.

Both sides run under the same gunicorn command and the same Celery worker commands (those `pilotwatch
up` and the end-to-end tests run, from ops/commands.py); only the application module differs.
"""

from __future__ import annotations

import random
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import select

from ops import commands, demo
from ops.redis_server import free_port
from services.intake import accounts
from shared import db, migrate
from shared.models import Channel, District, PilotUnit, Round
from tests.support.processes import Service, wait_until

BENCH_USER = "bench-supervisor@pilotwatch.example"


def gunicorn(module: str, port: int) -> list[str]:
    """The intake's command, for any WSGI module."""
    return [*commands.intake(f"127.0.0.1:{port}", 2, access_log=False)[:-1], module]


def baseline_worker(queue: str) -> list[str]:
    """Our worker's command for `queue`, with the bare pipeline's app instead of ours."""
    return [
        part.replace(f"services.{queue}.worker", "bench.baseline.pipeline")
        for part in commands.worker(queue, 1, node=f"{queue}-bare@%h")
    ]


class Baseline:
    """The bare Flask app on gunicorn and, when asked, the two bare Celery workers."""

    def __init__(self, env: dict[str, str], folder: Path):
        self.env, self.folder = env, folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.services: list[Service] = []

    def start_web(self) -> None:
        web = Service("baseline-web", gunicorn("bench.baseline.app:app", self.port), self.env, self.folder)
        self.services.append(web)
        wait_until(lambda: self._answers(web), 60, "the bare Flask app")

    def _answers(self, web: Service) -> bool:
        if not web.alive():
            raise RuntimeError(f"the bare Flask app exited:\n{web.output()[-2000:]}")
        try:
            request = urllib.request.Request(self.url + "/hello", data=b"{}", method="POST")
            return urllib.request.urlopen(request, timeout=1).status == 200
        except OSError:
            return False

    def start_workers(self) -> None:
        for queue in ("evaluation", "notify"):
            worker = Service(f"baseline-{queue}", baseline_worker(queue), self.env, self.folder)
            self.services.append(worker)
            wait_until(lambda w=worker: " ready." in w.output() or not w.alive(), 60, f"bare {queue} worker")
            if not worker.alive():
                raise RuntimeError(f"bare {queue} worker exited:\n{worker.output()[-2000:]}")

    def stop(self) -> None:
        for service in self.services:
            service.stop()


def postgres_problem(admin_url: str) -> str | None:
    """Why PostgreSQL cannot be used for this run, or None when a server answers."""
    try:
        with psycopg.connect(admin_url, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL server answered at {admin_url.rsplit('@', 1)[-1]}: {str(exc).strip()[:200]}"
    return None


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A throwaway database on the server of `admin_url`, dropped afterwards; yields its URL."""
    name = f"pilotwatch_bench_{random.randrange(16**8):08x}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        db.engine_for.cache_clear()
        db._factory.cache_clear()
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Seeded:
    token: str
    round_code: str
    demo_units: list[str]
    extra_units: list[str]


def extra_units(count: int) -> list[PilotUnit]:
    """Units beyond the demo's 428, spread over the districts like them, for runs that need fresh units."""
    made = demo.synthetic_units(count=count, seed=4242)
    return [
        PilotUnit(
            credit_code=u["credit_code"],
            name=f"基准{i:05d}{u['name']}",
            district_code=u["district"],
            industry=u["industry"],
        )
        for i, u in enumerate(made)
    ]


def seed(database_url: str, sink_url: str, extra: int) -> Seeded:
    """Migrate, load the demo data, add `extra` units, point every district at the sink, make a token."""
    migrate.upgrade(database_url)
    with db.transaction() as session:
        demo.load(session)
    with db.transaction() as session:
        known = set(session.scalars(select(PilotUnit.credit_code)))
        demo_units = sorted(known)
        added = [u for u in extra_units(extra + 50) if u.credit_code not in known][:extra]
        session.add_all(added)
        for code in session.scalars(select(District.code)):
            session.add(Channel(district_code=code, kind="json", url=sink_url))
        user = accounts.create_user(session, BENCH_USER, "supervisor", None, "bench-password-1")
        token = accounts.issue_token(session, user)
        round_code = session.scalars(select(Round.code).where(Round.status == "open")).one()
    return Seeded(token, round_code, demo_units, [u.credit_code for u in added])
