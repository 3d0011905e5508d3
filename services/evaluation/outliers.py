"""The round-level outlier job: compare every latest report of a round with its cohort."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.evaluation import ledger
from shared import history
from shared.catalogue import store as catalogues
from shared.models import Finding, OutboxEvent, PilotUnit, Round, Submission
from shared.rules import outliers


def members(submissions: list[Submission]) -> list[outliers.Member]:
    return [
        outliers.Member(s.unit_id, s.unit.district_code, s.unit.industry or "", s.indicators)
        for s in submissions
    ]


def check_round(session: Session, round_: Round, now: datetime) -> list[OutboxEvent]:
    """Open findings for the units now far outside their cohort, resolve those no longer so."""
    catalogue = catalogues.get(session, round_.catalogue_version)
    rules = catalogue.rules_of("cohort_outlier")
    if not rules:
        return []
    submissions = history.latest_submissions(session, round_.code)
    names = {
        code: (spec["name_zh"], spec.get("name_en") or code) for code, spec in catalogue.indicators.items()
    }
    changes = ledger.Changes()
    for rule in rules:
        found = outliers.check(rule, members(submissions), names)
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
        for submission in submissions:
            violation = found.get(submission.unit_id)
            existing = {(rule.code, ""): active[submission.unit_id]} if submission.unit_id in active else {}
            if violation is None and not existing:
                continue
            unit: PilotUnit = submission.unit
            changes.extend(
                ledger.apply(
                    session,
                    unit,
                    round_.code,
                    submission.id,
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
