"""The transactional outbox: events stored with the change, published after commit.

`add` writes the event in the caller's transaction. `publish` sends it with a bounded wait and
marks it sent; if the broker is down the row stays and `relay` sends it later. Consumers are
idempotent, so the rare double publish (relay and publisher racing) changes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Celery
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import config, db
from shared.models import OutboxEvent, utcnow

log = logging.getLogger(__name__)


def add(session: Session, task_name: str, payload: dict[str, Any]) -> OutboxEvent:
    event = OutboxEvent(id=payload["event_id"], task_name=task_name, payload=payload)
    session.add(event)
    return event


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


def publish(app: Celery, events: list[OutboxEvent]) -> int:
    """Publish freshly committed events; return how many went out. Never raises for a broker outage."""
    settings = config.current()
    sent: list[str] = []
    for event in events:
        try:
            send(app, event.task_name, event.payload, settings.publish_timeout)
        except Exception as exc:  # the broker is unreachable: the relay will publish it later
            log.warning("outbox: %s stays queued for the relay: %s", event.id, exc)
            break
        sent.append(event.id)
    if sent:
        with db.transaction() as session:
            session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(sent)).values(published_at=utcnow()))
    return len(sent)


def relay(app: Celery, limit: int = 500) -> int:
    """Publish events left unpublished for longer than the configured age; return how many."""
    settings = config.current()
    cutoff = utcnow() - timedelta(seconds=settings.outbox_relay_age)
    session = db.session()
    try:
        pending = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None), OutboxEvent.created_at <= cutoff)
            .order_by(OutboxEvent.created_at)
            .limit(limit)
        ).all()
        done = 0
        for event in pending:
            try:
                send(app, event.task_name, event.payload, settings.publish_timeout)
            except Exception as exc:
                event.attempts += 1
                event.last_error = str(exc)[:500]
                session.commit()
                raise
            event.published_at = utcnow()
            event.attempts += 1
            session.commit()
            done += 1
        return done
    finally:
        session.close()
