"""A delivery's outcome is written even when the database drops the connection right after the send:
written again on a fresh connection, not left "sending" for the stalled requeue to send twice."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from services.notify import tasks


def test_an_outcome_write_that_loses_its_connection_is_made_again(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks.time, "sleep", lambda _seconds: None)
    tries: list[int] = []

    def record(session: Session) -> int:
        tries.append(1)
        if len(tries) == 1:
            raise OperationalError("UPDATE deliveries", {}, Exception("server closed the connection"))
        return session.execute(text("select 41 + 1")).scalar_one()

    assert tasks.recorded(record) == 42
    assert len(tries) == 2


def test_an_outcome_that_cannot_be_written_at_all_fails_the_task(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks.time, "sleep", lambda _seconds: None)
    tries: list[int] = []

    def record(_session: Session) -> None:
        tries.append(1)
        raise OperationalError("UPDATE deliveries", {}, Exception("the database is down"))

    with pytest.raises(OperationalError):
        tasks.recorded(record)
    assert len(tries) == tasks.RECORD_ATTEMPTS
