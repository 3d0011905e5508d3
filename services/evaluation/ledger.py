"""A report's findings: open the new ones, keep those still broken, resolve the others (through the
ledger's state machine in shared/ledger.py), and the events that announce it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import config, events, outbox
from shared.ledger import resolve
from shared.models import Finding, OutboxEvent, PilotUnit
from shared.rules.engine import Violation


def fingerprint(credit_code: str, round_code: str, rule_code: str) -> str:
    return f"{credit_code}:{round_code}:{rule_code}"


@dataclass
class Changes:
    current: list[Finding] = field(default_factory=list)
    opened: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)

    def extend(self, other: Changes) -> None:
        self.current += other.current
        self.opened += other.opened
        self.resolved += other.resolved


def active_findings(
    session: Session, round_code: str, unit_ids: Iterable[int], excluded: Iterable[str]
) -> dict[int, dict[str, Finding]]:
    """Per unit, its active report findings of the round by rule code (one query for many units)."""
    out: dict[int, dict[str, Finding]] = defaultdict(dict)
    for finding in session.scalars(
        select(Finding).where(
            Finding.round_code == round_code,
            Finding.unit_id.in_(list(unit_ids)),
            Finding.active.is_(True),
            Finding.rule_code.not_in(list(excluded)),
        )
    ):
        assert finding.unit_id is not None
        out[finding.unit_id][finding.rule_code] = finding
    return out


def new_finding(unit: PilotUnit, round_code: str, rule_code: str, now: datetime) -> Finding:
    due = (now + timedelta(days=config.current().rectification_days)).date()
    return Finding(
        fingerprint=fingerprint(unit.credit_code, round_code, rule_code),
        unit_id=unit.id,
        district_code=unit.district_code,
        round_code=round_code,
        rule_code=rule_code,
        opened_at=now,
        due_date=due,
        status="open",
        active=True,
    )


def apply(
    session: Session,
    unit: PilotUnit,
    round_code: str,
    submission_id: str,
    violations: list[Violation],
    existing: dict[str, Finding],
    now: datetime,
    resolution: str,
) -> Changes:
    """Keep the findings still broken, open the new ones, resolve those no longer broken."""
    existing = dict(existing)
    changes = Changes()
    for v in violations:
        finding = existing.pop(v.rule_code, None)
        if finding is None:
            finding = new_finding(unit, round_code, v.rule_code, now)
            session.add(finding)
            changes.opened.append(finding)
        finding.severity, finding.message_zh, finding.message_en = v.severity, v.message_zh, v.message_en
        finding.action_zh, finding.source, finding.evidence = v.action_zh, v.source, v.evidence
        finding.last_submission_id = submission_id
        changes.current.append(finding)
    for finding in existing.values():
        resolve(finding, now, resolution)
        changes.resolved.append(finding)
    return changes


def announce(
    session: Session,
    round_code: str,
    changes: Changes,
    reason: str,
    submission_id: str = "",
    request_id: str = "",
) -> list[OutboxEvent]:
    """FindingsOpened and FindingsResolved events, one per district, added to the outbox."""
    session.flush()
    made: list[OutboxEvent] = []
    for event, findings, extra in (
        (events.FindingsOpened, changes.opened, {"submission_id": submission_id}),
        (events.FindingsResolved, changes.resolved, {"reason": reason}),
    ):
        by_district: dict[str, list[int]] = defaultdict(list)
        for finding in findings:
            by_district[finding.district_code].append(finding.id)
        for district, ids in sorted(by_district.items()):
            made.append(
                outbox.add(
                    session,
                    event,
                    district_code=district,
                    round_code=round_code,
                    finding_ids=sorted(ids),
                    request_id=request_id,
                    **extra,
                )
            )
    return made
