"""Login throttling in Redis: after too many failed attempts an address is locked for a while.

The key names the database too, so two deployments (or two test databases) sharing a Redis do
not lock each other's users.
"""

from __future__ import annotations

import hashlib
import logging

import redis

from shared import config

log = logging.getLogger(__name__)


class LoginThrottle:
    def __init__(self, settings: config.Settings):
        self.redis = redis.Redis.from_url(settings.redis_location, socket_timeout=1, socket_connect_timeout=1)
        self.limit = settings.login_max_failures
        self.window = settings.login_lockout_seconds
        self.namespace = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]

    def key(self, email: str) -> str:
        return f"pilotwatch:login:{self.namespace}:{email.strip().lower()}"

    def locked(self, email: str) -> bool:
        try:
            return int(self.redis.get(self.key(email)) or 0) >= self.limit
        except redis.RedisError:
            # Clerks must still be able to work when Redis is down; the failure is logged.
            log.exception("login throttle unavailable; letting the attempt through")
            return False

    def failed(self, email: str) -> None:
        try:
            with self.redis.pipeline() as pipe:
                pipe.incr(self.key(email))
                pipe.expire(self.key(email), self.window)
                pipe.execute()
        except redis.RedisError:
            log.exception("login throttle unavailable; failure not counted")

    def succeeded(self, email: str) -> None:
        try:
            self.redis.delete(self.key(email))
        except redis.RedisError:
            log.exception("login throttle unavailable; counter not reset")
