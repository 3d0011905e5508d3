"""From findings to an alert and its deliveries; from a delivery to an attempt on its channel."""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from services.notify import messages
from services.notify.transports import Message, TransportError, mask
from shared import config, events, outbox, tasks
from shared.catalogue import store as catalogues
from shared.models import Alert, Channel, Delivery, DeliveryAttempt, District, Finding, OutboxEvent, Round


def finding_rows(session: Session, round_: Round, ids: list[int]) -> list[dict[str, Any]]:
    catalogue = catalogues.get(session, round_.catalogue_version)
    names = {r["code"]: r["name_zh"] for r in catalogue.rules}
    found = session.scalars(select(Finding).where(Finding.id.in_(ids)).order_by(Finding.unit_id, Finding.id))
    return [{
        "id": f.id, "credit_code": f.unit.credit_code if f.unit else "", "unit_name": f.unit.name if f.unit else "",
        "rule_code": f.rule_code, "rule_name": names.get(f.rule_code, f.rule_code), "severity": f.severity,
        "message_zh": f.message_zh, "action_zh": f.action_zh, "source": f.source,
        "due_date": f.due_date.isoformat() if f.due_date else "",
    } for f in found]


def open_alert(session: Session, event: dict[str, Any]) -> list[OutboxEvent]:
    """Make the alert for a FindingsOpened event and one delivery per district channel.

    Runs once per event: a redelivered event finds its alert and does nothing. The deliveries'
    send requests go through the outbox in the same transaction, so none is lost in a crash.
    """
    if session.scalar(select(Alert.id).where(Alert.source_event_id == event["event_id"])) is not None:
        return []
    district = session.get(District, event["district_code"])
    round_ = session.get(Round, event["round_code"])
    if district is None or round_ is None:
        raise LookupError(f"unknown district {event['district_code']} or round {event['round_code']}")
    rows = finding_rows(session, round_, event["finding_ids"])
    settings = config.current()
    context = messages.findings_context(
        {"code": district.code, "name_zh": district.name_zh, "name_en": district.name_en},
        round_.code, rows, f"{settings.public_url}/findings?district={district.code}&round={round_.code}",
    )
    message = messages.render_findings(context)
    alert = Alert(source_event_id=event["event_id"], district_code=district.code, round_code=round_.code,
                  finding_ids=[r["id"] for r in rows], subject=message.subject, content=asdict(message))
    session.add(alert)
    channels = session.scalars(select(Channel).where(Channel.district_code == district.code,
                                                     Channel.audience == "district").order_by(Channel.id)).all()
    session.flush()
    requests = []
    for channel in channels:
        delivery = Delivery(alert_id=alert.id, channel_id=channel.id, target=mask(channel.url))
        session.add(delivery)
        session.flush()
        payload = events.envelope(delivery_id=delivery.id, request_id=event.get("request_id", ""))
        requests.append(outbox.add(session, tasks.SEND_DELIVERY, payload))
    return requests


def claim(session: Session, delivery_id: int, claim_id: str) -> Delivery | None:
    """Take a delivery for sending. A duplicate request (another id) finds it taken or done;
    the same request redelivered after a crash may take it again."""
    result = session.execute(
        update(Delivery).where(Delivery.id == delivery_id, or_(
            Delivery.status.in_(("pending", "retrying")),
            (Delivery.status == "sending") & (Delivery.claim == claim_id),
        )).values(status="sending", claim=claim_id)
    )
    if result.rowcount != 1:
        return None
    return session.get(Delivery, delivery_id)


def message_of(delivery: Delivery) -> Message:
    return Message(**delivery.alert.content)


def record_success(session: Session, delivery: Delivery, detail: str, now: datetime) -> None:
    delivery.attempts += 1
    delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now, ""
    session.add(DeliveryAttempt(delivery_id=delivery.id, attempted_at=now, outcome="delivered", detail=detail))


def record_failure(session: Session, delivery: Delivery, error: TransportError, now: datetime,
                   max_attempts: int) -> bool:
    """Store the failed attempt; return True when it should be tried again."""
    delivery.attempts += 1
    delivery.last_error = error.message[:1000]
    retry = not error.permanent and delivery.attempts < max_attempts
    outcome = "retrying" if retry else ("failed" if error.permanent else "dead")
    delivery.status = outcome
    session.add(DeliveryAttempt(delivery_id=delivery.id, attempted_at=now, outcome=outcome,
                                detail=error.message[:2000]))
    return retry


def backoff(attempts: int, base: float) -> float:
    """Exponential backoff with jitter: about base, 2·base, 4·base, ... seconds."""
    return base * (2 ** max(attempts - 1, 0)) * random.uniform(0.75, 1.25)
