"""Findings that live: one finding per (unit, round, rule) across resubmissions; a data error resolved
when corrected, a policy shortfall waiting for a supervisor's verification."""

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
        ids = [f.id for f in rows]  # fund_extraction, proposals_adopted_within_submitted
    assert first == [("fund_extraction", "open"), ("proposals_adopted_within_submitted", "open")]
    assert len(outbox(tasks.NOTIFY_FINDINGS_OPENED)) == 1  # the second, identical report alerts on nothing
    assert outbox(tasks.NOTIFY_FINDINGS_RESOLVED) == []
    store_and_evaluate(clean_report(catalogue, unit, round_code))
    with db.transaction() as session:
        rows = session.scalars(select(Finding).order_by(Finding.rule_code)).all()
        # The data error closes itself; the policy shortfall waits for a supervisor to verify it.
        assert [(f.rule_code, f.status, f.active, f.resolution) for f in rows] == [
            ("fund_extraction", "rectification_reported", True, "cleared_by_resubmission"),
            ("proposals_adopted_within_submitted", "resolved", False, "resolved_by_resubmission"),
        ]
    [event] = outbox(tasks.NOTIFY_FINDINGS_RESOLVED)
    assert (event["district_code"], event["finding_ids"], event["reason"]) == (
        "350102",
        [ids[1]],
        "resolved_by_resubmission",
    )
    store_and_evaluate(problem_report(catalogue, unit, round_code))  # the shortfall shows again
    with db.transaction() as session:
        fund = session.scalars(select(Finding).where(Finding.rule_code == "fund_extraction")).one()
        assert (fund.status, fund.active, fund.resolution) == ("open", True, "")
