"""The home page's report states counted in the database (progress.state_counts) agree with the
states told apart unit by unit (progress.unit_progress) for every unit of a selection: not started,
draft, submitted and not yet evaluated, evaluated, with problems, and a resubmission's newest version."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from ops import demo
from services.intake import lists, progress
from shared import clock, db, migrate
from shared.catalogue import Catalogue
from shared.models import Draft, PilotUnit, Round
from tests.ops.test_postgres import on_postgres, postgres_url  # noqa: F401 (fixtures)
from tests.support.evaluated import store_and_evaluate, store_for_worker
from tests.support.reports import clean_report, open_round, problem_report, unit_of


def unit_id(credit_code: str) -> int:
    with db.transaction() as session:
        return session.scalars(select(PilotUnit.id).where(PilotUnit.credit_code == credit_code)).one()


def test_the_counted_states_agree_with_each_units_state(seeded: dict, catalogue: Catalogue) -> None:
    agree(catalogue)


@pytest.mark.usefixtures("on_postgres")
def test_they_agree_on_postgresql(catalogue: Catalogue) -> None:
    assert db.engine().dialect.name == "postgresql"
    migrate.upgrade()
    with db.transaction() as session:
        demo.load(session)
    agree(catalogue)


def agree(catalogue: Catalogue) -> None:
    round_code = open_round()
    store_and_evaluate(problem_report(catalogue, unit_of("350102", 0), round_code))
    store_and_evaluate(clean_report(catalogue, unit_of("350102", 1), round_code))
    # a unit with problems whose corrected report is the newest: its state is the newest version's
    store_and_evaluate(problem_report(catalogue, unit_of("350102", 2), round_code))
    store_and_evaluate(clean_report(catalogue, unit_of("350102", 2), round_code))
    store_for_worker(clean_report(catalogue, unit_of("350102", 3), round_code), round_code, clock.now())
    with db.transaction() as session:
        session.add(Draft(unit_id=unit_id(unit_of("350102", 4)), round_code=round_code, fields={}))
        session.add(Draft(unit_id=unit_id(unit_of("350102", 1)), round_code=round_code, fields={}))
    with db.transaction() as session:
        units = select(PilotUnit).where(PilotUnit.active.is_(True), PilotUnit.district_code == "350102")
        counted = progress.state_counts(session, units, round_code)
        each = Counter(
            p.state for p in progress.unit_progress(session, list(session.scalars(units)), round_code)
        )
    assert counted == {state: each.get(state, 0) for state in progress.STATES}
    # the home page's filters select the same units (units with one version and with two side by side)
    with db.transaction() as session:
        round_ = session.get(Round, round_code)
        for state in progress.STATES:
            condition = lists.state_condition(round_, state, clock.today())
            selected = session.scalar(select(func.count()).select_from(units.where(condition).subquery()))
            assert selected == each.get(state, 0), state
    assert counted["draft"] == 1 and counted["submitted"] == 1 and counted["problems"] >= 1
    assert counted["evaluated"] >= 1 and sum(counted.values()) == sum(each.values())
