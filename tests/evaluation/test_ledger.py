"""Findings that live: one finding per (unit, round, rule) across resubmissions, resolved when fixed."""

from __future__ import annotations

from sqlalchemy import select

from shared import db, tasks
from shared.catalogue import Catalogue
from shared.models import Finding, OutboxEvent
from tests.support.evaluated import store_and_evaluate
from tests.support.reports import clean_report, open_round, problem_report, unit_of


def outbox(task: str) -> list[dict[str, object]]:
    with db.transaction() as session:
        return [
            e.payload
            for e in session.scalars(
                select(OutboxEvent).where(OutboxEvent.task_name == task).order_by(OutboxEvent.created_at)
            )
        ]


def test_it_keeps_then_resolves_a_finding_across_resubmissions(
    seeded: dict[str, str], catalogue: Catalogue
) -> None:
    unit, round_code = unit_of("350102", 2), open_round()
    store_and_evaluate(problem_report(catalogue, unit, round_code))
    store_and_evaluate(problem_report(catalogue, unit, round_code))
    with db.transaction() as session:
        rows = session.scalars(select(Finding).order_by(Finding.rule_code)).all()
        first = [(f.rule_code, f.status) for f in rows]
        ids = sorted(f.id for f in rows)
    assert first == [("fund_extraction", "open"), ("proposals_adopted_within_submitted", "open")]
    assert len(outbox(tasks.NOTIFY_FINDINGS_OPENED)) == 1  # the second, identical report alerts on nothing
    assert outbox(tasks.NOTIFY_FINDINGS_RESOLVED) == []
    store_and_evaluate(clean_report(catalogue, unit, round_code))
    with db.transaction() as session:
        rows = session.scalars(select(Finding).order_by(Finding.rule_code)).all()
        assert [(f.status, f.active, f.resolution) for f in rows] == [
            ("resolved", False, "resolved_by_resubmission")
        ] * 2
    [event] = outbox(tasks.NOTIFY_FINDINGS_RESOLVED)
    assert (event["district_code"], event["finding_ids"], event["reason"]) == (
        "350102",
        ids,
        "resolved_by_resubmission",
    )
