"""From grouped items to an alert and its deliveries; from a delivery to an attempt on its channel."""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from services.notify import decide, messages
from services.notify.transports import Message, TransportError, mask
from shared import config, events, outbox, tasks
from shared.catalogue import store as catalogues
from shared.models import (
    Alert,
    AlertItem,
    Channel,
    Delivery,
    DeliveryAttempt,
    District,
    Finding,
    OutboxEvent,
    Round,
    utcnow,
)
from shared.models.base import new_id


def finding_rows(session: Session, round_: Round, ids: list[int], now: datetime) -> list[dict[str, Any]]:
    catalogue = catalogues.get(session, round_.catalogue_version)
    names = {r["code"]: (r["name_zh"], r.get("name_en") or r["name_zh"]) for r in catalogue.rules}
    found = session.scalars(select(Finding).where(Finding.id.in_(ids)).order_by(Finding.unit_id, Finding.id))
    return [
        {
            "id": f.id,
            "credit_code": f.unit.credit_code if f.unit else "",
            "unit_name": f.unit.name if f.unit else "",
            "rule_code": f.rule_code,
            "rule_name": names.get(f.rule_code, (f.rule_code,))[0],
            "rule_name_en": names.get(f.rule_code, (f.rule_code, f.rule_code))[1],
            "severity": f.severity,
            "message_zh": f.message_zh,
            "message_en": f.message_en or f.message_zh,
            "action_zh": f.action_zh,
            "source": f.source,
            "status": f.status,
            "due_date": f.due_date.isoformat() if f.due_date else "",
            "age_days": decide.age_days(f.opened_at, now),
        }
        for f in found
    ]


def channels_for(session: Session, district_code: str, audience: str, kind: str) -> list[Channel]:
    query = select(Channel).where(Channel.audience == audience).order_by(Channel.id)
    if audience == "district":
        query = query.where(Channel.district_code == district_code)
    if kind == "resolved":
        query = query.where(Channel.send_resolved.is_(True))
    return list(session.scalars(query))


def make_alert(session: Session, items: list[AlertItem], now: datetime) -> tuple[Alert, list[OutboxEvent]]:
    """One alert for a group of items and one delivery per channel of its audience; the send
    requests go through the outbox in the same transaction, so none is lost in a crash."""
    first = items[0]
    district = session.get(District, first.district_code)
    round_ = session.get(Round, first.round_code)
    if district is None or round_ is None:
        raise LookupError(f"unknown district {first.district_code} or round {first.round_code}")
    finding_ids = [i.finding_id for i in items if i.finding_id is not None]
    rows = finding_rows(session, round_, finding_ids, now) if finding_ids else []
    channels = channels_for(session, district.code, first.audience, first.kind)
    ledger = f"{config.current().public_url}/findings?district={district.code}&round={round_.code}"
    context = messages.alert_context(
        first.kind, first.audience, district, round_.code, rows, [i.details for i in items], ledger
    )
    content = {
        locale: asdict(messages.render(context, locale))
        for locale in sorted({c.locale for c in channels} | {"zh"})
    }
    alert = Alert(
        source_event_id=new_id(),
        kind=first.kind,
        audience=first.audience,
        district_code=district.code,
        round_code=round_.code,
        finding_ids=finding_ids,
        subject=content["zh"]["subject"],
        content=content,
        created_at=now,
    )
    session.add(alert)
    session.flush()
    requests = []
    for channel in channels:
        delivery = Delivery(
            alert_id=alert.id, channel_id=channel.id, target=mask(channel.url), created_at=utcnow()
        )
        session.add(delivery)
        session.flush()
        requests.append(send_request(session, delivery.id))
    return alert, requests


def send_request(session: Session, delivery_id: int, request_id: str = "") -> OutboxEvent:
    payload = events.envelope(delivery_id=delivery_id, request_id=request_id)
    return outbox.add(session, tasks.SEND_DELIVERY, payload)


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
                    detail="发送中断，结果未知，将重试 / the sender stopped mid-send; trying again",
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
            detail=f"重新发送 / resend requested by {who}"[:2000],
        )
    )
    delivery.status, delivery.claim, delivery.attempts, delivery.next_attempt_at = "pending", "", 0, now
    return send_request(session, delivery.id)


def backoff(attempts: int, base: float) -> float:
    """Exponential backoff with jitter: about base, 2·base, 4·base, ... seconds."""
    return base * (2 ** max(attempts - 1, 0)) * random.uniform(0.75, 1.25)
