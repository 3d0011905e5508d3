"""A report's findings: open the new ones, keep those still broken, resolve the others (through the
ledger's state machine in shared/ledger.py), and the events that announce it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import config, events, ledger, outbox
from shared.catalogue import Catalogue
from shared.models import Finding, OutboxEvent, PilotUnit
from shared.rules.engine import Violation


def fingerprint(credit_code: str, round_code: str, rule_code: str, subject: str = "") -> str:
    base = f"{credit_code}:{round_code}:{rule_code}"
    return f"{base}:{subject}" if subject else base


# A finding's key among a unit's findings of a round: its rule and, for rules that make one finding
# per measure, the measure.
Key = tuple[str, str]


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
) -> dict[int, dict[Key, Finding]]:
    """Per unit, its active report findings of the round by key (one query for many units); problems
    raised by hand are not the rules' to settle."""
    out: dict[int, dict[Key, Finding]] = defaultdict(dict)
    for finding in session.scalars(
        select(Finding).where(
            Finding.round_code == round_code,
            Finding.unit_id.in_(list(unit_ids)),
            Finding.active.is_(True),
            Finding.rule_code.not_in([*excluded, ledger.MANUAL]),
        )
    ):
        assert finding.unit_id is not None
        out[finding.unit_id][(finding.rule_code, finding.measure_code)] = finding
    return out


def new_finding(
    unit: PilotUnit, round_code: str, violation: Violation, catalogue: Catalogue, now: datetime
) -> Finding:
    """A finding as its rule says: category, deadline from its severity's period (none for advice and
    records), how it ends and whether rectifying it needs a proof."""
    rule = catalogue.rule(violation.rule_code)
    days = catalogue.period_days(rule, config.current().rectification_days) if rule else None
    return Finding(
        fingerprint=fingerprint(unit.credit_code, round_code, violation.rule_code, violation.subject),
        unit_id=unit.id,
        district_code=unit.district_code,
        round_code=round_code,
        rule_code=violation.rule_code,
        measure_code=violation.subject,
        category=violation.category,
        opened_at=now,
        due_date=(now + timedelta(days=days)).date() if days else None,
        status="recorded" if rule is not None and rule.record else "open",
        active=True,
        resolution_mode=rule.resolution if rule else "auto",
        proof_required=rule is not None and rule.proof == "required",
    )


def apply(
    session: Session,
    unit: PilotUnit,
    round_code: str,
    submission_id: str,
    violations: list[Violation],
    existing: dict[Key, Finding],
    now: datetime,
    resolution: str,
    catalogue: Catalogue,
) -> Changes:
    """Keep the findings still shown, open the new ones, settle those no longer shown (a data error
    resolves itself, a shortfall waits for a supervisor's verification)."""
    existing = dict(existing)
    changes = Changes()
    for v in violations:
        finding = existing.pop((v.rule_code, v.subject), None)
        if finding is None:
            finding = new_finding(unit, round_code, v, catalogue, now)
            session.add(finding)
            changes.opened.append(finding)
        else:
            ledger.reopen_if_shown_again(session, finding, now)
        finding.severity, finding.message_zh, finding.message_en = v.severity, v.message_zh, v.message_en
        finding.action_zh, finding.source, finding.evidence = v.action_zh, v.source, v.evidence
        finding.category = v.category
        finding.last_submission_id = submission_id
        changes.current.append(finding)
    for finding in existing.values():
        if ledger.settle(session, finding, now, resolution):
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
