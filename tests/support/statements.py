"""The SQL statements a block of code runs, as the database sees them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from shared import db


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement run on the current database's engine while the block runs, in order."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine(), "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine(), "before_cursor_execute", note)
