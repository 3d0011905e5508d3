"""A round's reports and problems summed up per unit, held by the process
(services/intake/round_units.py): after a report or a ledger action only its unit is read again, and
what is held always equals a whole read of the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from sqlalchemy import select

from services.intake import round_units
from shared import clock, config, db, kept
from shared.catalogue import Catalogue
from shared.models import Finding, PilotUnit
from tests.support.evaluated import store_and_evaluate
from tests.support.reports import clean_report, open_round, problem_report, unit_of
from tests.support.statements import statements


def held(round_code: str) -> dict[int, round_units.UnitResult]:
    with db.transaction() as session:
        return round_units.of_round(session, round_code)


def whole(round_code: str) -> dict[int, round_units.UnitResult]:
    with db.transaction() as session:
        return round_units.read(session, round_code)


def report_reads(seen: list[str]) -> list[str]:
    """The statements that read the round's reports with their scores."""
    return [s for s in seen if "FROM submissions" in s and "evaluations.overall_score" in s]


def test_after_a_report_only_its_unit_is_read_again(seeded: dict, catalogue: Catalogue) -> None:
    round_code = open_round()
    units = [unit_of("350102", i) for i in range(3)]
    for unit in units:
        store_and_evaluate(clean_report(catalogue, unit, round_code))
    first = held(round_code)
    assert first == whole(round_code) and len(first) == 3
    with statements() as seen:
        assert held(round_code) == first  # nothing new: nothing read
    assert report_reads(seen) == []

    store_and_evaluate(problem_report(catalogue, units[1], round_code))  # a second version
    store_and_evaluate(clean_report(catalogue, unit_of("350103"), round_code))  # a first report
    with statements() as seen:
        after = held(round_code)
    [read] = report_reads(seen)
    assert " IN " in read  # the two units touched, not the round
    assert after == whole(round_code)
    assert len(after) == 4
    assert after[unit_id(units[1])].latest_id != first[unit_id(units[1])].latest_id
    assert after[unit_id(units[0])] == first[unit_id(units[0])]


def unit_id(credit_code: str) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(PilotUnit.id).where(PilotUnit.credit_code == credit_code)) or 0)


def test_a_raise_without_its_units_has_the_round_read_whole(seeded: dict, catalogue: Catalogue) -> None:
    round_code = open_round()
    store_and_evaluate(clean_report(catalogue, unit_of("350102"), round_code))
    held(round_code)
    kept.changed([round_code, kept.reports_of(round_code)])  # a change whose units are not known
    with statements() as seen:
        after = held(round_code)
    [read] = report_reads(seen)
    assert " IN " not in read
    assert after == whole(round_code)


def test_a_change_to_the_register_has_the_round_read_whole(seeded: dict, catalogue: Catalogue) -> None:
    round_code = open_round()
    store_and_evaluate(clean_report(catalogue, unit_of("350102"), round_code))
    held(round_code)
    kept.changed([""])  # the register: a unit may have moved to another district
    with statements() as seen:
        held(round_code)
    [read] = report_reads(seen)
    assert " IN " not in read


def test_an_emptied_redis_has_the_round_read_whole(seeded: dict, catalogue: Catalogue) -> None:
    """A Redis emptied starts its numbers again: rows held under the old ones are not taken for new."""
    round_code = open_round()
    store_and_evaluate(clean_report(catalogue, unit_of("350102"), round_code))
    held(round_code)
    redis.Redis.from_url(config.current().redis_location).flushdb()
    with statements() as seen:
        held(round_code)
    [read] = report_reads(seen)
    assert " IN " not in read


def test_without_redis_nothing_is_held(
    seeded: dict, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    round_code = open_round()
    store_and_evaluate(clean_report(catalogue, unit_of("350102"), round_code))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    config.reset()
    for _ in range(2):
        with statements() as seen:
            assert held(round_code) == whole(round_code)
        assert len(report_reads(seen)) == 2  # the held read and the whole one: nothing held


def problems_held(round_code: str) -> dict[int | None, round_units.UnitProblems]:
    with db.transaction() as session:
        return round_units.problems_of_round(session, round_code)


def problems_whole(round_code: str) -> dict[int | None, round_units.UnitProblems]:
    with db.transaction() as session:
        return round_units.read_problems(session, round_code)


def problem_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if "FROM findings" in s and "findings.resolution_mode" in s]


def test_after_a_problem_moves_on_the_ledger_only_its_unit_is_read_again(
    seeded: dict, catalogue: Catalogue
) -> None:
    round_code = open_round()
    units = [unit_of("350102", i) for i in range(2)]
    for unit in units:
        store_and_evaluate(problem_report(catalogue, unit, round_code))
    first = problems_held(round_code)
    assert first == problems_whole(round_code)
    assert {unit_id(u) for u in units} <= first.keys() and all(first[unit_id(u)].open for u in units)

    with db.transaction() as session:  # every problem of the first unit rectified and verified
        for finding in session.scalars(
            select(Finding).where(Finding.unit_id == unit_id(units[0]), Finding.status == "open")
        ):
            finding.status, finding.resolved_at = "closed", clock.now() + timedelta(days=3)
    with statements() as seen:
        after = problems_held(round_code)
    [read] = problem_reads(seen)
    assert " IN " in read  # that unit's problems, not the round's
    assert after == problems_whole(round_code)
    assert not after[unit_id(units[0])].open and after[unit_id(units[0])].rectified
    assert after[unit_id(units[1])] == first[unit_id(units[1])]
