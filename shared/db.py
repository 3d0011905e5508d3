"""Engine and sessions. One engine per process, made from the configured URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from shared import caches, config, kept, private  # noqa: F401 (caches, kept: their listeners watch every session)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the web service read while a worker writes; the busy timeout makes
    # writers wait for each other instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _private_file(path: Path) -> None:
    """The database holds password hashes and channel secrets: 0600 in a 0700 folder when we make it,
    and an existing file loses group and other access (SQLite gives its -wal and -shm the same mode)."""
    private.make_folder(path.parent)
    try:
        private.keep_to_owner(path)
    except PermissionError:
        pass  # another account's file, shared with us on purpose: left as its owner set it


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_file(Path(path))
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def engine() -> Engine:
    return engine_for(config.current().database_url)


@lru_cache(maxsize=4)
def _factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


def session() -> Session:
    return _factory(config.current().database_url)()


@contextmanager
def transaction() -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on error."""
    db = session()
    try:
        with db.begin():
            yield db
    finally:
        db.close()
