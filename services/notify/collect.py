"""Alert items recorded from events (new, resolved findings; reports due) and from time (reminders,
escalations). Items wait in the database until flush.py groups them into alerts."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from services.notify import decide
from shared import config
from shared.models import AlertItem, Finding, FindingAlertState, PilotUnit
from shared.models.base import new_id

SUPERSEDED_BY_RESOLUTION = ("opened", "reminder", "escalation", "digest")


def timing(settings: config.Settings | None = None) -> decide.Timing:
    s = settings or config.current()
    return decide.Timing(
        group_wait=s.group_wait,
        group_interval=s.group_interval,
        repeat_interval=s.repeat_interval,
        escalation_interval=s.escalation_interval,
        digest_hour=s.digest_hour,
    )


def item(
    event_id: str,
    finding: Finding,
    audience: str,
    kind: str,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> AlertItem:
    return AlertItem(
        source_event_id=event_id,
        district_code=finding.district_code,
        round_code=finding.round_code,
        audience=audience,
        kind=kind,
        severity=finding.severity,
        finding_id=finding.id,
        details=details or {},
        created_at=now,
    )


def record_opened(session: Session, event: dict[str, Any], now: datetime) -> int:
    """Items for the findings of a FindingsOpened event; a finding already alerted is skipped, so a
    redelivered or repeated event adds nothing. Two queries whatever the number of findings, and two
    bulk inserts: only the columns an item copies are read, and nothing is kept as an object."""
    ids = event["finding_ids"]
    findings = session.execute(
        select(Finding.id, Finding.district_code, Finding.round_code, Finding.severity)
        .where(
            Finding.id.in_(ids),
            Finding.active.is_(True),
            # A record (a late report) is a fact the district knows already: nothing to alert.
            Finding.status != "recorded",
            ~select(FindingAlertState.finding_id).where(FindingAlertState.finding_id == Finding.id).exists(),
        )
        .order_by(Finding.id)
    ).all()
    states = [{"finding_id": f.id, "first_alerted_at": now, "escalations": 0} for f in findings]
    items = [
        {
            "source_event_id": event["event_id"],
            "district_code": f.district_code,
            "round_code": f.round_code,
            "audience": audience,
            "kind": kind,
            "severity": f.severity,
            "finding_id": f.id,
            "details": {},
            "created_at": now,
            "status": "pending",
        }
        for f in findings
        for audience, kind in decide.routes(f.severity)
    ]
    if states:
        session.execute(insert(FindingAlertState), states)
    if items:
        session.execute(insert(AlertItem), items)
    return len(items)


def record_resolved(session: Session, event: dict[str, Any], now: datetime) -> int:
    """A resolved notice for each finding someone was told about; whatever was still waiting about it
    (its first alert, a reminder, an escalation) is dropped. A handful of queries for the event."""
    ids = event["finding_ids"]
    states = {
        state.finding_id: state
        for state in session.scalars(select(FindingAlertState).where(FindingAlertState.finding_id.in_(ids)))
        if state.resolved_noticed_at is None
    }
    findings = [
        f for f in session.scalars(select(Finding).where(Finding.id.in_(list(states)))) if f.id in states
    ]
    if not findings:
        return 0
    noticed = [f.id for f in findings]
    session.execute(
        update(AlertItem)
        .where(
            AlertItem.finding_id.in_(noticed),
            AlertItem.status == "pending",
            AlertItem.kind.in_(SUPERSEDED_BY_RESOLUTION),
        )
        .values(status="dropped")
    )
    told: dict[int, set[str]] = defaultdict(set)
    for finding_id, audience in session.execute(
        select(AlertItem.finding_id, AlertItem.audience).where(
            AlertItem.finding_id.in_(noticed), AlertItem.status == "sent"
        )
    ):
        told[finding_id].add(audience)
    added = 0
    for finding in findings:
        states[finding.id].resolved_noticed_at = now
        for audience in sorted(told[finding.id]):
            session.add(
                item(
                    event["event_id"], finding, audience, "resolved", now, {"reason": event.get("reason", "")}
                )
            )
            added += 1
    return added


def record_changed(session: Session, event: dict[str, Any], now: datetime) -> int:
    """An item telling the district a supervisor returned a finding, or decided on its request for a
    later deadline; once per event and finding."""
    added = 0
    for finding in session.scalars(select(Finding).where(Finding.id.in_(event["finding_ids"]))):
        exists = session.scalar(
            select(AlertItem.id).where(
                AlertItem.source_event_id == event["event_id"], AlertItem.finding_id == finding.id
            )
        )
        if exists is not None:
            continue
        details = {"change": event["change"], "note": event.get("note", "")}
        session.add(item(event["event_id"], finding, "district", event["change"], now, details))
        added += 1
    return added


def record_due_soon(session: Session, event: dict[str, Any], now: datetime) -> int:
    """One item telling a district which of its units have not reported yet."""
    if session.scalar(select(AlertItem.id).where(AlertItem.source_event_id == event["event_id"])) is not None:
        return 0
    units = session.execute(
        select(PilotUnit.credit_code, PilotUnit.name)
        .where(PilotUnit.credit_code.in_(event["unit_credit_codes"]))
        .order_by(PilotUnit.credit_code)
    ).all()
    details = {
        "due_date": event["due_date"],
        "days_left": event["days_left"],
        "units": [{"credit_code": code, "name": name} for code, name in units],
    }
    session.add(
        AlertItem(
            source_event_id=event["event_id"],
            district_code=event["district_code"],
            round_code=event["round_code"],
            audience="district",
            kind="due_soon",
            severity="warning",
            details=details,
            created_at=now,
        )
    )
    return 1


def record_due_by_time(session: Session, now: datetime, timing: decide.Timing) -> int:
    """Reminders for findings still open after `repeat_interval`, escalations for those past their
    rectification deadline. A finding whose district still has something waiting about it (its first
    alert held by a mute window) gets no reminder yet. The state is updated conditionally, so two
    flushes racing add one item."""
    # Only the findings whose reminder or escalation may be due are read (the decision below is the
    # exact one): a flush runs every few seconds over every alerted finding of every round.
    remind_since = func.coalesce(FindingAlertState.last_reminded_at, FindingAlertState.first_alerted_at)
    reminder_possible = and_(
        Finding.status.in_(decide.REMINDING_STATUSES),
        remind_since <= now - timedelta(seconds=timing.repeat_interval),
    )
    escalation_possible = and_(
        Finding.status.in_(decide.ESCALATING_STATUSES),
        Finding.due_date < now.date(),
        or_(
            FindingAlertState.last_escalated_at.is_(None),
            FindingAlertState.last_escalated_at <= now - timedelta(seconds=timing.escalation_interval),
        ),
    )
    rows = session.execute(
        select(FindingAlertState, Finding)
        .join(Finding, Finding.id == FindingAlertState.finding_id)
        .where(
            Finding.active.is_(True),
            Finding.due_date.is_not(None),
            FindingAlertState.resolved_noticed_at.is_(None),
            or_(reminder_possible, escalation_possible),
        )
    ).all()
    waiting = set(
        session.scalars(
            select(AlertItem.finding_id).where(
                AlertItem.status == "pending",
                AlertItem.audience == "district",
                AlertItem.finding_id.is_not(None),
            )
        )
    )
    added = 0
    for state, finding in rows:
        if (
            finding.id not in waiting
            and decide.reminder_due(
                finding.status,
                finding.active,
                finding.due_date,
                state.first_alerted_at,
                state.last_reminded_at,
                now,
                timing,
            )
            and _advance(session, state, "last_reminded_at", now)
        ):
            session.add(item(new_id(), finding, "district", "reminder", now))
            added += 1
        if decide.escalation_due(
            finding.status, finding.active, finding.due_date, state.last_escalated_at, now, timing
        ) and _advance(session, state, "last_escalated_at", now):
            session.add(
                item(
                    new_id(), finding, "supervisor", "escalation", now, {"escalation": state.escalations + 1}
                )
            )
            added += 1
    return added


def _advance(session: Session, state: FindingAlertState, column: str, now: datetime) -> bool:
    previous = getattr(state, column)
    field = getattr(FindingAlertState, column)
    values: dict[str, Any] = {column: now}
    if column == "last_escalated_at":
        values["escalations"] = FindingAlertState.escalations + 1
    result = session.execute(
        update(FindingAlertState)
        .where(
            FindingAlertState.finding_id == state.finding_id,
            field.is_(None) if previous is None else field == previous,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
