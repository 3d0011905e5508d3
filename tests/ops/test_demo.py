"""The demo data fills every page for a newcomer, and loading it twice changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from ops import demo, demo_activity
from services.intake import analytics
from shared import db
from shared.models import Base, Case, Evaluation, Finding, OutboxEvent, PilotUnit, Round, Submission, Visit


def counts() -> dict[str, int]:
    with db.transaction() as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def test_it_fills_both_rounds_visits_and_cases_once(env: dict[str, str]) -> None:
    with db.transaction() as session:
        demo.load(session)
        demo_activity.load(session)
    first = counts()
    with db.transaction() as session:
        demo.load(session)
        assert set(demo_activity.load(session).values()) == {0}
    assert counts() == first
    with db.transaction() as session:
        rounds = list(session.scalars(select(Round).order_by(Round.due_date)))
        assert len(rounds) == 2
        for round_ in rounds:
            reported = session.scalar(
                select(func.count(func.distinct(Submission.unit_id))).where(
                    Submission.round_code == round_.code
                )
            )
            assert reported and reported > 300
        assert session.scalar(select(func.count()).select_from(Evaluation)) == first["submissions"]
        assert session.scalar(select(func.count()).select_from(PilotUnit).where(PilotUnit.batch < 3)) == 64
        assert session.scalar(select(func.count()).select_from(Visit)) >= 4
        assert session.scalar(select(func.count()).select_from(Finding).where(Finding.visit_id.is_not(None)))
        statuses = set(session.scalars(select(Case.status)))
        assert statuses == {"draft", "recommended", "returned", "selected"}
        assert session.scalar(select(func.count()).select_from(Finding).where(Finding.status == "closed"))
        table = analytics.district_table(session, rounds[-1].code)
        assert all(row.outcomes is not None for row in table)
        assert len({row.index for row in table}) > 5
        # the demo's history sends no alert: a channel added after the demo hears only of new findings
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) > 0
        assert not session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        )
