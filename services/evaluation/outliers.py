"""The round-level outlier job: compare every latest report of a round with its cohort."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.evaluation import ledger
from shared.catalogue import store as catalogues
from shared.models import Finding, OutboxEvent, PilotUnit, Round, Submission
from shared.rules import outliers


def members(session: Session, round_code: str) -> dict[int, tuple[str, outliers.Member]]:
    """Each unit's newest report of the round as a cohort member, with the report's id: the columns the
    check needs, not the reports (a round of 10,000 units is read in one query)."""
    newest = (
        select(Submission.unit_id, func.max(Submission.version).label("version"))
        .where(Submission.round_code == round_code)
        .group_by(Submission.unit_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Submission.unit_id,
            Submission.id,
            PilotUnit.district_code,
            PilotUnit.industry,
            Submission.indicators,
        )
        .join(newest, (newest.c.unit_id == Submission.unit_id) & (newest.c.version == Submission.version))
        .join(PilotUnit, PilotUnit.id == Submission.unit_id)
        .where(Submission.round_code == round_code)
        .order_by(Submission.unit_id)
    )
    return {
        unit_id: (submission_id, outliers.Member(unit_id, district, industry or "", indicators or {}))
        for unit_id, submission_id, district, industry, indicators in rows
    }


def check_round(session: Session, round_: Round, now: datetime) -> list[OutboxEvent]:
    """Open findings for the units now far outside their cohort, resolve those no longer so."""
    catalogue = catalogues.get(session, round_.catalogue_version)
    rules = catalogue.rules_of("cohort_outlier")
    if not rules:
        return []
    reports = members(session, round_.code)
    cohort = [member for _id, member in reports.values()]
    names = {
        code: (spec["name_zh"], spec.get("name_en") or code) for code, spec in catalogue.indicators.items()
    }
    changes = ledger.Changes()
    for rule in rules:
        found = outliers.check(rule, cohort, names)
        active = {
            f.unit_id: f
            for f in session.scalars(
                select(Finding).where(
                    Finding.round_code == round_.code,
                    Finding.rule_code == rule.code,
                    Finding.active.is_(True),
                )
            )
        }
        concerned = sorted(u for u in reports if u in found or u in active)
        units = {u.id: u for u in session.scalars(select(PilotUnit).where(PilotUnit.id.in_(concerned)))}
        for unit_id in concerned:
            violation = found.get(unit_id)
            existing = {(rule.code, ""): active[unit_id]} if unit_id in active else {}
            changes.extend(
                ledger.apply(
                    session,
                    units[unit_id],
                    round_.code,
                    reports[unit_id][0],
                    [violation] if violation else [],
                    existing,
                    now,
                    "resolved_by_reevaluation",
                    catalogue,
                )
            )
    return ledger.announce(session, round_.code, changes, "resolved_by_reevaluation")


def check(session: Session, now: datetime) -> list[OutboxEvent]:
    made: list[OutboxEvent] = []
    for round_ in session.scalars(select(Round).where(Round.status == "open").order_by(Round.code)):
        made += check_round(session, round_, now)
    return made
