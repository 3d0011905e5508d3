"""A bare two-hop Celery pipeline doing no work: hop one sends hop two, hop two notes the time it ran.

Built by the project's own Celery factory, on the same two queues, so both workers run with the same
settings as ours (`celery -A bench.baseline.pipeline worker -Q evaluation` and `-Q notify`).
"""

from __future__ import annotations

import time
from typing import Any

import redis
from celery import shared_task

from shared import config, tasks
from shared.celery_app import make_celery

HOP_ONE = "bench.hop_one"
HOP_TWO = "bench.hop_two"
DONE_KEY = "bench:done"

app = make_celery("baseline")
app.conf.task_routes = {HOP_ONE: {"queue": tasks.EVALUATION_QUEUE}, HOP_TWO: {"queue": tasks.NOTIFY_QUEUE}}
_redis = redis.Redis.from_url(config.current().broker_url)


@shared_task(name=HOP_ONE)
def hop_one(event: dict[str, Any]) -> None:
    app.send_task(HOP_TWO, args=[event])


@shared_task(name=HOP_TWO)
def hop_two(event: dict[str, Any]) -> None:
    _redis.rpush(DONE_KEY, f"{event['unit']} {time.time():.6f}")
