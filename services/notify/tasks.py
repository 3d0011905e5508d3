"""Thin Celery tasks: record what events ask to be told, flush groups into alerts, send deliveries."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from celery import Task, current_app, shared_task
from marshmallow import Schema
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from services.notify import collect, deliveries, flush
from services.notify.registry import transport_for
from services.notify.transports import TransportError
from shared import clock, config, db, events, outbox, tasks
from shared.channels import InvalidChannel
from shared.models import Delivery, utcnow
from shared.text import Text

log = logging.getLogger(__name__)
T = TypeVar("T")


def record(
    task: Task,
    schema: Schema,
    event: dict[str, Any],
    recorder: Callable[[Session, dict[str, Any], datetime], int],
) -> int:
    """Validate an event, record its items, and ask for a flush once `group_wait` has passed."""
    data = schema.load(event)
    try:
        with db.transaction() as session:
            added = recorder(session, data, clock.now())
    except OperationalError as exc:
        raise task.retry(countdown=1 + task.request.retries) from exc
    schedule_flush()
    return added


_flush_scheduled_for = 0.0  # when the flush this process last asked for will run (monotonic clock)


def schedule_flush() -> None:
    """The scheduler flushes every few seconds anyway; this makes the first alert of a batch prompt
    when the group wait is short enough to be held as a countdown (config.flush_countdown).

    A flush already asked for that runs once this event's items are due covers them too, so a burst
    of events asks for a flush at most every half second instead of once per event."""
    global _flush_scheduled_for
    settings = config.current()
    wait = settings.flush_countdown
    if wait is None:
        return
    due = time.monotonic() + settings.group_wait
    if _flush_scheduled_for >= due:
        return
    try:
        current_app.send_task(
            tasks.FLUSH_ALERTS,
            args=[events.envelope()],
            countdown=wait,
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception as exc:  # the broker is unreachable: the periodic flush will do it
        log.warning("could not schedule a flush, the periodic one will send the alert: %s", exc)
        return
    _flush_scheduled_for = due + 0.5


@shared_task(name=tasks.NOTIFY_FINDINGS_OPENED, bind=True, max_retries=10)
def findings_opened(self: Task, event: dict[str, Any]) -> int:
    return record(self, events.schema(events.FindingsOpened), event, collect.record_opened)


@shared_task(name=tasks.NOTIFY_FINDINGS_RESOLVED, bind=True, max_retries=10)
def findings_resolved(self: Task, event: dict[str, Any]) -> int:
    return record(self, events.schema(events.FindingsResolved), event, collect.record_resolved)


@shared_task(name=tasks.NOTIFY_FINDINGS_CHANGED, bind=True, max_retries=10)
def findings_changed(self: Task, event: dict[str, Any]) -> int:
    return record(self, events.schema(events.FindingsChanged), event, collect.record_changed)


@shared_task(name=tasks.NOTIFY_REPORTS_DUE_SOON, bind=True, max_retries=10)
def reports_due_soon(self: Task, event: dict[str, Any]) -> int:
    return record(self, events.schema(events.ReportsDueSoon), event, collect.record_due_soon)


@shared_task(name=tasks.RELAY_OUTBOX[tasks.NOTIFY_QUEUE])
def relay_outbox() -> int:
    """Publish the events for this queue that their producer could not (the broker was down)."""
    return outbox.relay(current_app, tasks.NOTIFY_QUEUE)


@shared_task(name=tasks.FLUSH_ALERTS)
def flush_alerts(event: dict[str, Any] | None = None) -> int:
    settings = config.current()
    timing, now = collect.timing(settings), clock.now()
    try:
        with db.transaction() as session:
            collect.record_due_by_time(session, now, timing)
            session.flush()
            produced = flush.flush(session, now, timing)
            produced += deliveries.requeue_due(session, utcnow())
            produced += deliveries.requeue_stalled(
                session, utcnow(), settings.delivery_stale_after, 2 * settings.http_timeout
            )
    except (flush.GroupTaken, OperationalError) as exc:
        log.info("flush skipped, another one is at work: %s", exc)
        return 0
    return outbox.publish(current_app, produced)


@shared_task(name=tasks.RESEND_DELIVERY)
def resend_delivery(event: dict[str, Any]) -> str:
    data = events.load(events.DeliveryResendRequested, event)
    with db.transaction() as session:
        request = deliveries.resend(session, data["delivery_id"], data["requested_by"], utcnow())
    if request is None:
        return "on its way already"
    outbox.publish(current_app, [request])
    return "requested"


def transport_or_failure(url: str, enabled: bool, timeout: float) -> tuple[Any, TransportError | None]:
    """The channel's transport, or the permanent failure that stops its delivery: a disabled
    channel, or one that cannot be loaded (its URL no longer parses)."""
    if not enabled:
        return None, TransportError(Text("渠道已停用", "The channel is disabled"), permanent=True)
    try:
        return transport_for(url, timeout), None
    except InvalidChannel as exc:
        return None, TransportError(
            Text("渠道无法加载：{why}", "The channel cannot be loaded: {why}").format(why=exc), permanent=True
        )


RECORD_ATTEMPTS = 5  # a delivery's outcome is written up to this many times, 0.5 s more apart each


def recorded(record: Callable[[Session], T]) -> T:
    """Write what became of a delivery once it was tried. The message is out (or refused) already:
    a database connection dropped meanwhile is tried again on a fresh one, instead of leaving the
    delivery "sending" for the stalled requeue to send a second time."""
    for attempt in range(1, RECORD_ATTEMPTS):
        try:
            with db.transaction() as session:
                return record(session)
        except OperationalError as exc:
            log.warning("a delivery's outcome not written (attempt %d), written again: %s", attempt, exc)
            time.sleep(0.5 * attempt)
    with db.transaction() as session:  # the last attempt: its failure is the task's
        return record(session)


@shared_task(name=tasks.SEND_DELIVERY, bind=True)
def send_delivery(self: Task, event: dict[str, Any]) -> str:
    data = events.load(events.DeliveryRequested, event)
    settings = config.current()
    with db.transaction() as session:
        delivery = deliveries.claim(session, data["delivery_id"], self.request.id, utcnow())
        if delivery is None:
            return "already handled"
        url, enabled, message = (
            delivery.channel.url,
            delivery.channel.enabled,
            deliveries.message_of(delivery),
        )
    transport, error = transport_or_failure(url, enabled, settings.http_timeout)
    detail = ""
    if transport is not None:
        try:
            detail = transport.notify(message, key=f"delivery-{data['delivery_id']}")
        except TransportError as failed:
            error = failed
    if error is not None:
        delay = recorded(
            lambda session: deliveries.record_failure(
                session,
                session.get(Delivery, data["delivery_id"]),
                error,
                utcnow(),
                settings.delivery_max_attempts,
                settings.delivery_backoff,
            )
        )
        # A retry waits in the database (next_attempt_at), not in the broker: the periodic flush
        # sends it when due, so no message is held for longer than the visibility timeout allows.
        log.warning(
            "delivery %s failed (%s): %s",
            data["delivery_id"],
            f"retry in {delay:.1f} s" if delay is not None else "permanent" if error.permanent else "gave up",
            error.message,
        )
        return "retrying" if delay is not None else "failed"
    recorded(
        lambda session: deliveries.record_success(
            session, session.get(Delivery, data["delivery_id"]), detail, utcnow()
        )
    )
    log.info("delivery %s delivered: %s", data["delivery_id"], detail)
    return "delivered"
