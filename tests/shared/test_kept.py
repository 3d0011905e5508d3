"""Kept figures (shared/kept.py): kept in a real Redis while the rounds they read do not change, and
computed again after any committed change to those rounds or to the register, in this or another
process's session; never kept from a session's own uncommitted changes; computed when Redis is away."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from services.intake import analytics
from shared import caches, clock, config, db, kept, outbox, tasks
from shared.catalogue import Catalogue
from shared.models import Finding, OutboxEvent, PilotUnit, Round
from tests.support.evaluated import store_and_evaluate
from tests.support.reports import clean_report, open_round, problem_report, unit_of


class Counting:
    """A compute function that counts its calls and returns what the database holds."""

    def __init__(self, round_code: str):
        self.round_code = round_code
        self.calls = 0

    def __call__(self) -> dict[str, int]:
        self.calls += 1
        with db.transaction() as session:
            findings = session.scalar(
                select(func.count()).select_from(Finding).where(Finding.round_code == self.round_code)
            )
            units = session.scalar(select(func.count()).select_from(PilotUnit).where(PilotUnit.active))
        return {"findings": findings or 0, "units": units or 0}


def look(compute: Counting, rounds: list[str]) -> dict[str, int]:
    with db.transaction() as session:
        return kept.kept(session, "test", rounds, compute)


def other_round(current: str) -> str:
    with db.transaction() as session:
        return session.scalars(select(Round.code).where(Round.code != current)).first() or ""


def test_figures_are_kept_until_a_change_to_their_round_commits(seeded: dict, catalogue: Catalogue) -> None:
    round_code = open_round()
    compute = Counting(round_code)
    first = look(compute, [round_code])
    assert look(compute, [round_code]) == first and compute.calls == 1
    store_and_evaluate(problem_report(catalogue, unit_of("350102"), round_code))
    after = look(compute, [round_code])
    assert compute.calls == 2 and after["findings"] > first["findings"]
    assert look(compute, [round_code]) == after and compute.calls == 2


def test_a_change_to_another_round_keeps_them(seeded: dict, catalogue: Catalogue) -> None:
    round_code = open_round()
    elsewhere = other_round(round_code)
    compute = Counting(elsewhere)
    look(compute, [elsewhere])
    store_and_evaluate(problem_report(catalogue, unit_of("350102"), round_code))
    look(compute, [elsewhere])
    assert compute.calls == 1


def test_a_problem_moved_on_the_ledger_changes_its_round(seeded: dict, catalogue: Catalogue) -> None:
    round_code = open_round()
    store_and_evaluate(problem_report(catalogue, unit_of("350102"), round_code))
    compute = Counting(round_code)
    look(compute, [round_code])
    with db.transaction() as session:
        finding = session.scalars(select(Finding).where(Finding.round_code == round_code)).first()
        assert finding is not None
        finding.status = "acknowledged"
    look(compute, [round_code])
    assert compute.calls == 2


def test_figures_of_the_reports_alone_outlive_a_problem_moved_but_not_a_new_report(
    seeded: dict, catalogue: Catalogue
) -> None:
    round_code = open_round()
    store_and_evaluate(problem_report(catalogue, unit_of("350102"), round_code))
    of_reports, of_everything = Counting(round_code), Counting(round_code)
    look(of_reports, [kept.reports_of(round_code)])
    look(of_everything, [round_code])
    with db.transaction() as session:
        finding = session.scalars(select(Finding).where(Finding.round_code == round_code)).first()
        assert finding is not None
        finding.status = "acknowledged"
    look(of_reports, [kept.reports_of(round_code)])
    look(of_everything, [round_code])
    assert (of_reports.calls, of_everything.calls) == (1, 2)
    store_and_evaluate(clean_report(catalogue, unit_of("350103"), round_code))
    look(of_reports, [kept.reports_of(round_code)])
    look(of_everything, [round_code])
    assert (of_reports.calls, of_everything.calls) == (2, 3)


def test_the_league_table_after_a_problem_moved_equals_one_computed_afresh(
    seeded: dict, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its outcomes kept from before the change, its problem figures computed again: the same table
    as one computed with nothing kept."""
    round_code = open_round()
    with db.transaction() as session:
        basis = analytics.comparison_round(session, analytics.require_round(session, round_code))
        assert basis is not None
        basis_code = basis.code
    for district in ("350102", "350103", "350104"):
        store_and_evaluate(clean_report(catalogue, unit_of(district), basis_code))
        store_and_evaluate(problem_report(catalogue, unit_of(district), round_code))
    with db.transaction() as session:
        before = analytics.district_table(session, round_code)  # kept
        assert {p.get("units") for c in before[0].components for p in c["parts"]} & {1}  # outcomes
        finding = session.scalars(select(Finding).where(Finding.round_code == round_code)).first()
        assert finding is not None
        finding.status, finding.resolved_at = "closed", clock.now()
    with db.transaction() as session:
        after = analytics.district_table(session, round_code)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # nothing kept: every figure computed
    config.reset()
    with db.transaction() as session:
        assert analytics.district_table(session, round_code) == after


def test_a_change_to_the_register_changes_every_round(seeded: dict) -> None:
    round_code = open_round()
    compute = Counting(round_code)
    before = look(compute, [round_code])
    with db.transaction() as session:
        session.scalars(select(PilotUnit).where(PilotUnit.active)).first().active = False  # type: ignore[union-attr]
    assert look(compute, [round_code])["units"] == before["units"] - 1 and compute.calls == 2


def test_a_session_with_changes_of_its_own_keeps_nothing(seeded: dict, catalogue: Catalogue) -> None:
    round_code = open_round()
    compute = Counting(round_code)
    with db.transaction() as session:
        session.scalars(select(PilotUnit)).first().name += "（改）"  # type: ignore[union-attr]
        session.flush()
        kept.kept(session, "test", [round_code], compute)
        kept.kept(session, "test", [round_code], compute)
        session.rollback()
    assert compute.calls == 2
    look(compute, [round_code])  # nothing was kept from the rolled-back session
    assert compute.calls == 3


def test_without_redis_every_look_up_computes(seeded: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from ops.ports import free_port

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    config.reset()
    round_code = open_round()
    compute = Counting(round_code)
    look(compute, [round_code])
    look(compute, [round_code])
    assert compute.calls == 2


def test_the_district_table_follows_a_rectified_problem(seeded: dict, catalogue: Catalogue) -> None:
    """The league table read twice is read from Redis the second time, and shows a problem closed in
    between at once."""
    round_code = open_round()
    store_and_evaluate(problem_report(catalogue, unit_of("350102"), round_code))
    store_and_evaluate(clean_report(catalogue, unit_of("350102", 1), round_code))

    def gulou() -> analytics.DistrictRow:
        with db.transaction() as session:
            row = analytics.district_row(session, round_code, "350102")
            assert row is not None
            return row

    before = gulou()
    statements: list[str] = []
    from sqlalchemy import event

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine(), "before_cursor_execute", count)
    try:
        assert gulou() == before
    finally:
        event.remove(db.engine(), "before_cursor_execute", count)
    assert not any("findings" in s or "submissions" in s for s in statements), statements
    with db.transaction() as session:
        for finding in session.scalars(
            select(Finding).where(Finding.round_code == round_code, Finding.district_code == "350102")
        ):
            finding.status = "closed"
            finding.resolved_at = clock.now() + timedelta(days=1)
    after = gulou()
    assert before.rectification_rate == 0.0 and after.rectification_rate == 1.0


def test_figures_resting_on_rows_read_before_a_change_are_not_kept_as_after_it(
    seeded: dict, catalogue: Catalogue
) -> None:
    """A page reads a round's reports once for several figures: when a report commits between that
    read and a figure computed from it, the figure must not be kept under the raised number, or every
    later view would show it without the new report until the next change."""
    round_code = open_round()
    with db.transaction() as session:
        before = analytics.unit_results(session, round_code)  # read once for the figures that follow
        store_and_evaluate(clean_report(catalogue, unit_of("350102"), round_code))  # another session
        stale = analytics.round_scores(session, round_code)  # computed from the read before the change
    assert len(stale) == len(before)
    with db.transaction() as session:
        assert len(analytics.round_scores(session, round_code)) == len(before) + 1


def test_a_committed_report_notes_its_unit_under_the_number_it_raised(
    seeded: dict, catalogue: Catalogue
) -> None:
    """Each raise of a round's reports number made by a committed report or evaluation notes the units
    it touched; a raise with no units noted leaves a gap its readers see."""
    round_code, settings = open_round(), config.current()
    numbered = kept.reports_of(round_code)

    def number() -> int:
        with db.transaction() as session:
            kept.begin_reads(session)
            noted = kept.noted(session)
        assert noted is not None
        return int(noted[1].get(numbered) or 0)

    start = number()
    caches.redis_client(settings).script_flush()  # a Redis that does not know the script yet
    store_and_evaluate(clean_report(catalogue, unit_of("350102"), round_code))  # one commit each
    store_and_evaluate(clean_report(catalogue, unit_of("350103"), round_code))
    end = number()
    assert end - start == 2
    with db.transaction() as session:
        gulou, taijiang = (
            session.scalar(select(PilotUnit.id).where(PilotUnit.credit_code == unit_of(district)))
            for district in ("350102", "350103")
        )
    assert kept.touched(settings, numbered, start, start + 1) == {gulou}
    assert kept.touched(settings, numbered, start, end) == {gulou, taijiang}
    kept.changed([numbered])  # raised with no units noted
    assert kept.touched(settings, numbered, start, end + 1) is None
    assert kept.touched(settings, numbered, end + 1, end + 1) == set()


def reports_number(round_code: str) -> int:
    with db.transaction() as session:
        kept.begin_reads(session)
        noted = kept.noted(session)
    assert noted is not None
    return int(noted[1].get(kept.reports_of(round_code)) or 0)


def test_a_reports_commit_and_its_events_note_go_to_redis_in_one_round_trip(
    seeded: dict, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a `raises_held` block the numbers a commit raises wait for the outbox's note of the events
    it sent, and go in its pipeline: nothing raises them on its own."""
    round_code, settings = open_round(), config.current()
    start = reports_number(round_code)
    alone: list[Any] = []
    real_changed = kept.changed
    monkeypatch.setattr(kept, "changed", lambda *a, **k: alone.append(a) or real_changed(*a, **k))
    with kept.raises_held():
        report = store_and_evaluate(clean_report(catalogue, unit_of("350102"), round_code))
        assert reports_number(round_code) == start  # held back
        sent = OutboxEvent(id=report, task_name=tasks.EVALUATE_SUBMISSION, payload={})  # as if sent
        outbox.note_sent(settings, [sent])
        assert reports_number(round_code) == start + 1
    assert alone == []  # the note's pipeline took them
    assert outbox.noted(settings) == 1
    with db.transaction() as session:
        gulou = session.scalar(select(PilotUnit.id).where(PilotUnit.credit_code == unit_of("350102")))
    assert kept.touched(settings, kept.reports_of(round_code), start, start + 1) == {gulou}


def test_raises_held_and_never_asked_for_go_at_the_blocks_end(seeded: dict, catalogue: Catalogue) -> None:
    round_code = open_round()
    start = reports_number(round_code)
    with kept.raises_held():
        store_and_evaluate(clean_report(catalogue, unit_of("350102"), round_code))
        store_and_evaluate(clean_report(catalogue, unit_of("350103"), round_code))
        assert reports_number(round_code) == start
    assert reports_number(round_code) == start + 1  # the two commits' raises as one, both units noted
    assert len(kept.touched(config.current(), kept.reports_of(round_code), start, start + 1) or ()) == 2
    with pytest.raises(RuntimeError), kept.raises_held():
        store_and_evaluate(clean_report(catalogue, unit_of("350104"), round_code))
        raise RuntimeError("the request failed after its commit")
    assert reports_number(round_code) == start + 2  # raised all the same
