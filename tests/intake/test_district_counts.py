"""The dashboard's units to chase per district (services/intake/lists.py: district_counts) are counted
from the round's units held by the process; they must be the units the list behind each number shows
(`state_condition`, in SQL), whatever state a unit's reports and problems are in."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from services.intake import analytics, lists
from shared import clock, db
from shared.catalogue import Catalogue
from shared.models import Finding, PilotUnit
from tests.support.evaluated import store_and_evaluate, store_for_worker
from tests.support.reports import clean_report, open_round, problem_report, unit_of

STATES = ("unreported", "overdue", "problems")


def listed(round_code: str, today: date, batch: int | None) -> dict[str, dict[str, int]]:
    """Per district, how many active units the list of each state shows."""
    out: dict[str, dict[str, int]] = {}
    with db.transaction() as session:
        round_ = analytics.require_round(session, round_code)
        for state in STATES:
            query = (
                select(PilotUnit.district_code, func.count())
                .where(PilotUnit.active.is_(True), lists.state_condition(round_, state, today))
                .group_by(PilotUnit.district_code)
            )
            if batch is not None:
                query = query.where(PilotUnit.batch == batch)
            for district, count in session.execute(query):
                out.setdefault(district, dict.fromkeys(STATES, 0))[state] = count
    return {district: counts for district, counts in out.items() if any(counts.values())}


def counted(round_code: str, today: date, batch: int | None) -> dict[str, dict[str, int]]:
    with db.transaction() as session:
        round_ = analytics.require_round(session, round_code)
        return lists._district_counts(session, round_, today, batch)


def test_the_numbers_are_the_units_each_list_shows(seeded: dict, catalogue: Catalogue) -> None:
    round_code = open_round()
    store_and_evaluate(problem_report(catalogue, unit_of("350102", 0), round_code))  # problems
    store_and_evaluate(clean_report(catalogue, unit_of("350102", 1), round_code))  # evaluated, clean
    # problems open from its first report, its second not evaluated yet: submitted, not "problems"
    store_and_evaluate(problem_report(catalogue, unit_of("350103", 0), round_code))
    store_for_worker(clean_report(catalogue, unit_of("350103", 0), round_code), round_code, clock.now())
    store_for_worker(clean_report(catalogue, unit_of("350104", 0), round_code), round_code, clock.now())
    # a unit whose problems are all advice (提示) or closed has none to rectify
    advice = store_and_evaluate(problem_report(catalogue, unit_of("350105", 0), round_code))
    with db.transaction() as session:
        for finding in session.scalars(select(Finding).where(Finding.unit_id == _unit_id(session, "350105"))):
            finding.status = "closed"
        # a unit taken out of the pilot is not chased
        session.scalars(
            select(PilotUnit).where(PilotUnit.credit_code == unit_of("350111", 0))
        ).one().active = False
    assert advice
    due = analytics_due(round_code)
    for today in (due, due + timedelta(days=1)):  # before and after the deadline
        for batch in (None, *batches()):
            expected = listed(round_code, today, batch)
            assert counted(round_code, today, batch) == expected, (today, batch)
    after = listed(round_code, due + timedelta(days=1), None)
    assert after["350102"]["problems"] == 1 and after["350103"]["problems"] == 0
    assert after["350105"]["problems"] == 0 and after["350111"]["overdue"] > 0


def _unit_id(session, district: str) -> int:  # type: ignore[no-untyped-def]
    return int(session.scalar(select(PilotUnit.id).where(PilotUnit.credit_code == unit_of(district, 0))))


def batches() -> list[int]:
    with db.transaction() as session:
        return sorted(set(session.scalars(select(PilotUnit.batch))))


def analytics_due(round_code: str) -> date:
    with db.transaction() as session:
        return analytics.require_round(session, round_code).due_date
