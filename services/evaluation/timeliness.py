"""Timeliness, checked by the scheduler: reminders before the due date, missing reports after the grace.

Each reminder is sent once per round, district and threshold (recorded in `reminders_sent`); each
unit without a report gets one `missing_report` finding, announced per district.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.evaluation import ledger
from shared import config, events, outbox
from shared.catalogue import store as catalogues
from shared.models import Finding, OutboxEvent, PilotUnit, ReminderSent, Round, Submission
from shared.rules.engine import Violation


def unreported(session: Session, round_code: str) -> dict[str, list[PilotUnit]]:
    """Per district, the active units with no report in the round."""
    reported = select(Submission.unit_id).where(Submission.round_code == round_code)
    out: dict[str, list[PilotUnit]] = defaultdict(list)
    for unit in session.scalars(
        select(PilotUnit)
        .where(PilotUnit.active.is_(True), PilotUnit.id.not_in(reported))
        .order_by(PilotUnit.district_code, PilotUnit.credit_code)
    ):
        out[unit.district_code].append(unit)
    return out


def due_thresholds(due: date, today: date, days: tuple[int, ...]) -> list[int]:
    """The reminder thresholds reached by `today` (due date minus N days), before the due date has passed."""
    if today > due:
        return []
    return sorted((n for n in days if today >= due - timedelta(days=n)), reverse=True)


def remind(session: Session, round_: Round, today: date) -> list[OutboxEvent]:
    """One ReportsDueSoon per district for the nearest threshold reached; thresholds it supersedes are
    recorded with it, so a district never gets an older reminder after a newer one."""
    reached = due_thresholds(round_.due_date, today, config.current().reminder_days)
    if not reached:
        return []
    sent = set(
        session.execute(
            select(ReminderSent.district_code, ReminderSent.days_before).where(
                ReminderSent.round_code == round_.code
            )
        ).all()
    )
    made: list[OutboxEvent] = []
    for district, units in unreported(session, round_.code).items():
        pending = [n for n in reached if (district, n) not in sent]
        if not pending or (district, min(reached)) in sent:
            continue
        event = outbox.add(
            session,
            events.ReportsDueSoon,
            district_code=district,
            round_code=round_.code,
            due_date=round_.due_date.isoformat(),
            days_left=(round_.due_date - today).days,
            unit_credit_codes=[u.credit_code for u in units],
        )
        made.append(event)
        for n in pending:
            session.add(
                ReminderSent(
                    round_code=round_.code,
                    district_code=district,
                    days_before=n,
                    units=len(units),
                    event_id=event.id,
                )
            )
    return made


def record_missing(session: Session, round_: Round, now: datetime) -> list[OutboxEvent]:
    """After the due date plus grace: one critical finding per unit still without a report."""
    if now.date() <= round_.due_date + timedelta(days=round_.grace_days):
        return []
    catalogue = catalogues.get(session, round_.catalogue_version)
    rule = catalogue.missing_report_rule
    if rule is None:
        return []
    already = set(
        session.scalars(
            select(Finding.unit_id).where(
                Finding.round_code == round_.code, Finding.rule_code == rule.code, Finding.active.is_(True)
            )
        )
    )
    texts = {"due_date": round_.due_date.isoformat(), "grace_days": str(round_.grace_days)}
    changes = ledger.Changes()
    for units in unreported(session, round_.code).values():
        for unit in units:
            if unit.id in already:
                continue
            violation = Violation(
                rule_code=rule.code,
                severity=rule.severity,
                message_zh=rule.message_zh.format(**texts),
                message_en=rule.message_en.format(**texts),
                action_zh=rule.action_zh,
                source=rule.source,
                evidence={"due_date": texts["due_date"]},
                category=rule.category,
                action_en=rule.action_en,
            )
            finding = ledger.new_finding(unit, round_.code, violation, catalogue, now)
            finding.severity, finding.source = rule.severity, rule.source
            finding.message_zh, finding.message_en = violation.message_zh, violation.message_en
            finding.action_zh, finding.evidence = rule.action_zh, violation.evidence
            session.add(finding)
            changes.opened.append(finding)
    return ledger.announce(session, round_.code, changes, "")


def check(session: Session, now: datetime) -> list[OutboxEvent]:
    """Every open round: reminders that are due, then missing reports past the grace."""
    made: list[OutboxEvent] = []
    for round_ in session.scalars(select(Round).where(Round.status == "open").order_by(Round.code)):
        made += remind(session, round_, now.date())
        made += record_missing(session, round_, now)
    return made
