"""PostgreSQL dropping every connection while reports arrive: a throwaway database on the local server."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ops import demo
from services.intake import accounts
from shared import config, db, migrate
from shared.catalogue import Catalogue
from tests.support.faults import (
    GULOU,
    active_findings,
    assert_each_unit_alerted_once,
    counts,
    evaluated,
    expected_findings,
    submit,
    units_of,
)
from tests.support.processes import Stack, wait_until
from tests.support.reports import open_round, problem_report
from tests.support.sinks import HttpSink, SmtpSink

pytestmark = pytest.mark.e2e
SERVER = "postgresql://postgres@127.0.0.1:5432"
REPORTS = 12


def server_answers() -> bool:
    try:
        with create_engine(SERVER + "/postgres", connect_args={"connect_timeout": 2}).connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False


def terminate(name: str) -> int:
    """Close every connection to the database `name`, as a server restart does."""
    with create_engine(SERVER + "/postgres", isolation_level="AUTOCOMMIT").connect() as conn:
        return len(
            conn.execute(
                text(
                    "select pg_terminate_backend(pid) from pg_stat_activity "
                    "where datname = :name and pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).all()
        )


@pytest.fixture
def postgres(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, str]]]:
    if not server_answers():
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432 (user postgres, trust auth)")
    name = f"pilotwatch_faults_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SERVER + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{SERVER}/{name}"
    monkeypatch.setenv("DATABASE_URL", url)
    config.reset()
    try:
        migrate.upgrade(url)
        with db.transaction() as session:
            demo.load(session)
            user = accounts.create_user(session, "gulou-pg@example.org", "district", GULOU, "secret-pass")
            token = accounts.issue_token(session, user)
        yield name, dict(env, DATABASE_URL=url, gulou_token=token)
    finally:
        db.engine_for(url).dispose()
        terminate(name)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_it_evaluates_every_accepted_report_once_while_postgresql_drops_its_connections(
    postgres: tuple[str, dict[str, str]], catalogue: Catalogue, tmp_path: Path
) -> None:
    name, env = postgres
    token = env.pop("gulou_token")
    smtp, hook = SmtpSink(), HttpSink()
    from tests.support.faults import add_channels

    add_channels(GULOU, smtp.url(), hook.url())
    stack = Stack(
        dict(env, BROKER_VISIBILITY_TIMEOUT="12", DELIVERY_STALE_AFTER="3", HTTP_TIMEOUT="4"), tmp_path
    )
    try:
        stack.start("intake", "evaluation", "notify", "beat")
        units, round_code = units_of(GULOU, REPORTS), open_round()
        accepted, dropped = [], 0
        for index, unit in enumerate(units):
            if index % 3 == 1:
                dropped += terminate(name)
            key = f"pg-{unit}"
            for _attempt in range(5):  # a client retries a failed POST with the same key
                status, body, _ = submit(
                    stack.url, token, problem_report(catalogue, unit, round_code), key=key
                )
                if status == 202:
                    accepted.append(body["id"])
                    break
                assert status in (500, 502, 503), body
                time.sleep(0.2)
        assert dropped > 0 and len(accepted) == REPORTS
        wait_until(lambda: evaluated(accepted) == REPORTS, 90, "every accepted report evaluated")
        dropped += terminate(name)
        assert active_findings(units) == expected_findings(catalogue, units, round_code)
        wait_until(
            lambda: {u for u in units if any(u in t for t in smtp.texts())} == set(units),
            60,
            "every unit in an email",
        )
        time.sleep(3)
        assert counts()["submissions"] == counts()["evaluations"] == REPORTS
        assert_each_unit_alerted_once(smtp, hook, units)
    finally:
        stack.stop()
        smtp.close()
        hook.close()
