"""A worker holding a message survives Redis going away and coming back (see shared/broker_fix.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from ops.redis_server import RedisServer
from shared import config, tasks
from shared.celery_app import make_celery
from tests.support.processes import Stack, wait_until

pytestmark = pytest.mark.e2e


def test_it_keeps_a_worker_holding_a_message_alive_across_a_redis_restart(
    seeded: dict[str, str], tmp_path: Path
) -> None:
    own = RedisServer(folder=tmp_path / "redis", appendonly=True).start()
    stack = Stack(dict(seeded, REDIS_URL=own.url), tmp_path)
    try:
        stack.start("notify")
        worker = stack.services["notify"]
        producer = make_celery("test", config.load(dict(seeded, REDIS_URL=own.url)))
        producer.send_task(tasks.FLUSH_ALERTS, countdown=30)  # held by the worker until its time comes
        broker = redis.Redis.from_url(own.url)
        wait_until(lambda: broker.hlen("unacked") >= 1, 30, "the worker to hold the message")
        broker.close()
        own.stop()
        wait_until(
            lambda: "Cannot connect" in worker.output() or "lost" in worker.output(),
            30,
            "the worker to notice the lost broker",
        )
        own.start()
        wait_until(lambda: worker.output().count("Connected to") >= 2, 60, "the worker to reconnect")
        assert worker.alive(), worker.output()[-2000:]
        assert "Unrecoverable error" not in worker.output()
    finally:
        stack.stop()
        own.stop()
