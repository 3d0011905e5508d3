"""The transactional outbox: events stored with the change, published after commit.

`add` validates an event with its schema and writes it in the caller's transaction. `publish` sends
it with a bounded wait and marks it sent; if the broker is down the row stays and `relay` sends it
later. Each service relays the events addressed to its own queue, so one service being down never
holds back another's messages. Consumers are idempotent, so the rare double publish (relay and
publisher racing) changes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Celery
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import config, db, events
from shared.models import OutboxEvent, utcnow

log = logging.getLogger(__name__)


def add(session: Session, event: type[events.Event], **values: Any) -> OutboxEvent:
    """A new event of this kind, validated, added to the session's transaction."""
    payload = events.make(event, **values)
    row = OutboxEvent(id=payload["event_id"], task_name=events.task_of(event), payload=payload)
    session.add(row)
    return row


def send(app: Celery, task_name: str, payload: dict[str, Any], timeout: float) -> None:
    """Send one event by name; raise if the broker cannot take it within about `timeout` seconds."""
    app.send_task(
        task_name,
        args=[payload],
        retry=True,
        retry_policy={
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": timeout / 2,
            "interval_max": timeout / 2,
        },
    )


def publish(app: Celery, rows: list[OutboxEvent]) -> int:
    """Publish freshly committed events; return how many went out. Never raises for a broker outage."""
    settings = config.current()
    sent: list[str] = []
    for row in rows:
        try:
            send(app, row.task_name, row.payload, settings.publish_timeout)
        except Exception as exc:  # the broker is unreachable: the relay will publish it later
            log.warning("outbox: %s stays queued for the relay: %s", row.id, exc)
            break
        sent.append(row.id)
    if sent:
        with db.transaction() as session:
            session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(sent)).values(published_at=utcnow()))
    return len(sent)


def relay(app: Celery, queue: str, limit: int = 500) -> int:
    """Publish the events for `queue` left unpublished for longer than the configured age."""
    settings = config.current()
    cutoff = utcnow() - timedelta(seconds=settings.outbox_relay_age)
    session = db.session()
    try:
        pending = session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.published_at.is_(None),
                OutboxEvent.created_at <= cutoff,
                OutboxEvent.task_name.startswith(f"{queue}."),
            )
            .order_by(OutboxEvent.created_at)
            .limit(limit)
        ).all()
        done = 0
        for row in pending:
            try:
                send(app, row.task_name, row.payload, settings.publish_timeout)
            except Exception as exc:
                row.attempts += 1
                row.last_error = str(exc)[:500]
                session.commit()
                raise
            row.published_at = utcnow()
            row.attempts += 1
            session.commit()
            done += 1
        return done
    finally:
        session.close()
