"""`pilotwatch doctor`: each check says what it found and, when something is wrong, what to do."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import redis
from sqlalchemy import create_engine, select, text

from shared import config, tasks

QUEUE_WARNING = 1000


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def check_configuration() -> Iterator[Check]:
    try:
        config.reset()
        settings = config.current()
    except config.ConfigError as exc:
        yield Check(
            "configuration",
            False,
            str(exc),
            "改正 .env 或环境变量 / correct the variable in .env or the environment",
        )
        return
    yield Check("configuration", True, f"{settings.env}, instance {settings.instance_dir}")
    if settings.secret_key == config.DEFAULT_SECRET:
        yield Check(
            "secret key",
            settings.env != "production",
            "SECRET_KEY is the development default",
            "set SECRET_KEY to a long random value before going live",
        )


def check_database(settings: config.Settings) -> Iterator[Check]:
    from alembic.script import ScriptDirectory

    from shared import migrate

    url = settings.database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, connect_args={"connect_timeout": 3} if "postgresql" in url else {})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:
        yield Check(
            "database",
            False,
            f"{config.mask_credentials(settings.database_url)}: {_first_line(exc)}",
            "check DATABASE_URL, that the server runs and the user may connect; then `pilotwatch db upgrade`",
        )
        return
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(migrate.alembic_config(settings.database_url)).get_current_head()
    yield Check("database", True, config.mask_credentials(settings.database_url))
    yield Check(
        "migrations",
        revision == head,
        f"schema at {revision}, code expects {head}",
        "" if revision == head else "run `pilotwatch db upgrade`",
    )


def check_redis(settings: config.Settings) -> Iterator[Check]:
    client = redis.Redis.from_url(settings.redis_location, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
        lengths = {queue: int(client.llen(queue)) for queue in tasks.QUEUES}
    except redis.RedisError as exc:
        yield Check(
            "redis",
            False,
            f"{config.mask_credentials(settings.redis_location)}: {_first_line(exc)}",
            "start Redis or correct REDIS_URL; submissions wait in the outbox meanwhile",
        )
        return
    finally:
        client.close()
    yield Check("redis", True, config.mask_credentials(settings.redis_location))
    if settings.broker_url == settings.redis_location:
        for queue, length in lengths.items():
            yield Check(
                f"queue {queue}",
                length < QUEUE_WARNING,
                f"{length} message(s) waiting",
                "" if length < QUEUE_WARNING else f"start more {queue} workers (see docs/OPERATIONS.md)",
            )


def check_mail_channels(settings: config.Settings) -> Iterator[Check]:
    import apprise

    from shared import db
    from shared.models import Channel

    with db.transaction() as session:
        urls = session.scalars(
            select(Channel.url).where(Channel.kind.in_(("mailto", "mailtos")), Channel.enabled.is_(True))
        ).all()
    servers = set()
    for url in urls:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        if plugin is not None:
            servers.add((plugin.smtp_host, int(plugin.port)))
    for host, port in sorted(servers):
        try:
            with smtplib.SMTP(host, port, timeout=min(settings.http_timeout, 5)) as smtp:
                smtp.noop()
            yield Check(f"smtp {host}:{port}", True, "answers")
        except (OSError, smtplib.SMTPException) as exc:
            yield Check(
                f"smtp {host}:{port}",
                False,
                _first_line(exc),
                "check the mail server or the channel (`pilotwatch channels list`, `channels test URL`)",
            )


def run() -> list[Check]:
    """Every check; later ones are skipped when what they need is broken."""
    results = list(check_configuration())
    if not results[0].ok:
        return results
    settings = config.current()
    steps: list[Callable[[config.Settings], Iterator[Check]]] = [check_database, check_redis]
    for step in steps:
        results.extend(step(settings))
    if all(r.ok for r in results if r.name == "database"):
        results.extend(check_mail_channels(settings))
    return results


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:300]
