"""A delivery's state machine: requested, claimed by one sender, delivered, retried with backoff,
failed for good, interrupted by a dying worker and requeued, or resent from the delivery log."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from services.notify.transports import Message, TransportError
from shared import events, outbox
from shared.models import Delivery, DeliveryAttempt, OutboxEvent
from shared.text import Text


def send_request(session: Session, delivery_id: int, request_id: str = "") -> OutboxEvent:
    return outbox.add(session, events.DeliveryRequested, delivery_id=delivery_id, request_id=request_id)


def claim(session: Session, delivery_id: int, claim_id: str, now: datetime) -> Delivery | None:
    """Take a delivery for sending. A duplicate request (another id) finds it taken or done;
    the same request redelivered after a crash may take it again."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            or_(
                Delivery.status.in_(("pending", "retrying")),
                (Delivery.status == "sending") & (Delivery.claim == claim_id),
            ),
        )
        .values(status="sending", claim=claim_id, claimed_at=now)
    )
    if result.rowcount != 1:
        return None
    return session.get(Delivery, delivery_id)


def message_of(delivery: Delivery) -> Message:
    """The alert's message in the channel's language (Chinese when it has none in that language)."""
    content = delivery.alert.content
    if "subject" in content:  # an alert stored before messages were kept per language
        return Message(**content)
    return Message(**content.get(delivery.channel.locale, content["zh"]))


def record_success(session: Session, delivery: Delivery, detail: str, now: datetime) -> None:
    delivery.attempts += 1
    delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now, ""
    session.add(
        DeliveryAttempt(delivery_id=delivery.id, attempted_at=now, outcome="delivered", detail=detail)
    )


def record_failure(
    session: Session, delivery: Delivery, error: TransportError, now: datetime, max_attempts: int, base: float
) -> float | None:
    """Store the failed attempt; return the delay before the next try, or None when there is none."""
    delivery.attempts += 1
    delivery.last_error = error.message[:1000]
    retry = not error.permanent and delivery.attempts < max_attempts
    outcome = "retrying" if retry else ("failed" if error.permanent else "dead")
    delay = backoff(delivery.attempts, base) if retry else None
    delivery.status = outcome
    delivery.next_attempt_at = now + timedelta(seconds=delay) if delay is not None else None
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id, attempted_at=now, outcome=outcome, detail=error.message[:2000]
        )
    )
    return delay


def requeue_due(session: Session, now: datetime) -> list[OutboxEvent]:
    """New send requests for the retries whose time has come (the periodic flush calls this).

    Each is taken by a conditional update (retrying → pending), so two flushes running at once
    request it once; a request that is then lost is requeued by `requeue_stalled`."""
    due = session.scalars(
        select(Delivery.id)
        .where(Delivery.status == "retrying", Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at)
        .limit(200)
    ).all()
    requests = []
    for delivery_id in due:
        taken = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == "retrying")
            .values(status="pending", claim="", next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:
            requests.append(send_request(session, delivery_id))
    return requests


def requeue_stalled(
    session: Session, now: datetime, stale_after: float, send_timeout: float = 0.0
) -> list[OutboxEvent]:
    """New send requests for deliveries whose request died with a worker: claimed but never finished,
    or waiting (pending, or a retry) long past their time. A request that is merely slow finds the
    delivery taken or done and does nothing. A claimed delivery counts as stalled only once its
    sender has had `send_timeout` more to finish: until then it may still be talking to the server."""
    cutoff = now - timedelta(seconds=stale_after)
    sending_cutoff = cutoff - timedelta(seconds=send_timeout)
    stalled = session.scalars(
        select(Delivery)
        .where(
            or_(
                (Delivery.status == "sending") & (Delivery.claimed_at < sending_cutoff),
                Delivery.status.in_(("pending", "retrying"))
                & (func.coalesce(Delivery.next_attempt_at, Delivery.created_at) < cutoff),
            )
        )
        .order_by(Delivery.id)
        .limit(200)
    ).all()
    requests = []
    for delivery in stalled:
        if delivery.status == "sending":
            session.add(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    attempted_at=now,
                    outcome="interrupted",
                    detail=Text("发送中断，结果未知，将重试", "The sender stopped mid-send; trying again"),
                )
            )
        delivery.status, delivery.claim, delivery.next_attempt_at = "retrying", "", now
        requests.append(send_request(session, delivery.id))
    return requests


def resend(session: Session, delivery_id: int, who: str, now: datetime) -> OutboxEvent | None:
    """Send a delivery again on request (from the delivery log), unless it is on its way already."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.status in ("pending", "sending", "retrying"):
        return None
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            attempted_at=now,
            outcome="resend",
            detail=Text("{who} 要求重新发送", "Resend requested by {who}").format(who=who)[:2000],
        )
    )
    delivery.status, delivery.claim, delivery.attempts, delivery.next_attempt_at = "pending", "", 0, now
    return send_request(session, delivery.id)


def backoff(attempts: int, base: float) -> float:
    """Exponential backoff with jitter: about base, 2·base, 4·base, ... seconds."""
    return base * (2 ** max(attempts - 1, 0)) * random.uniform(0.75, 1.25)
