"""From a group of alert items to one alert, rendered per language, and one delivery per channel."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.notify import decide, deliveries, messages
from shared import config, labels, ledger
from shared.catalogue import store as catalogues
from shared.channels import mask
from shared.models import Alert, AlertItem, Channel, Delivery, District, Finding, OutboxEvent, Round, utcnow
from shared.models.base import new_id


def action_en(catalogue: Any, finding: Finding) -> str:
    """What rectifying asks for in English: the catalogue rule's words (a problem raised by hand keeps
    the words typed)."""
    rule = catalogue.rule(finding.rule_code)
    return (rule.action_en if rule is not None and rule.action_en else "") or finding.action_zh


def finding_rows(session: Session, round_: Round, ids: list[int], now: datetime) -> list[dict[str, Any]]:
    catalogue = catalogues.get(session, round_.catalogue_version)
    yellow = config.current().yellow_light_days
    found = session.scalars(
        select(Finding)
        .where(Finding.id.in_(ids))
        .options(selectinload(Finding.unit))  # the units in one query, not one per unit
        .order_by(Finding.unit_id, Finding.id)
    )
    return [
        {
            "id": f.id,
            "credit_code": f.unit.credit_code if f.unit else "",
            "unit_name": f.unit.name if f.unit else "",
            "rule_code": f.rule_code,
            "rule_name": catalogue.rule_name(f.rule_code, "zh"),
            "rule_name_en": catalogue.rule_name(f.rule_code, "en"),
            "severity": f.severity,
            "severity_zh": labels.severity(f.severity, "zh"),
            "severity_en": labels.severity(f.severity, "en"),
            "category": f.category,
            "message_zh": f.message_zh,
            "message_en": f.message_en or f.message_zh,
            "action_zh": f.action_zh,
            "action_en": action_en(catalogue, f),
            "category_en": labels.category(f.category, "en"),
            "source": f.source,
            "status": f.status,
            "due_date": f.due_date.isoformat() if f.due_date else "",
            "age_days": decide.age_days(f.opened_at, now),
            "overdue_days": max((now.date() - f.due_date).days, 0) if f.due_date else 0,
            "light": ledger.light(f, now.date(), yellow),
        }
        for f in found
    ]


def channels_for(session: Session, district_code: str, audience: str, kind: str) -> list[Channel]:
    query = (
        select(Channel).where(Channel.audience == audience, Channel.enabled.is_(True)).order_by(Channel.id)
    )
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
        requests.append(deliveries.send_request(session, delivery.id))
    return alert, requests
