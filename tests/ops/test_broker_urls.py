"""Scaling the broker through configuration only: Redis, Redis Sentinel or RabbitMQ by URL."""

from __future__ import annotations

import pytest

from shared import config
from shared.celery_app import make_celery

BASE = {"PILOTWATCH_ENV": "test"}


@pytest.mark.parametrize(
    "variables, transport",
    [
        ({"REDIS_URL": "redis://cache:6379/0"}, "redis"),
        ({"REDIS_URL": "sentinel://s1:26379;sentinel://s2:26379/0"}, "sentinel"),
        ({"REDIS_URL": "redis://cache:6379/0", "BROKER_URL": "amqp://pw:secret@rabbit:5672//"}, "amqp"),
        ({"REDIS_URL": "redis://cache:6379/0", "BROKER_URL": "sentinel://s1:26379/0"}, "sentinel"),
    ],
)
def test_it_picks_the_broker_from_the_url_alone(variables: dict[str, str], transport: str) -> None:
    settings = config.load({**BASE, **variables})
    connection = make_celery("test", settings).connection_for_write()
    assert connection.transport_cls == transport
    options = connection.transport_options
    if transport == "sentinel":
        assert options["master_name"] == "mymaster"
    if transport == "amqp":
        assert "visibility_timeout" not in options  # a Redis-only option


def test_it_keeps_login_throttles_in_redis_when_the_broker_is_rabbitmq() -> None:
    settings = config.load({**BASE, "REDIS_URL": "redis://cache:6379/0", "BROKER_URL": "amqp://rabbit//"})
    assert settings.broker_url == "amqp://rabbit//"
    assert settings.redis_location == "redis://cache:6379/0"


def test_it_names_the_sentinel_master_from_configuration() -> None:
    settings = config.load(
        {**BASE, "BROKER_URL": "sentinel://s1:26379/0", "BROKER_SENTINEL_MASTER": "pw-main"}
    )
    assert make_celery("test", settings).connection_for_write().transport_options["master_name"] == "pw-main"


def test_it_declares_quorum_queues_behind_topic_exchanges_on_rabbitmq_only() -> None:
    rabbit = make_celery("test", config.load({**BASE, "BROKER_URL": "amqp://pw:secret@rabbit:5672//"}))
    plain = make_celery("test", config.load({**BASE, "REDIS_URL": "redis://cache:6379/0"}))
    for queue in rabbit.conf.task_queues:
        assert queue.queue_arguments == {"x-queue-type": "quorum"}, queue.name
        assert queue.exchange.type == "topic", queue.name  # Celery delays countdowns through topic exchanges
    for queue in plain.conf.task_queues:
        assert not queue.queue_arguments and queue.exchange.type == "direct", queue.name
    assert rabbit.conf.worker_detect_quorum_queues is True
