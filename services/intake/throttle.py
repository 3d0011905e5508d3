"""Login throttling in Redis: failed attempts are counted per (account, source address) and per
source address, so an attacker can lock neither an account for its owner nor more than their own
address.

The key names the database too, so two deployments (or two test databases) sharing a Redis do
not lock each other's users.
"""

from __future__ import annotations

import hashlib
import logging
import re

import redis

from shared import config

log = logging.getLogger(__name__)


class LoginThrottle:
    def __init__(self, settings: config.Settings):
        self.redis = redis.Redis.from_url(settings.redis_location, socket_timeout=1, socket_connect_timeout=1)
        self.account_limit = settings.login_max_failures
        self.source_limit = settings.login_max_failures_per_address
        self.window = settings.login_lockout_seconds
        self.namespace = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]

    def account_key(self, email: str, source: str) -> str:
        return f"pilotwatch:login:{self.namespace}:account:{email.strip().lower()}:{source}"

    def source_key(self, source: str) -> str:
        return f"pilotwatch:login:{self.namespace}:source:{source}"

    def locked(self, email: str, source: str) -> bool:
        """Whether this address may not try this account (or any account) for now."""
        try:
            account, address = self.redis.mget(self.account_key(email, source), self.source_key(source))
        except redis.RedisError:
            # Clerks must still be able to work when Redis is down; the failure is logged.
            log.exception("login throttle unavailable; letting the attempt through")
            return False
        return int(account or 0) >= self.account_limit or int(address or 0) >= self.source_limit

    def failed(self, email: str, source: str) -> None:
        try:
            with self.redis.pipeline() as pipe:
                for key in (self.account_key(email, source), self.source_key(source)):
                    pipe.incr(key)
                    pipe.expire(key, self.window)
                pipe.execute()
        except redis.RedisError:
            log.exception("login throttle unavailable; failure not counted")

    def succeeded(self, email: str, source: str) -> None:
        try:
            self.redis.delete(self.account_key(email, source))
        except redis.RedisError:
            log.exception("login throttle unavailable; counter not reset")

    def unlock(self, email: str) -> int:
        """Forget every failed attempt at this account, from any address; return how many
        addresses were locked out of it or counting."""
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self.account_key(email, "")) + "*"
        keys = list(self.redis.scan_iter(match=pattern, count=500))
        return int(self.redis.delete(*keys)) if keys else 0
