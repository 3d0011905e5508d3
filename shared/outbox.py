"""The transactional outbox: events stored with the change, published after commit.

`add` validates an event with its schema and writes it in the caller's transaction. `publish` sends
it with a bounded wait and notes in Redis, per queue, the ids the broker took (one round trip, no
second transaction in the request). `relay`, run by each service's worker every
`OUTBOX_RELAY_INTERVAL` for the events addressed to its own queue, first marks every noted id published
in one UPDATE, then re-sends what is still unpublished after `OUTBOX_RELAY_AGE`: an event whose send
failed (the broker was down) or whose note was lost. So one service being down never holds back
another's messages, and `published_at` is set within one relay interval of the send. When Redis
cannot take the note, `publish` marks the rows itself as it used to. Consumers are idempotent, so the
rare double publish (a note lost, or relay and publisher racing) changes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import redis
from celery import Celery
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import caches, config, db, events, kept, tasks
from shared.models import OutboxEvent, utcnow

log = logging.getLogger(__name__)
MARK_CHUNK = 500  # ids per UPDATE (SQLite takes a bounded number of parameters)
FOLD_LIMIT = 20_000  # ids one relay run marks at most; the next run takes the rest


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
        # how logs and monitors show the message: its kind and id (Celery's own repr of the whole
        # payload costs more than the rest of the send's Python)
        argsrepr=f"[{task_name} {payload.get('event_id', '')}]",
        kwargsrepr="{}",
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
    sent: list[OutboxEvent] = []
    for row in rows:
        try:
            send(app, row.task_name, row.payload, settings.publish_timeout)
        except Exception as exc:  # the broker is unreachable: the relay will publish it later
            log.warning("outbox: %s stays queued for the relay: %s", row.id, exc)
            break
        sent.append(row)
    if sent:
        note_sent(settings, sent)
    return len(sent)


def sent_key(settings: config.Settings, queue: str) -> str:
    """The Redis set of the ids sent to `queue` and not yet marked published in the database."""
    return f"pilotwatch:outbox:{caches.namespace(settings)}:sent:{queue}"


def by_queue(rows: list[OutboxEvent]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for row in rows:
        grouped.setdefault(tasks.queue_of(row.task_name), []).append(row.id)
    return grouped


def note_sent(settings: config.Settings, rows: list[OutboxEvent]) -> None:
    """Note the sent ids for the relay's batched mark; when Redis cannot take the note, mark now."""
    try:
        client = caches.redis_client(settings)
        grouped = by_queue(rows)
        if not kept.holding() and len(grouped) == 1:  # one command: no pipeline to set up
            [(queue, ids)] = grouped.items()
            client.sadd(sent_key(settings, queue), *ids)
            return
        # with the kept figures' numbers the commit raised, held back for this round trip
        pipe = client.pipeline(transaction=False)
        for queue, ids in grouped.items():
            pipe.sadd(sent_key(settings, queue), *ids)
        raised = kept.add_held(pipe, settings)
        answers = pipe.execute(raise_on_error=False)
        raised(client, answers)
        for answer in answers[: len(grouped)]:
            if isinstance(answer, Exception):
                raise answer
    except redis.RedisError as exc:
        log.info("outbox: marking %d sent events now, Redis took no note: %s", len(rows), exc)
        with db.transaction() as session:
            mark_published(session, [row.id for row in rows])


def mark_published(session: Session, ids: list[str]) -> int:
    """Mark these events published (those not already); returns how many were marked."""
    marked = 0
    for start in range(0, len(ids), MARK_CHUNK):
        done = session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(ids[start : start + MARK_CHUNK]), OutboxEvent.published_at.is_(None))
            .values(published_at=utcnow())
        )
        marked += done.rowcount or 0  # type: ignore[attr-defined]
    return marked


def fold_sent(settings: config.Settings, queue: str) -> int:
    """Mark published, in one transaction, every id noted as sent to `queue`; returns how many.

    The ids leave Redis before the UPDATE commits: if it fails, those events are sent once more."""
    try:
        raw = caches.redis_client(settings).spop(sent_key(settings, queue), FOLD_LIMIT)
    except redis.RedisError as exc:
        log.warning("outbox: sent events of %s not marked this time: %s", queue, exc)
        return 0
    ids = [value.decode() for value in raw or []]  # type: ignore[union-attr]
    if not ids:
        return 0
    with db.transaction() as session:
        return mark_published(session, ids)


def noted(settings: config.Settings) -> int:
    """How many sent events wait for the relay to mark them published (0 when Redis cannot say)."""
    try:
        pipe = caches.redis_client(settings).pipeline(transaction=False)
        for queue in tasks.QUEUES:
            pipe.scard(sent_key(settings, queue))
        return sum(pipe.execute())
    except redis.RedisError:
        return 0


def relay(app: Celery, queue: str, limit: int = 500) -> int:
    """Mark the events noted as sent to `queue` published, then publish those left unpublished for
    longer than the configured age; returns how many it published."""
    settings = config.current()
    fold_sent(settings, queue)
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
