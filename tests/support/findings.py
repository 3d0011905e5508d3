"""Findings put straight into the database, and the events that announce them, for notify tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from shared import clock, db, events, tasks
from shared.celery_app import make_celery
from shared.models import Channel, Finding, PilotUnit
from shared.models.base import new_id


def add_findings(
    district: str,
    round_code: str,
    count: int,
    severity: str = "warning",
    due: date | None = None,
    opened: datetime | None = None,
) -> list[int]:
    """`count` findings of a district; a deadline 30 days after opening unless given (advice has none)."""
    if due is None and severity != "info":
        due = ((opened or clock.now()) + timedelta(days=30)).date()
    with db.transaction() as session:
        units = session.scalars(
            select(PilotUnit).where(PilotUnit.district_code == district).order_by(PilotUnit.id).limit(count)
        ).all()
        made = []
        for index in range(count):
            unit = units[index % len(units)]
            finding = Finding(
                fingerprint=f"{unit.credit_code}:{round_code}:fund_extraction:{new_id()}",
                unit_id=unit.id,
                district_code=district,
                round_code=round_code,
                rule_code="fund_extraction",
                severity=severity,
                message_zh=f"职工教育经费提取比例低于 1.5%（第 {index + 1} 项）",
                message_en=f"Education fund below 1.5% of payroll (item {index + 1})",
                due_date=due,
                **({"opened_at": opened} if opened else {}),
            )
            session.add(finding)
            session.flush()
            made.append(finding.id)
    return made


def add_channel(url: str, district: str | None = None, locale: str = "zh") -> None:
    with db.transaction() as session:
        session.add(
            Channel(
                district_code=district,
                audience="district" if district else "supervisor",
                kind=url.split("://")[0],
                url=url,
                locale=locale,
            )
        )


def announce(task_name: str, **values: object) -> None:
    """Send an event by name to the notify queue, as the evaluation service does."""
    make_celery("test").send_task(task_name, args=[events.envelope(**values)])


def opened(district: str, round_code: str, ids: list[int]) -> None:
    announce(tasks.NOTIFY_FINDINGS_OPENED, district_code=district, round_code=round_code, finding_ids=ids)


def raise_findings(round_code: str, count: int, severities: tuple[str, ...] = ("warning", "error")) -> None:
    """`count` problems raised by the city office through the ledger's own use case, spread over every
    unit in turn and alternating their severity; the outbox events they add are left unsent."""
    from services.intake import accounts
    from shared import ledger
    from shared.models import User

    now = clock.now()
    with db.transaction() as session:
        supervisor = session.scalars(select(User).where(User.role == "supervisor").limit(1)).one_or_none()
        if supervisor is None:
            supervisor = accounts.create_user(
                session, "raiser@example.org", "supervisor", None, "raiser-pass"
            )
        units = session.scalars(select(PilotUnit).order_by(PilotUnit.id)).all()
        for index in range(count):
            raised = ledger.Raised(
                unit=units[index % len(units)],
                round_code=round_code,
                description=f"职工书屋台账缺少借阅记录（第 {index + 1} 项）",
                requirement="补齐借阅记录",
                severity=severities[index % len(severities)],
                due_date=(now + timedelta(days=30)).date(),
            )
            ledger.raise_finding(session, supervisor, raised, now)
