"""Per-process caches of what changes rarely (API tokens, units, rounds, catalogues), with explicit
invalidation.

Each cache keeps an entry for at most `CACHE_SECONDS` (and at most `MAX_ENTRIES` entries). Any committed
change to a watched table (users, API tokens, pilot units, rounds, catalogue versions), made through the
ORM in any process, empties every cache:

- in the process that made it, at once (the session's flush and commit);
- in every other process, on its next look-up: the commit raises a generation number in Redis, which
  each process reads once per request (`begin`) or once per look-up outside a request, and a process
  that sees a new number empties its caches.

When Redis cannot be reached, a change made elsewhere is seen within `CACHE_SECONDS` at most. Entries
are keyed by the database's URL, so processes (and tests) using several databases never mix them.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Generic, TypeVar

import redis
from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, make_transient_to_detached

from shared import config
from shared.models import ApiToken, CatalogueVersion, PilotUnit, Round, User

log = logging.getLogger(__name__)
V = TypeVar("V")
WATCHED: tuple[type, ...] = (User, ApiToken, PilotUnit, Round, CatalogueVersion)
MAX_ENTRIES = 50_000  # per cache: a province's units with room to spare; past it the cache starts over
WATCHED_TABLES = frozenset(model.__tablename__ for model in WATCHED)  # type: ignore[attr-defined]
_CHANGED = "caches_changed"

_caches: list[TimedCache[Any]] = []
_seen: dict[str, bytes | None] = {}  # the generation last read from Redis, per database
# Inside a request, [whether Redis was asked yet]; outside (None), Redis is asked at every look-up.
_scope: ContextVar[list[bool] | None] = ContextVar("caches_scope", default=None)


def namespace(settings: config.Settings) -> str:
    """A short name for the database, so that deployments sharing a Redis keep apart."""
    return hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]


def generation_key(settings: config.Settings) -> str:
    return f"pilotwatch:caches:{namespace(settings)}:generation"


@lru_cache(maxsize=8)
def _redis(url: str) -> redis.Redis:
    # Short waits: a Redis that does not answer must not hold a request up (a note missed is safe).
    return redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)


def redis_client(settings: config.Settings) -> redis.Redis:
    """This process's client of the Redis for small shared notes (REDIS_URL), with short timeouts."""
    return _redis(settings.redis_location)


def fresh(ttl: float, stored_at: float, now: float) -> bool:
    """Whether an entry stored at `stored_at` may still be used at `now` (monotonic seconds)."""
    return now - stored_at < ttl


class TimedCache(Generic[V]):
    """Values by key, each kept for at most `CACHE_SECONDS`, emptied with every other cache on a change."""

    def __init__(self, name: str):
        self.name = name
        self.entries: dict[tuple[str, Hashable], tuple[float, V]] = {}
        _caches.append(self)

    def get(self, key: Hashable, load: Callable[[], V | None]) -> V | None:
        """The cached value of `key`, or `load()`'s (kept unless it is None)."""
        settings = config.current()
        scope = _scope.get()
        if scope is None or not scope[0]:
            check(settings)
            if scope is not None:
                scope[0] = True
        full_key = (settings.database_url, key)
        now = time.monotonic()
        found = self.entries.get(full_key)
        if found is not None and fresh(settings.cache_seconds, found[0], now):
            return found[1]
        value = load()
        if value is None:
            self.entries.pop(full_key, None)
        else:
            if len(self.entries) >= MAX_ENTRIES:
                self.entries.clear()
            self.entries[full_key] = (now, value)
        return value

    def forget(self, key: Hashable | None = None) -> None:
        """Drop one key (of the current database), or everything."""
        if key is None:
            self.entries.clear()
        else:
            self.entries.pop((config.current().database_url, key), None)


def forget_all() -> None:
    """Empty every cache of this process."""
    for cache in _caches:
        cache.forget()


def check(settings: config.Settings | None = None) -> None:
    """Empty this process's caches if another process changed a watched table since the last check."""
    settings = settings or config.current()
    try:
        generation = redis_client(settings).get(generation_key(settings))
    except redis.RedisError as exc:  # changes made elsewhere are seen within CACHE_SECONDS
        log.debug("caches: no generation from Redis: %s", exc)
        return
    if settings.database_url in _seen and _seen[settings.database_url] == generation:
        return
    if settings.database_url in _seen:
        forget_all()
    _seen[settings.database_url] = generation


def begin() -> Any:
    """At the start of a request: its first look-up asks Redis, the others trust that answer.
    Returns the token `end` takes."""
    return _scope.set([False])


def end(token: Any) -> None:
    _scope.reset(token)


def snapshot(instance: V) -> V:
    """A copy of a loaded row's columns that belongs to no session, for a cache: a request takes it
    into its own session with `session.merge(copy, load=False)`, without a query."""
    mapper = sa_inspect(instance).mapper
    copy = mapper.class_(**{attr.key: getattr(instance, attr.key) for attr in mapper.column_attrs})
    make_transient_to_detached(copy)
    return copy


def changed(settings: config.Settings | None = None) -> None:
    """A watched table changed (committed): empty this process's caches and tell the others."""
    settings = settings or config.current()
    forget_all()
    try:
        raised = redis_client(settings).incr(generation_key(settings))
        _seen[settings.database_url] = str(raised).encode()  # our own change is no news to us
    except redis.RedisError as exc:
        log.warning("caches: other processes see this change within CACHE_SECONDS: %s", exc)


def _watched(objects: Any) -> bool:
    return any(isinstance(obj, WATCHED) for obj in objects)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if _watched(session.new) or _watched(session.dirty) or _watched(session.deleted):
        session.info[_CHANGED] = True
        forget_all()  # this process must not serve the old values even before the commit


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState) -> None:
    """`update(Round)…` and `delete(ApiToken)…` change rows without the session's flush seeing them."""
    table = getattr(state.statement, "table", None)
    if (state.is_update or state.is_delete) and getattr(table, "name", None) in WATCHED_TABLES:
        state.session.info[_CHANGED] = True
        forget_all()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        changed()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
