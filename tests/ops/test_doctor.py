"""`pilotwatch doctor` against a real database, a real Redis and a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ops.redis_server import RedisServer, free_port
from shared import db
from shared.models import Channel
from tests.support.operators import pilotwatch
from tests.support.sinks import SmtpSink

GULOU = "350102"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.close()


def add_mail_channel(url: str) -> None:
    with db.transaction() as session:
        session.add(Channel(district_code=GULOU, kind="mailto", url=url))


def fault_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "FAULT" in line]


def faulty(output: str) -> list[str]:
    """The names of the failed checks, from lines like `[故障 / FAULT] redis: detail`."""
    return [line.split("] ", 1)[1].split(": ", 1)[0] for line in fault_lines(output)]


def test_it_passes_on_a_healthy_setup(seeded: dict[str, str], smtp: SmtpSink) -> None:
    add_mail_channel(smtp.url())
    result = pilotwatch(seeded, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in (
        "configuration",
        "database",
        "migrations",
        "redis",
        "queue evaluation",
        "queue notify",
        f"smtp 127.0.0.1:{smtp.port}",
    ):
        assert f"] {name}:" in result.stdout, name
    assert not fault_lines(result.stdout)


def test_it_names_a_wrong_database_url(seeded: dict[str, str]) -> None:
    wrong = f"postgresql://pilotwatch@127.0.0.1:{free_port()}/pilotwatch"
    result = pilotwatch({**seeded, "DATABASE_URL": wrong}, "doctor")
    assert result.returncode == 1
    assert faulty(result.stdout) == ["database"]
    assert "DATABASE_URL" in result.stdout


def test_it_names_redis_when_it_is_down(seeded: dict[str, str]) -> None:
    redis = RedisServer().start()
    url = redis.url
    redis.stop()
    result = pilotwatch({**seeded, "REDIS_URL": url}, "doctor")
    assert result.returncode == 1
    assert faulty(result.stdout) == ["redis"]
    assert "start Redis or correct REDIS_URL" in result.stdout


def test_it_names_an_unreachable_mail_server(seeded: dict[str, str]) -> None:
    port = free_port()
    add_mail_channel(
        f"mailto://127.0.0.1:{port}?smtp=127.0.0.1&from=a@pilotwatch.example&to=b@example.org&mode=insecure"
    )
    result = pilotwatch(seeded, "doctor")
    assert result.returncode == 1
    assert faulty(result.stdout) == [f"smtp 127.0.0.1:{port}"]


def test_it_names_a_malformed_setting(seeded: dict[str, str]) -> None:
    result = pilotwatch({**seeded, "WORKER_CONCURRENCY": "two"}, "doctor")
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "configuration" in said and "WORKER_CONCURRENCY must be an integer" in said
