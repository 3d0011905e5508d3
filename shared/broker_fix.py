"""A guard around one kombu defect, applied where the Celery app is made.

When the connection to Redis is lost, a worker closes its channel and kombu's Redis transport puts
back the messages the worker held (acknowledged late, or waiting for their countdown). By then the
connection object is already released, so kombu builds a new client from `None` and raises
AttributeError ('NoneType' object has no attribute 'hostname'); Celery takes that for an
unrecoverable error and the worker exits. Nothing is lost either way: those messages stay in the
transport's unacked set in Redis and kombu restores them after the visibility timeout. The guard
skips the immediate put-back when there is no connection left to do it with, so the worker
reconnects instead of dying.
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.transport import redis as kombu_redis

log = logging.getLogger(__name__)
_original = kombu_redis.QoS.restore_unacked


def _restore_unacked(self: Any, client: Any = None) -> Any:
    if client is None and getattr(self.channel.connection, "client", None) is None:
        log.warning(
            "broker connection lost: %d held message(s) come back after the visibility timeout",
            len(self._delivered),
        )
        return None
    return _original(self, client)


def apply() -> None:
    kombu_redis.QoS.restore_unacked = _restore_unacked
