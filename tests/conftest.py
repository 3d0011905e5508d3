"""Fixtures shared by every test: a real Redis, a migrated database, the app, real processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from ops import demo
from ops.redis_server import RedisServer
from services.intake import accounts
from shared import config, db, migrate
from shared.catalogue import Catalogue, default_file, read_file
from tests.support.processes import Stack
from tests.support.web import AuthActions


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue(read_file(default_file()))


@pytest.fixture
def env(
    tmp_path: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The environment of this test's processes: its own SQLite database and the session's Redis."""
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pilotwatch.db'}",
        "REDIS_URL": redis_server.url,
        "PILOTWATCH_ENV": "test",
        "PILOTWATCH_INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
        "DELIVERY_BACKOFF": "0.2",
        "OUTBOX_RELAY_INTERVAL": "0.5",
        "OUTBOX_RELAY_AGE": "1",
        "PUBLIC_URL": "http://pilotwatch.test",
        "GROUP_WAIT": "1",
        "GROUP_INTERVAL": "2",
        "ALERT_FLUSH_INTERVAL": "0.5",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    config.reset()
    # One Redis serves the whole session: start each test with empty queues, so no message left by
    # an earlier test's processes reaches this test's workers.
    flush = redis.Redis.from_url(redis_server.url)
    flush.flushdb()
    flush.close()
    migrate.upgrade(values["DATABASE_URL"])
    yield dict(config.environ())
    config.reset()


@pytest.fixture
def seeded(env: dict[str, str]) -> dict[str, str]:
    """The demo data: 13 districts, two zones, 428 units, an open and a closed round."""
    with db.transaction() as session:
        demo.load(session)
    return env


@pytest.fixture
def tokens(seeded: dict[str, str]) -> dict[str, str]:
    """An API token for a clerk of 鼓楼区 (350102), one of 台江区 (350103) and a supervisor."""
    made = {}
    with db.transaction() as session:
        for name, role, district in (
            ("gulou", "district", "350102"),
            ("taijiang", "district", "350103"),
            ("supervisor", "supervisor", None),
        ):
            user = accounts.create_user(session, f"{name}-api@example.org", role, district, "secret-pass")
            made[name] = accounts.issue_token(session, user)
    return made


@pytest.fixture
def app(seeded: dict[str, str]) -> Any:
    from services.intake.app import create_app

    application = create_app(test_config={"TESTING": True})
    yield application


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def auth(app: Any) -> AuthActions:
    """`auth.sign_in("gulou")`: a client signed in as that demo user (gulou, taijiang, supervisor, admin)."""
    return AuthActions(app)


@pytest.fixture
def stack(seeded: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Real processes against this test's database; the test starts the ones it needs."""
    running = Stack(seeded, tmp_path)
    yield running
    running.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(running.logs())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
