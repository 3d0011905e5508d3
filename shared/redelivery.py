"""A cap on redeliveries of one task message.

With late acknowledgement and `task_reject_on_worker_lost`, a message whose handling kills the worker
(a poison message: out of memory, a crash in a C library) would come back for ever. The base task
class counts each delivery of a message (its task id and retry number) in the broker's Redis; past
`MAX_REDELIVERIES` the message is not run again but recorded in the `pilotwatch:dead-letters` hash
and logged as an error, where `pilotwatch` operators look for it.
"""

from __future__ import annotations

import json
import logging
import time
from functools import lru_cache
from typing import Any

import redis
from celery import Task

from shared import config

log = logging.getLogger(__name__)
DEAD_LETTERS = "pilotwatch:dead-letters"
COUNT_KEY = "pilotwatch:deliveries:{id}:{retries}"


@lru_cache(maxsize=2)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


def client() -> redis.Redis | None:
    """The broker's Redis, or None when the broker is not Redis (RabbitMQ counts deliveries itself)."""
    url = config.current().broker_url
    return _client(url) if url.startswith(("redis://", "rediss://", "unix://")) else None


def count(task_id: str, retries: int) -> int:
    """Record one more delivery of this message and return how many there have been."""
    store = client()
    if store is None:
        return 1
    key = COUNT_KEY.format(id=task_id, retries=retries)
    with store.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(
            key, int(config.current().broker_visibility_timeout * (config.current().max_redeliveries + 2))
        )
        delivered, _ = pipe.execute()
    return int(delivered)


def bury(task: Task, deliveries: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Keep a message that came back too often where an operator finds it, and say so loudly."""
    record = {
        "task": task.name,
        "id": task.request.id,
        "retries": task.request.retries,
        "deliveries": deliveries,
        "args": args,
        "kwargs": kwargs,
        "at": time.time(),
    }
    store = client()
    if store is not None:
        store.hset(DEAD_LETTERS, task.request.id, json.dumps(record, default=str))
    log.error(
        "task %s[%s] delivered %d times, more than MAX_REDELIVERIES: not run again, kept in %s",
        task.name,
        task.request.id,
        deliveries,
        DEAD_LETTERS,
    )


def dead_letters() -> dict[str, dict[str, Any]]:
    store = client()
    if store is None:
        return {}
    return {k.decode(): json.loads(v) for k, v in store.hgetall(DEAD_LETTERS).items()}


class CappedTask(Task):
    """The base of every task: runs a message at most MAX_REDELIVERIES times."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request = self.request
        if request.id and not request.called_directly and not request.is_eager:
            deliveries = count(request.id, request.retries or 0)
            if deliveries > config.current().max_redeliveries:
                bury(self, deliveries, args, kwargs)
                return None
        return super().__call__(*args, **kwargs)
