"""The compose setup's database: migrations, a submission evaluated and alerted through real processes,
and a backup of SQLite restored into PostgreSQL, all against a throwaway PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ops import demo
from services.intake import accounts
from shared import config, db
from shared.catalogue import Catalogue
from shared.models import Channel
from tests.support.evaluated import store_and_evaluate
from tests.support.operators import engine_of, every_row, pilotwatch
from tests.support.processes import Stack, json_request, wait_until
from tests.support.reports import open_round, problem_report, unit_of
from tests.support.sinks import HttpSink

pytestmark = pytest.mark.e2e
GULOU = "350102"
SERVER = os.environ.get("PILOTWATCH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def admin_connection() -> psycopg.Connection:
    try:
        return psycopg.connect(SERVER, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server answers at {SERVER} (set PILOTWATCH_TEST_POSTGRES): {exc}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty database on the server, dropped afterwards."""
    name = f"pilotwatch_test_{uuid.uuid4().hex[:12]}"
    with admin_connection() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield SERVER.rsplit("/", 1)[0] + "/" + name
    db.engine_for.cache_clear()
    db._factory.cache_clear()
    with admin_connection() as connection:
        connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def on_postgres(env: dict[str, str], postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    config.reset()
    return dict(config.environ())


def test_it_migrates_evaluates_and_alerts_on_postgresql(
    on_postgres: dict[str, str], tmp_path: Path, catalogue: Catalogue
) -> None:
    upgraded = pilotwatch(on_postgres, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    hook = HttpSink()
    with db.transaction() as session:
        demo.load(session)
        user = accounts.create_user(session, "pg@example.org", "district", GULOU, None)
        token = accounts.issue_token(session, user)
        session.add(Channel(district_code=GULOU, kind="json", url=hook.url()))
    stack = Stack(on_postgres, tmp_path)
    try:
        stack.start("intake", "evaluation", "notify", "beat")
        status, body = json_request(
            "POST",
            stack.url + "/api/v1/submissions",
            problem_report(catalogue, unit_of(GULOU), open_round()),
            token=token,
        )
        assert status == 202, body
        wait_until(lambda: hook.requests, 40, "the webhook alert")
        status, found = json_request("GET", f"{stack.url}/api/v1/submissions/{body['id']}", token=token)
        rules = {f["rule"] for f in found["evaluation"]["findings"]}
        assert "fund_extraction" in rules
        assert unit_of(GULOU) in str(hook.delivered()[0])
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.stop()
        hook.close()


def test_it_restores_a_sqlite_backup_into_postgresql(
    seeded: dict[str, str], postgres_url: str, tmp_path: Path, catalogue: Catalogue
) -> None:
    store_and_evaluate(problem_report(catalogue, unit_of(GULOU), open_round()))
    assert pilotwatch(seeded, "backup", str(tmp_path / "backup")).returncode == 0
    target = {**seeded, "DATABASE_URL": postgres_url, "PILOTWATCH_INSTANCE": str(tmp_path / "pg")}
    restored = pilotwatch(target, "restore", str(tmp_path / "backup"))
    assert restored.returncode == 0, restored.stderr
    before, after = every_row(engine_of(seeded["DATABASE_URL"])), every_row(engine_of(postgres_url))
    for name, rows in before.items():
        assert after[name] == rows, f"table {name} differs after restore"
    # Sequences were moved past the restored ids: new rows get fresh ones.
    made = pilotwatch(target, "users", "create", "--role", "supervisor", "--email", "new@example.org")
    assert made.returncode == 0, made.stderr
